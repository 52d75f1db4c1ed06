package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestAlertmanagerRealSender connects Debian's prometheus-alertmanager to
// Aurora with an integration token and checks that what it sends, firing
// and then resolved, becomes an incident and resolves it.
func TestAlertmanagerRealSender(t *testing.T) {
	t.Parallel()
	amBin := testenv.Alertmanager(t)
	if out, err := exec.Command(amBin, "--version").CombinedOutput(); err != nil {
		t.Fatalf("%s --version: %v\n%s", amBin, err, out)
	} else {
		t.Logf("%s", strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0]))
	}

	aurora, env := startAll(t, embedded, nil)
	var integ struct {
		ID         string `json:"id"`
		Token      string `json:"token"`
		WebhookURL string `json:"webhook_url"`
	}
	if code := aurora.Do(http.MethodPost, "/api/v1/integrations", map[string]string{"source": "alertmanager", "name": "prod alertmanager"}, &integ); code != http.StatusCreated || integ.Token == "" {
		t.Fatalf("create integration: %d %+v", code, integ)
	}
	if integ.WebhookURL != "http://"+env["AURORA_HTTP_ADDR"]+"/webhooks/alertmanager" {
		t.Fatalf("webhook_url %q", integ.WebhookURL)
	}

	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: aurora
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: aurora
    webhook_configs:
      - url: %q
        send_resolved: true
        max_alerts: 0
        http_config:
          authorization:
            type: Bearer
            credentials: %q
`, integ.WebhookURL, integ.Token)
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	amAddr := testenv.FreeAddr(t)
	am := startAlertmanager(t, amBin, cfgPath, filepath.Join(dir, "data"), amAddr)
	amURL := "http://" + amAddr

	// Two firing alerts of one alertname: one notification group, one
	// incident (same alertname and service).
	now := time.Now().UTC()
	alerts := func(endsAt time.Time) []map[string]any {
		var out []map[string]any
		for _, inst := range []string{"10.0.0.1:9100", "10.0.0.2:9100"} {
			out = append(out, map[string]any{
				"labels":       map[string]string{"alertname": "NodeDiskFull", "severity": "critical", "service": "storage", "instance": inst},
				"annotations":  map[string]string{"summary": "Disk of " + inst + " is 95% full"},
				"startsAt":     now.Format(time.RFC3339Nano),
				"endsAt":       endsAt.Format(time.RFC3339Nano),
				"generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=node_filesystem_avail_bytes",
			})
		}
		return out
	}
	postAM(t, amURL, alerts(now.Add(time.Hour)))

	var incID string
	var stored page[alertRec]
	testenv.Eventually(t, 60*time.Second, "Aurora to store both alerts from Alertmanager", func() bool {
		get(t, aurora, "/api/v1/alerts?limit=500", &stored)
		if len(stored.Items) < 2 {
			return false
		}
		var incs page[incident]
		get(t, aurora, "/api/v1/incidents", &incs)
		if len(incs.Items) != 1 {
			t.Fatalf("incidents: %+v, want one", incs.Items)
		}
		incID = incs.Items[0].ID
		return incs.Items[0].AlertCount == 2
	})
	for _, a := range stored.Items {
		if a.Source != "alertmanager" || a.Status != "firing" || a.IncidentID != incID || a.IntegrationID != integ.ID || a.Name != "NodeDiskFull" || a.Severity != "critical" {
			t.Errorf("stored alert %+v, want a firing NodeDiskFull from integration %s in incident %s", a, integ.ID, incID)
		}
	}

	// The fingerprints are Alertmanager's own.
	var amAlerts []struct {
		Fingerprint string            `json:"fingerprint"`
		Labels      map[string]string `json:"labels"`
	}
	if code := testenv.DoToken(t, amURL, "", http.MethodGet, "/api/v2/alerts", nil, &amAlerts); code != 200 {
		t.Fatalf("alertmanager GET /api/v2/alerts: %d", code)
	}
	var amFP, auroraFP []string
	for _, a := range amAlerts {
		amFP = append(amFP, a.Fingerprint)
	}
	for _, a := range stored.Items {
		auroraFP = append(auroraFP, a.Fingerprint)
	}
	if len(amFP) != 2 || !sameSet(amFP, auroraFP) {
		t.Errorf("fingerprints: Alertmanager %v, Aurora %v", amFP, auroraFP)
	}

	// Ending the alerts makes Alertmanager send the resolved notification.
	postAM(t, amURL, alerts(time.Now().UTC().Add(-time.Second)))
	var d incidentDetail
	testenv.Eventually(t, 60*time.Second, "the incident to resolve", func() bool {
		get(t, aurora, "/api/v1/incidents/"+incID, &d)
		return d.Status == "resolved"
	})
	kinds := []string{}
	for _, e := range d.Timeline {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Contains(kinds, "resolved") {
		t.Errorf("timeline %v lacks resolved", kinds)
	}
	for _, a := range d.Alerts {
		if a.Status != "resolved" || a.EndsAt == nil {
			t.Errorf("alert %s: %s, ends %v; want resolved", a.Fingerprint, a.Status, a.EndsAt)
		}
	}
	var all page[alertRec]
	get(t, aurora, "/api/v1/alerts?limit=500", &all)
	if len(all.Items) != 2 {
		t.Errorf("%d alert rows, want 2 (resolve updates the episodes)", len(all.Items))
	}
	if strings.Contains(am.Output(), "level=error") {
		t.Errorf("alertmanager logged errors:\n%s", am.Output())
	}
}

// amProcess is a running Alertmanager.
type amProcess struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *amProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *amProcess) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func startAlertmanager(t *testing.T, bin, cfg, storage, addr string) *amProcess {
	t.Helper()
	p := &amProcess{done: make(chan struct{})}
	p.cmd = exec.Command(bin, "--config.file="+cfg, "--storage.path="+storage, "--web.listen-address="+addr,
		"--cluster.listen-address=", "--log.level=debug")
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("----- alertmanager output -----\n%s", p.Output())
		}
	})
	testenv.Eventually(t, 30*time.Second, "alertmanager to be ready", func() bool {
		select {
		case <-p.done:
			t.Fatalf("alertmanager exited:\n%s", p.Output())
		default:
		}
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

// postAM posts alerts to Alertmanager's API v2.
func postAM(t *testing.T, base string, alerts []map[string]any) {
	t.Helper()
	b, _ := json.Marshal(alerts)
	code, body := rawDo(t, http.MethodPost, base+"/api/v2/alerts", map[string]string{"Content-Type": "application/json"}, bytes.NewReader(b))
	if code != http.StatusOK {
		t.Fatalf("alertmanager POST /api/v2/alerts: %d %s", code, body)
	}
}

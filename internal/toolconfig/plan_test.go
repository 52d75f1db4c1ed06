package toolconfig_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolset"
)

type nopQueue struct{}

func (nopQueue) EnqueueInvestigation(context.Context, *storage.Tx, string, string, *time.Time) error {
	return nil
}

// clusteredTool stands in for a tool that asks several clusters (no
// Kubernetes API server can run here); it records the calls it gets.
type clusteredTool struct {
	name     string
	clusters []string
	mu       *sync.Mutex
	calls    *[]string
}

func (c clusteredTool) Name() string                { return c.name }
func (c clusteredTool) Description() string         { return "test double" }
func (c clusteredTool) Parameters() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }
func (c clusteredTool) ReadOnly() bool              { return true }
func (c clusteredTool) Timeout() time.Duration      { return time.Second }
func (c clusteredTool) Clusters() []string          { return c.clusters }
func (c clusteredTool) Call(_ context.Context, args map[string]any) (toolset.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.calls = append(*c.calls, fmt.Sprintf("%s %v", c.name, args["cluster"]))
	return toolset.Result{Output: "Error from server (NotFound): not here\n"}, nil
}

// The evidence plan asks the cluster an alert's labels name, else every
// configured cluster; a Prometheus alert gets its rule's evidence.
func TestPlanAcrossClusters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.Options{SQLitePath: filepath.Join(t.TempDir(), "a.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	store := storage.NewStore(db)
	org, _ := store.EnsureDefaultOrg(ctx)
	svc := &incident.Service{Store: store, Now: time.Now, Jobs: nopQueue{}, Cfg: incident.Config{Rules: incident.DefaultRules(time.Hour), ReopenWindow: time.Hour,
		Investigate: map[alert.Severity]bool{alert.SeverityWarning: true}}}
	gen := "http://prometheus:9090/graph?g0.expr=kube_pod_container_status_restarts_total+%3E+3&g0.tab=1"

	for _, c := range []struct {
		name     string
		labels   map[string]string
		want     []string // kubernetes calls by cluster
		wantRule bool
	}{
		{"labelled", map[string]string{"alertname": "CrashLoop", "namespace": "shop", "pod": "cart-1", "k8s_cluster": "staging", "job": "kube-state-metrics"},
			// ("job" is the scrape job: no Kubernetes Job is described for it)
			[]string{"kubernetes.describe staging", "kubernetes.events staging", "kubernetes.get staging", "kubernetes.logs staging", "kubernetes.logs staging"}, true},
		{"unlabelled", map[string]string{"alertname": "CrashLoop2", "namespace": "shop", "pod": "cart-2"},
			[]string{"kubernetes.describe prod", "kubernetes.describe staging", "kubernetes.events prod", "kubernetes.events staging",
				"kubernetes.get prod", "kubernetes.get staging", "kubernetes.logs prod", "kubernetes.logs prod", "kubernetes.logs staging", "kubernetes.logs staging"}, true},
		{"unknown cluster", map[string]string{"alertname": "CrashLoop3", "namespace": "shop", "pod": "cart-3", "cluster": "eu-9"},
			[]string{"kubernetes.describe prod", "kubernetes.describe staging", "kubernetes.events prod", "kubernetes.events staging",
				"kubernetes.get prod", "kubernetes.get staging", "kubernetes.logs prod", "kubernetes.logs prod", "kubernetes.logs staging", "kubernetes.logs staging"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var calls, rule []string
			reg, _ := toolset.NewRegistry()
			for _, n := range []string{"kubernetes.describe", "kubernetes.logs", "kubernetes.events", "kubernetes.get"} {
				_ = reg.Register(clusteredTool{name: n, clusters: []string{"prod", "staging"}, mu: &mu, calls: &calls})
			}
			_ = reg.Register(clusteredTool{name: "prometheus.alert_rule", mu: &mu, calls: &rule})
			res, err := svc.Ingest(ctx, incident.Request{OrgID: org.ID, Source: "alertmanager", Body: []byte("{}"), Alerts: []alert.Alert{{
				Source: "alertmanager", Fingerprint: alert.Fingerprint(c.labels), Status: alert.StatusFiring, Severity: alert.SeverityWarning,
				Name: c.labels["alertname"], Title: "Pod is crash looping.", Namespace: "shop", Labels: c.labels, StartsAt: time.Now(),
				Links: []alert.Link{{Text: "source", URL: gen}}}}})
			if err != nil {
				t.Fatal(err)
			}
			inc, _ := store.GetIncident(ctx, org.ID, res.IncidentIDs[0])
			r := &investigate.Runner{Store: store, Now: time.Now, Tools: reg}
			if err := r.Run(ctx, org.ID, inc.Investigation.ID, false); err != nil {
				t.Fatal(err)
			}
			sort.Strings(calls)
			if !slices.Equal(calls, c.want) {
				t.Errorf("kubernetes calls:\n got %v\nwant %v", calls, c.want)
			}
			if (len(rule) == 1) != c.wantRule {
				t.Errorf("prometheus.alert_rule calls: %v", rule)
			}
			v, _ := store.GetInvestigation(ctx, org.ID, inc.Investigation.ID)
			for _, s := range v.Steps {
				if s.Tool != "prometheus.alert_rule" {
					continue
				}
				var in map[string]any
				_ = json.Unmarshal(s.Input, &in)
				if in["generator_url"] != gen || in["alertname"] != c.labels["alertname"] || in["starts_at"] == nil {
					t.Errorf("alert_rule input %v", in)
				}
				if c.labels["job"] != "" && in["job"] != c.labels["job"] {
					t.Errorf("alert_rule job %v", in["job"])
				}
			}
		})
	}
}

package toolset

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// DefaultPrometheusBinary is where Debian's `prometheus` package puts the
// server (scripts/test.sh installs it). AURORA_TEST_PROMETHEUS overrides it.
const defaultPrometheusBinary = "/usr/bin/prometheus"

// prometheusBinary returns the Prometheus server to test against, skipping
// loudly when there is none, or failing under CI=true.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("AURORA_TEST_PROMETHEUS")
	if p == "" {
		p = defaultPrometheusBinary
	}
	if _, err := os.Stat(p); err != nil {
		if testenv.CI() {
			t.Fatalf("Prometheus (%s) is required under CI=true but is not available: %v "+
				"(scripts/test.sh installs the Debian package `prometheus`)", p, err)
		}
		t.Skipf("!!! SKIPPED: Prometheus is not installed (%s missing): the real-Prometheus test did NOT run "+
			"(run `sudo apt-get install --no-install-recommends prometheus`, or `bash scripts/test.sh` as root) !!!", p)
	}
	return p
}

// lockedBuffer collects a subprocess's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > 8000 {
		s = "…" + s[len(s)-8000:]
	}
	return s
}

// The metrics the scraped target serves (text exposition format 0.0.4).
const testExposition = `# HELP aurora_test_requests_total Requests served, by status code.
# TYPE aurora_test_requests_total counter
aurora_test_requests_total{code="200"} 42
aurora_test_requests_total{code="500"} 3
# HELP aurora_test_queue_depth Items waiting.
# TYPE aurora_test_queue_depth gauge
aurora_test_queue_depth 7
`

const testRules = `groups:
  - name: aurora-test
    interval: 1s
    rules:
      - alert: AuroraTestAlwaysFiring
        expr: vector(1)
        for: 0s
        labels:
          severity: none
        annotations:
          summary: fires from the first evaluation on
      - alert: AuroraTestServerErrors
        expr: aurora_test_requests_total{code="500"} > 1
        for: 0s
        labels:
          severity: warning
`

// startPrometheus runs a real Prometheus scraping target every second and
// evaluating testRules every second; it returns its base URL once ready.
// Prometheus is killed at cleanup.
func startPrometheus(t *testing.T, bin, target string, deadline time.Time) string {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: aurora-test
    static_configs:
      - targets: [%q]
`, filepath.Join(dir, "rules.yml"), target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(testRules), 0o644); err != nil {
		t.Fatal(err)
	}

	// A port found free may be taken before Prometheus binds it: retry then.
	for attempt := 1; ; attempt++ {
		addr := testenv.FreeAddr(t)
		out := &lockedBuffer{}
		cmd := exec.Command(bin,
			"--config.file="+filepath.Join(dir, "prometheus.yml"),
			"--storage.tsdb.path="+filepath.Join(dir, fmt.Sprintf("data%d", attempt)),
			"--web.listen-address="+addr,
			"--log.level=info",
		)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = out, out
		dieWithTest(cmd)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited // before t.TempDir's removal
			if t.Failed() {
				t.Logf("----- Prometheus output (pid %d, %s) -----\n%s", cmd.Process.Pid, addr, out.String())
			}
		})
		t.Logf("started %s (pid %d) on %s", bin, cmd.Process.Pid, addr)

		base := "http://" + addr
		client := &http.Client{Timeout: 2 * time.Second}
		for {
			select {
			case <-exited:
				if attempt < 3 && strings.Contains(out.String(), "address already in use") {
					t.Logf("port %s was taken; retrying", addr)
					goto next
				}
				t.Fatalf("Prometheus exited before becoming ready: %v\n%s", waitErr, out.String())
			default:
			}
			if resp, err := client.Get(base + "/-/ready"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return base
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("Prometheus not ready at %s/-/ready in time\n%s", base, out.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	next:
	}
}

// eventually calls tool with args() until check accepts its output or
// deadline passes, and returns the accepted output.
func eventually(t *testing.T, deadline time.Time, tool Tool, args func() map[string]any, what string, check func(string) bool) string {
	t.Helper()
	var out string
	var err error
	for {
		var res Result
		a := args()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err = tool.Call(ctx, a)
		cancel()
		out = res.Output
		if err == nil && check(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s(%v): %s did not happen in time; last error %v, last output:\n%s", tool.Name(), a, what, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func noArgs() map[string]any { return nil }

// TestPrometheusReal runs the tools against a real Prometheus server that
// scrapes an httptest target and evaluates an always-firing alerting rule.
func TestPrometheusReal(t *testing.T) {
	t.Parallel()
	bin := prometheusBinary(t)
	started := time.Now()
	// One budget for everything that waits on Prometheus: generous for a
	// loaded 2-core machine, well under the package's test timeout.
	deadline := started.Add(60 * time.Second)

	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprint(w, testExposition)
	}))
	t.Cleanup(target.Close)
	targetAddr := target.Listener.Addr().(*net.TCPAddr).String()

	base := startPrometheus(t, bin, targetAddr, deadline)
	t.Logf("Prometheus ready after %s", time.Since(started).Round(time.Millisecond))

	tools := promTools(t, PrometheusConfig{URL: base, Timeout: 10 * time.Second})
	instance := fmt.Sprintf(`{instance=%q, job="aurora-test"}`, targetAddr)

	// targets: the httptest server, scraped successfully.
	out := eventually(t, deadline, tools["prometheus.targets"], noArgs, "target up", func(s string) bool {
		return strings.Contains(s, "\nup "+instance+" ")
	})
	for _, want := range []string{
		"1 active targets (1 up, 0 down, 0 unknown)",
		"scrapePool=aurora-test scrapeUrl=http://" + targetAddr + "/metrics lastScrape=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("targets output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "lastError=") {
		t.Errorf("targets shows an error:\n%s", out)
	}
	t.Logf("prometheus.targets:\n%s", out)

	// query: the scraped counter.
	q := map[string]any{"query": `aurora_test_requests_total{code="200"}`}
	out = eventually(t, deadline, tools["prometheus.query"], func() map[string]any { return q }, "sample 42", func(s string) bool {
		return strings.Contains(s, " 42 @ ")
	})
	wantLine := fmt.Sprintf(`aurora_test_requests_total{code="200", instance=%q, job="aurora-test"} 42 @ `, targetAddr)
	if !strings.HasPrefix(out, "instant vector: 1 series\n"+wantLine) {
		t.Errorf("query output:\n%s\nwant a line starting %q", out, wantLine)
	}
	t.Logf("prometheus.query:\n%s", out)

	// query: a scalar, with an explicit time.
	out = call(t, tools["prometheus.query"], map[string]any{
		"query": "scalar(aurora_test_queue_depth) * 2",
		"time":  time.Now().UTC().Format(time.RFC3339Nano),
	})
	if !strings.HasPrefix(out, "scalar 14 @ ") {
		t.Errorf("scalar query output: %q", out)
	}

	// query: Prometheus's own message for bad PromQL.
	_, err := tools["prometheus.query"].Call(context.Background(), map[string]any{"query": "sum(aurora_test_requests_total"})
	if err == nil || !strings.Contains(err.Error(), "Prometheus returned an error (bad_data)") || !strings.Contains(err.Error(), "parse error") {
		t.Errorf("bad PromQL: err = %v", err)
	}

	// query_range: the samples so far.
	rangeArgs := func() map[string]any {
		now := time.Now()
		return map[string]any{
			"query": `sum by (code) (aurora_test_requests_total)`,
			"start": now.Add(-time.Minute).UTC().Format(time.RFC3339),
			"end":   now.Add(time.Second).UTC().Format(time.RFC3339),
			"step":  "1s",
		}
	}
	out = eventually(t, deadline, tools["prometheus.query_range"], rangeArgs, "range samples", func(s string) bool {
		// At least two points: the series has grown over several scrapes.
		return regexp.MustCompile(`\{code="200"\} points=([2-9]|\d\d+) `).MatchString(s)
	})
	for _, want := range []string{
		"range vector: 2 series\n",
		`{code="200"} points=`, " min=42 max=42 last=42 @ ",
		`{code="500"} points=`, " min=3 max=3 last=3 @ ",
		"\n  samples",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("query_range output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("prometheus.query_range:\n%s", out)

	// alerts: the rule that fires from its first evaluation.
	out = eventually(t, deadline, tools["prometheus.alerts"], noArgs, "alert firing", func(s string) bool {
		return strings.Contains(s, `firing {alertname="AuroraTestAlwaysFiring", severity="none"} activeAt=`)
	})
	if !strings.Contains(out, "  summary: fires from the first evaluation on\n") {
		t.Errorf("alerts output lacks the annotation:\n%s", out)
	}
	t.Logf("prometheus.alerts:\n%s", out)

	// rules: both rules, healthy once evaluated.
	out = eventually(t, deadline, tools["prometheus.rules"], noArgs, "rules evaluated", func(s string) bool {
		return strings.Count(s, "health=ok state=firing") == 2
	})
	for _, want := range []string{"2 alerting rules (0 not healthy)\n",
		"rule AuroraTestServerErrors (group aurora-test) health=ok state=firing lastEvaluation=",
		"  expr: aurora_test_requests_total{code=\"500\"} > 1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("rules output lacks %q:\n%s", want, out)
		}
	}

	// alert_rule: the alert's own expression, from its generatorURL as
	// Alertmanager sends it; the series that breach; its job's targets.
	gen := base + "/graph?g0.expr=" + url.QueryEscape(`aurora_test_requests_total{code="500"} > 1`) + "&g0.tab=1"
	ruleArgs := map[string]any{"alertname": "AuroraTestServerErrors", "generator_url": gen, "job": "aurora-test",
		"starts_at": started.UTC().Format(time.RFC3339)}
	out = eventually(t, deadline, tools["prometheus.alert_rule"], func() map[string]any { return ruleArgs }, "breach over the range", func(s string) bool {
		return strings.Contains(s, "state=firing") && strings.Contains(s, " first=")
	})
	breach := fmt.Sprintf(`aurora_test_requests_total{code="500", instance=%q, job="aurora-test"}`, targetAddr)
	for _, want := range []string{
		"rule AuroraTestServerErrors (group aurora-test) health=ok state=firing",
		"expression (from generatorURL g0.expr): aurora_test_requests_total{code=\"500\"} > 1\n",
		"breaching now (", "): 1 series\n  " + breach + " 3\n",
		"  " + breach + " first=", " max=3 lastValue=3\n",
		"targets of job aurora-test: 1 (1 up, 0 down, 0 unknown)\n  up http://" + targetAddr + "/metrics lastScrape=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("alert_rule output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `code="200"`) {
		t.Errorf("alert_rule lists a series that does not breach:\n%s", out)
	}
	t.Logf("prometheus.alert_rule:\n%s", out)
	// Without a generatorURL, the rule found by alertname gives the expression.
	out = call(t, tools["prometheus.alert_rule"], map[string]any{"alertname": "AuroraTestServerErrors"})
	if !strings.Contains(out, "expression (from the rule found by alertname): aurora_test_requests_total{code=\"500\"} > 1\n") ||
		!strings.Contains(out, breach+" 3\n") {
		t.Errorf("alert_rule by alertname:\n%s", out)
	}
	out = call(t, tools["prometheus.alert_rule"], map[string]any{"alertname": "NoSuchAlert"})
	if out != "no alerting rule named NoSuchAlert in this Prometheus\n" {
		t.Errorf("unknown alert: %q", out)
	}

	// The connection test of toolset settings, against the real server.
	msg, err := CheckPrometheus(context.Background(), PrometheusConfig{URL: base})
	if err != nil || !regexp.MustCompile(`^Prometheus \d+\.\d+\.\d+\S* \(revision [^)]+\); query count\(up\) = 1 scrape targets$`).MatchString(msg) {
		t.Errorf("CheckPrometheus: %q %v", msg, err)
	}
	if _, err := CheckPrometheus(context.Background(), PrometheusConfig{URL: "http://" + testenv.FreeAddr(t), Timeout: 2 * time.Second}); err == nil {
		t.Error("CheckPrometheus of nothing: no error")
	}

	t.Logf("real-Prometheus test took %s", time.Since(started).Round(time.Millisecond))
}

package deploytest

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"

	"github.com/aurora-oss/aurora/internal/metric"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// ruleSet is deploy/prometheus/aurora-rules.yml.
type ruleSet struct {
	records map[string]string // recording rule name → expression
	alerts  map[string]string // alert name → expression
}

func loadRules(t *testing.T) ruleSet {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), "deploy", "prometheus", "aurora-rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Record, Alert, Expr string
			}
		}
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	rs := ruleSet{records: map[string]string{}, alerts: map[string]string{}}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				rs.records[r.Record] = r.Expr
			} else {
				rs.alerts[r.Alert] = r.Expr
			}
		}
	}
	return rs
}

// dashboardExprs is every query of the Grafana dashboard, by panel title.
func dashboardExprs(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), "deploy", "grafana", "aurora-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	out := map[string][]string{}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out[p.Title] = append(out[p.Title], tg.Expr)
		}
	}
	return out
}

// metricRE finds metric names in PromQL: identifiers followed by a
// selector, range, or the end of a simple expression. Function names,
// keywords and label names are filtered out below.
var metricRE = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)

var promqlWords = map[string]bool{"sum": true, "by": true, "rate": true, "increase": true, "histogram_quantile": true, "max": true,
	"clamp_min": true, "and": true, "on": true, "or": true, "without": true, "le": true, "job": true, "route": true, "code": true,
	"queue": true, "state": true, "pool": true, "outcome": true, "model": true, "purpose": true, "kind": true, "instance": true,
	"source": true, "replica": true, "__rate_interval": true, "e": true, "h": true, "m": true, "s": true, "ignoring": true, "group_left": true}

// metricNames are the metric names an expression reads.
func metricNames(expr string) []string {
	// Drop label matchers' values and durations: "…" strings and [5m].
	expr = regexp.MustCompile(`"[^"]*"|\[[^\]]*\]`).ReplaceAllString(expr, " ")
	var out []string
	for _, w := range metricRE.FindAllString(expr, -1) {
		if promqlWords[w] {
			continue
		}
		out = append(out, w)
	}
	return out
}

// externalMetrics come from other exporters, which the dashboard and
// rules document: Prometheus itself (up) and redis_exporter.
func external(name string) bool {
	return name == "up" || strings.HasPrefix(name, "redis_")
}

// pendingMetrics are named by the rules before the code exporting them is
// in this build: the read-replica pool of issue 9's data tier. Remove an
// entry once its metric is exported (the test then checks it).
var pendingMetrics = map[string]string{
	"aurora_db_replica_lag_seconds": "exported per read replica when POSTGRES_READ_REPLICA_HOST is set (issue 9 data tier)",
}

// TestMetricsExported runs the real binary, scrapes /metrics and fails if
// the dashboard or the rules name a metric it does not export.
func TestMetricsExported(t *testing.T) {
	t.Parallel()
	addr := testenv.FreeAddr(t)
	p := testenv.Start(t, "aurora", testenv.Env{
		"DATABASE_URL": testenv.Postgres(t), "AURORA_SECRET_KEY": testenv.SecretKey, "AURORA_ADMIN_TOKEN": testenv.AdminToken,
		"AURORA_ADMIN_PASSWORD": "deploytest-correct-horse", "AURORA_DATA_DIR": t.TempDir(), "AURORA_HTTP_ADDR": addr,
		"AURORA_PPROF": "true",
	}, "all")
	// Some traffic, so labelled series exist.
	for i := 0; i < 3; i++ {
		p.Do("GET", "/api/v1/incidents", nil, nil)
	}
	resp, err := http.Get(p.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	exported := map[string]bool{}
	for name, f := range families {
		exported[name] = true
		switch f.GetType().String() {
		case "HISTOGRAM":
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				exported[name+s] = true
			}
		case "SUMMARY":
			exported[name+"_sum"], exported[name+"_count"] = true, true
		}
	}
	// A labelled series appears in a scrape only once observed (an LLM
	// call, a finished investigation): the metric vectors Aurora registers
	// count as exported too, read from their descriptions.
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	mv := reflect.ValueOf(metric.New(nil, nil)).Elem()
	for i := 0; i < mv.NumField(); i++ {
		f := mv.Field(i)
		c, ok := f.Interface().(prometheus.Collector)
		if !ok || f.IsNil() {
			continue
		}
		ch := make(chan *prometheus.Desc, 8)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			if m := fqName.FindStringSubmatch(d.String()); m != nil {
				exported[m[1]] = true
				if _, ok := c.(*prometheus.HistogramVec); ok {
					for _, s := range []string{"_bucket", "_sum", "_count"} {
						exported[m[1]+s] = true
					}
				}
			}
		}
	}
	if !exported["aurora_queue_jobs"] {
		t.Fatal("aurora_queue_jobs (the worker HPA's metric) is not exported")
	}

	rules := loadRules(t)
	check := func(where, expr string) {
		for _, name := range metricNames(expr) {
			_, recorded := rules.records[name]
			_, pending := pendingMetrics[name]
			if !exported[name] && !recorded && !external(name) && !pending {
				t.Errorf("%s reads %s, which Aurora does not export (query: %s)", where, name, expr)
			}
		}
	}
	var checked int
	for title, exprs := range dashboardExprs(t) {
		for _, e := range exprs {
			check("dashboard panel "+title, e)
			checked++
		}
	}
	for name, e := range rules.records {
		check("recording rule "+name, e)
	}
	for name, e := range rules.alerts {
		check("alert "+name, e)
	}
	if checked < 14 {
		t.Fatalf("only %d dashboard queries found", checked)
	}
	for name, why := range pendingMetrics {
		if exported[name] {
			t.Errorf("%s is exported now: remove it from pendingMetrics (%s)", name, why)
		}
	}

	// Every panel the issue asks for.
	var titles []string
	for title := range dashboardExprs(t) {
		titles = append(titles, strings.ToLower(title))
	}
	sort.Strings(titles)
	all := strings.Join(titles, "|")
	for _, want := range []string{"request rate", "p50", "p95", "p99", "error rate", "cpu", "memory", "queue depth", "database connections", "redis memory", "investigations", "llm cost"} {
		if !strings.Contains(all, want) {
			t.Errorf("dashboard has no %q panel (panels: %s)", want, all)
		}
	}

	// pprof: on with AURORA_PPROF, and only for an admin token.
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"aur_wrong", http.StatusUnauthorized}, {testenv.AdminToken, http.StatusOK}} {
		if got := testenv.DoToken(t, p.URL, tc.token, "GET", "/debug/pprof/cmdline", nil, nil); got != tc.want {
			t.Errorf("pprof with token %q: %d, want %d", tc.token, got, tc.want)
		}
	}
}

// TestMetricNames checks the extraction the test above relies on.
func TestMetricNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ expr, want string }{
		{`sum by (route) (rate(aurora_http_requests_total{job=~"$job"}[$__rate_interval]))`, "aurora_http_requests_total"},
		{`histogram_quantile(0.95, sum by (le) (rate(aurora_http_request_duration_seconds_bucket[5m])))`, "aurora_http_request_duration_seconds_bucket"},
		{`aurora:queue_jobs:max{queue="investigations", state="running"} > 0 and on () sum(increase(aurora_investigations_total[30m])) == 0`, "aurora:queue_jobs:max aurora_investigations_total"},
		{`redis_memory_used_bytes`, "redis_memory_used_bytes"},
	} {
		if got := strings.Join(metricNames(tc.expr), " "); got != tc.want {
			t.Errorf("metricNames(%s) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

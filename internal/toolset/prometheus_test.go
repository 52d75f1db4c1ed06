package toolset

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Responses as documented at https://prometheus.io/docs/prometheus/latest/querying/api/.
const (
	docVector = `{"status":"success","data":{"resultType":"vector","result":[
	 {"metric":{"__name__":"up","job":"prometheus","instance":"localhost:9090"},"value":[1435781451.781,"1"]},
	 {"metric":{"__name__":"up","job":"node","instance":"localhost:9100"},"value":[1435781451.781,"0"]}]}}`
	docMatrix = `{"status":"success","data":{"resultType":"matrix","result":[
	 {"metric":{"__name__":"up","job":"prometheus","instance":"localhost:9090"},"values":[[1435781430.781,"1"],[1435781445.781,"1"],[1435781460.781,"1"]]},
	 {"metric":{"__name__":"up","job":"node","instance":"localhost:9091"},"values":[[1435781430.781,"0"],[1435781445.781,"0"],[1435781460.781,"1"]]}]}}`
	docScalar   = `{"status":"success","data":{"resultType":"scalar","result":[1435781451.781,"1"]}}`
	docEmpty    = `{"status":"success","data":{"resultType":"vector","result":[]}}`
	docBadData  = `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:9: parse error: unexpected end of input"}`
	docWarnings = `{"status":"success","warnings":["some partial data"],"data":{"resultType":"vector","result":[]}}`
	docAlerts   = `{"status":"success","data":{"alerts":[
	 {"activeAt":"2018-07-04T20:27:12.60602144+02:00","annotations":{},"labels":{"alertname":"my-alert"},"state":"firing","value":"1e+00"},
	 {"activeAt":"2018-07-04T18:00:00Z","annotations":{"summary":"disk\nalmost full","runbook":"http://r/1"},"labels":{"alertname":"DiskFull","severity":"page"},"state":"pending","value":"9.5e-01"},
	 {"activeAt":"2018-07-04T19:00:00Z","annotations":{},"labels":{"alertname":"AAA"},"state":"firing","value":"2e+00"}]}}`
	docTargets = `{"status":"success","data":{"activeTargets":[
	 {"discoveredLabels":{"__address__":"127.0.0.1:9090","__metrics_path__":"/metrics","__scheme__":"http","job":"prometheus"},
	  "labels":{"instance":"127.0.0.1:9090","job":"prometheus"},"scrapePool":"prometheus","scrapeUrl":"http://127.0.0.1:9090/metrics",
	  "globalUrl":"http://example-prometheus:9090/metrics","lastError":"","lastScrape":"2017-01-17T15:07:44.723715405+01:00",
	  "lastScrapeDuration":0.050688943,"health":"up","scrapeInterval":"1m","scrapeTimeout":"10s"},
	 {"discoveredLabels":{},"labels":{"instance":"10.0.0.7:9100","job":"node"},"scrapePool":"node","scrapeUrl":"http://10.0.0.7:9100/metrics",
	  "globalUrl":"http://10.0.0.7:9100/metrics","lastError":"Get \"http://10.0.0.7:9100/metrics\": dial tcp 10.0.0.7:9100: connect: connection refused",
	  "lastScrape":"2017-01-17T15:07:40Z","lastScrapeDuration":0.001,"health":"down"},
	 {"discoveredLabels":{},"labels":{"instance":"10.0.0.8:9100","job":"node"},"scrapePool":"node","scrapeUrl":"http://10.0.0.8:9100/metrics",
	  "globalUrl":"","lastError":"","lastScrape":"0001-01-01T00:00:00Z","lastScrapeDuration":0,"health":"unknown"}],
	 "droppedTargets":[{"discoveredLabels":{"__address__":"127.0.0.1:9100","__metrics_path__":"/metrics","__scheme__":"http","job":"node"}}]}}`
)

// fakeProm replays canned responses per API path and records requests.
type fakeProm struct {
	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	path   string
	form   url.Values
	header http.Header
}

type reply struct {
	code int
	body string
}

func newFakeProm(t *testing.T, replies map[string]reply) (*fakeProm, *httptest.Server) {
	t.Helper()
	f := &fakeProm{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.requests = append(f.requests, recorded{path: r.URL.Path, form: r.Form, header: r.Header.Clone()})
		f.mu.Unlock()
		rep, ok := replies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if rep.code == 0 {
			rep.code = http.StatusOK
		}
		w.WriteHeader(rep.code)
		fmt.Fprint(w, rep.body)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeProm) last(t *testing.T) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("no request reached the fake Prometheus")
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeProm) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// promTools returns the tools by name for cfg (URL defaulted to srv).
func promTools(t *testing.T, cfg PrometheusConfig) map[string]Tool {
	t.Helper()
	tools, err := NewPrometheus(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Tool{}
	for _, tool := range tools {
		m[tool.Name()] = tool
	}
	return m
}

func call(t *testing.T, tool Tool, args map[string]any) string {
	t.Helper()
	res, err := tool.Call(context.Background(), args)
	if err != nil {
		t.Fatalf("%s(%v): %v", tool.Name(), args, err)
	}
	return res.Output
}

func TestPrometheusToolsMetadata(t *testing.T) {
	t.Parallel()
	tools, err := NewPrometheus(PrometheusConfig{URL: "http://prom:9090"})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(tools...)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(reg.Names(), " "); got != "prometheus.alert_rule prometheus.alerts prometheus.query prometheus.query_range prometheus.rules prometheus.targets" {
		t.Fatalf("names: %s", got)
	}
	for _, tool := range tools {
		if !tool.ReadOnly() {
			t.Errorf("%s is not read-only", tool.Name())
		}
		if tool.Timeout() != DefaultPrometheusTimeout {
			t.Errorf("%s timeout %s", tool.Name(), tool.Timeout())
		}
		if tool.Description() == "" {
			t.Errorf("%s has no description", tool.Name())
		}
		var schema map[string]any
		if err := json.Unmarshal(tool.Parameters(), &schema); err != nil || schema["type"] != "object" {
			t.Errorf("%s: bad schema %s: %v", tool.Name(), tool.Parameters(), err)
		}
	}
	tools, _ = NewPrometheus(PrometheusConfig{URL: "http://prom:9090", Timeout: 5 * time.Second})
	if tools[0].Timeout() != 5*time.Second {
		t.Errorf("timeout not applied: %s", tools[0].Timeout())
	}
}

func TestNewPrometheusConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  PrometheusConfig
		want string
	}{
		{PrometheusConfig{}, "want http(s)://"},
		{PrometheusConfig{URL: "prom:9090"}, "want http(s)://"},
		{PrometheusConfig{URL: "ftp://prom"}, "want http(s)://"},
		{PrometheusConfig{URL: "http://u:p@prom"}, "not in the URL"},
		{PrometheusConfig{URL: "http://prom", BearerToken: "t", Username: "u"}, "not both"},
		{PrometheusConfig{URL: "http://prom", Password: "p"}, "without Username"},
		{PrometheusConfig{URL: "http://prom", Timeout: -time.Second}, "negative"},
	} {
		_, err := NewPrometheus(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want it to contain %q", tc.cfg, err, tc.want)
		}
	}
}

func TestPrometheusQueryVector(t *testing.T) {
	t.Parallel()
	f, srv := newFakeProm(t, map[string]reply{"/api/v1/query": {body: docVector}})
	tools := promTools(t, PrometheusConfig{URL: srv.URL})
	out := call(t, tools["prometheus.query"], map[string]any{"query": "up", "time": "2015-07-01T20:10:51.781Z"})
	want := `instant vector: 2 series
up{instance="localhost:9090", job="prometheus"} 1 @ 2015-07-01T20:10:51.781Z
up{instance="localhost:9100", job="node"} 0 @ 2015-07-01T20:10:51.781Z
`
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	req := f.last(t)
	if req.form.Get("query") != "up" || req.form.Get("time") != "1435781451.781" {
		t.Fatalf("sent query=%q time=%q", req.form.Get("query"), req.form.Get("time"))
	}
	if req.header.Get("Authorization") != "" {
		t.Fatal("Authorization sent without credentials")
	}

	// Without time: Prometheus's now (no time parameter).
	call(t, tools["prometheus.query"], map[string]any{"query": "up"})
	if _, has := f.last(t).form["time"]; has {
		t.Fatal("time sent although not given")
	}
	// A Unix timestamp works too.
	call(t, tools["prometheus.query"], map[string]any{"query": "up", "time": 1435781451.5})
	if got := f.last(t).form.Get("time"); got != "1435781451.5" {
		t.Fatalf("unix time sent as %q", got)
	}
}

func TestPrometheusQueryScalarEmptyWarnings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{docScalar, "scalar 1 @ 2015-07-01T20:10:51.781Z\n"},
		{docEmpty, "instant vector: no series (empty result)\n"},
		{docWarnings, "instant vector: no series (empty result)\nwarning: some partial data\n"},
	} {
		_, srv := newFakeProm(t, map[string]reply{"/api/v1/query": {body: tc.body}})
		out := call(t, promTools(t, PrometheusConfig{URL: srv.URL})["prometheus.query"], map[string]any{"query": "1"})
		if out != tc.want {
			t.Errorf("got %q, want %q", out, tc.want)
		}
	}
}

func TestPrometheusQueryBadPromQL(t *testing.T) {
	t.Parallel()
	_, srv := newFakeProm(t, map[string]reply{"/api/v1/query": {code: 400, body: docBadData}})
	_, err := promTools(t, PrometheusConfig{URL: srv.URL})["prometheus.query"].Call(context.Background(), map[string]any{"query": "sum(up"})
	want := `prometheus.query: Prometheus returned an error (bad_data): invalid parameter "query": 1:9: parse error: unexpected end of input`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
}

func TestPrometheusHTTPError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "invalid token", http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	_, err := promTools(t, PrometheusConfig{URL: srv.URL})["prometheus.alerts"].Call(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "invalid token") {
		t.Fatalf("err = %v", err)
	}
}

func TestPrometheusTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	start := time.Now()
	_, err := promTools(t, PrometheusConfig{URL: srv.URL, Timeout: 200 * time.Millisecond})["prometheus.targets"].Call(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "within 200ms") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("timeout took %s", d)
	}
}

func TestPrometheusQueryRange(t *testing.T) {
	t.Parallel()
	f, srv := newFakeProm(t, map[string]reply{"/api/v1/query_range": {body: docMatrix}})
	tool := promTools(t, PrometheusConfig{URL: srv.URL})["prometheus.query_range"]
	out := call(t, tool, map[string]any{
		"query": "up", "start": "2015-07-01T20:10:30.781Z", "end": "2015-07-01T20:11:00.781Z", "step": "15s",
	})
	want := `range 2015-07-01T20:10:30.781Z to 2015-07-01T20:11:00.781Z, step 15s
range vector: 2 series
up{instance="localhost:9090", job="prometheus"} points=3 min=1 max=1 last=1 @ 2015-07-01T20:11:00.781Z
  samples: 2015-07-01T20:10:30.781Z 1, 2015-07-01T20:10:45.781Z 1, 2015-07-01T20:11:00.781Z 1
up{instance="localhost:9091", job="node"} points=3 min=0 max=1 last=1 @ 2015-07-01T20:11:00.781Z
  samples: 2015-07-01T20:10:30.781Z 0, 2015-07-01T20:10:45.781Z 0, 2015-07-01T20:11:00.781Z 1
`
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	req := f.last(t)
	if req.form.Get("start") != "1435781430.781" || req.form.Get("end") != "1435781460.781" || req.form.Get("step") != "15" {
		t.Fatalf("sent %v", req.form)
	}
	// Step as a number of seconds, as a numeric string, as a Prometheus duration.
	for step, sent := range map[any]string{30.0: "30", "2.5": "2.5", "1m30s": "90", "1d": "86400", 2: "2"} {
		call(t, tool, map[string]any{"query": "up", "start": "2015-07-01T00:00:00Z", "end": "2015-07-01T01:00:00Z", "step": step})
		if got := f.last(t).form.Get("step"); got != sent {
			t.Errorf("step %v sent as %q, want %q", step, got, sent)
		}
	}
}

func TestPrometheusQueryRangeSampleCap(t *testing.T) {
	t.Parallel()
	var vals []string
	for i := range 100 {
		vals = append(vals, fmt.Sprintf(`[%d,"%d"]`, 1700000000+i*60, i))
	}
	body := `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"x"},"values":[` + strings.Join(vals, ",") + `]}]}}`
	_, srv := newFakeProm(t, map[string]reply{"/api/v1/query_range": {body: body}})
	out := call(t, promTools(t, PrometheusConfig{URL: srv.URL})["prometheus.query_range"], map[string]any{
		"query": "x", "start": "2023-11-14T22:13:20Z", "end": "2023-11-15T00:00:00Z", "step": 60,
	})
	if !strings.Contains(out, `{job="x"} points=100 min=0 max=99 last=99 @ 2023-11-14T23:52:20Z`) {
		t.Fatalf("summary line missing:\n%s", out)
	}
	if !strings.Contains(out, "samples (20 of 100, evenly spaced): 2023-11-14T22:13:20Z 0, ") ||
		!strings.HasSuffix(out, ", 2023-11-14T23:52:20Z 99\n") {
		t.Fatalf("sample list wrong:\n%s", out)
	}
	sampleLine := out[strings.Index(out, "evenly spaced):"):]
	if n := strings.Count(sampleLine, ", "); n != 19 {
		t.Fatalf("%d separators in sample list, want 19:\n%s", n, out)
	}
}

func TestPrometheusArgValidation(t *testing.T) {
	t.Parallel()
	f, srv := newFakeProm(t, map[string]reply{})
	tools := promTools(t, PrometheusConfig{URL: srv.URL})
	rng := func(kv ...any) map[string]any {
		m := map[string]any{"query": "up", "start": "2024-05-01T00:00:00Z", "end": "2024-05-01T01:00:00Z", "step": "1m"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"prometheus.query", nil, `prometheus.query: argument "query": is required`},
		{"prometheus.query", map[string]any{"query": "  "}, `argument "query": is required (got an empty string)`},
		{"prometheus.query", map[string]any{"query": 3.0}, `argument "query": must be a string, got a number`},
		{"prometheus.query", map[string]any{"query": "up", "time": "yesterday"}, `argument "time": "yesterday" is not an RFC3339 time`},
		{"prometheus.query", map[string]any{"query": "up", "time": "2024-05-01 12:00:00"}, `argument "time": "2024-05-01 12:00:00" is not an RFC3339 time`},
		{"prometheus.query", map[string]any{"query": "up", "time": true}, `argument "time": must be a string, got a boolean`},
		{"prometheus.query", map[string]any{"qeury": "up"}, `prometheus.query: unknown argument "qeury" (known: query, time)`},
		{"prometheus.alerts", map[string]any{"state": "firing"}, `unknown argument "state" (the tool takes no arguments)`},
		{"prometheus.query_range", rng("query", nil), `prometheus.query_range: argument "query": is required`},
		{"prometheus.query_range", rng("start", nil), `argument "start": is required`},
		{"prometheus.query_range", rng("end", "soon"), `argument "end": "soon" is not an RFC3339 time`},
		{"prometheus.query_range", rng("step", nil), `argument "step": is required`},
		{"prometheus.query_range", rng("step", "fast"), `argument "step": "fast" is not a duration`},
		{"prometheus.query_range", rng("step", "-1m"), `argument "step": must be positive`},
		{"prometheus.query_range", rng("step", 0.0), `argument "step": must be positive`},
		{"prometheus.query_range", rng("step", []any{1}), `argument "step": must be a duration string or a number of seconds, got an array`},
		{"prometheus.query_range", rng("end", "2024-04-30T00:00:00Z"), `argument "end": 2024-04-30T00:00:00Z is before start 2024-05-01T00:00:00Z`},
		{"prometheus.query_range", rng("step", "100ms"), `argument "step": 100ms over 1h0m0s gives 36,001 points per series; Prometheus allows at most 11,000`},
	} {
		_, err := tools[tc.tool].Call(context.Background(), tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s(%v): err = %v\nwant it to contain: %s", tc.tool, tc.args, err, tc.want)
		}
	}
	if n := f.count(); n != 0 {
		t.Fatalf("invalid arguments reached Prometheus (%d requests)", n)
	}
}

func TestPrometheusAlerts(t *testing.T) {
	t.Parallel()
	_, srv := newFakeProm(t, map[string]reply{"/api/v1/alerts": {body: docAlerts}})
	out := call(t, promTools(t, PrometheusConfig{URL: srv.URL})["prometheus.alerts"], map[string]any{})
	want := `3 active alerts (2 firing, 1 pending)
firing {alertname="AAA"} activeAt=2018-07-04T19:00:00Z value=2e+00
firing {alertname="my-alert"} activeAt=2018-07-04T18:27:12Z value=1e+00
pending {alertname="DiskFull", severity="page"} activeAt=2018-07-04T18:00:00Z value=9.5e-01
  runbook: http://r/1
  summary: disk almost full
`
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}

	_, srv = newFakeProm(t, map[string]reply{"/api/v1/alerts": {body: `{"status":"success","data":{"alerts":[]}}`}})
	if out := call(t, promTools(t, PrometheusConfig{URL: srv.URL})["prometheus.alerts"], nil); out != "no active alerts (none pending or firing)\n" {
		t.Fatalf("no alerts: %q", out)
	}
}

func TestPrometheusTargets(t *testing.T) {
	t.Parallel()
	_, srv := newFakeProm(t, map[string]reply{"/api/v1/targets": {body: docTargets}})
	out := call(t, promTools(t, PrometheusConfig{URL: srv.URL})["prometheus.targets"], nil)
	want := `3 active targets (1 up, 1 down, 1 unknown), 1 dropped by relabelling
down {instance="10.0.0.7:9100", job="node"} scrapePool=node scrapeUrl=http://10.0.0.7:9100/metrics lastScrape=2017-01-17T15:07:40Z lastScrapeDuration=1ms lastError="Get \"http://10.0.0.7:9100/metrics\": dial tcp 10.0.0.7:9100: connect: connection refused"
unknown {instance="10.0.0.8:9100", job="node"} scrapePool=node scrapeUrl=http://10.0.0.8:9100/metrics lastScrape=never
up {instance="127.0.0.1:9090", job="prometheus"} scrapePool=prometheus scrapeUrl=http://127.0.0.1:9090/metrics lastScrape=2017-01-17T14:07:44Z lastScrapeDuration=50.689ms
`
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
}

func TestPrometheusAuth(t *testing.T) {
	t.Parallel()
	body := `{"status":"success","data":{"alerts":[]}}`

	f, srv := newFakeProm(t, map[string]reply{"/prom/api/v1/alerts": {body: body}})
	call(t, promTools(t, PrometheusConfig{URL: srv.URL + "/prom/", BearerToken: "s3cret"})["prometheus.alerts"], nil)
	if got := f.last(t).header.Get("Authorization"); got != "Bearer s3cret" {
		t.Fatalf("bearer: Authorization = %q", got)
	}

	f, srv = newFakeProm(t, map[string]reply{"/api/v1/alerts": {body: body}})
	call(t, promTools(t, PrometheusConfig{URL: srv.URL, Username: "aurora", Password: "p:w"})["prometheus.alerts"], nil)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("aurora:p:w"))
	if got := f.last(t).header.Get("Authorization"); got != want {
		t.Fatalf("basic: Authorization = %q, want %q", got, want)
	}

	// Credentials are for the configured host only, not for a redirect target.
	other, otherSrv := newFakeProm(t, map[string]reply{"/api/v1/alerts": {body: body}})
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherSrv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)
	call(t, promTools(t, PrometheusConfig{URL: redirect.URL, BearerToken: "s3cret"})["prometheus.alerts"], nil)
	if got := other.last(t).header.Get("Authorization"); got != "" {
		t.Fatalf("credentials leaked to another host: %q", got)
	}
}

func TestPrometheusOutputTruncated(t *testing.T) {
	t.Parallel()
	var series []string
	for i := range 3000 {
		series = append(series, fmt.Sprintf(`{"metric":{"__name__":"http_requests_total","pod":"web-%05d","path":"/api/v1/some/long/path"},"value":[1700000000,"%d"]}`, i, i))
	}
	body := `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(series, ",") + `]}}`
	_, srv := newFakeProm(t, map[string]reply{"/api/v1/query": {body: body}})
	res, err := promTools(t, PrometheusConfig{URL: srv.URL})["prometheus.query"].Call(context.Background(), map[string]any{"query": "http_requests_total"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Truncated {
		t.Fatalf("not truncated (%d bytes)", len(res.Output))
	}
	if len(res.Output) > DefaultOutputLimit+100 {
		t.Fatalf("output %d bytes", len(res.Output))
	}
	lines := strings.Split(res.Output, "\n")
	if !strings.HasPrefix(lines[0], "instant vector: 3000 series") {
		t.Fatalf("header: %q", lines[0])
	}
	lastLine := lines[len(lines)-1]
	if !strings.HasPrefix(lastLine, "… [truncated: ") || !strings.HasSuffix(lastLine, " more bytes]") {
		t.Fatalf("last line: %q", lastLine)
	}
	// Whole series lines only before the notice.
	if prev := lines[len(lines)-2]; !strings.HasPrefix(prev, "http_requests_total{") || !strings.HasSuffix(prev, "@ 2023-11-14T22:13:20Z") {
		t.Fatalf("line before the notice was cut: %q", prev)
	}
}

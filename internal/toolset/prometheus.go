package toolset

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// PrometheusConfig says how to reach a Prometheus server (or anything that
// serves its HTTP API: Thanos, Mimir, VictoriaMetrics, …).
type PrometheusConfig struct {
	// URL is the server's base URL, e.g. http://prometheus:9090 (a path
	// prefix such as https://host/prometheus is kept).
	URL string
	// BearerToken, or Username and Password (basic auth), authenticate
	// every request sent to URL's host. At most one of the two.
	BearerToken        string
	Username, Password string
	// InsecureSkipVerify accepts any TLS certificate (self-signed servers).
	InsecureSkipVerify bool
	// Headers are sent with every request to URL's host (e.g. a tenant
	// header of Mimir or Thanos: X-Scope-OrgID).
	Headers map[string]string
	// Timeout bounds each tool call (default 30s).
	Timeout time.Duration
}

// DefaultPrometheusTimeout is a tool call's timeout when the config has none.
const DefaultPrometheusTimeout = 30 * time.Second

const (
	// maxRangePoints is Prometheus's own limit on points per series in a
	// range query; asking for more fails there with a vaguer message.
	maxRangePoints = 11000
	// rangeSampleList is how many samples of each series query_range lists.
	rangeSampleList = 20
)

// NewPrometheus returns the read-only Prometheus tools: prometheus.query,
// prometheus.query_range, prometheus.alerts, prometheus.targets,
// prometheus.rules and prometheus.alert_rule.
func NewPrometheus(cfg PrometheusConfig) ([]Tool, error) {
	p, err := newPrometheusClient(cfg)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = p.timeout
	// Each tool reads its arguments through args, whose errors name it.
	tool := func(name, desc, params string, fn func(context.Context, args) (string, error)) Tool {
		return &Func{ToolName: name, Desc: desc, Params: params, Limit: cfg.Timeout, Backend: "Prometheus",
			Fn: func(ctx context.Context, raw map[string]any) (string, error) {
				return fn(ctx, args{tool: name, m: raw})
			}}
	}
	tools := []Tool{
		tool("prometheus.query",
			"Evaluate a PromQL expression at one instant (default: now). Prints one line per series, "+
				"sorted: `metric{labels} value @ time`, or the scalar/string result.",
			`{"type":"object","properties":{`+
				`"query":{"type":"string","description":"PromQL expression"},`+
				`"time":{"type":"string","format":"date-time","description":"evaluation time, RFC3339 (default: now)"}},`+
				`"required":["query"],"additionalProperties":false}`,
			p.query),
		tool("prometheus.query_range",
			"Evaluate a PromQL expression over a time range. Prints, per series, the number of points, "+
				"min, max and last value, and up to "+strconv.Itoa(rangeSampleList)+" evenly spaced samples.",
			`{"type":"object","properties":{`+
				`"query":{"type":"string","description":"PromQL expression"},`+
				`"start":{"type":"string","format":"date-time","description":"range start, RFC3339"},`+
				`"end":{"type":"string","format":"date-time","description":"range end, RFC3339"},`+
				`"step":{"type":["string","number"],"description":"resolution: a Go duration (\"30s\", \"5m\") or a number of seconds"}},`+
				`"required":["query","start","end","step"],"additionalProperties":false}`,
			p.queryRange),
		tool("prometheus.alerts",
			"List the alerts Prometheus's alerting rules currently have pending or firing: state, labels, activeAt, value, annotations.",
			`{"type":"object","properties":{},"additionalProperties":false}`,
			p.alerts),
		tool("prometheus.targets",
			"List Prometheus's active scrape targets: health (up/down/unknown), labels, scrapeUrl, "+
				"last scrape and lastError.",
			`{"type":"object","properties":{},"additionalProperties":false}`,
			p.targets),
	}
	return append(tools, p.ruleTools(tool)...), nil
}

// newPrometheusClient checks cfg and builds the API client.
func newPrometheusClient(cfg PrometheusConfig) (*prometheus, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil {
		return nil, fmt.Errorf("prometheus: URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus: URL %q: want http(s)://host[:port][/path]", cfg.URL)
	}
	if u.User != nil {
		return nil, errors.New("prometheus: URL: put credentials in Username/Password, not in the URL")
	}
	if cfg.BearerToken != "" && (cfg.Username != "" || cfg.Password != "") {
		return nil, errors.New("prometheus: set BearerToken or Username/Password, not both")
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("prometheus: Password set without Username")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("prometheus: Timeout %s is negative", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultPrometheusTimeout
	}
	for k := range cfg.Headers {
		if err := CheckHeaderName(k); err != nil {
			return nil, fmt.Errorf("prometheus: header %q: %w", k, err)
		}
	}
	t := api.DefaultRoundTripper.(*http.Transport).Clone()
	t.DialContext = SafeDialer()
	if cfg.InsecureSkipVerify {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the admin asked for it (self-signed Prometheus)
	}
	var rt http.RoundTripper = t
	if cfg.BearerToken != "" || cfg.Username != "" || len(cfg.Headers) > 0 {
		rt = &authRoundTripper{
			next: rt, host: u.Host, headers: cfg.Headers,
			bearer: cfg.BearerToken, user: cfg.Username, pass: cfg.Password,
		}
	}
	client, err := api.NewClient(api.Config{Address: u.String(), RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	return &prometheus{api: promv1.NewAPI(client), timeout: cfg.Timeout}, nil
}

// CheckHeaderName says why name cannot be an extra request header: not an
// HTTP token, or one the client sets itself.
func CheckHeaderName(name string) error {
	if name == "" {
		return errors.New("empty header name")
	}
	for _, c := range name {
		if c > 127 || !(c == '-' || c == '_' || c == '.' || c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' ||
			c == '*' || c == '+' || c == '^' || c == '`' || c == '|' || c == '~' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return errors.New("not a valid HTTP header name")
		}
	}
	switch http.CanonicalHeaderKey(name) {
	case "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Authorization":
		return errors.New("set by the client itself (use bearer_token or username/password for Authorization)")
	}
	return nil
}

// authRoundTripper adds credentials to requests for host only, so a
// redirect elsewhere never receives them.
type authRoundTripper struct {
	next               http.RoundTripper
	host               string
	headers            map[string]string
	bearer, user, pass string
}

func (a *authRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != a.host {
		return a.next.RoundTrip(req)
	}
	req = req.Clone(req.Context()) // a RoundTripper must not modify its request
	for k, v := range a.headers {
		req.Header.Set(k, v)
	}
	if a.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+a.bearer)
	} else if a.user != "" {
		req.SetBasicAuth(a.user, a.pass)
	}
	return a.next.RoundTrip(req)
}

// args reads and validates tool arguments; every error names the argument.
type args struct {
	tool string
	m    map[string]any
}

func (a args) errorf(key, format string, v ...any) error {
	return fmt.Errorf("%s: argument %q: %s", a.tool, key, fmt.Sprintf(format, v...))
}

// str returns a string argument ("" and false when absent or null).
func (a args) str(key string, required bool) (string, bool, error) {
	v, ok := a.m[key]
	if !ok || v == nil {
		if required {
			return "", false, a.errorf(key, "is required")
		}
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", false, a.errorf(key, "must be a string, got %s", JSONType(v))
	}
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", false, a.errorf(key, "is required (got an empty string)")
		}
		return "", false, nil
	}
	return s, true, nil
}

// time reads an RFC3339 timestamp (a number is taken as Unix seconds).
func (a args) time(key string, required bool) (time.Time, error) {
	v, ok := a.m[key]
	if !ok || v == nil {
		if required {
			return time.Time{}, a.errorf(key, "is required (an RFC3339 time, e.g. 2024-05-01T12:00:00Z)")
		}
		return time.Time{}, nil
	}
	if tv, isTime := v.(time.Time); isTime {
		return tv, nil
	}
	if f, isNum := number(v); isNum {
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
			return time.Time{}, a.errorf(key, "%v is not a plausible Unix time", f)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	s, _, err := a.str(key, required)
	if err != nil {
		return time.Time{}, err
	}
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, a.errorf(key, "%q is not an RFC3339 time (e.g. 2024-05-01T12:00:00Z)", s)
	}
	return t, nil
}

// duration reads a Go duration ("30s"), a Prometheus one ("1d") or seconds.
func (a args) duration(key string) (time.Duration, error) {
	v, ok := a.m[key]
	if !ok || v == nil {
		return 0, a.errorf(key, "is required (a duration such as \"30s\" or a number of seconds)")
	}
	var d time.Duration
	if f, isNum := number(v); isNum {
		if math.IsNaN(f) || math.IsInf(f, 0) || f > 1e9 {
			return 0, a.errorf(key, "%v is not a usable number of seconds", f)
		}
		d = time.Duration(f * float64(time.Second))
	} else {
		s, isStr := v.(string)
		if !isStr {
			return 0, a.errorf(key, "must be a duration string or a number of seconds, got %s", JSONType(v))
		}
		s = strings.TrimSpace(s)
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			if md, merr := model.ParseDuration(s); merr == nil {
				d, err = time.Duration(md), nil
			} else if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && f <= 1e9 {
				d, err = time.Duration(f*float64(time.Second)), nil
			}
		}
		if err != nil {
			return 0, a.errorf(key, "%q is not a duration (e.g. \"30s\", \"5m\") or a number of seconds", s)
		}
	}
	if d <= 0 {
		return 0, a.errorf(key, "must be positive, got %s", d)
	}
	if d < time.Millisecond {
		return 0, a.errorf(key, "%s is below Prometheus's resolution of 1ms", d)
	}
	return d, nil
}

// number returns v as a float64 when it is a JSON or Go number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// prometheus is the shared client of the tools.
type prometheus struct {
	api     promv1.API
	timeout time.Duration
}

// apiError words an error from the client: Prometheus's own message (bad
// PromQL, …) when it sent one, else the HTTP problem.
func apiError(tool string, err error) error {
	var pe *promv1.Error
	if errors.As(err, &pe) {
		msg := fmt.Sprintf("%s: Prometheus returned an error (%s): %s", tool, pe.Type, pe.Msg)
		if d := strings.TrimSpace(pe.Detail); d != "" {
			if len(d) > 512 {
				d = d[:512] + "…"
			}
			msg += ": " + d
		}
		return errors.New(msg)
	}
	return fmt.Errorf("%s: %w", tool, err)
}

func (p *prometheus) query(ctx context.Context, a args) (string, error) {
	q, _, err := a.str("query", true)
	if err != nil {
		return "", err
	}
	ts, err := a.time("time", false)
	if err != nil {
		return "", err
	}
	v, warnings, _, err := p.api.Query(ctx, q, ts, promv1.WithTimeout(p.timeout))
	if err != nil {
		return "", apiError(a.tool, err)
	}
	var b strings.Builder
	switch r := v.(type) {
	case model.Vector:
		writeVector(&b, r)
	case *model.Scalar:
		fmt.Fprintf(&b, "scalar %s @ %s\n", r.Value, formatTime(r.Timestamp))
	case *model.String:
		fmt.Fprintf(&b, "string %q @ %s\n", r.Value, formatTime(r.Timestamp))
	case model.Matrix: // a range selector such as up[5m]
		writeMatrix(&b, r)
	case nil:
		b.WriteString("no result\n")
	default:
		fmt.Fprintf(&b, "%s result:\n%s\n", v.Type(), v.String())
	}
	writeWarnings(&b, warnings)
	return b.String(), nil
}

func (p *prometheus) queryRange(ctx context.Context, a args) (string, error) {
	q, _, err := a.str("query", true)
	if err != nil {
		return "", err
	}
	start, err := a.time("start", true)
	if err != nil {
		return "", err
	}
	end, err := a.time("end", true)
	if err != nil {
		return "", err
	}
	step, err := a.duration("step")
	if err != nil {
		return "", err
	}
	if end.Before(start) {
		return "", a.errorf("end", "%s is before start %s", end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	if n := int64(end.Sub(start)/step) + 1; n > maxRangePoints {
		return "", a.errorf("step", "%s over %s gives %s points per series; Prometheus allows at most %s: use a larger step",
			step, end.Sub(start), groupThousands(int(n)), groupThousands(maxRangePoints))
	}
	v, warnings, _, err := p.api.QueryRange(ctx, q, promv1.Range{Start: start, End: end, Step: step}, promv1.WithTimeout(p.timeout))
	if err != nil {
		return "", apiError(a.tool, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "range %s to %s, step %s\n", formatTime(model.TimeFromUnixNano(start.UnixNano())),
		formatTime(model.TimeFromUnixNano(end.UnixNano())), step)
	switch r := v.(type) {
	case model.Matrix:
		writeMatrix(&b, r)
	case nil:
		b.WriteString("no result\n")
	default:
		fmt.Fprintf(&b, "%s result:\n%s\n", v.Type(), v.String())
	}
	writeWarnings(&b, warnings)
	return b.String(), nil
}

func (p *prometheus) alerts(ctx context.Context, a args) (string, error) {
	res, err := p.api.Alerts(ctx)
	if err != nil {
		return "", apiError(a.tool, err)
	}
	alerts := res.Alerts
	if len(alerts) == 0 {
		return "no active alerts (none pending or firing)\n", nil
	}
	stateRank := func(s promv1.AlertState) int {
		switch s {
		case promv1.AlertStateFiring:
			return 0
		case promv1.AlertStatePending:
			return 1
		}
		return 2
	}
	sort.SliceStable(alerts, func(i, j int) bool {
		if ri, rj := stateRank(alerts[i].State), stateRank(alerts[j].State); ri != rj {
			return ri < rj
		}
		return alerts[i].Labels.String() < alerts[j].Labels.String()
	})
	counts := map[promv1.AlertState]int{}
	for _, al := range alerts {
		counts[al.State]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d active alerts (%d firing, %d pending)\n", len(alerts),
		counts[promv1.AlertStateFiring], counts[promv1.AlertStatePending])
	for _, al := range alerts {
		fmt.Fprintf(&b, "%s %s activeAt=%s", al.State, al.Labels, al.ActiveAt.UTC().Format(time.RFC3339))
		if al.Value != "" {
			fmt.Fprintf(&b, " value=%s", al.Value)
		}
		b.WriteByte('\n')
		names := make([]string, 0, len(al.Annotations))
		for k := range al.Annotations {
			names = append(names, string(k))
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(&b, "  %s: %s\n", k, oneLine(string(al.Annotations[model.LabelName(k)])))
		}
	}
	return b.String(), nil
}

func (p *prometheus) targets(ctx context.Context, a args) (string, error) {
	res, err := p.api.Targets(ctx)
	if err != nil {
		return "", apiError(a.tool, err)
	}
	ts := res.Active
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].ScrapePool != ts[j].ScrapePool {
			return ts[i].ScrapePool < ts[j].ScrapePool
		}
		return ts[i].ScrapeURL < ts[j].ScrapeURL
	})
	counts := map[promv1.HealthStatus]int{}
	for _, t := range ts {
		counts[t.Health]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d active targets (%d up, %d down, %d unknown)", len(ts),
		counts[promv1.HealthGood], counts[promv1.HealthBad], counts[promv1.HealthUnknown])
	if n := len(res.Dropped); n > 0 {
		fmt.Fprintf(&b, ", %d dropped by relabelling", n)
	}
	b.WriteByte('\n')
	for _, t := range ts {
		health := string(t.Health)
		if health == "" {
			health = "unknown"
		}
		fmt.Fprintf(&b, "%s %s scrapePool=%s scrapeUrl=%s", health, t.Labels, t.ScrapePool, t.ScrapeURL)
		if t.LastScrape.IsZero() {
			b.WriteString(" lastScrape=never")
		} else {
			fmt.Fprintf(&b, " lastScrape=%s lastScrapeDuration=%s", t.LastScrape.UTC().Format(time.RFC3339),
				time.Duration(t.LastScrapeDuration*float64(time.Second)).Round(time.Microsecond))
		}
		if t.LastError != "" {
			fmt.Fprintf(&b, " lastError=%q", oneLine(t.LastError))
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// writeVector prints one line per sample, sorted by series.
func writeVector(b *strings.Builder, v model.Vector) {
	if len(v) == 0 {
		b.WriteString("instant vector: no series (empty result)\n")
		return
	}
	lines := make([]string, len(v))
	for i, s := range v {
		val := s.Value.String()
		if s.Histogram != nil {
			val = "histogram " + s.Histogram.String()
		}
		lines[i] = fmt.Sprintf("%s %s @ %s", s.Metric, val, formatTime(s.Timestamp))
	}
	sort.Strings(lines)
	fmt.Fprintf(b, "instant vector: %d series\n", len(v))
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

// writeMatrix prints, per series (sorted), a summary line and a compact
// sample list.
func writeMatrix(b *strings.Builder, m model.Matrix) {
	if len(m) == 0 {
		b.WriteString("range vector: no series (empty result)\n")
		return
	}
	streams := make([]*model.SampleStream, len(m))
	copy(streams, m)
	sort.SliceStable(streams, func(i, j int) bool { return streams[i].Metric.String() < streams[j].Metric.String() })
	fmt.Fprintf(b, "range vector: %d series\n", len(streams))
	for _, s := range streams {
		if len(s.Values) == 0 {
			if len(s.Histograms) > 0 {
				last := s.Histograms[len(s.Histograms)-1]
				fmt.Fprintf(b, "%s points=%d (native histograms) last=%s @ %s\n", s.Metric,
					len(s.Histograms), last.Histogram, formatTime(last.Timestamp))
			} else {
				fmt.Fprintf(b, "%s points=0\n", s.Metric)
			}
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range s.Values {
			f := float64(p.Value)
			if math.IsNaN(f) {
				continue
			}
			lo, hi = math.Min(lo, f), math.Max(hi, f)
		}
		last := s.Values[len(s.Values)-1]
		minS, maxS := model.SampleValue(lo).String(), model.SampleValue(hi).String()
		if lo > hi { // every value NaN
			minS, maxS = "NaN", "NaN"
		}
		fmt.Fprintf(b, "%s points=%d min=%s max=%s last=%s @ %s\n", s.Metric, len(s.Values),
			minS, maxS, last.Value, formatTime(last.Timestamp))
		idx := spread(len(s.Values), rangeSampleList)
		if len(idx) < len(s.Values) {
			fmt.Fprintf(b, "  samples (%d of %d, evenly spaced):", len(idx), len(s.Values))
		} else {
			b.WriteString("  samples:")
		}
		for k, i := range idx {
			if k > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, " %s %s", formatTime(s.Values[i].Timestamp), s.Values[i].Value)
		}
		b.WriteByte('\n')
	}
}

// spread returns up to max indexes of 0..n-1, evenly spaced, always
// including the first and the last.
func spread(n, max int) []int {
	if n <= max {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, max)
	for k := range out {
		out[k] = int(math.Round(float64(k) * float64(n-1) / float64(max-1)))
	}
	return out
}

func writeWarnings(b *strings.Builder, ws []string) {
	for _, w := range ws {
		fmt.Fprintf(b, "warning: %s\n", oneLine(w))
	}
}

// formatTime prints a Prometheus timestamp as RFC3339 UTC (with
// milliseconds only when it has some).
func formatTime(t model.Time) string {
	return t.Time().UTC().Format("2006-01-02T15:04:05.999Z07:00")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

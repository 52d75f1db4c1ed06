package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/webhook"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond // 1ms … 100ms
	}
	for _, c := range []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample", ms(7), 50, 7 * time.Millisecond},
		{"one sample p99", ms(7), 99, 7 * time.Millisecond},
		{"median of odd", ms(1, 2, 3), 50, 2 * time.Millisecond},
		{"median of even is the lower", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p50 of 100", hundred, 50, 50 * time.Millisecond},
		{"p95 of 100", hundred, 95, 95 * time.Millisecond},
		{"p99 of 100", hundred, 99, 99 * time.Millisecond},
		{"p99.9 of 100", hundred, 99.9, 100 * time.Millisecond},
		{"max", hundred, 100, 100 * time.Millisecond},
		{"p0 is the min", hundred, 0, 1 * time.Millisecond},
		{"p1 of 100", hundred, 1, 1 * time.Millisecond},
		{"p95 of 10", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 95, 10 * time.Millisecond},
		{"p90 of 10", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
	} {
		if got := Percentile(c.in, c.p); got != c.want {
			t.Errorf("%s: Percentile(p%v) = %v, want %v", c.name, c.p, got, c.want)
		}
	}
}

// fakeAurora parses every request as Aurora would and records what it got.
type fakeAurora struct {
	mu        sync.Mutex
	requests  int
	inFlight  atomic.Int32
	maxFlight atomic.Int32
	byStatus  map[alert.Status]int
	fps       map[string]int // fingerprint → times received
	keys      map[string]bool
	perReq    []int
	fail      func(n int) int // status to answer the n-th request (1-based) with; 0 = 202
	delay     time.Duration
	badAuth   int
}

func newFake() *fakeAurora {
	return &fakeAurora{byStatus: map[alert.Status]int{}, fps: map[string]int{}, keys: map[string]bool{}}
}

func (f *fakeAurora) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxFlight.Load()
		if n <= m || f.maxFlight.CompareAndSwap(m, n) {
			break
		}
	}
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if r.Method != http.MethodPost || r.URL.Path != "/webhooks/alertmanager" || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "wrong route", http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer tok" {
		f.badAuth++
		http.Error(w, "no", http.StatusUnauthorized)
		return
	}
	if f.fail != nil {
		if st := f.fail(f.requests); st != 0 {
			http.Error(w, "fail", st)
			return
		}
	}
	alerts, err := webhook.Parse("alertmanager", body, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	f.perReq = append(f.perReq, len(alerts))
	for _, a := range alerts {
		f.byStatus[a.Status]++
		f.fps[a.Fingerprint]++
		f.keys[a.Name+"/"+a.Service+"/"+a.Namespace] = true
		if a.Severity != alert.SeverityCritical && a.Severity != alert.SeverityWarning {
			http.Error(w, "unexpected severity "+string(a.Severity), http.StatusUnprocessableEntity)
			return
		}
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"accepted":1}`))
}

func TestRunIngestCountsAndPayloads(t *testing.T) {
	f := newFake()
	f.delay = 2 * time.Millisecond
	srv := httptest.NewServer(f)
	defer srv.Close()
	rep, err := RunIngest(context.Background(), IngestOptions{URL: srv.URL + "/", Token: "tok", Alerts: 1005, Concurrency: 4, Group: 10, RunID: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Phases) != 1 {
		t.Fatalf("phases = %d, want 1", len(rep.Phases))
	}
	p := rep.Phases[0]
	// 1005 alerts in groups of 10: 100 full requests and one of 5.
	if p.Requests != 101 || f.requests != 101 || p.Accepted != 101 || len(p.Latencies) != 101 {
		t.Errorf("requests: report %d accepted %d latencies %d, server saw %d; want 101", p.Requests, p.Accepted, len(p.Latencies), f.requests)
	}
	if p.AlertsSent != 1005 || p.AlertsStored != 1005 || f.byStatus[alert.StatusFiring] != 1005 {
		t.Errorf("alerts: sent %d stored %d, server parsed %d firing; want 1005", p.AlertsSent, p.AlertsStored, f.byStatus[alert.StatusFiring])
	}
	if len(f.fps) != 1005 {
		t.Errorf("distinct fingerprints = %d, want 1005 (one per alert)", len(f.fps))
	}
	// One correlation key per 50 alerts: ceil(1005/50) = 21.
	if len(f.keys) != 21 {
		t.Errorf("correlation keys = %d, want 21", len(f.keys))
	}
	if p.ErrorCount() != 0 || f.badAuth != 0 {
		t.Errorf("errors %v, bad auth %d", p.Errors, f.badAuth)
	}
	if got := f.maxFlight.Load(); got > 4 || got < 2 {
		t.Errorf("max requests in flight = %d, want 2…4 with concurrency 4", got)
	}
	last := 0
	for _, n := range f.perReq {
		if n == 5 {
			last++
		} else if n != 10 {
			t.Errorf("a request carried %d alerts", n)
		}
	}
	if last != 1 {
		t.Errorf("%d requests carried the remainder of 5, want 1", last)
	}
	if !isSorted(p.Latencies) || p.Percentile(50) < 2*time.Millisecond || p.Percentile(100) < p.Percentile(99) {
		t.Errorf("latencies not sorted or implausible: p50 %v p99 %v max %v", p.Percentile(50), p.Percentile(99), p.Percentile(100))
	}
	if p.StoredPerSecond() <= 0 || p.RequestsPerSecond() <= 0 {
		t.Errorf("rates %v %v", p.StoredPerSecond(), p.RequestsPerSecond())
	}
	var out strings.Builder
	rep.Write(&out)
	for _, want := range []string{"/webhooks/alertmanager", "101 (101 accepted, 0 failed)", "1005 sent, 1005 stored", "errors       none", "alerts/s", "p95"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunIngestErrorsAndResolve(t *testing.T) {
	f := newFake()
	f.fail = func(n int) int {
		switch n {
		case 3:
			return http.StatusServiceUnavailable
		case 5, 6:
			return http.StatusInternalServerError
		}
		return 0
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	rep, err := RunIngest(context.Background(), IngestOptions{URL: srv.URL, Token: "tok", Alerts: 100, Concurrency: 3, Group: 10, Resolve: true, RunID: "t2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Phases) != 2 {
		t.Fatalf("phases = %d, want firing and resolved", len(rep.Phases))
	}
	fire, res := rep.Phases[0], rep.Phases[1]
	if fire.Requests != 10 || fire.Accepted != 7 || fire.AlertsStored != 70 || fire.AlertsSent != 100 {
		t.Errorf("firing: %d requests, %d accepted, %d/%d alerts stored", fire.Requests, fire.Accepted, fire.AlertsStored, fire.AlertsSent)
	}
	if fire.Errors["503"] != 1 || fire.Errors["500"] != 2 || fire.ErrorCount() != 3 {
		t.Errorf("errors = %v", fire.Errors)
	}
	if res.Requests != 10 || res.AlertsStored != 100 || f.byStatus[alert.StatusResolved] != 100 {
		t.Errorf("resolved: %d requests, %d stored, server parsed %d resolved", res.Requests, res.AlertsStored, f.byStatus[alert.StatusResolved])
	}
	for fp, n := range f.fps {
		if n > 2 {
			t.Errorf("fingerprint %s received %d times", fp, n)
		}
	}
	var out strings.Builder
	rep.Write(&out)
	if !strings.Contains(out.String(), "500×2, 503×1") || !strings.Contains(out.String(), "resolved alerts") ||
		!strings.Contains(out.String(), "first error  50") || !strings.Contains(out.String(), "fail") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestRunIngestDurationCap(t *testing.T) {
	f := newFake()
	f.delay = 20 * time.Millisecond
	srv := httptest.NewServer(f)
	defer srv.Close()
	start := time.Now()
	rep, err := RunIngest(context.Background(), IngestOptions{URL: srv.URL, Token: "tok", Alerts: 100000, Concurrency: 2, Group: 10, Duration: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("run took %s with a 150ms cap", d)
	}
	p := rep.Phases[0]
	if !p.Stopped || p.Requests == 0 || p.Requests >= 100 || p.Requests != f.requests {
		t.Errorf("stopped %v after %d requests (server saw %d)", p.Stopped, p.Requests, f.requests)
	}
}

func TestRunIngestRejectsBadOptions(t *testing.T) {
	for _, o := range []IngestOptions{
		{URL: "http://x", Alerts: 1, Concurrency: 1, Group: 1},                           // no token
		{URL: "ftp://x", Token: "t", Alerts: 1, Concurrency: 1, Group: 1},                // scheme
		{URL: "http://x", Token: "t", Alerts: 0, Concurrency: 1, Group: 1},               // alerts
		{URL: "http://x", Token: "t", Alerts: 1, Concurrency: 0, Group: 1},               // concurrency
		{URL: "http://x", Token: "t", Alerts: 1, Concurrency: 1, Group: 0},               // group
		{URL: "http://x", Token: "t", Alerts: 1, Concurrency: 1, Group: 1, Duration: -1}, // duration
	} {
		if _, err := RunIngest(context.Background(), o); err == nil {
			t.Errorf("RunIngest(%+v) succeeded", o)
		}
	}
}

func TestGeneratorSpreadsKeys(t *testing.T) {
	g := Generator{RunID: "x", Alerts: 20000, Group: 10}
	if g.Requests() != 2000 || g.Keys() != 400 {
		t.Fatalf("requests %d keys %d, want 2000 and 400", g.Requests(), g.Keys())
	}
	seen := map[string]int{}
	for r := range g.Requests() {
		n, s, ns := g.key(r)
		seen[n+"/"+s+"/"+ns]++
	}
	if len(seen) != 400 {
		t.Errorf("distinct keys = %d, want 400", len(seen))
	}
	for k, n := range seen {
		if n != 5 {
			t.Errorf("key %s has %d requests, want 5 (50 alerts)", k, n)
		}
	}
}

func isSorted(d []time.Duration) bool {
	for i := 1; i < len(d); i++ {
		if d[i] < d[i-1] {
			return false
		}
	}
	return true
}

func TestGeneratorCyclesWithFreshKeys(t *testing.T) {
	g := Generator{RunID: "x", Alerts: 100, Group: 10} // 10 requests, 2 keys per cycle
	keys := map[string]bool{}
	fps := map[string]bool{}
	for r := range 10 * g.Requests() {
		n, s, ns := g.key(r)
		keys[n+"/"+s+"/"+ns] = true
		if g.GroupSize(r) != 10 {
			t.Fatalf("GroupSize(%d) = %d", r, g.GroupSize(r))
		}
		alerts, err := webhook.Parse("alertmanager", g.Payload(r, alert.StatusFiring, time.Now()), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alerts {
			fps[a.Fingerprint] = true
		}
	}
	if len(keys) != 20 || len(fps) != 1000 {
		t.Errorf("10 cycles: %d keys (want 20), %d fingerprints (want 1000)", len(keys), len(fps))
	}
	big := Generator{RunID: "x", Alerts: 10, Group: 1}
	seen := map[string]bool{}
	for r := range 5000 {
		n, s, ns := big.key(r * big.Requests()) // first key of each cycle
		if seen[n+s+ns] {
			t.Fatalf("cycle %d reuses key %s/%s/%s", r, n, s, ns)
		}
		seen[n+s+ns] = true
	}
}

package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const benchLoadUsage = `Usage: aurora bench load [flags]

Load-tests a running Aurora the way deploy/k6/load.js does, without k6:
the same stages (2 m up to 10 users, 5 m up to 50, 10 m up to 100, 2 m down
to 0) scaled down by -time-scale, against /health, the REST API (incident
and alert lists) and the generic webhook (one new alert in five requests).
A "user" sends -rate-per-user requests per second (k6's user sends one
iteration of about 3.2 requests per second). Requests are spread round-robin
over every -url given (several server replicas without a load balancer).

It prints, per stage and per endpoint, the request rate, the latency
percentiles, the share of requests meeting the k6 checks (status 200, 202
for webhooks, and under 500 ms) and the errors. It exits 1 when the check
share is below -min-checks.

Send it only to an Aurora you may fill with test alerts.

Flags:
`

// loadStage is one k6 stage: ramp linearly to Target users over Duration.
type loadStage struct {
	Duration time.Duration
	Target   float64
}

// k6LoadStages are deploy/k6/load.js's stages (the deploytest package
// checks that both say the same).
var k6LoadStages = []loadStage{
	{2 * time.Minute, 10},
	{5 * time.Minute, 50},
	{10 * time.Minute, 100},
	{2 * time.Minute, 0},
}

// parseStages reads "2m:10,5m:50" (duration:users).
func parseStages(s string) ([]loadStage, error) {
	var out []loadStage
	for _, part := range strings.Split(s, ",") {
		d, u, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("stage %q: want DURATION:USERS, e.g. 2m:10", part)
		}
		dur, err := time.ParseDuration(d)
		if err != nil || dur <= 0 {
			return nil, fmt.Errorf("stage %q: duration must be positive, like 30s or 2m", part)
		}
		n, err := strconv.ParseFloat(u, 64)
		if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, fmt.Errorf("stage %q: users must be a number ≥ 0", part)
		}
		out = append(out, loadStage{dur, n})
	}
	return out, nil
}

// stagePacer paces hits along piecewise-linear stages of a request rate
// (k6's ramping of users, with users turned into requests per second).
type stagePacer struct {
	stages []loadStage // Target already in requests per second
	// floor keeps a ramp starting from zero moving (the first stage of k6
	// starts at 0 users, which would otherwise never send a request).
	floor float64
}

func (p stagePacer) total() time.Duration {
	var t time.Duration
	for _, s := range p.stages {
		t += s.Duration
	}
	return t
}

// Rate is the instantaneous rate at elapsed.
func (p stagePacer) Rate(elapsed time.Duration) float64 {
	prev := 0.0
	for _, s := range p.stages {
		if elapsed < s.Duration {
			r := prev + (s.Target-prev)*elapsed.Seconds()/s.Duration.Seconds()
			return math.Max(r, p.floor)
		}
		elapsed -= s.Duration
		prev = s.Target
	}
	return math.Max(prev, p.floor)
}

// hits is the number of hits due by elapsed (the integral of Rate).
func (p stagePacer) hits(elapsed time.Duration) float64 {
	prev, sum := 0.0, 0.0
	for _, s := range p.stages {
		d := math.Min(elapsed.Seconds(), s.Duration.Seconds())
		if d <= 0 {
			break
		}
		end := prev + (s.Target-prev)*d/s.Duration.Seconds()
		sum += math.Max((prev+end)/2, p.floor) * d
		elapsed -= s.Duration
		prev = s.Target
	}
	return sum
}

// Pace implements vegeta.Pacer.
func (p stagePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if elapsed >= p.total() {
		return 0, true
	}
	if float64(hits) < p.hits(elapsed) {
		return 0, false
	}
	// Wait until the next hit is due: hits() only grows, so bisect for the
	// moment it reaches hits+1.
	lo, hi := elapsed, p.total()
	if p.hits(hi) < float64(hits+1) {
		return hi - elapsed, false
	}
	for hi-lo > 50*time.Microsecond {
		mid := lo + (hi-lo)/2
		if p.hits(mid) >= float64(hits+1) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi - elapsed, false
}

// loadTargeter cycles through the request mix over the base URLs.
type loadTargeter struct {
	bases []string
	token string
	run   string // distinguishes alerts of separate runs
	n     atomic.Uint64
}

// loadKinds is the request mix of one cycle (deploy/k6/lib.js's, with the
// webhook in one request of five).
var loadKinds = []string{"health", "incidents", "alerts", "health", "webhook"}

func (lt *loadTargeter) target(t *vegeta.Target) error {
	i := lt.n.Add(1) - 1
	base := lt.bases[i%uint64(len(lt.bases))]
	kind := loadKinds[i%uint64(len(loadKinds))]
	t.Header = http.Header{"Authorization": {"Bearer " + lt.token}}
	t.Body = nil
	switch kind {
	case "health":
		t.Method, t.URL = http.MethodGet, base+"/health"
	case "incidents":
		t.Method, t.URL = http.MethodGet, base+"/api/v1/incidents?limit=20"
	case "alerts":
		t.Method, t.URL = http.MethodGet, base+"/api/v1/alerts?limit=20"
	case "webhook":
		body, err := json.Marshal(map[string]any{
			"title": "bench load alert", "severity": "warning", "service": fmt.Sprintf("bench-%d", i%20),
			"labels": map[string]string{"alertname": "BenchLoad", "run": lt.run, "n": strconv.FormatUint(i, 10)},
		})
		if err != nil {
			return err
		}
		t.Method, t.URL, t.Body = http.MethodPost, base+"/webhooks/generic", body
		t.Header.Set("Content-Type", "application/json")
	}
	return nil
}

// kindOf names a result's endpoint from its URL.
func kindOf(r *vegeta.Result) string {
	u, err := url.Parse(r.URL)
	if err != nil {
		return "other"
	}
	switch {
	case u.Path == "/health":
		return "health"
	case u.Path == "/api/v1/incidents":
		return "incidents"
	case u.Path == "/api/v1/alerts":
		return "alerts"
	case strings.HasPrefix(u.Path, "/webhooks/"):
		return "webhook"
	}
	return "other"
}

// checkOK is the k6 scripts' check: the expected status and under 500 ms.
func checkOK(kind string, r *vegeta.Result) bool {
	want := uint16(http.StatusOK)
	if kind == "webhook" {
		want = http.StatusAccepted
	}
	return r.Error == "" && r.Code == want && r.Latency < 500*time.Millisecond
}

// loadRow aggregates the results of one stage or endpoint.
type loadRow struct {
	name   string
	m      vegeta.Metrics
	checks uint64
}

func (l *loadRow) add(kind string, r *vegeta.Result) {
	l.m.Add(r)
	if checkOK(kind, r) {
		l.checks++
	}
}

// loadReport is the outcome of `aurora bench load`.
type loadReport struct {
	stages, kinds []*loadRow
	all           loadRow
}

func (rep *loadReport) checkShare() float64 {
	if rep.all.m.Requests == 0 {
		return 0
	}
	return float64(rep.all.checks) / float64(rep.all.m.Requests)
}

func (rep *loadReport) write(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
	}
	fmt.Fprintln(tw, "\trequests\trate/s\tok/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\tchecks\terrors\t")
	line := func(r *loadRow) {
		r.m.Close()
		checks := 0.0
		if r.m.Requests > 0 {
			checks = 100 * float64(r.checks) / float64(r.m.Requests)
		}
		errs := r.m.Requests - uint64(math.Round(r.m.Success*float64(r.m.Requests)))
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%.1f%%\t%d\t\n", r.name, r.m.Requests, r.m.Rate, r.m.Throughput,
			ms(r.m.Latencies.P50), ms(r.m.Latencies.P95), ms(r.m.Latencies.P99), ms(r.m.Latencies.Max), checks, errs)
	}
	for _, r := range rep.stages {
		line(r)
	}
	fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t\t\t")
	for _, r := range rep.kinds {
		line(r)
	}
	line(&rep.all)
	_ = tw.Flush()
	codes := make([]string, 0, len(rep.all.m.StatusCodes))
	for c, n := range rep.all.m.StatusCodes {
		codes = append(codes, fmt.Sprintf("%s×%d", c, n))
	}
	sort.Strings(codes)
	fmt.Fprintf(w, "status codes: %s\n", strings.Join(codes, " "))
	for i, e := range rep.all.m.Errors {
		if i == 5 {
			fmt.Fprintf(w, "… and %d more distinct errors\n", len(rep.all.m.Errors)-5)
			break
		}
		fmt.Fprintf(w, "error: %s\n", e)
	}
}

// loadOptions configure a load run.
type loadOptions struct {
	URLs        []string
	Token       string
	Stages      []loadStage // users
	TimeScale   float64
	RatePerUser float64
	MaxWorkers  uint64
}

// runLoad attacks and aggregates. Stage durations are scaled by TimeScale,
// users turned into requests per second by RatePerUser.
func runLoad(ctx context.Context, o loadOptions) (*loadReport, error) {
	p := stagePacer{floor: 1}
	rep := &loadReport{all: loadRow{name: "total"}}
	for _, s := range o.Stages {
		d := time.Duration(float64(s.Duration) * o.TimeScale)
		if d < 100*time.Millisecond {
			return nil, fmt.Errorf("stage of %s scaled by %g lasts %s: use a larger -time-scale", s.Duration, o.TimeScale, d)
		}
		p.stages = append(p.stages, loadStage{d, s.Target * o.RatePerUser})
		rep.stages = append(rep.stages, &loadRow{name: fmt.Sprintf("%s→%g users", d.Round(100*time.Millisecond), s.Target)})
	}
	kinds := map[string]*loadRow{}
	for _, k := range []string{"health", "incidents", "alerts", "webhook"} {
		kinds[k] = &loadRow{name: k}
		rep.kinds = append(rep.kinds, kinds[k])
	}
	tr := &loadTargeter{bases: o.URLs, token: o.Token, run: strconv.FormatInt(time.Now().UnixNano(), 36)}
	atk := vegeta.NewAttacker(vegeta.MaxWorkers(o.MaxWorkers), vegeta.Timeout(30*time.Second), vegeta.KeepAlive(true),
		vegeta.MaxBody(0), vegeta.Connections(int(o.MaxWorkers)))
	total := p.total()
	start := time.Now()
	results := atk.Attack(tr.target, p, total, "aurora-bench-load")
	for {
		select {
		case <-ctx.Done():
			atk.Stop()
			for range results {
				// Drain, so the attacker's goroutines end.
			}
			return nil, ctx.Err()
		case r, ok := <-results:
			if !ok {
				return rep, nil
			}
			kind := kindOf(r)
			rep.all.add(kind, r)
			if k := kinds[kind]; k != nil {
				k.add(kind, r)
			}
			at := r.Timestamp.Sub(start)
			for i, s := range p.stages {
				if at < s.Duration || i == len(p.stages)-1 {
					rep.stages[i].add(kind, r)
					break
				}
				at -= s.Duration
			}
		}
	}
}

// benchLoadMain runs `aurora bench load`.
func benchLoadMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchLoadUsage)
		fs.PrintDefaults()
	}
	urls := fs.String("url", "http://127.0.0.1:8080", "base URL of the Aurora to load; several, comma-separated, are used round-robin")
	token := fs.String("token", "", "an editor or admin API token (default $AURORA_TOKEN)")
	stages := fs.String("stages", "", `stages as DURATION:USERS,… (default: deploy/k6/load.js's "2m:10,5m:50,10m:100,2m:0")`)
	o := loadOptions{}
	fs.Float64Var(&o.TimeScale, "time-scale", 1.0/60, "multiply every stage's duration by this (the default turns minutes into seconds)")
	fs.Float64Var(&o.RatePerUser, "rate-per-user", 3.2, "requests per second one user sends")
	fs.Uint64Var(&o.MaxWorkers, "max-workers", 256, "most requests in flight at once")
	minChecks := fs.Float64("min-checks", 0.99, "exit 1 when fewer requests than this share pass the checks")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "aurora bench load: unexpected arguments %q\n", fs.Args())
		return 2
	}
	for _, u := range strings.Split(*urls, ",") {
		u = strings.TrimRight(strings.TrimSpace(u), "/")
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			fmt.Fprintf(stderr, "aurora bench load: -url %q: want http(s)://host[:port]\n", u)
			return 2
		}
		o.URLs = append(o.URLs, u)
	}
	o.Token = *token
	if o.Token == "" {
		o.Token, _ = lookupEnv("AURORA_TOKEN")
	}
	if o.Token == "" {
		fmt.Fprintln(stderr, "aurora bench load: -token (or AURORA_TOKEN) is required: an editor or admin API token")
		return 2
	}
	o.Stages = k6LoadStages
	if *stages != "" {
		var err error
		if o.Stages, err = parseStages(*stages); err != nil {
			fmt.Fprintln(stderr, "aurora bench load: -stages:", err)
			return 2
		}
	}
	if o.TimeScale <= 0 || o.RatePerUser <= 0 || o.MaxWorkers == 0 {
		fmt.Fprintln(stderr, "aurora bench load: -time-scale, -rate-per-user and -max-workers must be positive")
		return 2
	}
	fmt.Fprintf(stderr, "aurora bench load: %d stages, time scale %g, %g requests/s per user, against %s …\n",
		len(o.Stages), o.TimeScale, o.RatePerUser, strings.Join(o.URLs, ", "))
	rep, err := runLoad(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "aurora bench load:", err)
		return 2
	}
	rep.write(stdout)
	if share := rep.checkShare(); share < *minChecks {
		fmt.Fprintf(stderr, "aurora bench load: %.2f%% of requests passed the checks, below -min-checks %.2f%%\n", 100*share, 100**minChecks)
		return 1
	}
	return 0
}

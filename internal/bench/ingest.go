// Package bench is Aurora's load generator (`aurora bench ingest`): it posts
// Alertmanager group payloads of new, uniquely labelled alerts to a running
// Aurora with a fixed number of concurrent senders, and reports how many
// alerts were stored per second and the request latency distribution.
//
// It is a plain closed-loop worker pool over net/http: each of C workers
// sends its next request as soon as the previous one is answered, the run
// sends a fixed number of requests and then stops, and latencies are kept
// exactly (one sample per request) so percentiles are exact, not estimated.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// IngestOptions configure one run of the ingest load test.
type IngestOptions struct {
	// URL is Aurora's base URL; requests go to URL + "/webhooks/alertmanager".
	URL string
	// Token is sent as "Authorization: Bearer <Token>" (an alertmanager
	// integration token, or an editor/admin API token).
	Token string
	// Alerts is how many distinct alerts to send (rounded up to whole groups).
	Alerts int
	// Concurrency is how many requests are in flight at once.
	Concurrency int
	// Group is how many alerts each request carries.
	Group int
	// Duration, when positive, stops sending new requests after it has passed.
	Duration time.Duration
	// Redeliver sends every firing request again once all are answered, as
	// a phase of its own: Alertmanager re-sends a firing group at every
	// group_interval with a change and every repeat_interval, so most of
	// what a real server receives are alerts it already has.
	Redeliver bool
	// Resolve also sends the resolved version of every alert once all firing
	// requests are answered, as a further phase.
	Resolve bool
	// RunID makes this run's fingerprints unique, so repeated runs against one
	// server store new alerts instead of de-duplicating; "" picks one from the
	// clock.
	RunID string
	// Client is the HTTP client; nil uses one sized for Concurrency.
	Client *http.Client
	// Now is the clock for startsAt/endsAt; nil is time.Now.
	Now func() time.Time
}

// Validate checks the options as RunIngest will.
func (o *IngestOptions) Validate() error {
	if o.Alerts < 1 {
		return errors.New("--alerts must be at least 1")
	}
	if o.Concurrency < 1 {
		return errors.New("--concurrency must be at least 1")
	}
	if o.Group < 1 {
		return errors.New("--group must be at least 1")
	}
	if o.Duration < 0 {
		return errors.New("--duration must not be negative")
	}
	if o.Token == "" {
		return errors.New("a token is required: --token or AURORA_TOKEN (an alertmanager integration token, or an editor or admin API token)")
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q: want an http(s) base URL such as http://127.0.0.1:8080", o.URL)
	}
	return nil
}

// Phase is what one phase of a run (firing, then optionally resolved) did.
type Phase struct {
	Name string
	// Requests is how many requests were sent (answered or failed).
	Requests int
	// AlertsSent counts alerts in every request sent.
	AlertsSent int
	// AlertsStored counts alerts in requests answered 202 Accepted: Aurora
	// answers 202 only after the delivery's transaction committed.
	AlertsStored int
	// Accepted counts 202 answers.
	Accepted int
	// Errors counts failed requests by HTTP status ("503") or "transport".
	Errors  map[string]int
	Elapsed time.Duration
	// Latencies holds one sample per request, sorted ascending.
	Latencies []time.Duration
	// Stopped says the duration cap ended the phase before all requests were sent.
	Stopped bool
	// FirstError describes one failed request (its error, or its status and
	// the start of its answer), to tell why requests failed.
	FirstError string
}

// ErrorCount is the number of failed requests.
func (p *Phase) ErrorCount() int {
	n := 0
	for _, c := range p.Errors {
		n += c
	}
	return n
}

// StoredPerSecond is AlertsStored over Elapsed.
func (p *Phase) StoredPerSecond() float64 { return perSecond(p.AlertsStored, p.Elapsed) }

// RequestsPerSecond is Requests over Elapsed.
func (p *Phase) RequestsPerSecond() float64 { return perSecond(p.Requests, p.Elapsed) }

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of the sorted
// latencies by the nearest-rank method, or 0 when there are none.
func (p *Phase) Percentile(q float64) time.Duration { return Percentile(p.Latencies, q) }

// Percentile returns the p-th percentile (0 < p ≤ 100) of an ascending slice
// by the nearest-rank method: the smallest sample such that at least p% of
// the samples are less than or equal to it. It returns 0 for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[n-1]
	}
	// Nearest rank: ceil(p/100 * n), 1-based. Computed in integer hundredths
	// of a percent so that e.g. 95% of 100 samples is rank 95, not 96 through
	// floating-point rounding.
	hp := int64(p*100 + 0.5)
	rank := int((hp*int64(n) + 9999) / 10000)
	rank = max(rank, 1)
	return sorted[min(rank, n)-1]
}

// Report is the outcome of a run.
type Report struct {
	URL         string
	RunID       string
	Concurrency int
	Group       int
	Phases      []*Phase
}

// Write prints the report in the command's human-readable form.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "target       %s/webhooks/alertmanager\n", strings.TrimRight(r.URL, "/"))
	fmt.Fprintf(w, "run id       %s (concurrency %d, %d alerts per request)\n", r.RunID, r.Concurrency, r.Group)
	for _, p := range r.Phases {
		fmt.Fprintf(w, "\n%s\n", p.Name)
		if p.Stopped {
			fmt.Fprintf(w, "  stopped early (--duration passed, or interrupted) before every request was sent\n")
		}
		fmt.Fprintf(w, "  requests     %d (%d accepted, %d failed)\n", p.Requests, p.Accepted, p.ErrorCount())
		fmt.Fprintf(w, "  alerts       %d sent, %d stored\n", p.AlertsSent, p.AlertsStored)
		if len(p.Errors) > 0 {
			keys := slices.Sorted(maps.Keys(p.Errors))
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = fmt.Sprintf("%s×%d", k, p.Errors[k])
			}
			fmt.Fprintf(w, "  errors       %s\n", strings.Join(parts, ", "))
			if p.FirstError != "" {
				fmt.Fprintf(w, "  first error  %s\n", p.FirstError)
			}
		} else {
			fmt.Fprintf(w, "  errors       none\n")
		}
		fmt.Fprintf(w, "  elapsed      %s\n", p.Elapsed.Round(time.Millisecond))
		fmt.Fprintf(w, "  stored       %.0f alerts/s\n", p.StoredPerSecond())
		fmt.Fprintf(w, "  requests     %.0f requests/s\n", p.RequestsPerSecond())
		fmt.Fprintf(w, "  latency      p50 %s  p95 %s  p99 %s  max %s\n", ms(p.Percentile(50)), ms(p.Percentile(95)), ms(p.Percentile(99)), ms(p.Percentile(100)))
	}
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

// RunIngest runs the load test. It sends ceil(Alerts/Group) requests with
// Concurrency workers (the last request carries the remainder) and returns
// when all are answered, the Duration cap passes, or ctx ends. Only setup
// errors are returned; failed requests are counted in the report.
func RunIngest(ctx context.Context, o IngestOptions) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.RunID == "" {
		o.RunID = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	client := o.Client
	if client == nil {
		client = &http.Client{
			Timeout: time.Minute,
			Transport: &http.Transport{
				Proxy:               nil, // the target is Aurora itself, never via a proxy
				MaxIdleConns:        o.Concurrency,
				MaxIdleConnsPerHost: o.Concurrency,
				MaxConnsPerHost:     o.Concurrency,
				IdleConnTimeout:     30 * time.Second,
			},
		}
		defer client.CloseIdleConnections()
	}
	target := strings.TrimRight(o.URL, "/") + "/webhooks/alertmanager"
	gen := Generator{RunID: o.RunID, Alerts: o.Alerts, Group: o.Group}
	rep := &Report{URL: o.URL, RunID: o.RunID, Concurrency: o.Concurrency, Group: o.Group}

	var deadline time.Time
	if o.Duration > 0 {
		deadline = time.Now().Add(o.Duration)
	}
	start := o.Now()
	firing := run(ctx, client, target, o, gen, deadline, func(r int) []byte { return gen.Payload(r, alert.StatusFiring, start) })
	firing.Name = "firing alerts"
	rep.Phases = append(rep.Phases, firing)
	if o.Redeliver && ctx.Err() == nil && (deadline.IsZero() || time.Now().Before(deadline)) {
		// The same bodies again: the same alerts, still firing.
		g := gen
		g.Alerts = min(firing.AlertsSent, gen.Alerts)
		again := run(ctx, client, target, o, g, deadline, func(r int) []byte { return g.Payload(r, alert.StatusFiring, start) })
		again.Name = "re-delivered firing alerts"
		rep.Phases = append(rep.Phases, again)
	}
	if o.Resolve && ctx.Err() == nil && (deadline.IsZero() || time.Now().Before(deadline)) {
		// Resolve exactly the groups whose firing version was sent.
		g := gen
		g.Alerts = min(firing.AlertsSent, gen.Alerts)
		end := o.Now()
		resolved := run(ctx, client, target, o, g, deadline, func(r int) []byte { return g.resolved(r, start, end) })
		resolved.Name = "resolved alerts"
		rep.Phases = append(rep.Phases, resolved)
	}
	return rep, nil
}

// run sends gen.Requests() requests with o.Concurrency workers.
func run(ctx context.Context, client *http.Client, target string, o IngestOptions, gen Generator, deadline time.Time, body func(int) []byte) *Phase {
	n := gen.Requests()
	if deadline.IsZero() { // a capped run may send a fraction of n
		body = prebuilt(n, body)
	}
	next := make(chan int)
	// feedCtx ends the feeder once the workers are done, including when the
	// duration cap stopped them early.
	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	go func() {
		defer close(next)
		for r := range n {
			select {
			case next <- r:
			case <-feedCtx.Done():
				return
			}
		}
	}()
	type workerResult struct {
		lat                    []time.Duration
		sent, stored, accepted int
		errs                   map[string]int
		stopped                bool
		firstErr               string
	}
	results := make([]workerResult, o.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &results[w]
			res.errs = map[string]int{}
			res.lat = make([]time.Duration, 0, n/o.Concurrency+1)
			for r := range next {
				if !deadline.IsZero() && !time.Now().Before(deadline) {
					res.stopped = true
					return
				}
				size := gen.GroupSize(r)
				status, answer, err := post(ctx, client, target, o.Token, body(r), &res.lat)
				res.sent += size
				switch {
				case err != nil:
					res.errs["transport"]++
					if res.firstErr == "" {
						res.firstErr = err.Error()
					}
				case status == http.StatusAccepted:
					res.accepted++
					res.stored += size
				default:
					res.errs[strconv.Itoa(status)]++
					if res.firstErr == "" {
						res.firstErr = fmt.Sprintf("%d %s", status, strings.TrimSpace(answer))
					}
				}
			}
		}()
	}
	wg.Wait()
	p := &Phase{Errors: map[string]int{}, Elapsed: time.Since(start), Stopped: ctx.Err() != nil}
	for _, r := range results {
		p.Requests += len(r.lat)
		p.AlertsSent += r.sent
		p.AlertsStored += r.stored
		p.Accepted += r.accepted
		p.Stopped = p.Stopped || r.stopped
		if p.FirstError == "" {
			p.FirstError = r.firstErr
		}
		for k, v := range r.errs {
			p.Errors[k] += v
		}
		p.Latencies = append(p.Latencies, r.lat...)
	}
	slices.Sort(p.Latencies)
	return p
}

// maxPrebuilt bounds the request bodies built before a phase starts.
const maxPrebuilt = 256 << 20

// prebuilt builds every request body before the clock starts, when they
// fit in maxPrebuilt: the load generator shares the machine with Aurora,
// and encoding payloads while timing took CPU from the server measured.
// Larger runs, and runs capped by --duration, build each body as it is
// sent.
func prebuilt(n int, body func(int) []byte) func(int) []byte {
	if n == 0 || n*len(body(0)) > maxPrebuilt {
		return body
	}
	all := make([][]byte, n)
	for r := range n {
		all[r] = body(r)
	}
	return func(r int) []byte { return all[r] }
}

// post sends one request, appends its latency and returns the status and,
// for a failure, the start of the answer.
func post(ctx context.Context, client *http.Client, target, token string, body []byte, lat *[]time.Duration) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	t0 := time.Now()
	resp, err := client.Do(req)
	var answer []byte
	if err == nil {
		if resp.StatusCode != http.StatusAccepted {
			answer, _ = io.ReadAll(io.LimitReader(resp.Body, 300))
		}
		// Read the answer to the end so the connection is reused.
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	*lat = append(*lat, time.Since(t0))
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(answer), nil
}

// ---------------------------------------------------------------- payloads

// alertNames and services vary the correlation key (alertname, service,
// namespace) so that the default rule forms about one incident per
// AlertsPerIncident alerts.
var (
	alertNames = []string{
		"HighErrorRate", "HighLatencyP99", "PodCrashLooping", "PodNotReady", "DeploymentReplicasMismatch", "NodeNotReady",
		"NodeDiskPressure", "NodeMemoryPressure", "DiskSpaceLow", "DiskWillFillIn4Hours", "CPUThrottlingHigh", "MemoryUsageHigh",
		"ContainerOOMKilled", "KubeJobFailed", "CertificateExpiringSoon", "TargetDown", "InstanceDown", "PostgresReplicationLag",
		"PostgresTooManyConnections", "RedisDown", "RedisMemoryHigh", "KafkaConsumerLag", "KafkaUnderReplicatedPartitions",
		"RabbitMQQueueBacklog", "HTTPProbeFailed", "SSLProbeFailed", "APIServerErrors", "EtcdHighFsyncDuration", "IngressHigh5xx",
		"QueueLatencyHigh", "CronJobMissed", "BackupFailed", "ElasticsearchClusterYellow", "PersistentVolumeFull", "DNSResolutionErrors",
		"HPAMaxedOut", "LoadBalancerUnhealthy", "ThanosCompactHalted", "PrometheusRuleFailures", "AlertmanagerNotificationsFailing",
	}
	services = []string{
		"checkout", "payments", "cart", "catalog", "search", "auth", "users", "orders", "shipping", "inventory",
		"billing", "notifications", "gateway", "frontend", "recommendations", "reviews", "pricing", "ledger", "reports", "media",
		"email", "sms", "analytics", "scheduler", "webhooks",
	}
	namespaces = []string{"prod", "staging", "edge", "batch"}
)

// AlertsPerIncident is how many alerts share one correlation key.
const AlertsPerIncident = 50

// Generator builds the payloads of a run deterministically: request r
// carries alerts r*Group … r*Group+GroupSize(r)-1, all of one correlation
// key (as an Alertmanager group routed by alertname, service and namespace
// would), and every alert has labels of its own, so a distinct fingerprint.
// Consecutive requests cycle through Keys() keys, so concurrent requests
// rarely touch the same incident.
//
// Requests() requests send Alerts alerts. Requests past that (the Go
// benchmarks keep going for as long as they need) repeat the pattern with
// fresh alerts and fresh keys, so every cycle of Requests() requests forms
// Keys() new incidents.
type Generator struct {
	RunID  string
	Alerts int
	Group  int
}

// Requests is the number of requests of one cycle (the run sends one cycle).
func (g Generator) Requests() int { return (g.Alerts + g.Group - 1) / g.Group }

// GroupSize is the number of alerts in request r: Group, but the remainder
// for the last request of a cycle.
func (g Generator) GroupSize(r int) int { return min(g.Group, g.Alerts-(r%g.Requests())*g.Group) }

// Keys is the number of distinct correlation keys (so incidents) of a
// cycle: one per AlertsPerIncident alerts.
func (g Generator) Keys() int {
	k := (g.Alerts + AlertsPerIncident - 1) / AlertsPerIncident
	return max(1, min(k, g.Requests()))
}

// key returns the correlation key of request r.
func (g Generator) key(r int) (name, service, namespace string) {
	k := (r/g.Requests())*g.Keys() + r%g.Keys()
	name = alertNames[k%len(alertNames)]
	k /= len(alertNames)
	service = services[k%len(services)]
	k /= len(services)
	namespace = namespaces[k%len(namespaces)]
	if k /= len(namespaces); k > 0 {
		namespace += "-" + strconv.Itoa(k)
	}
	return name, service, namespace
}

// Labels returns the labels of alert i (which request r = i/Group carries).
// No two alert indexes share labels, so none share a fingerprint.
func (g Generator) Labels(i int) map[string]string {
	name, svc, ns := g.key(i / g.Group)
	sev := "warning"
	if i%5 == 0 {
		sev = "critical"
	}
	return map[string]string{
		"alertname": name,
		"service":   svc,
		"namespace": ns,
		"severity":  sev,
		"job":       svc,
		"cluster":   "bench",
		"instance":  fmt.Sprintf("%s-%d.%s.svc:9090", svc, i, ns),
		"pod":       fmt.Sprintf("%s-%s-%d", svc, g.RunID, i),
		"bench_run": g.RunID,
	}
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

type amPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
}

// Payload returns the Alertmanager webhook body (version 4) of request r
// with every alert in status st, starting at startsAt.
func (g Generator) Payload(r int, st alert.Status, startsAt time.Time) []byte {
	return g.payload(r, st, startsAt, time.Time{})
}

func (g Generator) resolved(r int, startsAt, endsAt time.Time) []byte {
	return g.payload(r, alert.StatusResolved, startsAt, endsAt)
}

func (g Generator) payload(r int, st alert.Status, startsAt, endsAt time.Time) []byte {
	name, svc, ns := g.key(r)
	groupLabels := map[string]string{"alertname": name, "service": svc, "namespace": ns}
	p := amPayload{
		Version: "4", Status: string(st), Receiver: "aurora",
		GroupKey:          fmt.Sprintf(`{}:{alertname=%q, namespace=%q, service=%q}`, name, ns, svc),
		GroupLabels:       groupLabels,
		CommonLabels:      map[string]string{"alertname": name, "service": svc, "namespace": ns, "cluster": "bench", "bench_run": g.RunID},
		CommonAnnotations: map[string]string{},
		ExternalURL:       "http://alertmanager.bench.invalid:9093",
	}
	end := "0001-01-01T00:00:00Z"
	if !endsAt.IsZero() {
		end = endsAt.UTC().Format(time.RFC3339Nano)
	}
	for i := r * g.Group; i < r*g.Group+g.GroupSize(r); i++ {
		labels := g.Labels(i)
		p.Alerts = append(p.Alerts, amAlert{
			Status: string(st),
			Labels: labels,
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("%s on %s (%s)", name, labels["instance"], ns),
				"description": fmt.Sprintf("%s has been firing for %s in namespace %s; generated by aurora bench ingest.", name, svc, ns),
				"runbook_url": "https://runbooks.bench.invalid/" + name,
			},
			StartsAt:     startsAt.UTC().Format(time.RFC3339Nano),
			EndsAt:       end,
			GeneratorURL: "http://prometheus.bench.invalid:9090/graph?g0.expr=" + url.QueryEscape(name),
			Fingerprint:  alert.Fingerprint(labels),
		})
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // only maps of strings
	}
	return b
}

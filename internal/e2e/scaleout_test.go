package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// cluster is Aurora split into role processes on one PostgreSQL database.
type cluster struct {
	env        testenv.Env
	servers    []*testenv.Process
	workers    []*testenv.Process
	schedulers []*testenv.Process
}

// startCluster migrates a fresh database, then starts the role processes.
// Every role listens on AURORA_HTTP_ADDR (workers and schedulers serve only
// /health, /ready and /metrics), so each gets its own port, and Start waits
// for its /health.
func startCluster(t *testing.T, extra testenv.Env, servers, workers, schedulers int) *cluster {
	t.Helper()
	c := &cluster{env: merge(merge(baseEnv(t), testenv.Env{"DATABASE_URL": testenv.Postgres(t)}), extra)}
	out, errOut, code := runAurora(t, c.env, "migrate")
	if code != 0 || !strings.Contains(out, "migrations applied") {
		t.Fatalf("aurora migrate: exit %d\n%s\n%s", code, out, errOut)
	}
	start := func(role string, i int) *testenv.Process {
		return testenv.Start(t, fmt.Sprintf("%s%d", role, i+1), merge(c.env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(t)}), role)
	}
	for i := range servers {
		c.servers = append(c.servers, start("server", i))
	}
	for i := range workers {
		c.workers = append(c.workers, start("worker", i))
	}
	for i := range schedulers {
		c.schedulers = append(c.schedulers, start("scheduler", i))
	}
	return c
}

// checkCrossServerSSE opens the event stream on both servers and checks that
// an alert posted to either reaches both streams, and so does the progress
// the worker writes. It returns the streams.
//
// Each incident's investigation is let finish before the next post: event
// writers that overlap can make a stream skip events on PostgreSQL (a known
// bug, see TestSSEDeliversEveryEventUnderConcurrentIngestPostgres), and this
// test is about fan-out across servers, not that race.
func checkCrossServerSSE(t *testing.T, s1, s2 *testenv.Process) (*sseStream, *sseStream) {
	t.Helper()
	st1 := openSSE(t, "stream@server1", s1.URL, "")
	st2 := openSSE(t, "stream@server2", s2.URL, "")
	for i, target := range []*testenv.Process{s1, s2} {
		res := postAlerts(t, target.URL, testenv.AdminToken, "generic",
			genericAlert(fmt.Sprintf("Queue backlog growing %d", i+1), fmt.Sprintf("QueueBacklog%d", i+1), "orders"))
		if len(res.IncidentIDs) != 1 || len(res.AlertIDs) != 1 {
			t.Fatalf("POST to %s: %+v", target.Name, res)
		}
		inc := res.IncidentIDs[0]
		for _, st := range []*sseStream{st1, st2} {
			st.waitFor(t, 30*time.Second, "incident.created", "id", inc)
			st.waitFor(t, 30*time.Second, "alert.received", "id", res.AlertIDs[0], "incident_id", inc)
		}
		// The worker's writes reach both servers' streams too.
		for _, st := range []*sseStream{st1, st2} {
			st.waitFor(t, 60*time.Second, "investigation.updated", "incident_id", inc, "status", "completed")
		}
	}
	checkOrdered(t, st1.name, st1.Events())
	checkOrdered(t, st2.name, st2.Events())
	if a, b := ids(st1.Events()), ids(st2.Events()); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("the two servers streamed different events:\n%v\n%v", a, b)
	}
	return st1, st2
}

func TestScaleOutPostgres(t *testing.T) {
	t.Parallel()
	c := startCluster(t, testenv.Env{"AURORA_SCHEDULER_INTERVAL": "2s"}, 2, 1, 2)
	s1, s2 := c.servers[0], c.servers[1]

	var st1 *sseStream
	t.Run("sse across servers", func(t *testing.T) {
		st1, _ = checkCrossServerSSE(t, s1, s2)
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("resume with Last-Event-ID", func(t *testing.T) {
		seen := st1.Events()
		if len(seen) < 3 {
			t.Fatalf("only %d events seen", len(seen))
		}
		from := seen[0].ID
		want := seen[1:]
		last := want[len(want)-1].ID
		resumed := openSSE(t, "resumed@server2", s2.URL, strconv.FormatInt(from, 10))
		testenv.Eventually(t, 30*time.Second, fmt.Sprintf("resumed stream to reach event %d", last), func() bool {
			evs := resumed.Events()
			return len(evs) > 0 && evs[len(evs)-1].ID >= last
		})
		var got []sseEvent
		for _, e := range resumed.Events() {
			if e.ID <= last {
				got = append(got, e)
			}
		}
		checkOrdered(t, resumed.name, resumed.Events())
		if fmt.Sprint(ids(got)) != fmt.Sprint(ids(want)) {
			t.Errorf("resumed after %d on server2: ids %v, want %v (what server1 streamed)", from, ids(got), ids(want))
		}
		for i := range min(len(got), len(want)) {
			if got[i].Type != want[i].Type || got[i].Data != want[i].Data {
				t.Errorf("event %d differs: %s %s vs %s %s", got[i].ID, got[i].Type, got[i].Data, want[i].Type, want[i].Data)
			}
		}
	})

	t.Run("periodic jobs once per period", func(t *testing.T) {
		var runs page[jobRun]
		testenv.Eventually(t, 60*time.Second, "3 periods of retention and auto_resolve", func() bool {
			get(t, s1, "/api/v1/jobs/runs", &runs)
			periods := map[string]map[string]bool{}
			for _, r := range runs.Items {
				if periods[r.Kind] == nil {
					periods[r.Kind] = map[string]bool{}
				}
				periods[r.Kind][r.Period] = true
			}
			return len(periods["retention"]) >= 3 && len(periods["auto_resolve"]) >= 3
		})
		seen := map[string]bool{}
		for _, r := range runs.Items {
			k := r.Kind + " " + r.Period
			if seen[k] {
				t.Errorf("%s ran twice", k)
			}
			seen[k] = true
			p, err := time.Parse(time.RFC3339, r.Period)
			if err != nil || !p.Equal(p.Truncate(2*time.Second)) {
				t.Errorf("period %q is not a 2s period key", r.Period)
			}
			if !strings.HasPrefix(r.RanBy, "worker-") {
				t.Errorf("%s ran by %q, want the worker", k, r.RanBy)
			}
		}
		for _, w := range c.workers {
			if strings.Contains(w.Output(), "ran twice") {
				t.Errorf("%s reports a maintenance task run twice for one period", w.Name)
			}
		}
		t.Logf("%d job runs recorded", len(runs.Items))

		// Exactly one scheduler holds the lease (its /metrics says so), and
		// the worker does not claim it.
		testenv.Eventually(t, 30*time.Second, "exactly one scheduler to report aurora_scheduler_leader 1", func() bool {
			leaders := 0
			for _, s := range c.schedulers {
				if metricValue(t, s, "aurora_scheduler_leader") == "1" {
					leaders++
				}
			}
			return leaders == 1
		})
		if v := metricValue(t, c.workers[0], "aurora_scheduler_leader"); v != "0" {
			t.Errorf("worker aurora_scheduler_leader = %q, want 0", v)
		}
		// The worker and scheduler serve no API.
		for _, p := range []*testenv.Process{c.workers[0], c.schedulers[0]} {
			code, body := rawDo(t, http.MethodGet, p.URL+"/api/v1/incidents", map[string]string{"Authorization": "Bearer " + testenv.AdminToken}, nil)
			if code != http.StatusNotFound {
				t.Errorf("%s GET /api/v1/incidents: %d, want 404", p.Name, code)
			}
			checkErrorBody(t, p.Name+" GET /api/v1/incidents", body, "not_found")
		}
	})
}

func TestScaleOutRedis(t *testing.T) {
	t.Parallel()
	redisURL := testenv.Redis(t)
	c := startCluster(t, testenv.Env{"REDIS_URL": redisURL}, 2, 1, 0)
	s1, s2 := c.servers[0], c.servers[1]

	// Both servers use Redis.
	for _, s := range c.servers {
		var ready struct {
			Status string `json:"status"`
			Checks map[string]struct {
				Status string `json:"status"`
			} `json:"checks"`
		}
		if code := testenv.DoToken(t, s.URL, "", http.MethodGet, "/ready", nil, &ready); code != 200 || ready.Checks["redis"].Status != "ok" {
			t.Fatalf("%s /ready: %d %+v, want ready with redis ok", s.Name, code, ready)
		}
	}

	// Watch the wake-up channel: a server that stores events publishes the
	// org's id there.
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sub := rdb.Subscribe(ctx, "aurora_events")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription confirmation
		t.Fatal(err)
	}
	msgs := sub.Channel()

	checkCrossServerSSE(t, s1, s2)

	var incs page[incident]
	get(t, s1, "/api/v1/incidents", &incs)
	if len(incs.Items) != 2 {
		t.Fatalf("incidents: %d, want 2", len(incs.Items))
	}
	org := incs.Items[0].OrgID
	for {
		select {
		case m := <-msgs:
			if m.Payload == org {
				return
			}
		case <-ctx.Done():
			t.Fatalf("no wake-up for org %s was published on Redis channel aurora_events", org)
		}
	}
}

// metricValue reads an unlabelled sample from a process's /metrics.
func metricValue(t *testing.T, p *testenv.Process, name string) string {
	t.Helper()
	code, body := rawDo(t, http.MethodGet, p.URL+"/metrics", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("%s /metrics: %d", p.Name, code)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s /metrics has no %s", p.Name, name)
	return ""
}

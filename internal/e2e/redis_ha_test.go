package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// twoServers runs `aurora` (all roles) and a second `aurora server` on one
// PostgreSQL database with REDIS_URL, and an SSE reader on the second.
func twoServers(t *testing.T, redisURL string) (a, b *testenv.Process, sse *sseStream) {
	t.Helper()
	env := merge(baseEnv(t), testenv.Env{"DATABASE_URL": testenv.Postgres(t), "REDIS_URL": redisURL})
	envA := merge(env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(t)})
	a = testenv.Start(t, "aurora-a", envA)
	a.WaitHealthy(60 * time.Second)
	envB := merge(env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(t), "AURORA_DATA_DIR": t.TempDir()})
	b = testenv.Start(t, "aurora-b", envB, "server")
	b.WaitHealthy(60 * time.Second)
	return a, b, openSSE(t, "sse-b", b.URL, "")
}

// sendAlerts posts n distinct alerts to a server, returning each incident id
// and every status other than 202 as an error.
func sendAlerts(t *testing.T, p *testenv.Process, prefix string, n int, every time.Duration) ([]string, []string) {
	var ids, errs []string
	for i := range n {
		var res ingestResult
		code := testenv.DoToken(t, p.URL, testenv.AdminToken, http.MethodPost, "/webhooks/generic", genericAlert(fmt.Sprintf("%s %d", prefix, i), fmt.Sprintf("%s%d", prefix, i), "redis-ha"), &res)
		if code != http.StatusAccepted || len(res.IncidentIDs) != 1 {
			errs = append(errs, fmt.Sprintf("alert %d: %d %+v", i, code, res))
			continue
		}
		ids = append(ids, res.IncidentIDs[0])
		time.Sleep(every)
	}
	return ids, errs
}

// Killing Redis degrades, never breaks: webhooks and the API answer, /ready
// says degraded, aurora_redis_up is 0, and all recover when Redis returns.
func TestRedisDownDegrades(t *testing.T) {
	t.Parallel()
	r := testenv.StartRedis(t)
	p, _ := startAll(t, postgres, testenv.Env{"REDIS_URL": "redis://" + r.Addr + "/0"})
	p.WaitHealthy(60 * time.Second)
	testenv.Eventually(t, 10*time.Second, "redis up", func() bool { return metricValue(t, p, "aurora_redis_up") == "1" })
	r.Kill()
	start := time.Now()
	ids, errs := sendAlerts(t, p, "RedisDown", 5, 0)
	for _, e := range errs {
		t.Errorf("webhook with Redis down: %s", e)
	}
	for _, id := range ids {
		get(t, p, "/api/v1/incidents/"+id, nil)
	}
	t.Logf("5 webhooks and 5 reads with Redis down took %v", time.Since(start))
	testenv.Eventually(t, 10*time.Second, "/ready to say degraded", func() bool {
		code, rb := readyOf(t, p)
		return code == http.StatusOK && rb.Status == "degraded" && rb.Checks["redis"].Status == "degraded"
	})
	if v := metricValue(t, p, "aurora_redis_up"); v != "0" {
		t.Errorf("aurora_redis_up = %s with Redis down", v)
	}
	investigationOf(t, p, ids[0])
	r.Start()
	testenv.Eventually(t, 20*time.Second, "recovery without a restart", func() bool {
		code, rb := readyOf(t, p)
		return code == http.StatusOK && rb.Status == "ready" && metricValue(t, p, "aurora_redis_up") == "1"
	})
}

// A Sentinel-managed primary killed mid-traffic fails over: no alert is
// lost and live events keep crossing servers.
func TestRedisSentinelFailover(t *testing.T) {
	t.Parallel()
	s := testenv.RedisSentinel(t)
	a, b, sse := twoServers(t, s.URL)
	before := s.MasterAddr(t)
	var wg sync.WaitGroup
	var ids, errs []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		ids, errs = sendAlerts(t, a, "Failover", 40, 100*time.Millisecond)
	}()
	time.Sleep(time.Second)
	s.Primary.Kill()
	wg.Wait()
	for _, e := range errs {
		t.Errorf("webhook during the failover: %s", e)
	}
	if len(ids) != 40 {
		t.Fatalf("%d of 40 alerts accepted", len(ids))
	}
	for _, id := range ids {
		sse.waitFor(t, 30*time.Second, "incident.created", "id", id)
	}
	testenv.Eventually(t, 30*time.Second, "the sentinels to promote the replica", func() bool { return s.MasterAddr(t) == s.Replica.Addr })
	t.Logf("primary %s → %s", before, s.MasterAddr(t))
	// After the failover the fan-out runs through the new primary.
	testenv.Eventually(t, 20*time.Second, "Redis to be up again on both servers", func() bool {
		return metricValue(t, a, "aurora_redis_up") == "1" && metricValue(t, b, "aurora_redis_up") == "1"
	})
	more, errs := sendAlerts(t, a, "AfterFailover", 3, 0)
	for _, e := range errs {
		t.Errorf("webhook after the failover: %s", e)
	}
	for _, id := range more {
		sse.waitFor(t, 30*time.Second, "incident.created", "id", id)
	}
	if code, rb := readyOf(t, b); code != http.StatusOK || rb.Checks["redis"].Status != "ok" {
		t.Errorf("/ready after the failover = %d %+v", code, rb)
	}
}

// A 3-primary Redis Cluster: the same fan-out works, Redis is up.
func TestRedisCluster(t *testing.T) {
	t.Parallel()
	url, _ := testenv.RedisCluster(t)
	a, b, sse := twoServers(t, url)
	ids, errs := sendAlerts(t, a, "Cluster", 10, 0)
	for _, e := range errs {
		t.Errorf("webhook on a cluster: %s", e)
	}
	for _, id := range ids {
		sse.waitFor(t, 30*time.Second, "incident.created", "id", id)
	}
	for _, p := range []*testenv.Process{a, b} {
		if v := metricValue(t, p, "aurora_redis_up"); v != "1" {
			t.Errorf("%s: aurora_redis_up = %s on a cluster", p.Name, v)
		}
		if code, rb := readyOf(t, p); code != http.StatusOK || rb.Status != "ready" {
			t.Errorf("%s: /ready on a cluster = %d %+v", p.Name, code, rb)
		}
	}
}

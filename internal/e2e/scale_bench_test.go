package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/bench"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// benchConcurrency is how many requests the load generators keep in flight.
const benchConcurrency = 16

// BenchmarkServerReplicas measures ingest and API throughput of 1 and of 3
// `aurora server` replicas (plus one worker, on PostgreSQL and Redis),
// reached through the round-robin proxy of the scale test, and of the one
// server reached directly (what the proxy itself costs). Each case starts
// on a fresh database. Per case:
//
//   - ingest: b.N Alertmanager webhook requests of 10 new alerts each
//     (internal/bench, the engine of `aurora bench ingest`), 16 in flight;
//     alerts stored per second (202 means committed) and request latency.
//   - api: b.N GET /api/v1/incidents?limit=50 (over the incidents the
//     ingest made), 16 in flight; requests per second and latency.
//
// For docs/benchmarks.md, all on one machine in one run:
//
//	go test -run '^$' -bench ServerReplicas -benchtime 2000x ./internal/e2e
//
// The load generator, the proxy, PostgreSQL, Redis and every replica share
// the machine's cores: on a small machine more replicas add no CPU, only
// processes competing for it.
func BenchmarkServerReplicas(b *testing.B) {
	redisURL := testenv.Redis(b)
	for _, c := range []struct {
		name    string
		servers int
		proxy   bool
	}{
		{"servers=1/direct", 1, false},
		{"servers=1/proxy", 1, true},
		{"servers=3/proxy", 3, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			px := startProxy(b)
			env := testenv.Env{
				"AURORA_ADMIN_TOKEN": testenv.AdminToken, "AURORA_SECRET_KEY": testenv.SecretKey, "AURORA_ADMIN_PASSWORD": adminPassword,
				"DATABASE_URL": testenv.Postgres(b), "REDIS_URL": redisURL, "AURORA_PUBLIC_URL": px.URL,
			}
			var hosts []string
			var first *testenv.Process
			for i := range c.servers {
				// The first server migrates the fresh database before the others start.
				p := testenv.Start(b, fmt.Sprintf("server%d", i+1), merge(env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(b), "AURORA_DATA_DIR": b.TempDir()}), "server")
				p.WaitHealthy(60 * time.Second)
				hosts = append(hosts, hostOf(p))
				if first == nil {
					first = p
				}
			}
			testenv.Start(b, "worker", merge(env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(b), "AURORA_DATA_DIR": b.TempDir()}), "worker")
			px.servers.set(hosts...)
			target := px.URL
			if !c.proxy {
				target = first.URL
			}

			b.Run("ingest", func(b *testing.B) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				b.ResetTimer()
				rep, err := bench.RunIngest(ctx, bench.IngestOptions{
					URL: target, Token: testenv.AdminToken, Alerts: 10 * b.N, Group: 10, Concurrency: benchConcurrency,
					RunID: c.name + strconv.Itoa(b.N),
				})
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				p := rep.Phases[0]
				if p.ErrorCount() > 0 {
					b.Fatalf("%d of %d ingest requests failed: %v (%s)", p.ErrorCount(), p.Requests, p.Errors, p.FirstError)
				}
				b.ReportMetric(p.StoredPerSecond(), "alerts/s")
				b.ReportMetric(p.RequestsPerSecond(), "req/s")
				b.ReportMetric(msOf(p.Percentile(50)), "p50-ms")
				b.ReportMetric(msOf(p.Percentile(99)), "p99-ms")
			})

			b.Run("api", func(b *testing.B) {
				b.ResetTimer()
				lat, elapsed, err := getLoad(target+"/api/v1/incidents?limit=50", b.N, benchConcurrency)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
				b.ReportMetric(msOf(bench.Percentile(lat, 50)), "p50-ms")
				b.ReportMetric(msOf(bench.Percentile(lat, 99)), "p99-ms")
			})
			if c.proxy {
				b.Logf("%s: requests per server %v", c.name, px.servers.Served())
			}
		})
	}
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// getLoad sends n GETs with the admin token, `concurrency` in flight at a
// time, and returns their latencies (sorted) and the elapsed time. Any
// answer but 200 is an error.
func getLoad(u string, n, concurrency int) ([]time.Duration, time.Duration, error) {
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		Proxy: nil, MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency,
	}}
	defer client.CloseIdleConnections()
	next := make(chan struct{})
	go func() {
		defer close(next)
		for range n {
			next <- struct{}{}
		}
	}()
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, n/concurrency+1)
			var err error
			for range next {
				if err != nil {
					continue // drain
				}
				err = getOnce(client, u, &mine)
			}
			mu.Lock()
			lat = append(lat, mine...)
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return lat, elapsed, firstErr
}

func getOnce(client *http.Client, u string, lat *[]time.Duration) error {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+testenv.AdminToken)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	*lat = append(*lat, time.Since(start))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	return nil
}

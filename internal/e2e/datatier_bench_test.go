package e2e

import (
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// BenchmarkDataTierReads measures API read latency (GET /api/v1/incidents
// and GET /api/v1/incidents/{id}) on the primary alone, with a streaming
// replica serving the reads, and through PgBouncer in transaction mode —
// all on one machine, for docs/benchmarks.md:
//
//	go test -run '^$' -bench DataTierReads -benchtime 2000x ./internal/e2e
func BenchmarkDataTierReads(b *testing.B) {
	pg := testenv.PostgresWithReplica(b)
	pooled := testenv.PgBouncer(b, pg.PrimaryURL)
	base := testenv.Env{"AURORA_ADMIN_TOKEN": testenv.AdminToken, "AURORA_SECRET_KEY": testenv.SecretKey, "AURORA_ADMIN_PASSWORD": adminPassword}
	for _, c := range []struct {
		name string
		env  testenv.Env
	}{
		{"primary", testenv.Env{"DATABASE_URL": pg.PrimaryURL}},
		{"replica", testenv.Env{"DATABASE_URL": pg.PrimaryURL, "POSTGRES_READ_REPLICA_HOST": pg.ReplicaAddr}},
		{"pgbouncer", testenv.Env{"DATABASE_URL": pooled, "POSTGRES_DIRECT_URL": pg.PrimaryURL}},
	} {
		b.Run(c.name, func(b *testing.B) {
			env := merge(merge(base, c.env), testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(b), "AURORA_DATA_DIR": b.TempDir()})
			p := testenv.Start(b, "aurora-"+c.name, env)
			p.WaitHealthy(60 * time.Second)
			var id string
			for i := range 50 {
				var res ingestResult
				body := genericAlert(fmt.Sprintf("bench %s %d", c.name, i), fmt.Sprintf("Bench%s%d", c.name, i), "bench")
				if code := testenv.DoToken(b, p.URL, testenv.AdminToken, http.MethodPost, "/webhooks/generic", body, &res); code != http.StatusAccepted {
					b.Fatalf("seed: %d", code)
				}
				id = res.IncidentIDs[0]
			}
			time.Sleep(2 * time.Second) // let the replica catch up and its check pass
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				path := "/api/v1/incidents?limit=50"
				if i%2 == 1 {
					path = "/api/v1/incidents/" + id
				}
				start := time.Now()
				if code := testenv.DoToken(b, p.URL, testenv.AdminToken, http.MethodGet, path, nil, nil); code != http.StatusOK {
					b.Fatalf("GET %s: %d", path, code)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.95), "p95-ms")
			b.ReportMetric(q(0.99), "p99-ms")
		})
	}
}

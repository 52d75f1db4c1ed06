package incident_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/bench"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/jobs"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/testenv"
	"github.com/aurora-oss/aurora/internal/webhook"
)

// benchGroup is the number of alerts per delivery (one op).
const benchGroup = 10

// ingestStack is the real intake path below HTTP: storage, the River queue
// (insert-only, as the server role uses it) and the incident service.
type ingestStack struct {
	db    *storage.DB
	svc   *incident.Service
	orgID string
	gen   bench.Generator
	next  atomic.Int64 // next request index of gen
	// seeded deliveries were stored before the timer started.
	seeded int
	// CPU time used before the timer started: this process's, and on
	// PostgreSQL its server backends' (by pid; see pgBackendCPU).
	cpu0   time.Duration
	pgCPU0 map[int]time.Duration
}

func newIngestStack(b *testing.B, dialect storage.Dialect) *ingestStack {
	b.Helper()
	ctx := context.Background()
	o := storage.Options{PoolMin: 2, PoolMax: 20} // the configuration defaults
	if dialect == storage.Postgres {
		o.PostgresURL = testenv.Postgres(b)
	} else {
		o.SQLitePath = filepath.Join(b.TempDir(), "aurora.db")
	}
	db, err := storage.Open(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Migrate(ctx, log); err != nil {
		b.Fatal(err)
	}
	store := storage.NewStore(db)
	org, err := store.EnsureDefaultOrg(ctx)
	if err != nil {
		b.Fatal(err)
	}
	q, err := jobs.New(db, jobs.Options{ProcessID: "bench", Work: false, Log: log, Store: store,
		JobTimeout: 10 * time.Minute, RescueAfter: 11 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	all := map[alert.Severity]bool{}
	for _, s := range []alert.Severity{alert.SeverityCritical, alert.SeverityHigh, alert.SeverityWarning, alert.SeverityInfo, alert.SeverityUnknown} {
		all[s] = true
	}
	svc := &incident.Service{Store: store, Jobs: q, Now: time.Now,
		Cfg: incident.Config{Rules: incident.DefaultRules(30 * time.Minute), ReopenWindow: time.Hour, Investigate: all}}
	// One cycle of the generator: 400 alerts in 40 deliveries over 8
	// correlation keys, so one incident per 50 alerts, and 8 consecutive
	// deliveries never share an incident.
	gen := bench.Generator{RunID: "b" + strconv.FormatInt(time.Now().UnixNano(), 36), Alerts: 400, Group: benchGroup}
	s := &ingestStack{db: db, svc: svc, orgID: org.ID, gen: gen}
	// Start from a database that already holds alerts, with planner
	// statistics, rather than from empty tables: PostgreSQL plans against
	// never-analysed tables as if they were tiny, and the test server runs
	// with autovacuum off, so without this ANALYZE every fingerprint lookup
	// would scan all firing alerts (see docs/benchmarks.md). A production
	// server's autovacuum analyses within a minute of the first alerts.
	for range seedDeliveries {
		if err := s.ingestOne(); err != nil {
			b.Fatal(err)
		}
	}
	if dialect == storage.Postgres {
		if _, err := db.W.ExecContext(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	s.seeded = seedDeliveries
	s.cpu0 = processCPU()
	s.pgCPU0 = s.pgBackendCPU()
	return s
}

// processCPU is the CPU time (user and system) this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pgBackendCPU reads the CPU time of each server backend of the benchmark's
// database from /proc, by pid; nil on SQLite, or when the server is not on
// this machine (no /proc entries). On a shared machine CPU time per delivery
// varies far less than wall-clock rates, which other processes' load
// dominates.
func (s *ingestStack) pgBackendCPU() map[int]time.Duration {
	if s.db.Dialect != storage.Postgres {
		return nil
	}
	rows, err := s.db.W.QueryContext(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			return nil
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		// Fields 14 and 15 (utime, stime, in clock ticks) follow the
		// parenthesised command name.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			return nil
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(ut+st) * time.Second / clockTicks
	}
	if rows.Err() != nil {
		return nil
	}
	return out
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on Linux.
const clockTicks = 100

// seedDeliveries are ingested before timing starts.
const seedDeliveries = 200

// ingestOne parses and stores the next delivery of 10 new alerts. It
// returns errors rather than calling b.Fatal, which RunParallel's goroutines
// must not.
func (s *ingestStack) ingestOne() error {
	r := int(s.next.Add(1) - 1)
	body := s.gen.Payload(r, alert.StatusFiring, time.Now())
	alerts, err := webhook.Parse("alertmanager", body, time.Now())
	if err != nil {
		return err
	}
	res, err := s.svc.Ingest(context.Background(), incident.Request{OrgID: s.orgID, Source: "alertmanager",
		ContentType: "application/json", Body: body, Alerts: alerts})
	if err != nil {
		return err
	}
	if res.Outcomes[incident.OutcomeNew] != len(alerts) {
		return fmt.Errorf("delivery %d: outcomes %v, want %d new", r, res.Outcomes, len(alerts))
	}
	return nil
}

// check verifies what the benchmark stored and reports the rate.
func (s *ingestStack) check(b *testing.B) {
	b.Helper()
	b.StopTimer()
	sent := int(s.next.Load())
	if el := b.Elapsed(); el > 0 {
		b.ReportMetric(float64((sent-s.seeded)*benchGroup)/el.Seconds(), "alerts/s")
	}
	if n := sent - s.seeded; n > 0 {
		b.ReportMetric(float64(processCPU()-s.cpu0)/float64(time.Microsecond)/float64(n), "cpu-µs/op")
		if end := s.pgBackendCPU(); s.pgCPU0 != nil && end != nil {
			var d time.Duration
			for pid, t := range end {
				d += t - s.pgCPU0[pid] // a backend started since counts from 0
			}
			b.ReportMetric(float64(d)/float64(time.Microsecond)/float64(n), "pg-cpu-µs/op")
		}
	}
	ctx := context.Background()
	var alerts, incidents, jobs int
	for q, n := range map[string]*int{
		"SELECT count(*) FROM alerts":    &alerts,
		"SELECT count(*) FROM incidents": &incidents,
		"SELECT count(*) FROM river_job": &jobs,
	} {
		if err := s.db.W.QueryRowContext(ctx, q).Scan(n); err != nil {
			b.Fatal(err)
		}
	}
	wantIncidents := (sent/s.gen.Requests())*s.gen.Keys() + min(sent%s.gen.Requests(), s.gen.Keys())
	if alerts != sent*benchGroup || incidents != wantIncidents || jobs != incidents {
		b.Fatalf("after %d deliveries: %d alerts (want %d), %d incidents (want %d), %d investigation jobs (want one per incident)",
			sent, alerts, sent*benchGroup, incidents, wantIncidents, jobs)
	}
}

// BenchmarkIngest measures intake below HTTP: parse an Alertmanager group of
// 10 new alerts, de-duplicate, correlate, store (alerts, incidents, timeline,
// events, raw payload) and enqueue investigations, in one transaction per
// delivery. Run with -bench; PostgreSQL variants need TEST_DATABASE_URL.
func BenchmarkIngest(b *testing.B) {
	sequential := func(dialect storage.Dialect) func(*testing.B) {
		return func(b *testing.B) {
			s := newIngestStack(b, dialect)
			for b.Loop() {
				if err := s.ingestOne(); err != nil {
					b.Fatal(err)
				}
			}
			s.check(b)
		}
	}
	// parallel runs deliveries from about 8 goroutines, like `aurora bench
	// ingest` at its default concurrency.
	parallel := func(dialect storage.Dialect) func(*testing.B) {
		return func(b *testing.B) {
			s := newIngestStack(b, dialect)
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.ingestOne(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if b.Failed() {
				return
			}
			s.check(b)
		}
	}
	b.Run("sqlite", sequential(storage.SQLite))
	b.Run("sqlite-parallel", parallel(storage.SQLite))
	b.Run("postgres", sequential(storage.Postgres))
	b.Run("postgres-parallel", parallel(storage.Postgres))
}

package incident_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/jobs"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestBatchedIngestMatchesPerStatement replays random deliveries (new,
// duplicate, resolved, reopened and never-seen alerts, fingerprints repeated
// within a delivery, the clock jumping across the correlation and reopen
// windows) through the batched intake and through one statement per lookup
// and write, and requires the same results and the same stored rows.
func TestBatchedIngestMatchesPerStatement(t *testing.T) {
	for _, dialect := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			for seed := uint64(1); seed <= 3; seed++ {
				deliveries := randomDeliveries(seed, 80)
				batched := replay(t, dialect, false, deliveries)
				perStatement := replay(t, dialect, true, deliveries)
				if len(batched.results) != len(perStatement.results) {
					t.Fatalf("seed %d: %d vs %d results", seed, len(batched.results), len(perStatement.results))
				}
				for i := range batched.results {
					if batched.results[i] != perStatement.results[i] {
						t.Fatalf("seed %d delivery %d:\nbatched:       %s\nper statement: %s", seed, i, batched.results[i], perStatement.results[i])
					}
				}
				for _, table := range slices.Sorted(maps.Keys(batched.tables)) {
					b, p := batched.tables[table], perStatement.tables[table]
					if len(b) != len(p) {
						t.Fatalf("seed %d: table %s has %d rows batched, %d per statement", seed, table, len(b), len(p))
					}
					for i := range b {
						if b[i] != p[i] {
							t.Fatalf("seed %d: table %s row %d differs:\nbatched:       %s\nper statement: %s", seed, table, i, b[i], p[i])
						}
					}
				}
			}
		})
	}
}

type delivery struct {
	advance time.Duration
	alerts  []alert.Alert
}

func randomDeliveries(seed uint64, n int) []delivery {
	r := rand.New(rand.NewPCG(seed, 42))
	type labelSet struct {
		name, instance, service string
		sev                     alert.Severity
	}
	var sets []labelSet
	for i := range 14 {
		sets = append(sets, labelSet{name: []string{"HighLatency", "DiskFull", "PodCrash"}[i%3], instance: fmt.Sprintf("host-%d", i),
			service: []string{"api", "db", ""}[i%3], sev: []alert.Severity{alert.SeverityWarning, alert.SeverityCritical, alert.SeverityInfo}[r.IntN(3)]})
	}
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := base
	starts := map[int]time.Time{} // the start time last sent per label set
	var out []delivery
	for range n {
		d := delivery{advance: []time.Duration{0, time.Second, 5 * time.Minute, 20 * time.Minute, 45 * time.Minute, 90 * time.Minute}[r.IntN(6)]}
		clock = clock.Add(d.advance)
		k := 1 + r.IntN(6)
		for range k {
			i := r.IntN(len(sets))
			s := sets[i]
			labels := map[string]string{"alertname": s.name, "instance": s.instance, "severity": string(s.sev)}
			if s.service != "" {
				labels["service"] = s.service
			}
			a := alert.Alert{Source: "alertmanager", Fingerprint: alert.Fingerprint(labels), Status: alert.StatusFiring, Severity: s.sev,
				Name: s.name, Title: s.name + " on " + s.instance, Service: s.service, Labels: labels}
			switch x := r.IntN(10); {
			case x < 3:
				a.Status = alert.StatusResolved
				a.StartsAt = starts[i]
				if r.IntN(2) == 0 {
					a.EndsAt = clock.Add(-time.Duration(r.IntN(60)) * time.Second)
				}
			case x < 5 && !starts[i].IsZero():
				a.StartsAt = starts[i] // a re-send, or a late retry of an episode since resolved
			case x < 6:
				// no start time: the intake uses its clock
			default:
				a.StartsAt = clock.Add(-time.Duration(r.IntN(120)) * time.Second)
				starts[i] = a.StartsAt
			}
			d.alerts = append(d.alerts, a)
		}
		out = append(out, d)
	}
	return out
}

type replayed struct {
	results []string
	tables  map[string][]string
}

// openIntake opens a migrated database with o (closed when the test ends)
// and an intake service on it: the default rules, a one-hour reopen window,
// every severity but info investigated, River as its queue, *now as its
// clock.
func openIntake(t testing.TB, o storage.Options, now *time.Time) (*storage.DB, *incident.Service, storage.Org) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := storage.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, log); err != nil {
		t.Fatal(err)
	}
	store := storage.NewStore(db)
	org, err := store.EnsureDefaultOrg(ctx)
	if err != nil {
		t.Fatal(err)
	}
	svc := &incident.Service{Store: store, Now: func() time.Time { return *now }, Cfg: incident.Config{
		Rules: incident.DefaultRules(30 * time.Minute), ReopenWindow: time.Hour,
		Investigate: map[alert.Severity]bool{alert.SeverityCritical: true, alert.SeverityWarning: true, alert.SeverityUnknown: true}}}
	q, err := jobs.New(db, jobs.Options{ProcessID: "test", Log: log, Store: store, Incidents: svc})
	if err != nil {
		t.Fatal(err)
	}
	svc.Jobs = q
	return db, svc, org
}

// replay ingests the deliveries into a fresh database and returns the
// results and every stored row, with ids replaced by their rank among all
// ids of the run (ids are time-ordered and drawn in the same order by both
// ways of ingesting, so equal histories give equal ranks).
func replay(t *testing.T, dialect storage.Dialect, perStatement bool, deliveries []delivery) replayed {
	t.Helper()
	ctx := context.Background()
	o := storage.Options{PoolMax: 4}
	if dialect == storage.Postgres {
		o.PostgresURL = testenv.Postgres(t)
	} else {
		o.SQLitePath = filepath.Join(t.TempDir(), "a.db")
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	db, svc, org := openIntake(t, o, &now)
	if perStatement {
		incident.UsePerStatementIngest(svc)
	}
	var results []incident.Result
	for i, d := range deliveries {
		now = now.Add(d.advance)
		alerts := slices.Clone(d.alerts)
		res, err := svc.Ingest(ctx, incident.Request{OrgID: org.ID, Source: "alertmanager", ContentType: "application/json",
			Body: []byte(fmt.Sprintf(`{"delivery":%d}`, i)), Alerts: alerts})
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		results = append(results, res)
	}
	out := replayed{tables: map[string][]string{}}
	for table, q := range map[string]string{
		"alerts":          `SELECT * FROM alerts ORDER BY id`,
		"incidents":       `SELECT * FROM incidents ORDER BY id`,
		"timeline_events": `SELECT * FROM timeline_events ORDER BY id`,
		"investigations":  `SELECT * FROM investigations ORDER BY id`,
		"raw_payloads":    `SELECT id, org_id, integration_id, source, content_type, alert_count, received_at FROM raw_payloads ORDER BY id`,
		"events":          `SELECT id, org_id, type, data FROM events ORDER BY id`, // created_at is the wall clock
		"river_job":       `SELECT kind, queue, args FROM river_job ORDER BY id`,
	} {
		out.tables[table] = dumpRows(t, db, q)
	}
	// Rank every id of the run.
	var ids []string
	for _, rows := range out.tables {
		for _, r := range rows {
			ids = append(ids, uuidRe.FindAllString(r, -1)...)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rank := func(s string) string {
		return uuidRe.ReplaceAllStringFunc(s, func(id string) string {
			i, ok := slices.BinarySearch(ids, id)
			if !ok {
				return "id?"
			}
			return fmt.Sprintf("id#%d", i)
		})
	}
	for table, rows := range out.tables {
		for i := range rows {
			rows[i] = rank(rows[i])
		}
		out.tables[table] = rows
	}
	for _, res := range results {
		b, err := json.Marshal(struct {
			incident.Result
			Outcomes     map[string]int
			NewIncidents int
		}{res, res.Outcomes, res.NewIncidents})
		if err != nil {
			t.Fatal(err)
		}
		out.results = append(out.results, rank(string(b)))
	}
	if len(out.tables["alerts"]) == 0 || len(out.tables["incidents"]) == 0 {
		t.Fatal("the replay stored nothing")
	}
	return out
}

var uuidRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func dumpRows(t *testing.T, db *storage.DB, q string) []string {
	t.Helper()
	rows, err := db.W.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, c := range cols {
			v := vals[i]
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v ", c, v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

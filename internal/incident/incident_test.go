package incident_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/jobs"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// testBundle is one backend's stack, with a clock the test moves.
type testBundle struct {
	store *storage.Store
	svc   *incident.Service
	org   string
	now   time.Time
}

func (b *testBundle) clock() time.Time { return b.now }

// backends runs fn against SQLite and PostgreSQL: the conformance suite.
func backends(t *testing.T, fn func(t *testing.T, setup func(t *testing.T) *testBundle)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, func(t *testing.T) *testBundle {
			return newBundle(t, storage.Options{SQLitePath: filepath.Join(t.TempDir(), "a.db")})
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, func(t *testing.T) *testBundle {
			return newBundle(t, storage.Options{PostgresURL: testenv.Postgres(t), PoolMax: 4})
		})
	})
}

func newBundle(t *testing.T, o storage.Options) *testBundle {
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
	b := &testBundle{store: store, org: org.ID, now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	svc := &incident.Service{Store: store, Now: b.clock, Cfg: incident.Config{
		Rules: incident.DefaultRules(30 * time.Minute), ReopenWindow: time.Hour,
		Investigate: map[alert.Severity]bool{alert.SeverityCritical: true, alert.SeverityWarning: true, alert.SeverityUnknown: true}}}
	q, err := jobs.New(db, jobs.Options{ProcessID: "test", Log: log, Store: store, Incidents: svc, Runner: &investigate.Runner{Store: store, Now: b.clock}})
	if err != nil {
		t.Fatal(err)
	}
	svc.Jobs = q
	b.svc = svc
	return b
}

func am(name, instance, status string, sev alert.Severity, service string) alert.Alert {
	labels := map[string]string{"alertname": name, "instance": instance, "severity": string(sev)}
	if service != "" {
		labels["service"] = service
	}
	return alert.Alert{Source: "alertmanager", Fingerprint: alert.Fingerprint(labels), Status: alert.Status(status), Severity: sev, Name: name,
		Title: name + " on " + instance, Service: service, Labels: labels, StartsAt: time.Date(2026, 5, 1, 11, 59, 0, 0, time.UTC)}
}

func (b *testBundle) ingest(t *testing.T, alerts ...alert.Alert) incident.Result {
	t.Helper()
	res, err := b.svc.Ingest(context.Background(), incident.Request{OrgID: b.org, Source: "alertmanager", ContentType: "application/json", Body: []byte(`{}`), Alerts: alerts})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (b *testBundle) incident(t *testing.T, id string) storage.Incident {
	t.Helper()
	inc, err := b.store.GetIncident(context.Background(), b.org, id)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		a1, a2 := am("HighLatency", "web-1", "firing", alert.SeverityWarning, "checkout"), am("HighLatency", "web-2", "firing", alert.SeverityCritical, "checkout")
		res := b.ingest(t, a1, a2)
		if res.Accepted != 2 || len(res.IncidentIDs) != 1 || res.Outcomes[incident.OutcomeNew] != 2 || res.NewIncidents != 1 {
			t.Fatalf("first delivery: %+v", res)
		}
		id := res.IncidentIDs[0]
		inc := b.incident(t, id)
		if inc.AlertCount != 2 || inc.FiringCount != 2 || inc.Severity != "critical" || inc.Status != "open" || inc.Investigation == nil || inc.Investigation.Status != "queued" {
			t.Fatalf("incident after group: %+v", inc)
		}

		// Re-delivery: counters only.
		b.now = b.now.Add(time.Minute)
		res = b.ingest(t, a1, a2)
		if res.Outcomes[incident.OutcomeDuplicate] != 2 || res.NewIncidents != 0 || res.IncidentIDs[0] != id {
			t.Fatalf("re-delivery: %+v", res)
		}
		alerts, err := b.store.IncidentAlerts(context.Background(), b.org, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(alerts) != 2 || alerts[0].ReceivedCount != 2 || !alerts[0].LastReceivedAt.Equal(b.now) || alerts[0].FirstReceivedAt.Equal(b.now) {
			t.Fatalf("re-delivered alerts: %+v", alerts)
		}

		// One resolves: still open. Both: resolved.
		r1, r2 := a1, a2
		r1.Status, r2.Status = alert.StatusResolved, alert.StatusResolved
		b.ingest(t, r1)
		if inc := b.incident(t, id); inc.Status != "open" || inc.FiringCount != 1 {
			t.Fatalf("after one resolve: %+v", inc)
		}
		b.ingest(t, r2)
		inc = b.incident(t, id)
		if inc.Status != "resolved" || inc.FiringCount != 0 || inc.ResolvedAt == nil {
			t.Fatalf("after both resolve: %+v", inc)
		}
		// The resolve delivered again changes nothing but counters.
		if res := b.ingest(t, r2); res.Outcomes[incident.OutcomeDuplicate] != 1 {
			t.Fatalf("resolve re-delivery: %+v", res)
		}

		// Fires again 10 minutes later (new episode, new start): reopens.
		b.now = b.now.Add(10 * time.Minute)
		again := a1
		again.StartsAt = b.now
		res = b.ingest(t, again)
		if res.Outcomes[incident.OutcomeReopened] != 1 || res.IncidentIDs[0] != id {
			t.Fatalf("refire: %+v", res)
		}
		inc = b.incident(t, id)
		if inc.Status != "open" || inc.AlertCount != 3 || inc.FiringCount != 1 {
			t.Fatalf("reopened incident: %+v", inc)
		}
		tl, err := b.store.Timeline(context.Background(), b.org, id)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, e := range tl {
			kinds[e.Kind]++
		}
		for _, k := range []string{"created", "investigation_queued", "alert_added", "alert_resolved", "resolved", "reopened"} {
			if kinds[k] == 0 {
				t.Errorf("timeline lacks %q: %v", k, kinds)
			}
		}
	})
}

func TestReopenWindowAndCorrelationWindow(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		a := am("DiskFull", "db-1", "firing", alert.SeverityCritical, "db")
		first := b.ingest(t, a).IncidentIDs[0]
		r := a
		r.Status = alert.StatusResolved
		b.ingest(t, r)
		// Past the reopen window: a new incident.
		b.now = b.now.Add(2 * time.Hour)
		a.StartsAt = b.now
		res := b.ingest(t, a)
		if res.NewIncidents != 1 || res.IncidentIDs[0] == first {
			t.Fatalf("after the reopen window: %+v", res)
		}
		second := res.IncidentIDs[0]
		// Another instance of the same alertname+service within 30m joins it…
		b.now = b.now.Add(20 * time.Minute)
		if res := b.ingest(t, am("DiskFull", "db-2", "firing", alert.SeverityCritical, "db")); res.IncidentIDs[0] != second {
			t.Fatalf("within the correlation window: %+v", res)
		}
		// …but not 31 minutes after the incident's latest alert.
		b.now = b.now.Add(31 * time.Minute)
		if res := b.ingest(t, am("DiskFull", "db-3", "firing", alert.SeverityCritical, "db")); res.NewIncidents != 1 {
			t.Fatalf("past the correlation window: %+v", res)
		}
		// A different service, or an absent one, never joins.
		if res := b.ingest(t, am("DiskFull", "db-4", "firing", alert.SeverityCritical, "")); res.NewIncidents != 1 {
			t.Fatalf("absent service joined: %+v", res)
		}
	})
}

func TestLateFiringRetryAfterResolveIsDuplicate(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		a := am("Down", "x", "firing", alert.SeverityHigh, "api")
		b.ingest(t, a)
		r := a
		r.Status = alert.StatusResolved
		id := b.ingest(t, r).IncidentIDs[0]
		b.now = b.now.Add(time.Minute)
		res := b.ingest(t, a) // the sender retried the old firing notification
		if res.Outcomes[incident.OutcomeDuplicate] != 1 || b.incident(t, id).Status != "resolved" {
			t.Fatalf("late retry: %+v", res)
		}
	})
}

func TestInfoSeverityNotInvestigated(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		res := b.ingest(t, am("Notice", "x", "firing", alert.SeverityInfo, "api"))
		if inc := b.incident(t, res.IncidentIDs[0]); inc.Investigation != nil {
			t.Fatalf("info incident investigated: %+v", inc)
		}
		res = b.ingest(t, am("Odd", "x", "firing", alert.SeverityUnknown, "api"))
		if inc := b.incident(t, res.IncidentIDs[0]); inc.Investigation == nil {
			t.Fatalf("unknown-severity incident not investigated: %+v", inc)
		}
	})
}

func TestResolvedNeverSeen(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		res := b.ingest(t, am("Ghost", "x", "resolved", alert.SeverityHigh, "api"))
		if res.Outcomes[incident.OutcomeResolvedUnknown] != 1 || len(res.IncidentIDs) != 0 || res.NewIncidents != 0 {
			t.Fatalf("%+v", res)
		}
	})
}

func TestAutoResolve(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		id := b.ingest(t, am("Stale", "x", "firing", alert.SeverityHigh, "api")).IncidentIDs[0]
		b.now = b.now.Add(11 * time.Hour)
		if n, err := b.svc.AutoResolve(context.Background(), b.org, 12*time.Hour); err != nil || n != 0 {
			t.Fatalf("too early: %d %v", n, err)
		}
		b.now = b.now.Add(2 * time.Hour)
		if n, err := b.svc.AutoResolve(context.Background(), b.org, 12*time.Hour); err != nil || n != 1 {
			t.Fatalf("auto-resolve: %d %v", n, err)
		}
		if inc := b.incident(t, id); inc.Status != "resolved" {
			t.Fatalf("incident not resolved: %+v", inc)
		}
	})
}

func TestSetStatusAndOrgScope(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		ctx := context.Background()
		id := b.ingest(t, am("X", "x", "firing", alert.SeverityHigh, "api")).IncidentIDs[0]
		if inc, err := b.svc.SetStatus(ctx, b.org, id, "acknowledged", "tester"); err != nil || inc.Status != "acknowledged" || inc.AcknowledgedAt == nil {
			t.Fatalf("ack: %+v %v", inc, err)
		}
		if _, err := b.svc.SetStatus(ctx, b.org, id, "resolved", "tester"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.SetStatus(ctx, b.org, id, "acknowledged", "tester"); err == nil {
			t.Fatal("acknowledged a resolved incident")
		}
		// Another org sees nothing of this one.
		if _, err := b.store.GetIncident(ctx, "other-org", id); err != storage.ErrNotFound {
			t.Fatalf("cross-org read: %v", err)
		}
		if _, err := b.svc.SetStatus(ctx, "other-org", id, "open", "x"); err == nil {
			t.Fatal("cross-org write succeeded")
		}
		items, _, err := b.store.ListIncidents(ctx, "other-org", storage.IncidentFilter{Limit: 10})
		if err != nil || len(items) != 0 {
			t.Fatalf("cross-org list: %v %v", items, err)
		}
	})
}

func TestPagination(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		for i := 0; i < 7; i++ {
			b.now = b.now.Add(time.Second)
			b.ingest(t, am("A", "x", "firing", alert.SeverityHigh, string(rune('a'+i))))
		}
		seen := map[string]bool{}
		var cursor *storage.Cursor
		pages := 0
		for {
			items, next, err := b.store.ListIncidents(context.Background(), b.org, storage.IncidentFilter{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, it := range items {
				if seen[it.ID] {
					t.Fatalf("incident %s on two pages", it.ID)
				}
				seen[it.ID] = true
			}
			if next == "" {
				break
			}
			if cursor, err = storage.DecodeCursor(next); err != nil {
				t.Fatal(err)
			}
		}
		if len(seen) != 7 || pages != 3 {
			t.Fatalf("saw %d incidents on %d pages", len(seen), pages)
		}
	})
}

// Concurrent deliveries of the same alerts (several replicas receiving
// retries at once) must still leave one episode per fingerprint and one
// incident per group.
func TestConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		batch := []alert.Alert{am("Burst", "a", "firing", alert.SeverityHigh, "api"), am("Burst", "b", "firing", alert.SeverityHigh, "api"), am("Burst", "c", "firing", alert.SeverityHigh, "api")}
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			go func(i int) {
				// Rotate the order so transactions lock keys in different
				// orders if the implementation did not sort them.
				rot := append(append([]alert.Alert{}, batch[i%3:]...), batch[:i%3]...)
				_, err := b.svc.Ingest(context.Background(), incident.Request{OrgID: b.org, Source: "alertmanager", Body: []byte(`{}`), Alerts: rot})
				errs <- err
			}(i)
		}
		for i := 0; i < 8; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		items, _, err := b.store.ListIncidents(context.Background(), b.org, storage.IncidentFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].AlertCount != 3 {
			t.Fatalf("want 1 incident with 3 alerts, got %+v", items)
		}
		alerts, _, err := b.store.ListAlerts(context.Background(), b.org, storage.AlertFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, a := range alerts {
			total += a.ReceivedCount
		}
		if len(alerts) != 3 || total != 24 {
			t.Fatalf("want 3 alerts received 24 times in all, got %d alerts, %d receipts", len(alerts), total)
		}
	})
}

// Acknowledgements and notes made in the sending tool (PagerDuty, Opsgenie,
// New Relic) follow the incident; a note never changes a status.
func TestSenderActions(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		pd := func(status alert.Status, action alert.Action, note string) alert.Alert {
			return alert.Alert{Source: "pagerduty", Fingerprint: "pagerduty:Q2CKYRLH85UNN4", Status: status, Severity: alert.SeverityHigh,
				Name: "Checkout down", Title: "Checkout down", Service: "checkout", Action: action, Actor: "Ben", Note: note, StartsAt: b.now}
		}
		ingest := func(a alert.Alert) incident.Result {
			res, err := b.svc.Ingest(context.Background(), incident.Request{OrgID: b.org, Source: "pagerduty", Body: []byte(`{}`), Alerts: []alert.Alert{a}})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		// A note on an incident Aurora never saw: stored delivery, no alert.
		if res := ingest(pd(alert.StatusFiring, alert.ActionNote, "hello")); res.Accepted != 0 || res.Outcomes[incident.OutcomeIgnored] != 1 {
			t.Fatalf("note on unknown alert: %+v", res)
		}
		id := ingest(pd(alert.StatusFiring, alert.ActionNone, "")).IncidentIDs[0]
		ingest(pd(alert.StatusFiring, alert.ActionAcknowledge, ""))
		if inc := b.incident(t, id); inc.Status != "acknowledged" || inc.AcknowledgedAt == nil {
			t.Fatalf("after ack: %+v", inc)
		}
		if res := ingest(pd(alert.StatusFiring, alert.ActionNote, "rolled back v42")); res.Outcomes[incident.OutcomeNote] != 1 || b.incident(t, id).Status != "acknowledged" {
			t.Fatalf("note: %+v", res)
		}
		ingest(pd(alert.StatusFiring, alert.ActionUnacknowledge, "reopened"))
		if inc := b.incident(t, id); inc.Status != "open" || inc.AcknowledgedAt != nil {
			t.Fatalf("after unack: %+v", inc)
		}
		ingest(pd(alert.StatusResolved, alert.ActionNone, ""))
		if inc := b.incident(t, id); inc.Status != "resolved" {
			t.Fatalf("after resolve: %+v", inc)
		}
		// A note after resolution does not reopen.
		ingest(pd(alert.StatusFiring, alert.ActionNote, "postmortem scheduled"))
		if inc := b.incident(t, id); inc.Status != "resolved" {
			t.Fatalf("note reopened the incident: %+v", inc)
		}
		tl, _ := b.store.Timeline(context.Background(), b.org, id)
		kinds := map[string]int{}
		for _, e := range tl {
			kinds[e.Kind]++
		}
		if kinds["acknowledged"] != 1 || kinds["unacknowledged"] != 1 || kinds["note"] != 2 || kinds["resolved"] != 1 {
			t.Fatalf("timeline kinds: %v", kinds)
		}
		// The first event of an incident may already be an acknowledgement.
		first := pd(alert.StatusFiring, alert.ActionAcknowledge, "")
		first.Fingerprint = "pagerduty:OTHER"
		res := ingest(first)
		if inc := b.incident(t, res.IncidentIDs[0]); inc.Status != "acknowledged" {
			t.Fatalf("acknowledged on arrival: %+v", inc)
		}
	})
}

// During an alert storm investigations beyond the per-org rate limit wait
// in the queue, marked rate_limited with their start time; none is dropped.
func TestInvestigationRateLimit(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		b.svc.Cfg.RateLimit = 3
		var ids []string
		for i := 0; i < 7; i++ {
			res := b.ingest(t, am("Storm", "x", "firing", alert.SeverityCritical, fmt.Sprintf("svc-%d", i)))
			ids = append(ids, res.IncidentIDs[0])
		}
		limited := 0
		for i, id := range ids {
			inc := b.incident(t, id)
			if inc.Investigation == nil {
				t.Fatalf("incident %d has no investigation", i)
			}
			v, err := b.store.GetInvestigation(context.Background(), b.org, inc.Investigation.ID)
			if err != nil {
				t.Fatal(err)
			}
			if v.Status != "queued" {
				t.Fatalf("investigation %d status %s", i, v.Status)
			}
			if v.RateLimited {
				limited++
				if v.ScheduledAt == nil || !v.ScheduledAt.After(b.now) {
					t.Errorf("rate-limited investigation %d has no later start: %v", i, v.ScheduledAt)
				}
				// The 4th–6th start a minute on, the 7th two minutes on.
				want := b.now.Add(time.Duration(i/3) * time.Minute)
				if !v.ScheduledAt.Equal(want) {
					t.Errorf("investigation %d starts %v, want %v", i, v.ScheduledAt, want)
				}
			} else if i >= 3 {
				t.Errorf("investigation %d not rate limited", i)
			}
		}
		if limited != 4 {
			t.Fatalf("%d rate limited, want 4", limited)
		}
		counts, err := b.store.QueueCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		jobs := 0
		for _, c := range counts {
			if c.Queue == "investigations" {
				jobs += c.Count
			}
		}
		if jobs != 7 {
			t.Fatalf("%d investigation jobs queued, want 7 (none dropped)", jobs)
		}
	})
}

// A storm that outlasts a minute keeps to the limit: with three new
// incidents a minute and a limit of two, no minute sees more than two
// investigations start, and the backlog grows instead (the count of the
// last minute's creations let every minute's share start together a few
// minutes on).
func TestInvestigationRateLimitSustained(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		b.svc.Cfg.RateLimit = 2
		first := b.now
		var starts []time.Time
		for i := 0; i < 12; i++ {
			res := b.ingest(t, am("LongStorm", "x", "firing", alert.SeverityCritical, fmt.Sprintf("svc-%d", i)))
			inc := b.incident(t, res.IncidentIDs[0])
			v, err := b.store.GetInvestigation(context.Background(), b.org, inc.Investigation.ID)
			if err != nil {
				t.Fatal(err)
			}
			start := v.CreatedAt
			if v.RateLimited {
				start = *v.ScheduledAt
			}
			if start.Before(b.now) {
				t.Fatalf("investigation %d starts %v, before its incident (%v)", i, start, b.now)
			}
			starts = append(starts, start)
			b.now = b.now.Add(20 * time.Second)
		}
		for i, s := range starts {
			in := 0
			for _, o := range starts {
				if o.After(s.Add(-time.Minute)) && !o.After(s) {
					in++
				}
			}
			if in > 2 {
				t.Errorf("%d investigations start in the minute up to investigation %d's start (%v): %v", in, i, s.Sub(first), starts)
			}
		}
		// Two a minute, as the first two did (20 s apart): the twelfth
		// starts 5m20s after the first.
		if got := starts[11].Sub(first); got != 5*time.Minute+20*time.Second {
			t.Errorf("the 12th starts %v after the first, want 5m20s", got)
		}
	})
}

// A storm of 1,000 alerts is ingested whole and every new incident's
// investigation is queued — rate limited beyond the cap, never dropped.
func TestAlertStorm(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, setup func(t *testing.T) *testBundle) {
		b := setup(t)
		b.svc.Cfg.RateLimit = 30
		for req := 0; req < 100; req++ {
			batch := make([]alert.Alert, 10)
			for i := range batch {
				// 50 services × 20 instances: 50 incidents.
				batch[i] = am("StormAlert", fmt.Sprintf("host-%d-%d", req, i), "firing", alert.SeverityCritical, fmt.Sprintf("svc-%d", (req*10+i)%50))
			}
			if res := b.ingest(t, batch...); res.Accepted != 10 {
				t.Fatalf("request %d accepted %d", req, res.Accepted)
			}
		}
		alerts, _, err := b.store.ListAlerts(context.Background(), b.org, storage.AlertFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		incs, _, err := b.store.ListIncidents(context.Background(), b.org, storage.IncidentFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		limited := 0
		for _, inc := range incs {
			total += inc.AlertCount
			if inc.Investigation == nil || inc.Investigation.Status != "queued" {
				t.Fatalf("incident without a queued investigation: %+v", inc)
			}
			v, _ := b.store.GetInvestigation(context.Background(), b.org, inc.Investigation.ID)
			if v.RateLimited {
				limited++
			}
		}
		if len(incs) != 50 || total != 1000 || len(alerts) != 500 {
			t.Fatalf("%d incidents holding %d alerts (page of %d alerts), want 50 holding 1000", len(incs), total, len(alerts))
		}
		if limited != 20 {
			t.Fatalf("%d investigations rate limited, want 20", limited)
		}
	})
}

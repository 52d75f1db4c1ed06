package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/testenv"
)

func backends(t *testing.T, fn func(t *testing.T, s *storage.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, openStore(t, storage.Options{SQLitePath: filepath.Join(t.TempDir(), "a.db")}))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, openStore(t, storage.Options{PostgresURL: testenv.Postgres(t), PoolMax: 4}))
	})
}

// openStore opens and migrates a database, closed when the test ends.
func openStore(t *testing.T, o storage.Options) *storage.Store {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	// Migrating twice is a no-op (every replica migrates at start-up).
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	return storage.NewStore(db)
}

// newInvestigation stores an incident and its queued investigation.
func newInvestigation(t *testing.T, s *storage.Store, orgID string) storage.Investigation {
	t.Helper()
	ctx := context.Background()
	var v storage.Investigation
	if _, err := s.InTx(ctx, func(tx *storage.Tx) error {
		inc := storage.Incident{ID: storage.NewID(), OrgID: orgID, Title: "t", Status: "open", Severity: "critical", CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := tx.InsertIncident(ctx, &inc); err != nil {
			return err
		}
		var err error
		v, err = tx.InsertInvestigation(ctx, orgID, inc.ID, "test", time.Now(), nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// readEvents reads an org's whole stream, page by page of at most page rows.
func readEvents(t *testing.T, s *storage.Store, orgID string, page int) []storage.Event {
	t.Helper()
	var out []storage.Event
	var after int64
	for {
		evs, err := s.EventsAfter(context.Background(), orgID, after, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return out
		}
		out = append(out, evs...)
		after = evs[len(evs)-1].ID
	}
}

func TestLease(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		ok, term, err := s.AcquireLease(ctx, "l", "a", time.Hour)
		if err != nil || !ok || term != 1 {
			t.Fatalf("a takes free lease: %v %d %v", ok, term, err)
		}
		if ok, _, err := s.AcquireLease(ctx, "l", "b", time.Hour); err != nil || ok {
			t.Fatalf("b took a held lease: %v %v", ok, err)
		}
		if ok, term, err := s.AcquireLease(ctx, "l", "a", time.Hour); err != nil || !ok || term != 1 {
			t.Fatalf("a renews: %v %d %v", ok, term, err)
		}
		if err := s.ReleaseLease(ctx, "l", "a"); err != nil {
			t.Fatal(err)
		}
		if ok, term, err := s.AcquireLease(ctx, "l", "b", time.Hour); err != nil || !ok || term != 2 {
			t.Fatalf("b takes released lease with a new term: %v %d %v", ok, term, err)
		}
		// Expiry frees it too.
		if ok, _, _ := s.AcquireLease(ctx, "m", "a", -time.Second); !ok {
			t.Fatal("a takes m")
		}
		if ok, term, err := s.AcquireLease(ctx, "m", "b", time.Hour); err != nil || !ok || term != 2 {
			t.Fatalf("b takes expired lease: %v %d %v", ok, term, err)
		}
	})
}

func TestJobRunOncePerPeriod(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		org, err := s.EnsureDefaultOrg(ctx)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.EnsureDefaultOrg(ctx)
		if err != nil || again.ID != org.ID {
			t.Fatalf("second default org: %v %v", again, err)
		}
		record := func() error {
			_, err := s.InTx(ctx, func(tx *storage.Tx) error {
				return tx.RecordJobRun(ctx, org.ID, "retention", "2026-01-01T00:00:00Z", "w1", 3, time.Now())
			})
			return err
		}
		if err := record(); err != nil {
			t.Fatal(err)
		}
		if err := record(); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("second run of a period: %v", err)
		}
		runs, err := s.ListJobRuns(ctx, org.ID, 10)
		if err != nil || len(runs) != 1 || runs[0].Affected != 3 {
			t.Fatalf("runs: %+v %v", runs, err)
		}
	})
}

func TestCursor(t *testing.T) {
	t.Parallel()
	c, err := storage.DecodeCursor(storage.EncodeCursor(123, "abc"))
	if err != nil || c.At != 123 || c.ID != "abc" {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{"!!", "bm90LWEtY3Vyc29y", storage.EncodeCursor(1, ""), storage.EncodeCursor(1, "a\x00"), storage.EncodeCursor(1, "\xff")} {
		if _, err := storage.DecodeCursor(bad); err == nil {
			t.Errorf("DecodeCursor(%q) accepted", bad)
		}
	}
}

// Events get ids in the order their transactions committed, not the order
// they were written: a reader that has passed an id never misses a later
// commit.
func TestEventsNumberedInCommitOrder(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		org, _ := s.EnsureDefaultOrg(ctx)
		written, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			_, err := s.InTx(ctx, func(tx *storage.Tx) error {
				if err := tx.InsertEvent(ctx, org.ID, "first-written", 1); err != nil {
					return err
				}
				close(written)
				<-release // commit only after the other transaction
				return nil
			})
			done <- err
		}()
		<-written
		if s.DB.Dialect == storage.SQLite {
			// One writer: the second transaction waits for the first, so
			// the order is the write order; nothing more to show.
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			return
		}
		if _, err := s.InTx(ctx, func(tx *storage.Tx) error { return tx.InsertEvent(ctx, org.ID, "first-committed", 2) }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SequenceEvents(ctx); err != nil {
			t.Fatal(err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, err := s.SequenceEvents(ctx); err != nil {
			t.Fatal(err)
		}
		evs, err := s.EventsAfter(ctx, org.ID, 0, 10)
		if err != nil || len(evs) != 2 {
			t.Fatalf("events: %v %v", evs, err)
		}
		if evs[0].Type != "first-committed" || evs[1].Type != "first-written" || evs[0].ID >= evs[1].ID {
			t.Fatalf("order: %s(%d) then %s(%d)", evs[0].Type, evs[0].ID, evs[1].Type, evs[1].ID)
		}
	})
}

// The sequencer moves pending events in batches; a backlog larger than one
// batch is moved whole, in order, by one call.
// (PostgreSQL only: SQLite numbers events as they are written.)
func TestSequenceEventsBacklog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, storage.Options{PostgresURL: testenv.Postgres(t), PoolMax: 4})
	org, _ := s.EnsureDefaultOrg(ctx)
	const n = storage.SequenceBatch*2 + 7
	if _, err := s.InTx(ctx, func(tx *storage.Tx) error {
		for i := range n {
			if err := tx.InsertEvent(ctx, org.ID, "backlog", i); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SequenceEvents(ctx); err != nil {
		t.Fatal(err)
	}
	evs := readEvents(t, s, org.ID, 500)
	for i, e := range evs {
		if string(e.Data) != fmt.Sprint(i) {
			t.Fatalf("event %d holds %s: out of order", i, e.Data)
		}
	}
	if len(evs) != n {
		t.Fatalf("%d events moved by one call, want %d", len(evs), n)
	}
}

// Consecutive events of one type that a transaction writes share a row of
// events, and still each get an id of their own: consecutive within a row,
// growing in commit order, and a reader resumes from any of them.
func TestEventRows(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		org, _ := s.EnsureDefaultOrg(ctx)
		written := []string{"alert.received", "alert.received", "alert.received", "incident.updated", "alert.received", "alert.received"}
		if _, err := s.InTx(ctx, func(tx *storage.Tx) error {
			for i, typ := range written {
				if err := tx.InsertEvent(ctx, org.ID, typ, map[string]any{"i": i, "text": "line\nbreak"}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// Concurrent writers (grouped into shared transactions on SQLite).
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.InTxGrouped(ctx, func(tx *storage.Tx) error {
					for i := range 3 {
						if err := tx.InsertEvent(ctx, org.ID, "alert.received", map[string]int{"i": i}); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if _, err := s.SequenceEvents(ctx); err != nil {
			t.Fatal(err)
		}
		all, err := s.EventsAfter(ctx, org.ID, 0, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 6+8*3 {
			t.Fatalf("%d events, want %d", len(all), 6+8*3)
		}
		for i, e := range all {
			if !json.Valid(e.Data) {
				t.Fatalf("event %d (id %d) data %q is not one JSON value", i, e.ID, e.Data)
			}
			if i > 0 && e.ID <= all[i-1].ID {
				t.Fatalf("event %d id %d after id %d", i, e.ID, all[i-1].ID)
			}
		}
		var types []string
		for _, e := range all[:6] {
			types = append(types, e.Type+string(e.Data))
		}
		if want := []string{
			`alert.received{"i":0,"text":"line\nbreak"}`, `alert.received{"i":1,"text":"line\nbreak"}`, `alert.received{"i":2,"text":"line\nbreak"}`,
			`incident.updated{"i":3,"text":"line\nbreak"}`, `alert.received{"i":4,"text":"line\nbreak"}`, `alert.received{"i":5,"text":"line\nbreak"}`,
		}; !slices.Equal(types, want) {
			t.Fatalf("events %q, want %q", types, want)
		}
		if all[2].ID-all[0].ID != 2 {
			t.Errorf("ids of one row's events: %d, %d, %d; want consecutive", all[0].ID, all[1].ID, all[2].ID)
		}
		var rows int
		if err := s.DB.W.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows >= len(all) || rows < 3 {
			t.Errorf("%d rows for %d events: consecutive events of a type should share rows", rows, len(all))
		}
		last, err := s.LastEventID(ctx, org.ID)
		if err != nil || last != all[len(all)-1].ID {
			t.Errorf("last event id %d (%v), want %d", last, err, all[len(all)-1].ID)
		}
		// Resuming after any event gives exactly the events after it.
		for i, e := range all {
			rest, err := s.EventsAfter(ctx, org.ID, e.ID, 500)
			if err != nil {
				t.Fatal(err)
			}
			if len(rest) != len(all)-i-1 || (len(rest) > 0 && rest[0].ID != all[i+1].ID) {
				t.Fatalf("after event %d (id %d): %d events, want %d", i, e.ID, len(rest), len(all)-i-1)
			}
		}
		// Pages of rows: a reader that pages one row at a time misses nothing.
		paged := readEvents(t, s, org.ID, 1)
		if len(paged) != len(all) {
			t.Fatalf("paging saw %d events, want %d", len(paged), len(all))
		}
		for i, e := range paged {
			if e.ID != all[i].ID {
				t.Fatalf("paging: event %d has id %d, want %d", i, e.ID, all[i].ID)
			}
		}
	})
}

// Re-deliveries queued with QueueTouch are written before the next statement
// reads the alert, each counted, however many were queued.
func TestQueueTouch(t *testing.T) {
	backends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		org, err := s.EnsureDefaultOrg(ctx)
		if err != nil {
			t.Fatal(err)
		}
		first := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		a := &storage.Alert{OrgID: org.ID, Source: "alertmanager", Fingerprint: "fp1", Status: "firing", Severity: "warning", Title: "t",
			StartsAt: first, FirstReceivedAt: first, LastReceivedAt: first, ReceivedCount: 1}
		b := &storage.Alert{OrgID: org.ID, Source: "alertmanager", Fingerprint: "fp2", Status: "firing", Severity: "warning", Title: "u",
			StartsAt: first, FirstReceivedAt: first, LastReceivedAt: first, ReceivedCount: 1}
		if _, err := s.InTx(ctx, func(tx *storage.Tx) error {
			if err := tx.InsertAlert(ctx, a); err != nil {
				return err
			}
			return tx.InsertAlert(ctx, b)
		}); err != nil {
			t.Fatal(err)
		}
		later := first.Add(time.Minute)
		if _, err := s.InTx(ctx, func(tx *storage.Tx) error {
			for _, x := range []*storage.Alert{a, a, b} {
				if err := tx.QueueTouch(ctx, x, later); err != nil {
					return err
				}
			}
			if a.ReceivedCount != 3 || !a.LastReceivedAt.Equal(later) {
				t.Errorf("in memory: count %d at %v, want 3 at %v", a.ReceivedCount, a.LastReceivedAt, later)
			}
			got, err := tx.OpenAlert(ctx, org.ID, "alertmanager", "fp1")
			if err != nil {
				return err
			}
			if got.ReceivedCount != 3 || !got.LastReceivedAt.Equal(later) {
				t.Errorf("read in the transaction: count %d at %v, want 3 at %v", got.ReceivedCount, got.LastReceivedAt, later)
			}
			// Queued after that read: written at commit.
			return tx.QueueTouch(ctx, b, later.Add(time.Second))
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.InTx(ctx, func(tx *storage.Tx) error {
			got, err := tx.OpenAlert(ctx, org.ID, "alertmanager", "fp2")
			if err != nil {
				return err
			}
			if got.ReceivedCount != 3 || !got.LastReceivedAt.Equal(later.Add(time.Second)) {
				t.Errorf("after commit: count %d at %v, want 3 at %v", got.ReceivedCount, got.LastReceivedAt, later.Add(time.Second))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}

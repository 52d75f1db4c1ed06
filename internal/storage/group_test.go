package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
)

// TestInTxGrouped commits concurrent callers together (SQLite) and keeps
// them apart where it matters: a caller whose work fails, in Go or in SQL,
// leaves nothing stored and gets its error, while the callers that queued
// with it are stored and succeed; a caller whose context ended before its
// turn is not stored.
func TestInTxGrouped(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		org, err := s.EnsureDefaultOrg(ctx)
		if err != nil {
			t.Fatal(err)
		}
		store := func(ctx context.Context, tx *storage.Tx, name string) error {
			if _, err := tx.InsertRawPayload(ctx, org.ID, "", name, "application/json", []byte(`{}`), 0, time.Now()); err != nil {
				return err
			}
			return tx.InsertEvent(ctx, org.ID, name, 1)
		}
		type caller struct {
			name string
			ctx  context.Context
			fn   func(tx *storage.Tx) error
		}
		// round runs first, holding the writer until every other caller
		// queued behind it, then the others; it returns their errors.
		round := func(first string, others []caller) map[string]error {
			started, release := make(chan struct{}), make(chan struct{})
			var wg sync.WaitGroup
			var mu sync.Mutex
			errs := map[string]error{}
			run := func(c caller) {
				defer wg.Done()
				_, err := s.InTxGrouped(c.ctx, c.fn)
				mu.Lock()
				errs[c.name] = err
				mu.Unlock()
			}
			wg.Add(1)
			go run(caller{first, ctx, func(tx *storage.Tx) error {
				if err := store(ctx, tx, first); err != nil {
					return err
				}
				close(started)
				<-release
				return nil
			}})
			<-started
			for _, c := range others {
				wg.Add(1)
				go run(c)
			}
			if s.DB.Dialect == storage.SQLite {
				deadline := time.Now().Add(30 * time.Second)
				for {
					if _, _, queued := storage.GroupStats(s); queued == len(others) {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("the callers never queued behind the first")
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			close(release)
			wg.Wait()
			return errs
		}
		ok := func(name string) caller {
			return caller{name, ctx, func(tx *storage.Tx) error { return store(ctx, tx, name) }}
		}

		// All succeed: on SQLite, two transactions (the first alone, then
		// the six that queued behind it).
		var others []caller
		for i := range 6 {
			others = append(others, ok(fmt.Sprintf("a-%d", i)))
		}
		for name, err := range round("a-first", others) {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if s.DB.Dialect == storage.SQLite {
			groups, deliveries, _ := storage.GroupStats(s)
			t.Logf("%d transactions for %d callers", groups, deliveries)
			if groups != 2 || deliveries != 7 {
				t.Errorf("%d transactions for %d callers; want 2 for 7", groups, deliveries)
			}
		}

		// Some fail: only they do.
		errGo := errors.New("refused in Go")
		gone, cancel := context.WithCancel(ctx)
		cancel()
		errs := round("b-first", []caller{
			ok("b-0"),
			{"b-go", ctx, func(tx *storage.Tx) error {
				if err := store(ctx, tx, "b-go"); err != nil {
					return err
				}
				return errGo
			}},
			ok("b-1"),
			{"b-sql", ctx, func(tx *storage.Tx) error {
				if err := store(ctx, tx, "b-sql"); err != nil {
					return err
				}
				_, err := tx.SQL().ExecContext(ctx, `INSERT INTO no_such_table VALUES (1)`)
				return err
			}},
			{"b-gone", gone, func(tx *storage.Tx) error { return store(gone, tx, "b-gone") }},
			ok("b-2"),
		})
		want := []string{"a-first", "a-0", "a-1", "a-2", "a-3", "a-4", "a-5", "b-first", "b-0", "b-1", "b-2"}
		for name, err := range errs {
			switch {
			case slices.Contains(want, name) && err != nil:
				t.Errorf("%s: %v", name, err)
			case name == "b-go" && !errors.Is(err, errGo):
				t.Errorf("%s: got %v, want %v", name, err, errGo)
			case (name == "b-sql" || name == "b-gone") && err == nil:
				t.Errorf("%s: no error", name)
			}
		}

		var stored []string
		rows, err := s.DB.W.QueryContext(ctx, `SELECT source FROM raw_payloads ORDER BY source`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var src string
			if err := rows.Scan(&src); err != nil {
				t.Fatal(err)
			}
			stored = append(stored, src)
		}
		rows.Close()
		if _, err := s.SequenceEvents(ctx); err != nil {
			t.Fatal(err)
		}
		evs, err := s.EventsAfter(ctx, org.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var events []string
		for _, e := range evs {
			events = append(events, e.Type)
		}
		slices.Sort(want)
		slices.Sort(events)
		if !slices.Equal(stored, want) || !slices.Equal(events, want) {
			t.Errorf("stored payloads %v and events %v; want exactly the callers that succeeded, %v", stored, events, want)
		}
	})
}

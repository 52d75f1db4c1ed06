package storage

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// openPipelined opens a migrated PostgreSQL test database with one writer
// connection, through a round-trip counter.
func openPipelined(t *testing.T) (*Store, func() int) {
	t.Helper()
	ctx := context.Background()
	proxied, roundTrips := testenv.RoundTrips(t, testenv.Postgres(t))
	db, err := Open(ctx, Options{PostgresURL: proxied, PoolMin: 1, PoolMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	if !db.pipelined {
		t.Fatal("PostgreSQL writer pool is not pipelined")
	}
	return NewStore(db), roundTrips
}

func countRaw(t *testing.T, s *Store, id string) int {
	t.Helper()
	var n int
	if err := s.DB.W.QueryRowContext(context.Background(), `SELECT count(*) FROM raw_payloads WHERE id = $1`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// An intake transaction takes two round trips: BEGIN, the locks and raw
// payload, and the episodes' look-up in one; every write, the events and
// COMMIT in the other. What it wrote is there, and nothing of a
// transaction that failed.
func TestPipelinedTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, roundTrips := openPipelined(t)
	org, err := s.EnsureDefaultOrg(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	delivery := func(fp string) (rawID string, err error) {
		_, err = s.InTx(ctx, func(tx *Tx) error {
			rawID, err = tx.LockAndInsertRawPayload(ctx, []int64{1, 2}, org.ID, "", "alertmanager", "application/json", []byte(`{}`), 1, now)
			if err != nil {
				return err
			}
			open, latest, err := tx.Episodes(ctx, org.ID, "alertmanager", []string{fp})
			if err != nil {
				return err
			}
			if len(open)+len(latest) != 0 {
				t.Errorf("%s: episodes found before any was stored", fp)
			}
			a := &Alert{OrgID: org.ID, Source: "alertmanager", Fingerprint: fp, Status: "firing", Severity: "warning", Title: fp,
				StartsAt: now, FirstReceivedAt: now, LastReceivedAt: now, ReceivedCount: 1, RawPayloadID: rawID}
			tx.QueueAlert(a)
			if err := tx.InsertEvent(ctx, org.ID, "alert.received", a); err != nil {
				return err
			}
			return tx.SaveIncidents(ctx, nil)
		})
		return rawID, err
	}
	// The first run prepares each statement on the connection.
	if _, err := delivery("warm-up"); err != nil {
		t.Fatal(err)
	}
	roundTrips()
	raw, err := delivery("fp1")
	if err != nil {
		t.Fatal(err)
	}
	if n := roundTrips(); n != 2 {
		t.Errorf("intake transaction: %d round trips, want 2", n)
	}
	if countRaw(t, s, raw) != 1 {
		t.Error("raw payload sent with the first statement was not committed")
	}
	var alerts, events int
	if err := s.DB.W.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM alerts WHERE fingerprint = 'fp1'), (SELECT count(*) FROM events_pending) + (SELECT count(*) FROM events)`).Scan(&alerts, &events); err != nil {
		t.Fatal(err)
	}
	if alerts != 1 || events != 2 {
		t.Errorf("stored %d alerts and %d events, want 1 and 2", alerts, events)
	}

	t.Run("nothing sent for an empty transaction", func(t *testing.T) {
		roundTrips()
		if _, err := s.InTx(ctx, func(*Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if n := roundTrips(); n != 0 {
			t.Errorf("%d round trips, want 0", n)
		}
	})

	t.Run("a write failing with COMMIT loses the whole transaction", func(t *testing.T) {
		var rawID string
		_, err := s.InTx(ctx, func(tx *Tx) error {
			var err error
			if rawID, err = tx.InsertRawPayload(ctx, org.ID, "", "alertmanager", "application/json", []byte(`{}`), 1, now); err != nil {
				return err
			}
			a := &Alert{OrgID: org.ID, Source: "alertmanager", Fingerprint: "fp1", Status: "firing", Severity: "warning", Title: "again",
				StartsAt: now, FirstReceivedAt: now, LastReceivedAt: now, ReceivedCount: 1}
			tx.QueueAlert(a) // a second open episode of fp1: unique violation
			return nil
		})
		if !IsUniqueViolation(err) {
			t.Fatalf("got %v, want a unique violation", err)
		}
		if countRaw(t, s, rawID) != 0 {
			t.Error("a statement of the failed transaction was committed")
		}
		// The connection is clean for the next transaction.
		if _, err := delivery("fp2"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a panicking transaction gives its connection back", func(t *testing.T) {
		var rawID string
		func() {
			defer func() { _ = recover() }()
			_, _ = s.InTx(ctx, func(tx *Tx) error {
				var err error
				if rawID, err = tx.InsertRawPayload(ctx, org.ID, "", "alertmanager", "application/json", []byte(`{}`), 1, now); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		// The pool has one connection: this waits for it.
		if countRaw(t, s, rawID) != 0 {
			t.Error("the panicking transaction's insert was committed")
		}
	})

	t.Run("a failed transaction rolls back", func(t *testing.T) {
		var rawID string
		boom := errors.New("boom")
		_, err := s.InTx(ctx, func(tx *Tx) error {
			var err error
			rawID, err = tx.InsertRawPayload(ctx, org.ID, "", "alertmanager", "application/json", []byte(`{}`), 1, now)
			if err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v", err)
		}
		if countRaw(t, s, rawID) != 0 {
			t.Error("the statement sent with BEGIN was committed by itself")
		}
	})
}

// The writer connection sends BEGIN with a transaction's first statement,
// and refuses a statement of a transaction that ended underneath
// database/sql rather than running it on its own.
func TestWriterConnTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openPipelined(t)
	org, err := s.EnsureDefaultOrg(ctx)
	if err != nil {
		t.Fatal(err)
	}
	insert := `INSERT INTO raw_payloads (id, org_id, source, content_type, body, alert_count, received_at) VALUES ($1, $2, 'generic', 'application/json', '\x7b7d', 1, 0)`
	for _, first := range []string{"exec", "query"} {
		id := NewID()
		tx, err := s.DB.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if first == "query" {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tx.ExecContext(ctx, insert, id, org.ID); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if countRaw(t, s, id) != 0 {
			t.Errorf("%s first: the insert ran outside the transaction", first)
		}
	}

	conn, err := s.DB.W.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	if err := conn.Raw(func(dc any) error {
		_, err := dc.(*writerConn).Conn.Conn().Exec(ctx, "commit")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	id := NewID()
	if _, err := tx.ExecContext(ctx, insert, id, org.ID); !errors.Is(err, errTxEnded) {
		t.Errorf("statement after the transaction ended: %v, want errTxEnded", err)
	}
	if err := tx.Commit(); err != nil {
		t.Errorf("commit of the ended transaction: %v", err)
	}
	conn.Close() // the pool's only connection
	if countRaw(t, s, id) != 0 {
		t.Error("a statement ran after its transaction ended")
	}
}

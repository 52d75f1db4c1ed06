package storage_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
)

// TestSQLiteWriterSettings checks the writer connection's settings that
// intake throughput depends on (docs/benchmarks.md).
func TestSQLiteWriterSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.Options{SQLitePath: filepath.Join(t.TempDir(), "a.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "1", "wal_autocheckpoint": "65536", "journal_size_limit": "67108864", "foreign_keys": "1"} {
		var got string
		if err := db.W.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

// On SQLite the writer is one connection, held by each intake transaction
// from its first statement to its commit. The reads every request makes
// before it writes (the webhook's token look-up) and the live-event polls
// must not queue behind it: they read the reader pool, which sees every
// commit.
func TestSQLiteReadsDoNotWaitForTheWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, storage.Options{SQLitePath: filepath.Join(t.TempDir(), "a.db")})
	org, err := s.EnsureDefaultOrg(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPIToken(ctx, org.ID, "ci", "editor", "api-hash"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateIntegration(ctx, storage.Integration{OrgID: org.ID, Source: "generic", Name: "ci"}, "integration-hash"); err != nil {
		t.Fatal(err)
	}

	inside, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := s.InTx(ctx, func(tx *storage.Tx) error {
			if err := tx.InsertEvent(ctx, org.ID, "alert.received", map[string]string{"id": "a1"}); err != nil {
				return err
			}
			if err := tx.FlushPending(ctx); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
		done <- err
	}()
	<-inside

	// A deadline instead of a hang if a read queues for the writer.
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := s.APITokenByHash(rctx, "api-hash"); err != nil {
		t.Errorf("API token look-up while a write transaction is open: %v", err)
	}
	if _, err := s.IntegrationByTokenHash(rctx, "integration-hash"); err != nil {
		t.Errorf("integration token look-up while a write transaction is open: %v", err)
	}
	if evs, err := s.EventsAfter(rctx, org.ID, 0, 10); err != nil || len(evs) != 0 {
		t.Errorf("events while a write transaction is open: %d, %v (want none: it has not committed)", len(evs), err)
	}
	if _, err := s.LastEventID(rctx, org.ID); err != nil {
		t.Errorf("last event id while a write transaction is open: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if evs, err := s.EventsAfter(ctx, org.ID, 0, 10); err != nil || len(evs) != 1 {
		t.Fatalf("events after the commit: %d, %v, want 1", len(evs), err)
	}
}

package storage_test

import (
	"context"
	"path/filepath"
	"testing"

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

package storage_test

import (
	"path/filepath"
	"testing"

	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/kbtest"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestKBStoreConformance runs the kb.Store conformance suite on the
// embedded store over both databases.
func TestKBStoreConformance(t *testing.T) {
	t.Parallel()
	open := func(t *testing.T, o storage.Options) kb.Store { return storage.NewKBStore(openStore(t, o).DB) }
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		kbtest.RunStore(t, func(t *testing.T) kb.Store {
			return open(t, storage.Options{SQLitePath: filepath.Join(t.TempDir(), "kb.db")})
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := testenv.Postgres(t)
		kbtest.RunStore(t, func(t *testing.T) kb.Store {
			return open(t, storage.Options{PostgresURL: url, PoolMax: 4})
		})
	})
}

// Package storagetest opens migrated stores for other packages' tests.
package storagetest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/aurora-oss/aurora/internal/storage"
)

// SQLite opens a migrated SQLite store in a temporary directory, closed
// when the test ends, with the default org created.
func SQLite(t testing.TB) (*storage.Store, storage.Org) {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.Options{SQLitePath: filepath.Join(t.TempDir(), "aurora.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	store := storage.NewStore(db)
	org, err := store.EnsureDefaultOrg(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return store, org
}

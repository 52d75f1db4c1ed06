package kbeval

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/storage"
)

// Stores makes the stores an evaluation indexes into: the embedded store
// of the default configuration (SQLite files in a directory, or a
// PostgreSQL database), so that the figures are those of the production
// lexical search (FTS5 bm25 with the Porter stemmer, or PostgreSQL's
// English full text) and exact cosine search. Close closes them all.
type Stores struct {
	mu     sync.Mutex
	opts   func(n int) storage.Options
	n      int
	opened []*storage.DB
}

// SQLiteStores opens each store on a new SQLite file in dir.
func SQLiteStores(dir string) *Stores {
	return &Stores{opts: func(n int) storage.Options {
		return storage.Options{SQLitePath: filepath.Join(dir, fmt.Sprintf("kb-eval-%d.db", n))}
	}}
}

// PostgresStores opens each store on the database at url. Each Reset
// drops every vector in it: never point it at a database in use.
func PostgresStores(url string) *Stores {
	return &Stores{opts: func(int) storage.Options { return storage.Options{PostgresURL: url, PoolMax: 4} }}
}

// New opens and migrates the next store.
func (s *Stores) New(ctx context.Context) (kb.Store, error) {
	s.mu.Lock()
	s.n++
	o := s.opts(s.n)
	s.mu.Unlock()
	db, err := storage.Open(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("open eval store: %w", err)
	}
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate eval store: %w", err)
	}
	s.mu.Lock()
	s.opened = append(s.opened, db)
	s.mu.Unlock()
	return storage.NewKBStore(db), nil
}

// Close closes every store opened.
func (s *Stores) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, db := range s.opened {
		db.Close()
	}
	s.opened = nil
}

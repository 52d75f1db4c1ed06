package kb_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/aurora-oss/aurora/internal/kb/embed"
	"github.com/aurora-oss/aurora/internal/kb/kbtest"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// BenchmarkEmbeddedStore measures the embedded store with the default
// (built-in) embedder at 10k and 100k passages, on SQLite and PostgreSQL:
// ingestion in chunks/s (parsing, chunking, embedding and the atomic
// replace, 10 passages per document) and search latency p50/p99 for
// lexical, vector and hybrid retrieval (kbtest.Bench). Run one size at a
// time with -benchtime 1x, e.g.
//
//	go test ./internal/kb -run '^$' -bench 'EmbeddedStore/sqlite/10k' -benchtime 1x -v
//
// Figures are in docs/benchmarks.md.
func BenchmarkEmbeddedStore(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, n := range []int{10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/%dk", db, n/1000), func(b *testing.B) {
				ctx := context.Background()
				o := storage.Options{SQLitePath: filepath.Join(b.TempDir(), "kb.db")}
				if db == "postgres" {
					o = storage.Options{PostgresURL: testenv.Postgres(b), PoolMax: 4}
				}
				st, err := storage.Open(ctx, o)
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				if err := st.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
					b.Fatal(err)
				}
				kbs := storage.NewKBStore(st)
				e, err := embed.New(embed.Config{})
				if err != nil {
					b.Fatal(err)
				}
				c, err := kbtest.NewBenchCorpus("../../testdata/kb/docs")
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if err := kbs.Reset(ctx, e.Name(), e.Dimensions()); err != nil {
						b.Fatal(err)
					}
					kbtest.Bench(b, kbs, e, c, n, 200)
				}
			})
		}
	}
}

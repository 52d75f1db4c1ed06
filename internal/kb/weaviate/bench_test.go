package weaviate

import (
	"context"
	"fmt"
	"testing"

	"github.com/aurora-oss/aurora/internal/kb/embed"
	"github.com/aurora-oss/aurora/internal/kb/kbtest"
)

// BenchmarkStore measures ingestion and search latency on Weaviate at
// 10k and 100k passages with the default (built-in) embedder, the same
// corpus and queries as the embedded store's benchmark (kbtest.Bench):
//
//	go test ./internal/kb/weaviate -run '^$' -bench 'Store/10k' -benchtime 1x -v
//
// It reports chunks/s through kb.Index (10 passages per document) and
// p50/p99 of lexical, vector and hybrid search (limit 10, 200 searches per
// mode).
func BenchmarkStore(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			s := newStore(b, fmt.Sprintf("AuroraBench%dk", n/1000))
			e, err := embed.New(embed.Config{})
			if err != nil {
				b.Fatal(err)
			}
			c, err := kbtest.NewBenchCorpus("../../../testdata/kb/docs")
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := s.Reset(context.Background(), e.Name(), e.Dimensions()); err != nil {
					b.Fatal(err)
				}
				kbtest.Bench(b, s, e, c, n, 200)
			}
		})
	}
}

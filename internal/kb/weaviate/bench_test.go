package weaviate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/embed"
)

// BenchmarkSearch10k measures ingestion and search latency on Weaviate at
// 10,000 chunks of runbook-like text embedded by the built-in embedder:
//
//	go test -run '^$' -bench Search10k -benchtime 1x ./internal/kb/weaviate/
//
// It reports chunks/s for ReplaceDocument (50 chunks per document) and
// p50/p99 of lexical, vector and hybrid search (limit 10, 200 queries).
func BenchmarkSearch10k(b *testing.B) {
	for b.Loop() {
		benchSearch(b, 10000)
	}
}

func benchSearch(b *testing.B, n int) {
	s := newStore(b, "AuroraBench")
	ctx := context.Background()
	e, err := embed.NewBuiltin()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Reset(ctx, e.Name(), e.Dimensions()); err != nil {
		b.Fatal(err)
	}
	// Sentences of the eval set, recombined: realistic words and lengths.
	files, _ := filepath.Glob("../../../testdata/kb/docs/*.md")
	var sentences []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				sentences = append(sentences, l)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	org := "org-bench"
	const perDoc = 50
	start := time.Now()
	for d := 0; d < n/perDoc; d++ {
		chunks := make([]kb.Chunk, perDoc)
		texts := make([]string, perDoc)
		for i := range chunks {
			var sb strings.Builder
			for range 6 {
				sb.WriteString(sentences[r.IntN(len(sentences))])
				sb.WriteString(" ")
			}
			texts[i] = sb.String()
			chunks[i] = kb.Chunk{ID: uuid.NewString(), OrgID: org, Kind: kb.KindDocument, DocumentID: fmt.Sprintf("doc-%d", d),
				Title: fmt.Sprintf("Runbook %d", d), HeadingPath: []string{"Section"}, Text: texts[i], End: len(texts[i])}
		}
		vs, err := e.Embed(ctx, texts)
		if err != nil {
			b.Fatal(err)
		}
		for i := range chunks {
			chunks[i].Vector = vs[i]
		}
		if err := s.ReplaceDocument(ctx, org, kb.KindDocument, chunks[0].DocumentID, chunks); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "chunks/s")
	queries := []string{"database connection pool exhausted", "pods evicted disk pressure", "certificate expired", "kafka consumer lag", "dns lookup timeouts", "memory leak heap profile", "rollback a release", "rate limited 429"}
	sr := kb.Searcher{Store: s, Embedder: e}
	for _, mode := range []string{kb.ModeLexical, kb.ModeVector, kb.ModeHybrid} {
		var ds []time.Duration
		for i := range 200 {
			t0 := time.Now()
			hits, err := sr.Search(ctx, kb.Query{OrgID: org, Text: queries[i%len(queries)], Limit: 10}, mode)
			if err != nil {
				b.Fatal(err)
			}
			if len(hits) == 0 {
				b.Fatalf("%s: no hits", mode)
			}
			ds = append(ds, time.Since(t0))
		}
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, mode+"-p50-ms")
		b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, mode+"-p99-ms")
	}
}

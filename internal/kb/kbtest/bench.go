package kbtest

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

	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/parse"
)

// BenchQueries are the searches the store benchmarks time: what an
// on-call engineer or the investigator asks, in the words of the
// labelled set's runbooks.
var BenchQueries = []string{
	"database connection pool exhausted", "pods evicted disk pressure", "certificate expired",
	"kafka consumer lag", "dns lookup timeouts", "memory leak heap profile", "rollback a release",
	"rate limited 429", "KubePodCrashLooping checkout pod restarting", "node not ready kubelet",
	"redis evicting keys maxmemory", "502 bad gateway from the ingress",
}

// BenchCorpus makes runbook-like Markdown documents for the store
// benchmarks: the sentences of the labelled set (testdata/kb/docs),
// recombined at random, so the words, their frequencies and the passage
// lengths are those of real runbooks while the corpus grows to any size.
// A tiny synthetic vocabulary would make every passage match every query
// and measure a worst case real text does not hit.
type BenchCorpus struct {
	sentences []string
	rng       *rand.Rand
}

// NewBenchCorpus reads the sentences of dir/*.md (seeded: the same
// documents every run).
func NewBenchCorpus(dir string) (*BenchCorpus, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return nil, err
	}
	c := &BenchCorpus{rng: rand.New(rand.NewPCG(1, 2))}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				c.sentences = append(c.sentences, l)
			}
		}
	}
	if len(c.sentences) == 0 {
		return nil, fmt.Errorf("no sentences in %s", dir)
	}
	return c, nil
}

// Doc is document d: a title and 10 sections of about 1,200 bytes, one
// passage each at the default chunk size.
func (c *BenchCorpus) Doc(d int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Runbook %d\n\n", d)
	for s := range 10 {
		first := strings.Fields(c.sentences[c.rng.IntN(len(c.sentences))])
		fmt.Fprintf(&b, "## %s %d\n\n", strings.Join(first[:min(3, len(first))], " "), s)
		start := b.Len()
		for b.Len()-start < 1200 {
			b.WriteString(c.sentences[c.rng.IntN(len(c.sentences))])
			b.WriteString(" ")
		}
		b.WriteString("\n\n")
	}
	return b.String()
}

// Bench ingests n passages into st through kb.Index (parsing, chunking,
// embedding with e, the atomic replace; 10 passages per document) and
// reports chunks/s, then times queries searches per retrieval mode
// (limit 10) and reports their p50 and p99 in ms. st must be empty and
// reset to e's space.
func Bench(b *testing.B, st kb.Store, e kb.Embedder, c *BenchCorpus, n, queries int) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	chunks := 0
	for d := 0; chunks < n; d++ {
		doc, err := parse.Parse(parse.Markdown, []byte(c.Doc(d)))
		if err != nil {
			b.Fatal(err)
		}
		src := kb.Source{OrgID: "org-bench", Kind: kb.KindDocument, DocumentID: fmt.Sprintf("doc-%d", d), Title: doc.Title}
		k, err := kb.Index(ctx, st, e, src, doc, kb.DefaultChunkSize, kb.DefaultChunkOverlap)
		if err != nil {
			b.Fatal(err)
		}
		chunks += k
		if d > 0 && d%1000 == 0 {
			b.Logf("%d passages in %s", chunks, time.Since(start).Round(time.Second))
		}
	}
	ingest := time.Since(start)
	b.ReportMetric(float64(chunks)/ingest.Seconds(), "chunks/s")
	b.Logf("ingested %d passages in %s (%.0f/s)", chunks, ingest.Round(time.Millisecond), float64(chunks)/ingest.Seconds())
	sr := kb.Searcher{Store: st, Embedder: e}
	for _, mode := range []string{kb.ModeLexical, kb.ModeVector, kb.ModeHybrid} {
		lat := make([]time.Duration, 0, queries)
		for i := range queries {
			t0 := time.Now()
			hits, err := sr.Search(ctx, kb.Query{OrgID: "org-bench", Text: BenchQueries[i%len(BenchQueries)], Limit: 10}, mode)
			if err != nil {
				b.Fatal(err)
			}
			if len(hits) == 0 {
				b.Fatalf("%s search %q: no hits", mode, BenchQueries[i%len(BenchQueries)])
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		p50, p99 := lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
		b.ReportMetric(float64(p50.Microseconds())/1000, mode+"-p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, mode+"-p99-ms")
		b.Logf("%s: p50 %s p99 %s over %d searches", mode, p50.Round(time.Microsecond), p99.Round(time.Microsecond), queries)
	}
}

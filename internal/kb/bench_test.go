package kb_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/embed"
	"github.com/aurora-oss/aurora/internal/kb/parse"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// BenchmarkEmbeddedStore measures the embedded store with the default
// (built-in) embedder: ingestion in chunks/s (chunking, embedding and the
// atomic replace, 10 chunks per document) and search latency p50/p99 for
// lexical, vector and hybrid retrieval at 10k and 100k chunks, on SQLite
// and (10k) PostgreSQL. Run with -benchtime 1x; figures are in
// docs/benchmarks.md.
func BenchmarkEmbeddedStore(b *testing.B) {
	for _, tc := range []struct {
		db string
		n  int
	}{{"sqlite", 10_000}, {"sqlite", 100_000}, {"postgres", 10_000}} {
		b.Run(fmt.Sprintf("%s/%dk", tc.db, tc.n/1000), func(b *testing.B) {
			ctx := context.Background()
			o := storage.Options{SQLitePath: filepath.Join(b.TempDir(), "kb.db")}
			if tc.db == "postgres" {
				o = storage.Options{PostgresURL: testenv.Postgres(b), PoolMax: 4}
			}
			db, err := storage.Open(ctx, o)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
				b.Fatal(err)
			}
			st := storage.NewKBStore(db)
			e, err := embed.New(embed.Config{})
			if err != nil {
				b.Fatal(err)
			}
			if err := st.Reset(ctx, e.Name(), e.Dimensions()); err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(7, 9))
			for b.Loop() {
				start := time.Now()
				chunks := 0
				for d := 0; chunks < tc.n; d++ {
					doc, _ := parse.Parse(parse.Markdown, []byte(synthDoc(rng, d)))
					n, err := kb.Index(ctx, st, e, kb.Source{OrgID: "org", Kind: kb.KindDocument, DocumentID: fmt.Sprint(d), Title: fmt.Sprintf("Runbook %d", d)}, doc, 1500, 200)
					if err != nil {
						b.Fatal(err)
					}
					chunks += n
				}
				ingest := time.Since(start)
				b.ReportMetric(float64(chunks)/ingest.Seconds(), "chunks/s")
				s := kb.Searcher{Store: st, Embedder: e}
				for _, mode := range []string{kb.ModeLexical, kb.ModeVector, kb.ModeHybrid} {
					var lat []time.Duration
					for q := range 100 {
						text := synthQuery(rng, q)
						t0 := time.Now()
						if _, err := s.Search(ctx, kb.Query{OrgID: "org", Text: text, Limit: 10}, mode); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t0))
					}
					sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
					b.ReportMetric(float64(lat[49].Microseconds())/1000, mode+"-p50-ms")
					b.ReportMetric(float64(lat[98].Microseconds())/1000, mode+"-p99-ms")
				}
			}
		})
	}
}

var benchWords = strings.Fields(`pod node deployment restart crash loop backoff memory oom killed cpu throttling disk pressure
eviction network dns timeout connection refused database postgres replica failover lag kafka consumer
producer queue backlog redis cache miss latency error rate http 500 502 503 gateway ingress certificate
expired tls rollout rollback canary feature flag config map secret volume mount permission denied
scale replicas autoscaler quota limit request payment checkout orders billing search auth login token
session worker cron job schedule backup restore snapshot region zone outage alert page oncall escalate`)

// synthDoc is a Markdown runbook of 10 sections of ~1,200 bytes: one
// chunk each at the default size.
func synthDoc(rng *rand.Rand, d int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Runbook %d\n\n", d)
	for s := range 10 {
		fmt.Fprintf(&b, "## %s %s %d\n\n", benchWords[rng.IntN(len(benchWords))], benchWords[rng.IntN(len(benchWords))], s)
		for b.Len() < (s+1)*1200 {
			b.WriteString(benchWords[rng.IntN(len(benchWords))])
			b.WriteString(" ")
		}
		b.WriteString("\n\n")
	}
	return b.String()
}

func synthQuery(rng *rand.Rand, _ int) string {
	var w []string
	for range 3 + rng.IntN(4) {
		w = append(w, benchWords[rng.IntN(len(benchWords))])
	}
	return strings.Join(w, " ")
}

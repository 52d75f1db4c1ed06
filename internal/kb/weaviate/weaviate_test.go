package weaviate

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/kbtest"
)

func TestConformance(t *testing.T) {
	kbtest.RunStore(t, func(t *testing.T) kb.Store { return newStore(t, "AuroraConf") })
}

func TestSpaceEmptyAndBad(t *testing.T) {
	// A prefix of its own per run: the server outlives -count runs.
	s := newStore(t, "AuroraSpace"+strconv.FormatInt(time.Now().UnixNano(), 36))
	ctx := context.Background()
	// Never reset under this prefix: no collections, no space.
	name, dims, err := s.Space(ctx)
	if err != nil || name != "" || dims != 0 {
		t.Fatalf("Space of an empty server = %q %d %v", name, dims, err)
	}
	if err := s.ReplaceDocument(ctx, "org", kb.KindDocument, "d", []kb.Chunk{{ID: "c", Vector: []float32{1}}}); err == nil {
		t.Fatal("a write before Reset was accepted")
	}
	for _, tc := range []struct {
		name string
		dims int
	}{{"", 4}, {"x", 0}, {"a\nb", 4}} {
		if err := s.Reset(ctx, tc.name, tc.dims); err == nil {
			t.Errorf("Reset(%q, %d) accepted", tc.name, tc.dims)
		}
	}
	if err := s.Reset(ctx, "kbtest/x", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceDocument(ctx, "org", "runbook", "d", nil); err == nil || !strings.Contains(err.Error(), "kind") {
		t.Fatalf("unknown kind: %v", err)
	}
	if _, err := s.SearchVector(ctx, kb.Query{OrgID: "org", Kind: "runbook", Vector: []float32{1, 0}}); err == nil {
		t.Fatal("search of an unknown kind accepted")
	}
}

func TestParseSpace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		name string
		dims int
		ok   bool
	}{
		{"aurora kb vector space: 256 builtin/glove-sif-bag156-256d", "builtin/glove-sif-bag156-256d", 256, true},
		{"aurora kb vector space: 4 a b", "a b", 4, true},
		{"aurora kb vector space: x y", "", 0, false},
		{"aurora kb vector space: 0 y", "", 0, false},
		{"someone else's collection", "", 0, false},
	} {
		name, dims, err := parseSpace(tc.in)
		if (err == nil) != tc.ok || name != tc.name || dims != tc.dims {
			t.Errorf("parseSpace(%q) = %q %d %v", tc.in, name, dims, err)
		}
	}
}

// TestHybrid runs the production hybrid search (kb.Searcher: Weaviate
// BM25 and HNSW, fused by kb.DefaultFusion) on the labelled set's documents.
func TestHybrid(t *testing.T) {
	s := newStore(t, "AuroraHybrid")
	ctx := context.Background()
	e := kb.NewHashEmbedder(64)
	if err := s.Reset(ctx, e.Name(), e.Dimensions()); err != nil {
		t.Fatal(err)
	}
	org := "org-hybrid"
	docs := map[string]string{
		"pg":    "Postgres connection pool exhausted: too many clients already. Raise max_connections or add PgBouncer.",
		"redis": "Redis maxmemory reached; keys are evicted by the allkeys-lru policy.",
		"oom":   "Pods OOMKilled with exit code 137: raise the memory limit.",
	}
	for id, text := range docs {
		c := kb.Chunk{ID: id + "-0", OrgID: org, Kind: kb.KindDocument, DocumentID: id, Title: id, HeadingPath: []string{"Runbook"}, Text: text, End: len(text)}
		vs, err := e.Embed(ctx, []string{kb.EmbedText(c.Title, c.HeadingPath, c.Text)})
		if err != nil {
			t.Fatal(err)
		}
		c.Vector = vs[0]
		if err := s.ReplaceDocument(ctx, org, kb.KindDocument, id, []kb.Chunk{c}); err != nil {
			t.Fatal(err)
		}
	}
	sr := kb.Searcher{Store: s, Embedder: e}
	for q, want := range map[string]string{
		"too many clients postgres": "pg",
		"evicted keys maxmemory":    "redis",
		"exit code 137":             "oom",
	} {
		hits, err := sr.Search(ctx, kb.Query{OrgID: org, Text: q, Limit: 3}, kb.ModeHybrid)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Chunk.DocumentID != want {
			t.Errorf("hybrid %q: first hit %v, want %s", q, hits, want)
		}
	}
}

// The space comes from a collection description anyone with access to the
// server can edit: parsing it must never panic, and what it accepts must
// print back the same.
func FuzzParseSpace(f *testing.F) {
	f.Add("aurora kb vector space: 256 builtin/glove-sif-bag156-256d")
	f.Add("aurora kb vector space: -1 x")
	f.Add("aurora kb vector space: ")
	f.Fuzz(func(t *testing.T, desc string) {
		name, dims, err := parseSpace(desc)
		if err != nil {
			return
		}
		if dims <= 0 || name == "" {
			t.Fatalf("accepted %q as %q/%d", desc, name, dims)
		}
		n2, d2, err := parseSpace(spacePrefix + strconv.Itoa(dims) + " " + name)
		if err != nil || n2 != name || d2 != dims {
			t.Fatalf("round trip of %q/%d: %q/%d %v", name, dims, n2, d2, err)
		}
	})
}

// Package kbtest is the conformance suite every kb.Store implementation
// runs: the embedded store on SQLite and PostgreSQL, and Weaviate. A store
// that passes it can back the knowledge base.
package kbtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/aurora-oss/aurora/internal/kb"
)

// Dims is the vector length the suite uses.
const Dims = 4

// Space is the embedder name the suite resets the store to.
const Space = "kbtest/unit-4d"

// RunStore runs the conformance suite. newStore returns a store for one
// subtest; stores may be shared between subtests (each subtest uses its own
// random org ids) but RunStore resets the space at the start of each one,
// so a shared store must tolerate Reset being called concurrently with
// other subtests' reads only if it sets t.Parallel itself — the suite does
// not run subtests in parallel.
func RunStore(t *testing.T, newStore func(t *testing.T) kb.Store) {
	t.Helper()
	setup := func(t *testing.T) (kb.Store, context.Context) {
		t.Helper()
		s := newStore(t)
		ctx := context.Background()
		if err := s.Reset(ctx, Space, Dims); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		return s, ctx
	}

	t.Run("Space", func(t *testing.T) {
		s, ctx := setup(t)
		name, dims, err := s.Space(ctx)
		if err != nil || name != Space || dims != Dims {
			t.Fatalf("Space after Reset = %q %d %v, want %q %d", name, dims, err, Space, Dims)
		}
		org := newOrg()
		mustReplace(t, s, org, kb.KindDocument, "d1", []kb.Chunk{chunk(org, "d1", 0, "alpha", vec(1, 0, 0, 0))})
		if err := s.Reset(ctx, "kbtest/other-3d", 3); err != nil {
			t.Fatalf("Reset to another space: %v", err)
		}
		name, dims, err = s.Space(ctx)
		if err != nil || name != "kbtest/other-3d" || dims != 3 {
			t.Fatalf("Space after second Reset = %q %d %v", name, dims, err)
		}
		hits, err := s.SearchLexical(ctx, kb.Query{OrgID: org, Text: "alpha", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 0 {
			t.Fatalf("Reset must drop every chunk; lexical search still finds %d", len(hits))
		}
	})

	t.Run("WrongDimensionsRejected", func(t *testing.T) {
		s, ctx := setup(t)
		org := newOrg()
		err := s.ReplaceDocument(ctx, org, kb.KindDocument, "d1", []kb.Chunk{chunk(org, "d1", 0, "alpha", []float32{1, 0, 0})})
		if err == nil {
			t.Fatal("a 3-dimensional vector in a 4-dimensional space was accepted")
		}
		hits, err := s.SearchLexical(ctx, kb.Query{OrgID: org, Text: "alpha", Limit: 10})
		if err != nil || len(hits) != 0 {
			t.Fatalf("rejected write left chunks behind: %d %v", len(hits), err)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s, ctx := setup(t)
		org := newOrg()
		want := kb.Chunk{
			ID: uuid.NewString(), OrgID: org, Kind: kb.KindDocument, DocumentID: "doc-1",
			Title: "Payments runbook", HeadingPath: []string{"Payments", "High latency"},
			Text: "Restart the payments worker when the queue backs up.", Start: 120, End: 173,
			Tags: []string{"payments", "tier-1"}, SourceURL: "https://wiki.example.com/payments",
			Vector: vec(0, 1, 0, 0),
		}
		mustReplace(t, s, org, kb.KindDocument, "doc-1", []kb.Chunk{want})
		for _, search := range searches(s) {
			hits, err := search.fn(ctx, kb.Query{OrgID: org, Text: "payments worker", Vector: vec(0, 1, 0, 0), Limit: 5})
			if err != nil {
				t.Fatalf("%s: %v", search.name, err)
			}
			if len(hits) != 1 {
				t.Fatalf("%s: %d hits, want 1", search.name, len(hits))
			}
			got := hits[0].Chunk
			if got.ID != want.ID || got.OrgID != org || got.Kind != want.Kind || got.DocumentID != want.DocumentID ||
				got.Title != want.Title || !slices.Equal(got.HeadingPath, want.HeadingPath) || got.Text != want.Text ||
				got.Start != want.Start || got.End != want.End || !sameSet(got.Tags, want.Tags) || got.SourceURL != want.SourceURL {
				t.Fatalf("%s: chunk did not round-trip:\n got %+v\nwant %+v", search.name, got, want)
			}
		}
	})

	t.Run("VectorRanking", func(t *testing.T) {
		s, ctx := setup(t)
		org := newOrg()
		mustReplace(t, s, org, kb.KindDocument, "d1", []kb.Chunk{
			chunk(org, "d1", 0, "one", vec(1, 0, 0, 0)),
			chunk(org, "d1", 1, "two", vec(0.9, 0.1, 0, 0)),
			chunk(org, "d1", 2, "three", vec(0, 0, 1, 0)),
			chunk(org, "d1", 3, "four", vec(-1, 0, 0, 0)),
		})
		hits, err := s.SearchVector(ctx, kb.Query{OrgID: org, Vector: vec(1, 0, 0, 0), Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if got := texts(hits); !slices.Equal(got, []string{"one", "two", "three"}) {
			t.Fatalf("vector ranking = %v, want [one two three] (limit 3, nearest first)", got)
		}
		for i := 1; i < len(hits); i++ {
			if hits[i].Score > hits[i-1].Score {
				t.Fatalf("scores not descending: %v", scores(hits))
			}
		}
		// A vector that is not unit length ranks the same: cosine, not dot.
		hits, err = s.SearchVector(ctx, kb.Query{OrgID: org, Vector: vec(10, 0, 0, 0), Limit: 1})
		if err != nil || len(hits) != 1 || hits[0].Chunk.Text != "one" {
			t.Fatalf("scaled query: %v %v", texts(hits), err)
		}
	})

	t.Run("LexicalRanking", func(t *testing.T) {
		s, ctx := setup(t)
		org := newOrg()
		mustReplace(t, s, org, kb.KindDocument, "d1", []kb.Chunk{
			chunk(org, "d1", 0, "The database connection pool is exhausted; raise max connections.", vec(1, 0, 0, 0)),
			chunk(org, "d1", 1, "Disk pressure on the node evicts pods.", vec(0, 1, 0, 0)),
			chunk(org, "d1", 2, "Connection refused from the database: check the pool and the database firewall.", vec(0, 0, 1, 0)),
		})
		hits, err := s.SearchLexical(ctx, kb.Query{OrgID: org, Text: "database pool", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		got := texts(hits)
		if len(got) != 2 || slices.Contains(got, "Disk pressure on the node evicts pods.") {
			t.Fatalf("lexical hits = %q, want the two database chunks only", got)
		}
		hits, err = s.SearchLexical(ctx, kb.Query{OrgID: org, Text: "eviction disk", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Chunk.Text != "Disk pressure on the node evicts pods." {
			t.Fatalf("lexical 'eviction disk' = %q, want the disk chunk first (any query word matches)", texts(hits))
		}
		hits, err = s.SearchLexical(ctx, kb.Query{OrgID: org, Text: "kafka", Limit: 10})
		if err != nil || len(hits) != 0 {
			t.Fatalf("absent word matched: %q %v", texts(hits), err)
		}
		// Query syntax of the engine must not leak: quotes, operators and
		// punctuation are just text.
		for _, q := range []string{`"unbalanced`, `database AND OR NOT`, `pool*`, `a:b (c) -d`, `'; DROP TABLE x; --`, `   `, `NEAR(x y)`, `!&|`} {
			if _, err := s.SearchLexical(ctx, kb.Query{OrgID: org, Text: q, Limit: 10}); err != nil {
				t.Fatalf("query %q: %v", q, err)
			}
		}
	})

	t.Run("OrgIsolation", func(t *testing.T) {
		s, ctx := setup(t)
		a, b := newOrg(), newOrg()
		mustReplace(t, s, a, kb.KindDocument, "shared-id", []kb.Chunk{chunk(a, "shared-id", 0, "secret runbook of org a", vec(1, 0, 0, 0))})
		mustReplace(t, s, b, kb.KindDocument, "shared-id", []kb.Chunk{chunk(b, "shared-id", 0, "runbook of org b", vec(1, 0, 0, 0))})
		for _, search := range searches(s) {
			hits, err := search.fn(ctx, kb.Query{OrgID: b, Text: "runbook secret", Vector: vec(1, 0, 0, 0), Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if got := texts(hits); !slices.Equal(got, []string{"runbook of org b"}) {
				t.Fatalf("%s for org b = %q: another org's chunk leaked", search.name, got)
			}
		}
		// Deleting org b's document leaves org a's document of the same id.
		mustReplace(t, s, b, kb.KindDocument, "shared-id", nil)
		hits, err := s.SearchLexical(ctx, kb.Query{OrgID: a, Text: "runbook", Limit: 10})
		if err != nil || len(hits) != 1 {
			t.Fatalf("org a after org b's delete: %q %v", texts(hits), err)
		}
		if _, err := s.SearchLexical(ctx, kb.Query{Text: "runbook", Limit: 10}); err == nil {
			t.Fatal("a query without OrgID was accepted")
		}
	})

	t.Run("Filters", func(t *testing.T) {
		s, ctx := setup(t)
		org := newOrg()
		c1 := chunk(org, "d1", 0, "restart the cache", vec(1, 0, 0, 0))
		c1.Tags = []string{"cache", "tier-1"}
		c2 := chunk(org, "d2", 0, "restart the queue", vec(1, 0, 0, 0))
		c2.Tags = []string{"queue"}
		c3 := chunk(org, "i1", 0, "restart fixed the incident", vec(1, 0, 0, 0))
		c3.Kind = kb.KindIncident
		mustReplace(t, s, org, kb.KindDocument, "d1", []kb.Chunk{c1})
		mustReplace(t, s, org, kb.KindDocument, "d2", []kb.Chunk{c2})
		mustReplace(t, s, org, kb.KindIncident, "i1", []kb.Chunk{c3})
		cases := []struct {
			name string
			q    kb.Query
			want []string
		}{
			{"any kind", kb.Query{}, []string{c1.Text, c2.Text, c3.Text}},
			{"kind document", kb.Query{Kind: kb.KindDocument}, []string{c1.Text, c2.Text}},
			{"kind incident", kb.Query{Kind: kb.KindIncident}, []string{c3.Text}},
			{"document ids", kb.Query{DocumentIDs: []string{"d2", "nope"}}, []string{c2.Text}},
			{"tags any", kb.Query{Tags: []string{"tier-1", "queue"}}, []string{c1.Text, c2.Text}},
			{"tag prefix is not a match", kb.Query{Tags: []string{"tier"}}, nil},
			{"documents and tags both apply", kb.Query{DocumentIDs: []string{"d1", "d2"}, Tags: []string{"queue"}}, []string{c2.Text}},
		}
		for _, tc := range cases {
			for _, search := range searches(s) {
				q := tc.q
				q.OrgID, q.Text, q.Vector, q.Limit = org, "restart", vec(1, 0, 0, 0), 10
				hits, err := search.fn(ctx, q)
				if err != nil {
					t.Fatalf("%s %s: %v", tc.name, search.name, err)
				}
				if got := texts(hits); !sameSet(got, tc.want) {
					t.Errorf("%s %s = %q, want %q", tc.name, search.name, got, tc.want)
				}
			}
		}
	})

	t.Run("ReplaceAndDelete", func(t *testing.T) {
		s, ctx := setup(t)
		org := newOrg()
		mustReplace(t, s, org, kb.KindDocument, "d1", []kb.Chunk{
			chunk(org, "d1", 0, "old first passage", vec(1, 0, 0, 0)),
			chunk(org, "d1", 1, "old second passage", vec(0, 1, 0, 0)),
		})
		mustReplace(t, s, org, kb.KindDocument, "d2", []kb.Chunk{chunk(org, "d2", 0, "other passage", vec(0, 0, 1, 0))})
		mustReplace(t, s, org, kb.KindDocument, "d1", []kb.Chunk{chunk(org, "d1", 0, "new passage", vec(1, 0, 0, 0))})
		for _, search := range searches(s) {
			hits, err := search.fn(ctx, kb.Query{OrgID: org, Text: "passage", Vector: vec(1, 1, 1, 0), Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if got := texts(hits); !sameSet(got, []string{"new passage", "other passage"}) {
				t.Fatalf("%s after replace = %q", search.name, got)
			}
		}
		mustReplace(t, s, org, kb.KindDocument, "d1", nil)
		for _, search := range searches(s) {
			hits, err := search.fn(ctx, kb.Query{OrgID: org, Text: "passage", Vector: vec(1, 1, 1, 0), Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if got := texts(hits); !slices.Equal(got, []string{"other passage"}) {
				t.Fatalf("%s after delete = %q", search.name, got)
			}
		}
		// Same document id under another kind is another thing.
		mustReplace(t, s, org, kb.KindIncident, "d2", nil)
		if hits, _ := s.SearchLexical(ctx, kb.Query{OrgID: org, Text: "passage", Limit: 10}); len(hits) != 1 {
			t.Fatalf("deleting kind incident d2 removed the document d2: %q", texts(hits))
		}
	})

	t.Run("LimitAndEmpty", func(t *testing.T) {
		s, ctx := setup(t)
		org := newOrg()
		var cs []kb.Chunk
		for i := range 25 {
			cs = append(cs, chunk(org, "d1", i, fmt.Sprintf("shared word number %d", i), vec(1, float32(i)/25, 0, 0)))
		}
		mustReplace(t, s, org, kb.KindDocument, "d1", cs)
		for _, search := range searches(s) {
			hits, err := search.fn(ctx, kb.Query{OrgID: org, Text: "shared", Vector: vec(1, 0, 0, 0), Limit: 7})
			if err != nil || len(hits) != 7 {
				t.Fatalf("%s limit 7: %d hits %v", search.name, len(hits), err)
			}
			hits, err = search.fn(ctx, kb.Query{OrgID: newOrg(), Text: "shared", Vector: vec(1, 0, 0, 0), Limit: 7})
			if err != nil || len(hits) != 0 {
				t.Fatalf("%s empty org: %d hits %v", search.name, len(hits), err)
			}
		}
		hits, err := s.SearchLexical(ctx, kb.Query{OrgID: org, Text: "", Limit: 7})
		if err != nil || len(hits) != 0 {
			t.Fatalf("empty lexical query: %d hits %v", len(hits), err)
		}
	})

	t.Run("AtomicReplace", func(t *testing.T) {
		s, ctx := setup(t)
		org := newOrg()
		version := func(v int) []kb.Chunk {
			var cs []kb.Chunk
			for i := range 5 {
				cs = append(cs, chunk(org, "d1", i, fmt.Sprintf("needle version%d part%d", v, i), vec(1, float32(i), 0, 0)))
			}
			return cs
		}
		mustReplace(t, s, org, kb.KindDocument, "d1", version(0))
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := 1; v <= 15; v++ {
				if err := s.ReplaceDocument(ctx, org, kb.KindDocument, "d1", version(v)); err != nil {
					errs <- err
					return
				}
			}
		}()
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 15 {
					for _, search := range searches(s) {
						hits, err := search.fn(ctx, kb.Query{OrgID: org, Text: "needle", Vector: vec(1, 0, 0, 0), Limit: 20})
						if err != nil {
							errs <- err
							return
						}
						seen := map[string]bool{}
						for _, h := range hits {
							seen[strings.Fields(h.Chunk.Text)[1]] = true
						}
						if len(hits) != 5 || len(seen) != 1 {
							errs <- fmt.Errorf("%s saw %d chunks of versions %v: a replace is not atomic", search.name, len(hits), seen)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

type namedSearch struct {
	name string
	fn   func(context.Context, kb.Query) ([]kb.Hit, error)
}

func searches(s kb.Store) []namedSearch {
	return []namedSearch{{"SearchLexical", s.SearchLexical}, {"SearchVector", s.SearchVector}}
}

func mustReplace(t *testing.T, s kb.Store, org, kind, doc string, cs []kb.Chunk) {
	t.Helper()
	if err := s.ReplaceDocument(context.Background(), org, kind, doc, cs); err != nil {
		t.Fatalf("ReplaceDocument %s/%s: %v", kind, doc, err)
	}
}

func newOrg() string { return "org-" + uuid.NewString() }

// chunk builds a document chunk with a fresh UUID (Weaviate wants UUIDs).
func chunk(org, doc string, i int, text string, v []float32) kb.Chunk {
	return kb.Chunk{
		ID: uuid.NewString(), OrgID: org, Kind: kb.KindDocument, DocumentID: doc,
		Title: "Doc " + doc, HeadingPath: []string{"Section"}, Text: text,
		Start: i * 100, End: i*100 + len(text), Vector: v,
	}
}

func vec(x ...float32) []float32 { return x }

func texts(hits []kb.Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Chunk.Text)
	}
	return out
}

func scores(hits []kb.Hit) []float64 {
	var out []float64
	for _, h := range hits {
		out = append(out, h.Score)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

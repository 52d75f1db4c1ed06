package kb_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/parse"
	"github.com/aurora-oss/aurora/internal/storage"
)

func TestFuseRRF(t *testing.T) {
	t.Parallel()
	h := func(id string) kb.Hit { return kb.Hit{Chunk: kb.Chunk{ID: id}} }
	lex := []kb.Hit{h("a"), h("b"), h("c")}
	vec := []kb.Hit{h("c"), h("d"), h("b")}
	got := kb.FuseRRF(3, lex, vec)
	var ids []string
	for _, x := range got {
		ids = append(ids, x.Chunk.ID)
	}
	// b: 1/62+1/63, c: 1/63+1/61 — c ranks first (in both lists, higher
	// ranks), then b, then a (first in one list only).
	if len(ids) != 3 || ids[0] != "c" || ids[1] != "b" || ids[2] != "a" {
		t.Fatalf("fused order %v, want [c b a]", ids)
	}
	if want := 1.0/63 + 1.0/61; got[0].Score != want {
		t.Fatalf("score %v, want %v", got[0].Score, want)
	}
}

// Relative score fusion keeps margins: a passage far ahead in one list
// and absent from the other beats one ranked second in both, which rank
// fusion would put first.
func TestFuseRelative(t *testing.T) {
	t.Parallel()
	h := func(id string, score float64) kb.Hit { return kb.Hit{Chunk: kb.Chunk{ID: id}, Score: score} }
	lex := []kb.Hit{h("a", 10), h("b", 2), h("c", 1)}
	vec := []kb.Hit{h("d", 0.9), h("b", 0.3), h("c", 0.2), h("e", -0.1)}
	got := kb.DefaultFusion.Fuse(10, lex, vec)
	var ids []string
	for _, x := range got {
		ids = append(ids, x.Chunk.ID)
	}
	// a: .5·1 = .5; d: .5·1 = .5 (a first: first seen); b: .5·.2 + .5·(.3/.9) ≈ .267;
	// c: .5·.1 + .5·(.2/.9) ≈ .161; e: negative cosine counts 0.
	if strings.Join(ids, ",") != "a,d,b,c,e" {
		t.Fatalf("fused order %v, want a,d,b,c,e", ids)
	}
	if math.Abs(got[2].Score-(0.1+0.5*0.3/0.9)) > 1e-12 || got[4].Score != 0 {
		t.Fatalf("scores %+v", got)
	}
	rrf := kb.Fusion{Method: kb.FusionRRF, Alpha: 0.5}.Fuse(2, lex, vec)
	if rrf[0].Chunk.ID != "b" || len(rrf) != 2 {
		t.Fatalf("rrf %+v: b, second in both lists, ranks first", rrf)
	}
	// Alpha weighs the vector list: at 1 only it counts.
	if v := (kb.Fusion{Method: kb.FusionRelative, Alpha: 1}).Fuse(1, lex, vec); v[0].Chunk.ID != "d" {
		t.Fatalf("alpha 1: %+v", v)
	}
	if len(kb.DefaultFusion.Fuse(3, nil, nil)) != 0 {
		t.Fatal("fusing nothing gave hits")
	}
}

func newStore(t *testing.T) kb.Store {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.Options{SQLitePath: filepath.Join(t.TempDir(), "kb.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	return storage.NewKBStore(db)
}

func TestSearchModes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	e := kb.NewHashEmbedder(256)
	if err := st.Reset(ctx, e.Name(), e.Dimensions()); err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{
		"pg":    "# Postgres\n## Connections exhausted\nWhen connections are exhausted raise max_connections or add PgBouncer.\n",
		"kafka": "# Kafka\n## Consumer lag\nWhen consumer lag grows scale the consumer group.\n",
		"node":  "# Nodes\n## Disk pressure\nThe kubelet evicts pods when the node disk fills up.\n",
	}
	for id, md := range docs {
		doc, _ := parse.Parse(parse.Markdown, []byte(md))
		n, err := kb.Index(ctx, st, e, kb.Source{OrgID: "o1", Kind: kb.KindDocument, DocumentID: id, Title: id}, doc, 1500, 200)
		if err != nil || n == 0 {
			t.Fatalf("index %s: %d %v", id, n, err)
		}
	}
	s := kb.Searcher{Store: st, Embedder: e}
	for _, mode := range []string{kb.ModeHybrid, kb.ModeLexical, kb.ModeVector} {
		hits, err := s.Search(ctx, kb.Query{OrgID: "o1", Text: "consumer lag growing", Limit: 2}, mode)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Chunk.DocumentID != "kafka" {
			t.Fatalf("%s: top hit %+v, want the kafka passage", mode, hits)
		}
		if hits[0].Chunk.Title != "kafka" || len(hits[0].Chunk.HeadingPath) != 2 {
			t.Fatalf("%s: hit lost title/heading path: %+v", mode, hits[0].Chunk)
		}
	}
	if hits, err := s.Search(ctx, kb.Query{OrgID: "o2", Text: "consumer lag", Limit: 5}, kb.ModeHybrid); err != nil || len(hits) != 0 {
		t.Fatalf("other org sees %d hits (%v)", len(hits), err)
	}
}

package kb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Retrieval modes.
const (
	ModeHybrid  = "hybrid"
	ModeLexical = "lexical"
	ModeVector  = "vector"
)

// RRFK is the reciprocal rank fusion constant: a hit's fused score is the
// sum over the lists it appears in of 1/(RRFK + rank). 60 is the value of
// Cormack et al. (2009); it damps the difference between the first few
// ranks so that a passage ranked well by both searches beats one ranked
// first by only one.
const RRFK = 60

// Fusion methods of hybrid search.
const (
	// FusionRelative weighs each list's scores relative to its best hit
	// (score / best, negative scores as 0) and adds them, the lexical
	// list's times 1−Alpha and the vector list's times Alpha. Unlike rank
	// fusion it keeps how far ahead a hit is: a passage the vector search
	// finds far closer than any other counts even when no word matches.
	FusionRelative = "relative"
	// FusionRRF is reciprocal rank fusion (RRFK), each list's reciprocal
	// ranks weighted like FusionRelative's scores.
	FusionRRF = "rrf"
)

// Fusion says how hybrid search merges the lexical and the vector lists.
type Fusion struct {
	Method string // FusionRelative or FusionRRF
	// Alpha is the vector list's weight in [0, 1]; the lexical list's is
	// 1−Alpha.
	Alpha float64
}

// DefaultFusion is the fusion hybrid search uses when a Searcher sets
// none: relative scores, both lists weighed equally. It was chosen on the
// labelled set in testdata/kb with the choice cross-validated
// (docs/benchmarks.md, "Knowledge base retrieval").
var DefaultFusion = Fusion{Method: FusionRelative, Alpha: 0.5}

func (f Fusion) String() string { return fmt.Sprintf("%s α=%.2g", f.Method, f.Alpha) }

// Searcher runs hybrid retrieval over a store with an embedder.
type Searcher struct {
	Store    Store
	Embedder Embedder
	// Fusion merges the two lists in hybrid mode; the zero value means
	// DefaultFusion.
	Fusion Fusion
}

// Search ranks chunks for q.Text in mode (ModeHybrid when ""). Hybrid runs
// the lexical and the vector search, each for a deeper list than asked
// (3× the limit, at least 30), and fuses them (s.Fusion). Scores of hybrid
// hits are fused scores.
func (s Searcher) Search(ctx context.Context, q Query, mode string) ([]Hit, error) {
	lex, vec, err := s.Lists(ctx, q, mode)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	switch mode {
	case ModeLexical:
		return head(lex, limit), nil
	case ModeVector:
		return head(vec, limit), nil
	}
	f := s.Fusion
	if f.Method == "" {
		f = DefaultFusion
	}
	return f.Fuse(limit, lex, vec), nil
}

// Lists runs the searches mode needs and returns their deep lists
// unfused (the retrieval eval re-fuses them to compare fusions).
func (s Searcher) Lists(ctx context.Context, q Query, mode string) (lex, vec []Hit, err error) {
	if q.OrgID == "" {
		return nil, nil, errors.New("search knowledge base: org id is required")
	}
	if q.Limit <= 0 {
		q.Limit = 10
	}
	deep := q
	deep.Limit = max(3*q.Limit, 30)
	if mode != ModeVector {
		if lex, err = s.Store.SearchLexical(ctx, deep); err != nil {
			return nil, nil, fmt.Errorf("lexical search: %w", err)
		}
	}
	if mode != ModeLexical && s.Embedder != nil && q.Text != "" {
		vs, err := s.Embedder.Embed(ctx, []string{q.Text})
		if err != nil {
			return nil, nil, fmt.Errorf("embed query: %w", err)
		}
		deep.Vector = vs[0]
		if vec, err = s.Store.SearchVector(ctx, deep); err != nil {
			return nil, nil, fmt.Errorf("vector search: %w", err)
		}
	}
	return lex, vec, nil
}

// Fuse merges a lexical and a vector list into at most limit hits.
func (f Fusion) Fuse(limit int, lex, vec []Hit) []Hit {
	w := [2]float64{1 - f.Alpha, f.Alpha}
	if f.Method == FusionRRF {
		return fuse(limit, [][]Hit{lex, vec}, func(list, rank int, _ Hit) float64 {
			return w[list] / float64(RRFK+rank+1)
		})
	}
	best := [2]float64{}
	for i, l := range [][]Hit{lex, vec} {
		for _, h := range l {
			best[i] = math.Max(best[i], h.Score)
		}
	}
	return fuse(limit, [][]Hit{lex, vec}, func(list, _ int, h Hit) float64 {
		if best[list] <= 0 || h.Score <= 0 {
			return 0
		}
		return w[list] * h.Score / best[list]
	})
}

// FuseRRF merges ranked lists by unweighted reciprocal rank fusion, keyed
// by chunk id.
func FuseRRF(limit int, lists ...[]Hit) []Hit {
	return fuse(limit, lists, func(_, rank int, _ Hit) float64 { return 1 / float64(RRFK+rank+1) })
}

// fuse sums score(list, rank, hit) per chunk id over the lists and ranks
// by the sum. Ties keep the order of first appearance (the first list
// first), so the result does not depend on map order.
func fuse(limit int, lists [][]Hit, score func(list, rank int, h Hit) float64) []Hit {
	type acc struct {
		hit   Hit
		score float64
		first int
	}
	byID := map[string]*acc{}
	n := 0
	for li, l := range lists {
		for rank, h := range l {
			a, ok := byID[h.Chunk.ID]
			if !ok {
				a = &acc{hit: h, first: n}
				n++
				byID[h.Chunk.ID] = a
			}
			a.score += score(li, rank, h)
		}
	}
	out := make([]*acc, 0, len(byID))
	for _, a := range byID {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return out[i].first < out[j].first
	})
	hits := make([]Hit, 0, min(limit, len(out)))
	for _, a := range out {
		if len(hits) == limit {
			break
		}
		h := a.hit
		h.Score = a.score
		hits = append(hits, h)
	}
	return hits
}

func head(h []Hit, n int) []Hit {
	if h == nil {
		return []Hit{}
	}
	return h[:min(n, len(h))]
}

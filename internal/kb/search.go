package kb

import (
	"context"
	"errors"
	"fmt"
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

// Searcher runs hybrid retrieval over a store with an embedder.
type Searcher struct {
	Store    Store
	Embedder Embedder
}

// Search ranks chunks for q.Text in mode (ModeHybrid when ""). Hybrid runs
// the lexical and the vector search, each for a deeper list than asked
// (3× the limit, at least 30), and fuses them by reciprocal rank. Scores of
// hybrid hits are RRF scores.
func (s Searcher) Search(ctx context.Context, q Query, mode string) ([]Hit, error) {
	if q.OrgID == "" {
		return nil, errors.New("search knowledge base: org id is required")
	}
	if q.Limit <= 0 {
		q.Limit = 10
	}
	limit := q.Limit
	deep := q
	deep.Limit = max(3*limit, 30)
	var lex, vec []Hit
	var err error
	if mode != ModeVector {
		if lex, err = s.Store.SearchLexical(ctx, deep); err != nil {
			return nil, fmt.Errorf("lexical search: %w", err)
		}
	}
	if mode != ModeLexical && s.Embedder != nil && q.Text != "" {
		vs, err := s.Embedder.Embed(ctx, []string{q.Text})
		if err != nil {
			return nil, fmt.Errorf("embed query: %w", err)
		}
		deep.Vector = vs[0]
		if vec, err = s.Store.SearchVector(ctx, deep); err != nil {
			return nil, fmt.Errorf("vector search: %w", err)
		}
	}
	switch mode {
	case ModeLexical:
		return head(lex, limit), nil
	case ModeVector:
		return head(vec, limit), nil
	}
	return FuseRRF(limit, lex, vec), nil
}

// FuseRRF merges ranked lists by reciprocal rank fusion, keyed by chunk id.
// Ties keep the order of first appearance (the lexical list first).
func FuseRRF(limit int, lists ...[]Hit) []Hit {
	type acc struct {
		hit   Hit
		score float64
		first int
	}
	byID := map[string]*acc{}
	n := 0
	for _, l := range lists {
		for rank, h := range l {
			a, ok := byID[h.Chunk.ID]
			if !ok {
				a = &acc{hit: h, first: n}
				n++
				byID[h.Chunk.ID] = a
			}
			a.score += 1 / float64(RRFK+rank+1)
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

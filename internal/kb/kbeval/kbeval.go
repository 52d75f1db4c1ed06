// Package kbeval measures retrieval quality on a labelled set: Markdown
// runbooks and postmortems plus queries naming the document (and section)
// that answers each. `aurora kb eval` prints its figures; a test keeps the
// default configuration ahead of lexical-only search.
package kbeval

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/parse"
)

// Query is one labelled question.
type Query struct {
	Query string `json:"query"`
	// Document is the file name of the document that answers it.
	Document string `json:"document"`
	// Heading is the last heading above the answering passage.
	Heading string `json:"heading"`
	// Style is "keyword" (shares the document's words) or "paraphrase"
	// (says it as an on-call engineer might, in other words).
	Style string `json:"style"`
}

// Set is a labelled corpus.
type Set struct {
	Docs    map[string]parse.Doc // by file name
	Queries []Query
}

// Load reads dir/docs/*.md and dir/queries.json, checking every query
// names a document of the set.
func Load(dir string) (*Set, error) {
	files, err := filepath.Glob(filepath.Join(dir, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no documents in %s", filepath.Join(dir, "docs"))
	}
	s := &Set{Docs: map[string]parse.Doc{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		d, err := parse.Parse(parse.Markdown, data)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		s.Docs[filepath.Base(f)] = d
	}
	data, err := os.ReadFile(filepath.Join(dir, "queries.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &s.Queries); err != nil {
		return nil, fmt.Errorf("queries.json: %w", err)
	}
	for i, q := range s.Queries {
		if _, ok := s.Docs[q.Document]; !ok || strings.TrimSpace(q.Query) == "" {
			return nil, fmt.Errorf("queries.json #%d (%q): unknown document %q or empty query", i, q.Query, q.Document)
		}
	}
	return s, nil
}

// Score is retrieval quality over a set of queries.
type Score struct {
	Queries int `json:"queries"`
	// RecallAt5 is the share of queries whose document is among the first
	// five distinct documents retrieved.
	RecallAt5 float64 `json:"recall_at_5"`
	// MRR is the mean of 1/rank of the right document among the distinct
	// documents retrieved (0 when not in the first ten).
	MRR float64 `json:"mrr"`
	// PassageAt5 is the share of queries whose labelled section is among
	// the first five passages.
	PassageAt5 float64 `json:"passage_at_5"`
}

// Result is one configuration's figures.
type Result struct {
	Embedder string `json:"embedder"` // "" for lexical-only
	Mode     string `json:"mode"`
	// Fusion is the hybrid fusion ("" for lexical- and vector-only); for a
	// cross-validated row, "cv" and the choices made per fold.
	Fusion string `json:"fusion,omitempty"`
	Score
	// ByStyle splits the figures by query style.
	ByStyle map[string]Score `json:"by_style"`
	// Misses lists the queries whose document was not in the top five.
	Misses []string `json:"misses,omitempty"`
}

const evalOrg = "kb-eval"

// Index loads the set into store with e (chunking at the defaults).
func (s *Set) Index(ctx context.Context, store kb.Store, e kb.Embedder) error {
	if err := store.Reset(ctx, e.Name(), e.Dimensions()); err != nil {
		return err
	}
	names := make([]string, 0, len(s.Docs))
	for n := range s.Docs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := s.Docs[n]
		src := kb.Source{OrgID: evalOrg, Kind: kb.KindDocument, DocumentID: n, Title: d.Title}
		if _, err := kb.Index(ctx, store, e, src, d, kb.DefaultChunkSize, kb.DefaultChunkOverlap); err != nil {
			return fmt.Errorf("index %s: %w", n, err)
		}
	}
	return nil
}

// lists holds, per query, the deep lexical and vector lists of a
// searcher, so that fusions can be compared without searching again.
type lists struct{ lex, vec [][]kb.Hit }

// evalLimit is the limit of every eval search: deep enough for MRR's
// ten documents.
const evalLimit = 30

func (s *Set) lists(ctx context.Context, sr kb.Searcher, mode string) (lists, error) {
	var l lists
	for _, q := range s.Queries {
		lex, vec, err := sr.Lists(ctx, kb.Query{OrgID: evalOrg, Kind: kb.KindDocument, Text: q.Query, Limit: evalLimit}, mode)
		if err != nil {
			return l, fmt.Errorf("search %q: %w", q.Query, err)
		}
		l.lex, l.vec = append(l.lex, lex), append(l.vec, vec)
	}
	return l, nil
}

// ranked is query i's result list in mode with fusion f.
func (l lists) ranked(i int, mode string, f kb.Fusion) []kb.Hit {
	switch mode {
	case kb.ModeLexical:
		return l.lex[i][:min(evalLimit, len(l.lex[i]))]
	case kb.ModeVector:
		return l.vec[i][:min(evalLimit, len(l.vec[i]))]
	}
	return f.Fuse(evalLimit, l.lex[i], l.vec[i])
}

// Run scores one mode of a searcher over the set (already indexed); hybrid
// uses sr.Fusion.
func (s *Set) Run(ctx context.Context, sr kb.Searcher, mode string) (Result, error) {
	l, err := s.lists(ctx, sr, mode)
	if err != nil {
		return Result{}, err
	}
	f := sr.Fusion
	if f.Method == "" {
		f = kb.DefaultFusion
	}
	res := s.score(all(len(s.Queries)), func(i int) []kb.Hit { return l.ranked(i, mode, f) })
	res.Mode = mode
	if mode != kb.ModeLexical && sr.Embedder != nil {
		res.Embedder = sr.Embedder.Name()
	}
	if mode == kb.ModeHybrid {
		res.Fusion = f.String()
	}
	return res, nil
}

func all(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// score computes the figures over the queries idx, ranked(i) being query
// i's result list.
func (s *Set) score(idx []int, ranked func(i int) []kb.Hit) Result {
	res := Result{ByStyle: map[string]Score{}}
	add := func(sc *Score, recall, rr, passage float64) {
		sc.Queries++
		sc.RecallAt5 += recall
		sc.MRR += rr
		sc.PassageAt5 += passage
	}
	for _, i := range idx {
		q := s.Queries[i]
		hits := ranked(i)
		var docs []string
		for _, h := range hits {
			if !slices.Contains(docs, h.Chunk.DocumentID) {
				docs = append(docs, h.Chunk.DocumentID)
			}
		}
		var recall, rr, passage float64
		r := slices.Index(docs, q.Document)
		if r >= 0 && r < 5 {
			recall = 1
		} else {
			res.Misses = append(res.Misses, q.Query)
		}
		if r >= 0 && r < 10 {
			rr = 1 / float64(r+1)
		}
		for _, h := range hits[:min(5, len(hits))] {
			hp := h.Chunk.HeadingPath
			if h.Chunk.DocumentID == q.Document && len(hp) > 0 && hp[len(hp)-1] == q.Heading {
				passage = 1
				break
			}
		}
		add(&res.Score, recall, rr, passage)
		st := res.ByStyle[q.Style]
		add(&st, recall, rr, passage)
		res.ByStyle[q.Style] = st
	}
	mean := func(sc *Score) {
		if n := float64(sc.Queries); n > 0 {
			sc.RecallAt5 /= n
			sc.MRR /= n
			sc.PassageAt5 /= n
		}
	}
	mean(&res.Score)
	for k, st := range res.ByStyle {
		mean(&st)
		res.ByStyle[k] = st
	}
	return res
}

// Candidates are the fusions CrossValidate chooses among: relative scores
// and reciprocal ranks, the vector list weighted 0.3 to 0.7.
var Candidates = []kb.Fusion{
	{Method: kb.FusionRelative, Alpha: 0.3}, {Method: kb.FusionRelative, Alpha: 0.4}, {Method: kb.FusionRelative, Alpha: 0.5},
	{Method: kb.FusionRelative, Alpha: 0.6}, {Method: kb.FusionRelative, Alpha: 0.7},
	{Method: kb.FusionRRF, Alpha: 0.3}, {Method: kb.FusionRRF, Alpha: 0.4}, {Method: kb.FusionRRF, Alpha: 0.5},
	{Method: kb.FusionRRF, Alpha: 0.6}, {Method: kb.FusionRRF, Alpha: 0.7},
}

// CrossValidate estimates how well choosing a fusion on labelled queries
// carries over to queries it was not chosen on: the queries are dealt into
// folds (round robin within each style, so every fold has each style),
// and for each fold the candidate with the best recall@5 + MRR on the
// other folds is scored on it. The figures are over all queries, each
// scored by a choice made without it; Fusion lists the choices.
func (s *Set) CrossValidate(ctx context.Context, sr kb.Searcher, folds int, candidates []kb.Fusion) (Result, error) {
	l, err := s.lists(ctx, sr, kb.ModeHybrid)
	if err != nil {
		return Result{}, err
	}
	fold := make([]int, len(s.Queries))
	seen := map[string]int{}
	for i, q := range s.Queries {
		fold[i] = seen[q.Style] % folds
		seen[q.Style]++
	}
	chosen := make([]kb.Fusion, folds)
	var choices []string
	for k := range folds {
		var train []int
		for i := range s.Queries {
			if fold[i] != k {
				train = append(train, i)
			}
		}
		best := -1.0
		for _, c := range candidates {
			r := s.score(train, func(i int) []kb.Hit { return l.ranked(i, kb.ModeHybrid, c) })
			if v := r.RecallAt5 + r.MRR; v > best {
				best, chosen[k] = v, c
			}
		}
		choices = append(choices, chosen[k].String())
	}
	res := s.score(all(len(s.Queries)), func(i int) []kb.Hit { return l.ranked(i, kb.ModeHybrid, chosen[fold[i]]) })
	res.Mode = kb.ModeHybrid
	res.Embedder = sr.Embedder.Name()
	res.Fusion = fmt.Sprintf("cv%d: %s", folds, strings.Join(choices, ", "))
	return res, nil
}

// Evaluate indexes the set once per embedder into a store of newStore and
// scores, for each, vector-only and hybrid with the default fusion; for
// the first embedder also lexical-only (it does not depend on the
// embedder), hybrid with unweighted reciprocal rank fusion, and the
// 5-fold cross-validated choice of fusion.
func (s *Set) Evaluate(ctx context.Context, embedders []kb.Embedder, newStore func() (kb.Store, error)) ([]Result, error) {
	if newStore == nil {
		newStore = func() (kb.Store, error) { return newMemStore(), nil }
	}
	var out []Result
	for i, e := range embedders {
		store, err := newStore()
		if err != nil {
			return nil, err
		}
		if err := s.Index(ctx, store, e); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		sr := kb.Searcher{Store: store, Embedder: e}
		type run struct {
			mode   string
			fusion kb.Fusion
		}
		runs := []run{{kb.ModeVector, kb.Fusion{}}, {kb.ModeHybrid, kb.DefaultFusion}}
		if i == 0 {
			runs = append([]run{{kb.ModeLexical, kb.Fusion{}}}, runs...)
			runs = append(runs, run{kb.ModeHybrid, kb.Fusion{Method: kb.FusionRRF, Alpha: 0.5}})
		}
		for _, r := range runs {
			sr.Fusion = r.fusion
			res, err := s.Run(ctx, sr, r.mode)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", e.Name(), r.mode, err)
			}
			out = append(out, res)
		}
		if i == 0 {
			res, err := s.CrossValidate(ctx, kb.Searcher{Store: store, Embedder: e}, 5, Candidates)
			if err != nil {
				return nil, fmt.Errorf("%s cross-validation: %w", e.Name(), err)
			}
			out = append(out, res)
		}
	}
	return out, nil
}

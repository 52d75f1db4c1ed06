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

// Run scores one mode of a searcher over the set (already indexed).
func (s *Set) Run(ctx context.Context, sr kb.Searcher, mode string) (Result, error) {
	res := Result{Mode: mode, ByStyle: map[string]Score{}}
	if mode != kb.ModeLexical && sr.Embedder != nil {
		res.Embedder = sr.Embedder.Name()
	}
	add := func(sc *Score, recall, rr, passage float64) {
		sc.Queries++
		sc.RecallAt5 += recall
		sc.MRR += rr
		sc.PassageAt5 += passage
	}
	for _, q := range s.Queries {
		hits, err := sr.Search(ctx, kb.Query{OrgID: evalOrg, Kind: kb.KindDocument, Text: q.Query, Limit: 30}, mode)
		if err != nil {
			return res, fmt.Errorf("search %q: %w", q.Query, err)
		}
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
		n := float64(sc.Queries)
		sc.RecallAt5 /= n
		sc.MRR /= n
		sc.PassageAt5 /= n
	}
	mean(&res.Score)
	for k, st := range res.ByStyle {
		mean(&st)
		res.ByStyle[k] = st
	}
	return res, nil
}

// Evaluate indexes the set once per embedder into an in-memory store and
// scores vector-only and hybrid for each, plus lexical-only once (it does
// not depend on the embedder). newStore may be nil (in-memory).
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
		modes := []string{kb.ModeVector, kb.ModeHybrid}
		if i == 0 {
			modes = append([]string{kb.ModeLexical}, modes...)
		}
		for _, m := range modes {
			r, err := s.Run(ctx, sr, m)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", e.Name(), m, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

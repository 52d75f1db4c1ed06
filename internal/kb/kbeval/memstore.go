package kbeval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/aurora-oss/aurora/internal/kb"
)

// memStore is an in-memory kb.Store for the eval: exact cosine and BM25
// (k1 1.2, b 0.75) over the passage, its title and heading path, the
// same fields and formula family as the stores' lexical search, so
// measured differences come from the embedders and the fusion, not the
// storage. It is not for production: no persistence, one lock.
type memStore struct {
	mu     sync.RWMutex
	name   string
	dims   int
	chunks map[string][]kb.Chunk // org\x00kind\x00doc -> chunks
}

func newMemStore() *memStore { return &memStore{chunks: map[string][]kb.Chunk{}} }

func (m *memStore) ReplaceDocument(_ context.Context, org, kind, doc string, cs []kb.Chunk) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range cs {
		if len(c.Vector) != m.dims {
			return fmt.Errorf("memstore: %d-d vector in a %d-d space", len(c.Vector), m.dims)
		}
	}
	key := org + "\x00" + kind + "\x00" + doc
	if len(cs) == 0 {
		delete(m.chunks, key)
		return nil
	}
	m.chunks[key] = slices.Clone(cs)
	return nil
}

func (m *memStore) Space(context.Context) (string, int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.name, m.dims, nil
}

func (m *memStore) Reset(_ context.Context, name string, dims int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.name, m.dims, m.chunks = name, dims, map[string][]kb.Chunk{}
	return nil
}

func (m *memStore) matching(q kb.Query) []kb.Chunk {
	var out []kb.Chunk
	for _, cs := range m.chunks {
		for _, c := range cs {
			if c.OrgID != q.OrgID || q.Kind != "" && c.Kind != q.Kind {
				continue
			}
			if len(q.DocumentIDs) > 0 && !slices.Contains(q.DocumentIDs, c.DocumentID) {
				continue
			}
			if len(q.Tags) > 0 && !slices.ContainsFunc(q.Tags, func(t string) bool { return slices.Contains(c.Tags, t) }) {
				continue
			}
			out = append(out, c)
		}
	}
	// Map order is random; ties must not make the eval flaky.
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func rank(hits []kb.Hit, limit int) []kb.Hit {
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	if limit <= 0 {
		limit = 10
	}
	return hits[:min(limit, len(hits))]
}

func (m *memStore) SearchVector(_ context.Context, q kb.Query) ([]kb.Hit, error) {
	if q.OrgID == "" {
		return nil, errors.New("memstore: org id is required")
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	hits := []kb.Hit{}
	for _, c := range m.matching(q) {
		hits = append(hits, kb.Hit{Chunk: c, Score: cosine(q.Vector, c.Vector)})
	}
	return rank(hits, q.Limit), nil
}

func cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		return 0
	}
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return d / math.Sqrt(na*nb)
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func (m *memStore) SearchLexical(_ context.Context, q kb.Query) ([]kb.Hit, error) {
	if q.OrgID == "" {
		return nil, errors.New("memstore: org id is required")
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	terms := words(q.Text)
	hits := []kb.Hit{}
	if len(terms) == 0 {
		return hits, nil
	}
	cs := m.matching(kb.Query{OrgID: q.OrgID, Kind: q.Kind})
	docs := make([][]string, len(cs))
	df := map[string]int{}
	var total float64
	for i, c := range cs {
		docs[i] = words(c.Title + " " + strings.Join(c.HeadingPath, " ") + " " + c.Text)
		total += float64(len(docs[i]))
		seen := map[string]bool{}
		for _, w := range docs[i] {
			if !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
	}
	if len(cs) == 0 {
		return hits, nil
	}
	avg := total / float64(len(cs))
	const k1, b = 1.2, 0.75
	filtered := map[string]bool{}
	for _, c := range m.matching(q) {
		filtered[c.ID] = true
	}
	for i, c := range cs {
		if !filtered[c.ID] {
			continue
		}
		tf := map[string]int{}
		for _, w := range docs[i] {
			tf[w]++
		}
		var score float64
		for _, t := range terms {
			f := float64(tf[t])
			if f == 0 {
				continue
			}
			idf := math.Log(1 + (float64(len(cs))-float64(df[t])+0.5)/(float64(df[t])+0.5))
			score += idf * f * (k1 + 1) / (f + k1*(1-b+b*float64(len(docs[i]))/avg))
		}
		if score > 0 {
			hits = append(hits, kb.Hit{Chunk: c, Score: score})
		}
	}
	return rank(hits, q.Limit), nil
}

var _ kb.Store = (*memStore)(nil)

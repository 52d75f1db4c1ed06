package weaviate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/go-openapi/strfmt"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/aurora-oss/aurora/internal/kb"
)

func strfmtUUID(s string) strfmt.UUID { return strfmt.UUID(s) }

func eq(path, v string) *filters.WhereBuilder {
	return filters.Where().WithPath([]string{path}).WithOperator(filters.Equal).WithValueText(v)
}

func and(ws ...*filters.WhereBuilder) *filters.WhereBuilder {
	return filters.Where().WithOperator(filters.And).WithOperands(ws)
}

func batchErr(res []models.ObjectsGetResponse) error {
	for _, r := range res {
		if r.Result != nil && r.Result.Errors != nil && len(r.Result.Errors.Error) > 0 {
			return errors.New(r.Result.Errors.Error[0].Message)
		}
	}
	return nil
}

// SearchVector implements kb.Store: cosine similarity (1 − cosine
// distance) over the HNSW index.
func (s *Store) SearchVector(ctx context.Context, q kb.Query) ([]kb.Hit, error) {
	if err := check(q); err != nil {
		return nil, err
	}
	if len(q.Vector) == 0 {
		return []kb.Hit{}, nil
	}
	return s.search(ctx, q, func(g *graphql.GetBuilder) *graphql.GetBuilder {
		return g.WithNearVector(s.c.GraphQL().NearVectorArgBuilder().WithVector(q.Vector))
	}, "distance")
}

// SearchLexical implements kb.Store: Weaviate's BM25F over the passage
// text, its title and heading path, any query word matching. Scores of the
// two kinds come from two collections and are merged as they are (BM25
// of collections of similar passages is close enough to compare).
func (s *Store) SearchLexical(ctx context.Context, q kb.Query) ([]kb.Hit, error) {
	if err := check(q); err != nil {
		return nil, err
	}
	// Only words reach Weaviate: its query syntax (and GraphQL quoting)
	// never sees the user's punctuation.
	words := strings.Join(strings.FieldsFunc(q.Text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
	if words == "" {
		return []kb.Hit{}, nil
	}
	return s.search(ctx, q, func(g *graphql.GetBuilder) *graphql.GetBuilder {
		return g.WithBM25(s.c.GraphQL().Bm25ArgBuilder().WithQuery(words).WithProperties("text", "title^2", "headingPath"))
	}, "score")
}

// maxRetries bounds the re-reads of a search that found only hits of a
// generation replaced while it ran.
const maxRetries = 10

func check(q kb.Query) error {
	if q.OrgID == "" {
		return errors.New("weaviate: search: org id is required")
	}
	return nil
}

type rawHit struct {
	hit        kb.Hit
	generation string
}

func (s *Store) search(ctx context.Context, q kb.Query, rank func(*graphql.GetBuilder) *graphql.GetBuilder, scoreField string) ([]kb.Hit, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	ks := kinds
	if q.Kind != "" {
		if _, err := s.chunkClass(q.Kind); err != nil {
			return nil, err
		}
		ks = []string{q.Kind}
	}
	var all []kb.Hit
	for _, kind := range ks {
		hits, err := s.searchKind(ctx, q, kind, limit, rank, scoreField)
		if err != nil {
			return nil, err
		}
		all = append(all, hits...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Score > all[j].Score })
	if len(all) > limit {
		all = all[:limit]
	}
	if all == nil {
		all = []kb.Hit{}
	}
	return all, nil
}

// searchKind asks for more than limit hits, because hits of a generation
// being replaced or deleted are dropped, and asks again deeper while too
// few remain.
func (s *Store) searchKind(ctx context.Context, q kb.Query, kind string, limit int, rank func(*graphql.GetBuilder) *graphql.GetBuilder, scoreField string) ([]kb.Hit, error) {
	class, _ := s.chunkClass(kind)
	where := []*filters.WhereBuilder{eq("orgId", q.OrgID)}
	if len(q.DocumentIDs) > 0 {
		where = append(where, filters.Where().WithPath([]string{"documentId"}).WithOperator(filters.ContainsAny).WithValueText(q.DocumentIDs...))
	}
	if len(q.Tags) > 0 {
		where = append(where, filters.Where().WithPath([]string{"tags"}).WithOperator(filters.ContainsAny).WithValueText(q.Tags...))
	}
	w := where[0]
	if len(where) > 1 {
		w = and(where...)
	}
	fields := []graphql.Field{
		{Name: "orgId"}, {Name: "documentId"}, {Name: "generation"}, {Name: "tags"},
		{Name: "chunkId"}, {Name: "sourceUrl"}, {Name: "startOffset"}, {Name: "endOffset"},
		{Name: "title"}, {Name: "headingPath"}, {Name: "text"},
		{Name: "_additional", Fields: []graphql.Field{{Name: scoreField}}},
	}
	fetch := 2*limit + 20
	retries := 0
	for {
		g := s.c.GraphQL().Get().WithClassName(class).WithFields(fields...).WithWhere(w).
			WithLimit(fetch)
		resp, err := rank(g).Do(ctx)
		if err != nil {
			return nil, fmt.Errorf("weaviate: search %s: %w", class, err)
		}
		if len(resp.Errors) > 0 {
			return nil, fmt.Errorf("weaviate: search %s: %s", class, resp.Errors[0].Message)
		}
		raw, err := decodeHits(resp, class, kind, scoreField)
		if err != nil {
			return nil, err
		}
		current, err := s.generations(ctx, q.OrgID, kind, raw)
		if err != nil {
			return nil, err
		}
		hits := make([]kb.Hit, 0, len(raw))
		stale := 0
		for _, r := range raw {
			if current[r.hit.Chunk.DocumentID] == r.generation {
				hits = append(hits, r.hit)
			} else {
				stale++
			}
		}
		if len(hits) >= limit || fetch >= 10000 {
			return hits[:min(limit, len(hits))], nil
		}
		if len(raw) < fetch {
			// Everything matching was read. Hits of a generation that was
			// replaced between the two queries were dropped, and the
			// replacement may not have been in the first answer: ask
			// again (a bounded number of times: leftovers of a replace
			// killed midway stay stale until that document is replaced
			// again, and a document replaced over and over can keep
			// moving under a reader).
			if stale == 0 || retries == maxRetries {
				return hits, nil
			}
			retries++
			continue
		}
		fetch = min(fetch*4, 10000)
	}
}

// generations returns the current generation of each document in raw.
func (s *Store) generations(ctx context.Context, org, kind string, raw []rawHit) (map[string]string, error) {
	var docs []string
	for _, r := range raw {
		if !slices.Contains(docs, r.hit.Chunk.DocumentID) {
			docs = append(docs, r.hit.Chunk.DocumentID)
		}
	}
	out := map[string]string{}
	if len(docs) == 0 {
		return out, nil
	}
	w := and(eq("orgId", org), eq("kind", kind),
		filters.Where().WithPath([]string{"documentId"}).WithOperator(filters.ContainsAny).WithValueText(docs...))
	resp, err := s.c.GraphQL().Get().WithClassName(s.sourceClass()).
		WithFields(graphql.Field{Name: "documentId"}, graphql.Field{Name: "generation"}).
		WithWhere(w).WithLimit(len(docs)).Do(ctx)
	if err != nil {
		return nil, fmt.Errorf("weaviate: read current generations: %w", err)
	}
	if len(resp.Errors) > 0 {
		return nil, fmt.Errorf("weaviate: read current generations: %s", resp.Errors[0].Message)
	}
	var rows []struct {
		DocumentID string `json:"documentId"`
		Generation string `json:"generation"`
	}
	if err := decodeClass(resp, s.sourceClass(), &rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.DocumentID] = r.Generation
	}
	return out, nil
}

func decodeClass(resp *models.GraphQLResponse, class string, into any) error {
	get, ok := resp.Data["Get"]
	if !ok {
		return fmt.Errorf("weaviate: answer without Get for %s", class)
	}
	b, err := json.Marshal(get)
	if err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("weaviate: decode %s: %w", class, err)
	}
	if len(m[class]) == 0 || string(m[class]) == "null" {
		return nil
	}
	if err := json.Unmarshal(m[class], into); err != nil {
		return fmt.Errorf("weaviate: decode %s: %w", class, err)
	}
	return nil
}

func decodeHits(resp *models.GraphQLResponse, class, kind, scoreField string) ([]rawHit, error) {
	var rows []struct {
		OrgID       string   `json:"orgId"`
		DocumentID  string   `json:"documentId"`
		Generation  string   `json:"generation"`
		Tags        []string `json:"tags"`
		ChunkID     string   `json:"chunkId"`
		SourceURL   string   `json:"sourceUrl"`
		Start       int      `json:"startOffset"`
		End         int      `json:"endOffset"`
		Title       string   `json:"title"`
		HeadingPath []string `json:"headingPath"`
		Text        string   `json:"text"`
		Additional  struct {
			Distance *float64 `json:"distance"`
			Score    *string  `json:"score"`
		} `json:"_additional"`
	}
	if err := decodeClass(resp, class, &rows); err != nil {
		return nil, err
	}
	out := make([]rawHit, 0, len(rows))
	for _, r := range rows {
		var score float64
		switch {
		case scoreField == "distance" && r.Additional.Distance != nil:
			score = 1 - *r.Additional.Distance
		case r.Additional.Score != nil:
			f, err := strconv.ParseFloat(*r.Additional.Score, 64)
			if err != nil {
				return nil, fmt.Errorf("weaviate: bad score %q", *r.Additional.Score)
			}
			score = f
		}
		heading := r.HeadingPath
		if heading == nil {
			heading = []string{}
		}
		out = append(out, rawHit{generation: r.Generation, hit: kb.Hit{Score: score, Chunk: kb.Chunk{
			ID: r.ChunkID, OrgID: r.OrgID, Kind: kind, DocumentID: r.DocumentID, Title: r.Title,
			HeadingPath: heading, Text: r.Text, Start: r.Start, End: r.End, Tags: r.Tags, SourceURL: r.SourceURL,
		}}})
	}
	return out, nil
}

var _ kb.Store = (*Store)(nil)

package storage

import (
	"container/heap"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/aurora-oss/aurora/internal/kb"
)

// KBStore is the embedded kb.Store: chunks are rows of kb_chunks in the
// application database; vector search is an exact cosine scan in Go and
// lexical search SQLite FTS5 bm25 or PostgreSQL full-text ts_rank_cd. Exact
// search is linear in the org's chunks (see docs/benchmarks.md for the
// figures); Weaviate is the store for collections beyond that.
type KBStore struct {
	db *DB
}

// NewKBStore returns the embedded chunk store on db.
func NewKBStore(db *DB) *KBStore { return &KBStore{db: db} }

var _ kb.Store = (*KBStore)(nil)

// ErrKBSpace is returned when a write's vectors do not fit the store's
// embedding space (or no space was set yet).
var ErrKBSpace = errors.New("vectors do not match the knowledge base's embedding space")

// Space reports the embedder name and dimensions of the stored vectors.
func (s *KBStore) Space(ctx context.Context) (string, int, error) {
	var name string
	var dims int
	err := s.db.W.QueryRowContext(ctx, `SELECT name, dims FROM kb_space WHERE id = 1`).Scan(&name, &dims)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("read kb space: %w", err)
	}
	return name, dims, nil
}

// Reset drops every chunk of every org and records the new space.
func (s *KBStore) Reset(ctx context.Context, name string, dims int) error {
	tx, err := s.db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reset kb: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.ExecContext(ctx, `DELETE FROM kb_chunks`); err != nil {
		return fmt.Errorf("reset kb: delete chunks: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO kb_space (id, name, dims) VALUES (1, $1, $2)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, dims = excluded.dims`, name, dims); err != nil {
		return fmt.Errorf("reset kb: set space: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("reset kb: %w", err)
	}
	return nil
}

// ReplaceDocument deletes a document's chunks and inserts chunks in one
// transaction, so readers see either the old set or the new one.
func (s *KBStore) ReplaceDocument(ctx context.Context, orgID, kind, documentID string, chunks []kb.Chunk) error {
	if orgID == "" || kind == "" || documentID == "" {
		return errors.New("replace kb document: org, kind and document id are required")
	}
	tx, err := s.db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("replace kb document: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck
	var dims int
	if len(chunks) > 0 {
		err := tx.QueryRowContext(ctx, `SELECT dims FROM kb_space WHERE id = 1`).Scan(&dims)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("replace kb document: no embedding space set: %w", ErrKBSpace)
		}
		if err != nil {
			return fmt.Errorf("replace kb document: read space: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM kb_chunks WHERE org_id = $1 AND kind = $2 AND document_id = $3`, orgID, kind, documentID); err != nil {
		return fmt.Errorf("replace kb document: delete old chunks: %w", err)
	}
	if len(chunks) > 0 {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO kb_chunks (id, org_id, kind, document_id, seq, title, heading_path, text, start_off, end_off, tags, source_url, vector)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`)
		if err != nil {
			return fmt.Errorf("replace kb document: %w", err)
		}
		defer stmt.Close()
		for i, c := range chunks {
			if len(c.Vector) != dims {
				return fmt.Errorf("replace kb document: chunk %d has %d dimensions, the space has %d: %w", i, len(c.Vector), dims, ErrKBSpace)
			}
			if c.ID == "" {
				c.ID = NewID()
			}
			hp, _ := json.Marshal(nonNil(c.HeadingPath))
			if _, err := stmt.ExecContext(ctx, c.ID, orgID, kind, documentID, i, c.Title, string(hp), c.Text, c.Start, c.End,
				tagSet(c.Tags), c.SourceURL, encodeVector(c.Vector)); err != nil {
				return fmt.Errorf("replace kb document: insert chunk %d: %w", i, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("replace kb document: %w", err)
	}
	return nil
}

// SearchVector ranks the org's chunks by cosine similarity to q.Vector. It
// reads ids and vectors first and the texts of the top hits only, both in
// one read transaction (a snapshot) so a concurrent replace is never seen
// half-done.
func (s *KBStore) SearchVector(ctx context.Context, q kb.Query) ([]kb.Hit, error) {
	if q.OrgID == "" {
		return nil, errors.New("search kb: org id is required")
	}
	limit := clampLimit(q.Limit)
	qv := normalise(q.Vector)
	if len(qv) == 0 {
		return []kb.Hit{}, nil
	}
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("search kb by vector: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck
	where, args := kbFilter(s.db.Dialect, q, 1)
	rows, err := tx.QueryContext(ctx, `SELECT id, vector FROM kb_chunks c WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("search kb by vector: %w", err)
	}
	top := &hitHeap{}
	var id string
	var blob []byte
	for rows.Next() {
		if err := rows.Scan(&id, &blob); err != nil {
			rows.Close()
			return nil, fmt.Errorf("search kb by vector: %w", err)
		}
		if len(blob) != 4*len(qv) {
			continue // another space's vector can only be there mid-reset
		}
		score := dot(qv, blob)
		if top.Len() < limit {
			heap.Push(top, scored{id: id, score: score})
		} else if score > (*top)[0].score {
			(*top)[0] = scored{id: id, score: score}
			heap.Fix(top, 0)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search kb by vector: %w", err)
	}
	best := make([]scored, top.Len())
	for i := len(best) - 1; i >= 0; i-- {
		best[i] = heap.Pop(top).(scored)
	}
	hits := make([]kb.Hit, 0, len(best))
	if len(best) == 0 {
		return hits, tx.Commit()
	}
	// The top hits' texts in one query (it was one per hit: up to 30
	// round trips per search), in the same snapshot.
	ph := make([]string, len(best))
	ids := make([]any, len(best))
	for i, b := range best {
		ph[i], ids[i] = "$"+strconv.Itoa(i+1), b.id
	}
	rows, err = tx.QueryContext(ctx, `SELECT `+chunkCols+` FROM kb_chunks c WHERE id IN (`+strings.Join(ph, ",")+`)`, ids...)
	if err != nil {
		return nil, fmt.Errorf("search kb by vector: %w", err)
	}
	chunks, err := collect(rows, scanChunk)
	if err != nil {
		return nil, fmt.Errorf("search kb by vector: %w", err)
	}
	byID := make(map[string]kb.Chunk, len(chunks))
	for _, c := range chunks {
		byID[c.ID] = c
	}
	for _, b := range best {
		if c, ok := byID[b.id]; ok {
			hits = append(hits, kb.Hit{Chunk: c, Score: b.score})
		}
	}
	return hits, tx.Commit()
}

// SearchLexical ranks by bm25 (SQLite FTS5) or ts_rank_cd (PostgreSQL).
// Query text is reduced to its words, any of which may match, so engine
// syntax in user input is inert.
func (s *KBStore) SearchLexical(ctx context.Context, q kb.Query) ([]kb.Hit, error) {
	if q.OrgID == "" {
		return nil, errors.New("search kb: org id is required")
	}
	words := QueryWords(q.Text)
	if len(words) == 0 {
		return []kb.Hit{}, nil
	}
	limit := clampLimit(q.Limit)
	var query string
	var args []any
	if s.db.Dialect == Postgres {
		where, fargs := kbFilter(s.db.Dialect, q, 2)
		query = `SELECT ` + chunkCols + `, ts_rank_cd(c.tsv, to_tsquery('english', $1)) AS score
			FROM kb_chunks c WHERE c.tsv @@ to_tsquery('english', $1) AND ` + where +
			` ORDER BY score DESC, c.id LIMIT ` + strconv.Itoa(limit)
		args = append([]any{strings.Join(words, " | ")}, fargs...)
	} else {
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = `"` + w + `"`
		}
		where, fargs := kbFilter(s.db.Dialect, q, 2)
		query = `SELECT ` + chunkCols + `, -bm25(kb_chunks_fts) AS score
			FROM kb_chunks_fts JOIN kb_chunks c ON c.rid = kb_chunks_fts.rowid
			WHERE kb_chunks_fts MATCH $1 AND ` + where + ` ORDER BY score DESC, c.id LIMIT ` + strconv.Itoa(limit)
		args = append([]any{strings.Join(quoted, " OR ")}, fargs...)
	}
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search kb by words: %w", err)
	}
	hits, err := collect(rows, func(sc scanner) (kb.Hit, error) {
		var h kb.Hit
		c, err := scanChunkScore(sc, &h.Score)
		h.Chunk = c
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("search kb by words: %w", err)
	}
	return hits, nil
}

// QueryWords splits text into lower-case words of letters and digits, at
// most 64, without repeats: the only part of a query the lexical engines
// see.
func QueryWords(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(f) > 64 || seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, f)
		if len(out) == 64 {
			break
		}
	}
	return out
}

func (s *KBStore) readTx(ctx context.Context) (*sql.Tx, error) {
	if s.db.Dialect == Postgres {
		return s.db.R.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	return s.db.R.BeginTx(ctx, nil)
}

const chunkCols = `c.id, c.org_id, c.kind, c.document_id, c.title, c.heading_path, c.text, c.start_off, c.end_off, c.tags, c.source_url`

func scanChunk(sc scanner) (kb.Chunk, error) { return scanChunkScore(sc, nil) }

func scanChunkScore(sc scanner, score *float64) (kb.Chunk, error) {
	var c kb.Chunk
	var hp, tags string
	dest := []any{&c.ID, &c.OrgID, &c.Kind, &c.DocumentID, &c.Title, &hp, &c.Text, &c.Start, &c.End, &tags, &c.SourceURL}
	if score != nil {
		dest = append(dest, score)
	}
	if err := sc.Scan(dest...); err != nil {
		return kb.Chunk{}, err
	}
	_ = json.Unmarshal([]byte(hp), &c.HeadingPath)
	c.Tags = parseTagSet(tags)
	return c, nil
}

// kbFilter is the WHERE clause (on alias c) for a query's org, kind,
// documents and tags, with placeholders numbered from first.
func kbFilter(d Dialect, q kb.Query, first int) (string, []any) {
	n := first
	ph := func(v any, args *[]any) string {
		*args = append(*args, v)
		s := "$" + strconv.Itoa(n)
		n++
		return s
	}
	var args []any
	parts := []string{"c.org_id = " + ph(q.OrgID, &args)}
	if q.Kind != "" {
		parts = append(parts, "c.kind = "+ph(q.Kind, &args))
	}
	if len(q.DocumentIDs) > 0 {
		var in []string
		for _, id := range q.DocumentIDs {
			in = append(in, ph(id, &args))
		}
		parts = append(parts, "c.document_id IN ("+strings.Join(in, ",")+")")
	}
	if len(q.Tags) > 0 {
		fn := "instr"
		if d == Postgres {
			fn = "strpos"
		}
		var or []string
		for _, t := range q.Tags {
			or = append(or, fn+"(c.tags, "+ph("|"+cleanTag(t)+"|", &args)+") > 0")
		}
		parts = append(parts, "("+strings.Join(or, " OR ")+")")
	}
	return strings.Join(parts, " AND "), args
}

func cleanTag(t string) string { return strings.ReplaceAll(strings.TrimSpace(t), "|", "") }

func tagSet(tags []string) string {
	var b strings.Builder
	b.WriteString("|")
	for _, t := range tags {
		if t = cleanTag(t); t != "" {
			b.WriteString(t)
			b.WriteString("|")
		}
	}
	return b.String()
}

func parseTagSet(s string) []string {
	var out []string
	for _, t := range strings.Split(s, "|") {
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func clampLimit(n int) int {
	if n <= 0 {
		return 10
	}
	return min(n, 1000)
}

// encodeVector stores v scaled to unit length, so a search is a dot product.
func encodeVector(v []float32) []byte {
	u := normalise(v)
	b := make([]byte, 4*len(v))
	for i, x := range u {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func normalise(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if sum == 0 {
		return out
	}
	n := float32(1 / math.Sqrt(sum))
	for i, x := range v {
		out[i] = x * n
	}
	return out
}

func dot(q []float32, blob []byte) float64 {
	var s float32
	for i, x := range q {
		s += x * math.Float32frombits(binary.LittleEndian.Uint32(blob[4*i:]))
	}
	return float64(s)
}

type scored struct {
	id    string
	score float64
}

// hitHeap is a min-heap on score: the root is the worst of the best k.
type hitHeap []scored

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return h[i].score < h[j].score }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(scored)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

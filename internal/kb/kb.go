// Package kb is the knowledge base: documents (runbooks, architecture
// notes, postmortems) and helpful past incidents, cut into chunks, embedded
// and searched by meaning and by words. The investigator and the agent read
// it as evidence. Embedders and vector stores are interfaces so the same
// code runs offline in the embedded default and on Weaviate.
package kb

import "context"

// Embedder turns texts into vectors of one space.
type Embedder interface {
	// Name identifies the vector space, e.g. "builtin/glove-sif-100d" or
	// "openai/text-embedding-3-small": vectors of different names never mix
	// (changing it re-indexes).
	Name() string
	// Dimensions is the length of every vector Embed returns.
	Dimensions() int
	// Embed returns one vector per text, in order.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Kinds of indexed chunk.
const (
	KindDocument = "document"
	KindIncident = "incident" // a helpful past incident's report
)

// Chunk is a searchable passage.
type Chunk struct {
	ID         string `json:"chunk_id"`
	OrgID      string `json:"-"`
	Kind       string `json:"kind"`
	DocumentID string `json:"document_id"` // the document, or the incident id for KindIncident
	Title      string `json:"title"`
	// HeadingPath is the chain of headings above the passage.
	HeadingPath []string `json:"heading_path"`
	Text        string   `json:"text"`
	// Start and End are byte offsets of Text in the document's extracted
	// text, so a UI can link to the passage.
	Start int      `json:"start"`
	End   int      `json:"end"`
	Tags  []string `json:"tags,omitempty"`
	// SourceURL is the document's wiki/Git URL, when it has one.
	SourceURL string    `json:"source_url,omitempty"`
	Vector    []float32 `json:"-"`
}

// Query filters and ranks chunks. OrgID is required: every search is
// scoped to one organisation.
type Query struct {
	OrgID string
	// Kind limits to one kind ("" for any).
	Kind string
	// Text is matched lexically; Vector by cosine similarity.
	Text   string
	Vector []float32
	Limit  int
	// DocumentIDs and Tags filter (any of them matches).
	DocumentIDs []string
	Tags        []string
}

// Hit is a chunk with its score (higher is better; comparable only within
// one result list).
type Hit struct {
	Chunk Chunk   `json:"chunk"`
	Score float64 `json:"score"`
}

// Store keeps chunks and their vectors. Implementations: the embedded
// store (rows in SQLite/PostgreSQL, exact cosine, FTS) and Weaviate; both
// pass the conformance suite in package kb/kbtest.
type Store interface {
	// ReplaceDocument atomically replaces every chunk of one document (or
	// incident) of an org by chunks: a search never sees a mix of old and
	// new chunks. An empty chunks deletes them.
	ReplaceDocument(ctx context.Context, orgID, kind, documentID string, chunks []Chunk) error
	// SearchVector ranks by cosine similarity to q.Vector.
	SearchVector(ctx context.Context, q Query) ([]Hit, error)
	// SearchLexical ranks by a lexical score (bm25 or full-text rank) of
	// q.Text.
	SearchLexical(ctx context.Context, q Query) ([]Hit, error)
	// Space is the embedder name and dimensions the stored vectors were made
	// with ("" and 0 when empty); Reset drops every vector of every org for
	// a re-index into another space.
	Space(ctx context.Context) (name string, dims int, err error)
	Reset(ctx context.Context, name string, dims int) error
}

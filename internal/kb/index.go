package kb

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/aurora-oss/aurora/internal/kb/parse"
)

// Source describes what is being indexed.
type Source struct {
	OrgID, Kind, DocumentID string
	Title, SourceURL        string
	Tags                    []string
}

// embedBatch bounds one Embed call (remote embedders limit request sizes).
const embedBatch = 64

// Index cuts doc, embeds the passages and atomically replaces the source's
// chunks in store. It returns the number of chunks stored. The embedded
// text is the title and heading path followed by the passage, so a passage
// under "Payments › High latency" is found for "payments latency".
func Index(ctx context.Context, store Store, e Embedder, src Source, doc parse.Doc, size, overlap int) (int, error) {
	ps := Split(doc, size, overlap)
	chunks := make([]Chunk, len(ps))
	texts := make([]string, len(ps))
	for i, p := range ps {
		chunks[i] = Chunk{
			ID:    uuid.NewString(),
			OrgID: src.OrgID, Kind: src.Kind, DocumentID: src.DocumentID, Title: src.Title,
			HeadingPath: p.HeadingPath, Text: p.Text, Start: p.Start, End: p.End,
			Tags: src.Tags, SourceURL: src.SourceURL,
		}
		texts[i] = EmbedText(src.Title, p.HeadingPath, p.Text)
	}
	for i := 0; i < len(texts); i += embedBatch {
		j := min(i+embedBatch, len(texts))
		vs, err := e.Embed(ctx, texts[i:j])
		if err != nil {
			return 0, fmt.Errorf("embed passages %d–%d: %w", i, j, err)
		}
		if len(vs) != j-i {
			return 0, fmt.Errorf("embedder %s returned %d vectors for %d texts", e.Name(), len(vs), j-i)
		}
		for k, v := range vs {
			chunks[i+k].Vector = v
		}
	}
	if err := store.ReplaceDocument(ctx, src.OrgID, src.Kind, src.DocumentID, chunks); err != nil {
		return 0, err
	}
	return len(chunks), nil
}

// EmbedText is the text embedded for a passage.
func EmbedText(title string, headingPath []string, text string) string {
	var b strings.Builder
	b.WriteString(title)
	for _, h := range headingPath {
		b.WriteString(" — ")
		b.WriteString(h)
	}
	b.WriteString("\n")
	b.WriteString(text)
	return b.String()
}

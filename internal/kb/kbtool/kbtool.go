// Package kbtool exposes the knowledge base to investigations and the
// agent as the read-only tool kb.search: runbook and document passages, or
// helpful past incidents, for a query, each labelled with where it comes
// from so a report can cite it.
package kbtool

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/library"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// Name of the tool.
const Name = "kb.search"

// Searcher is what the tool needs of the knowledge base (library.Service).
type Searcher interface {
	RunbookPassages(ctx context.Context, orgID string, q library.RunbookQuery, limit int) (library.Runbook, error)
	Search(ctx context.Context, q kb.Query, mode string) ([]kb.Hit, error)
}

// Tool is kb.search for one org.
type Tool struct {
	KB    Searcher
	OrgID string
}

// With returns a new registry with tools' tools plus kb.search for org
// (the resolved registry may be cached and shared, so it is not changed).
func With(tools *toolset.Registry, s Searcher, orgID string) (*toolset.Registry, error) {
	var list []toolset.Tool
	if tools != nil {
		list = tools.List()
	}
	return toolset.NewRegistry(append(list, Tool{KB: s, OrgID: orgID})...)
}

// Name implements toolset.Tool.
func (Tool) Name() string { return Name }

// Description implements toolset.Tool.
func (Tool) Description() string {
	return "Search the organisation's knowledge base. kind=document (default) returns runbook and documentation passages " +
		"(title, heading path, source URL); kind=incident returns similar past incidents whose reports people marked helpful — " +
		"hints where to look, never proof of the current cause. Pass an alert's runbook_url to search that runbook first."
}

// Parameters implements toolset.Tool.
func (Tool) Parameters() json.RawMessage {
	return json.RawMessage(`{"type":"object","properties":{` +
		`"query":{"type":"string","description":"what to look for: alert name, service, symptom"},` +
		`"kind":{"type":"string","enum":["document","incident"],"default":"document"},` +
		`"runbook_url":{"type":"string","description":"an alert's runbook_url annotation; a document uploaded with that source_url is searched first"},` +
		`"limit":{"type":"integer","minimum":1,"maximum":10,"default":3}},"required":["query"],"additionalProperties":false}`)
}

// ReadOnly implements toolset.Tool.
func (Tool) ReadOnly() bool { return true }

// Timeout implements toolset.Tool.
func (Tool) Timeout() time.Duration { return 20 * time.Second }

// Call implements toolset.Tool.
func (t Tool) Call(ctx context.Context, args map[string]any) (toolset.Result, error) {
	query, _ := args["query"].(string)
	if strings.TrimSpace(query) == "" {
		return toolset.Result{}, fmt.Errorf("query: required")
	}
	kind := kb.KindDocument
	if k, ok := args["kind"]; ok {
		ks, _ := k.(string)
		if ks != kb.KindDocument && ks != kb.KindIncident {
			return toolset.Result{}, fmt.Errorf("kind: must be document or incident")
		}
		kind = ks
	}
	limit := 3
	if l, ok := args["limit"]; ok {
		f, ok := l.(float64)
		if !ok {
			if i, isInt := l.(int); isInt {
				f, ok = float64(i), true
			}
		}
		if !ok || f < 1 || f > 10 || f != float64(int(f)) {
			return toolset.Result{}, fmt.Errorf("limit: must be an integer from 1 to 10")
		}
		limit = int(f)
	}
	runbookURL, _ := args["runbook_url"].(string)
	var b strings.Builder
	if kind == kb.KindIncident {
		hits, err := t.KB.Search(ctx, kb.Query{OrgID: t.OrgID, Kind: kb.KindIncident, Text: query, Limit: 4 * limit}, kb.ModeHybrid)
		if err != nil {
			return toolset.Result{}, err
		}
		seen := map[string]bool{}
		n := 0
		for _, h := range hits {
			if seen[h.Chunk.DocumentID] || n == limit {
				continue
			}
			seen[h.Chunk.DocumentID] = true
			n++
			fmt.Fprintf(&b, "[%d] past incident %s %q (report marked helpful; similarity %.4f)\n%s\n\n", n, h.Chunk.DocumentID, h.Chunk.Title, h.Score, excerpt(h.Chunk.Text))
		}
		if n == 0 {
			return toolset.Result{Output: "No helpful past incident matches."}, nil
		}
		b.WriteString("Past incidents are hints, not proof: confirm the cause with current evidence.\n")
		return toolset.Result{Output: b.String()}, nil
	}
	rb, err := t.KB.RunbookPassages(ctx, t.OrgID, library.RunbookQuery{Summary: query, RunbookURL: runbookURL}, limit)
	if err != nil {
		return toolset.Result{}, err
	}
	if runbookURL != "" {
		if rb.Document != nil {
			fmt.Fprintf(&b, "runbook_url %s is the uploaded document %q (%s).\n\n", runbookURL, rb.Document.Title, rb.Document.ID)
		} else {
			fmt.Fprintf(&b, "runbook_url %s is not an uploaded document.\n\n", runbookURL)
		}
	}
	if len(rb.Hits) == 0 {
		b.WriteString("No knowledge-base passage matches.")
		return toolset.Result{Output: b.String()}, nil
	}
	for i, h := range rb.Hits {
		c := h.Chunk
		where := c.Title
		hp := c.HeadingPath
		if len(hp) > 0 && hp[0] == c.Title {
			hp = hp[1:] // the document's own title heading
		}
		if len(hp) > 0 {
			where += " › " + strings.Join(hp, " › ")
		}
		fmt.Fprintf(&b, "[%d] %s (document %s, bytes %d–%d", i+1, where, c.DocumentID, c.Start, c.End)
		if c.SourceURL != "" {
			fmt.Fprintf(&b, ", %s", c.SourceURL)
		}
		fmt.Fprintf(&b, ")\n%s\n\n", excerpt(c.Text))
	}
	return toolset.Result{Output: strings.TrimRight(b.String(), "\n") + "\n"}, nil
}

func excerpt(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 1500 {
		s = strings.ToValidUTF8(s[:1500], "") + " …"
	}
	return s
}

package library

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/parse"
	"github.com/aurora-oss/aurora/internal/storage"
)

// ErrNoReport is returned when helpful feedback names an incident without
// a finished report (nothing to learn from yet).
var ErrNoReport = errors.New("the incident has no finished report")

// Feedback stores a rating of an incident's report. A helpful rating
// indexes the incident as a past incident (KindIncident); a later
// not_helpful rating removes it from the index again.
func (s *Service) Feedback(ctx context.Context, orgID, incidentID, rating, comment string) (storage.IncidentFeedback, error) {
	if rating != storage.FeedbackHelpful && rating != storage.FeedbackNotHelpful {
		return storage.IncidentFeedback{}, fmt.Errorf("%w: rating must be helpful or not_helpful", ErrInvalid)
	}
	if len(comment) > 4000 {
		return storage.IncidentFeedback{}, fmt.Errorf("%w: comment must be at most 4000 bytes", ErrInvalid)
	}
	inc, err := s.Store.GetIncident(ctx, orgID, incidentID)
	if err != nil {
		return storage.IncidentFeedback{}, err
	}
	f := storage.IncidentFeedback{ID: storage.NewID(), OrgID: orgID, IncidentID: inc.ID, Rating: rating, Comment: strings.TrimSpace(comment), CreatedAt: time.Now()}
	if rating == storage.FeedbackHelpful {
		if err := s.indexIncident(ctx, inc, f.Comment); err != nil {
			return storage.IncidentFeedback{}, err
		}
	} else if err := s.Chunks.ReplaceDocument(ctx, orgID, kb.KindIncident, inc.ID, nil); err != nil {
		return storage.IncidentFeedback{}, fmt.Errorf("unindex incident: %w", err)
	}
	if err := s.Store.AddIncidentFeedback(ctx, f); err != nil {
		return storage.IncidentFeedback{}, err
	}
	return f, nil
}

// indexIncident indexes inc as a past incident (KindIncident).
func (s *Service) indexIncident(ctx context.Context, inc storage.Incident, comment string) error {
	text, err := s.incidentText(ctx, inc, comment)
	if err != nil {
		return err
	}
	parsed, err := parse.Parse(parse.Text, []byte(text))
	if err != nil {
		return err
	}
	if _, err := kb.Index(ctx, s.Chunks, s.Embedder, kb.Source{
		OrgID: inc.OrgID, Kind: kb.KindIncident, DocumentID: inc.ID, Title: inc.Title, Tags: serviceTags(inc),
	}, parsed, s.Opts.ChunkSize, s.Opts.ChunkOverlap); err != nil {
		return fmt.Errorf("index helpful incident: %w", err)
	}
	return nil
}

// incidentText is what a past incident is found by: its title, service,
// alert, the latest report's text and the person's comment.
func (s *Service) incidentText(ctx context.Context, inc storage.Incident, comment string) (string, error) {
	if inc.Investigation == nil {
		return "", ErrNoReport
	}
	v, err := s.Store.GetInvestigation(ctx, inc.OrgID, inc.Investigation.ID)
	if err != nil {
		return "", err
	}
	if len(v.Report) == 0 || string(v.Report) == "null" {
		return "", ErrNoReport
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nalert %s service %s namespace %s severity %s\n", inc.Title, inc.AlertName, inc.Service, inc.Namespace, inc.Severity)
	b.WriteString(reportText(v.Report, 12000))
	if comment != "" {
		b.WriteString("Feedback: " + comment + "\n")
	}
	return b.String(), nil
}

func serviceTags(inc storage.Incident) []string {
	if inc.Service == "" {
		return nil
	}
	return []string{strings.ToLower(inc.Service)}
}

// Similar is a past incident like the current one.
type Similar struct {
	IncidentID string  `json:"incident_id"`
	Title      string  `json:"title"`
	Score      float64 `json:"score"`
	// Reason says why it matched: the passage that did, shortened.
	Reason string `json:"reason"`
}

// SimilarIncidents finds helpful past incidents like inc (never inc
// itself), best first, one entry per incident.
func (s *Service) SimilarIncidents(ctx context.Context, inc storage.Incident, limit int) ([]Similar, error) {
	if limit <= 0 {
		limit = 5
	}
	q := strings.Join(nonEmpty(inc.Title, inc.AlertName, inc.Service, inc.Namespace), " ")
	hits, err := s.Search(ctx, kb.Query{OrgID: inc.OrgID, Kind: kb.KindIncident, Text: q, Limit: 4 * limit}, kb.ModeHybrid)
	if err != nil {
		return nil, err
	}
	out := []Similar{}
	seen := map[string]bool{inc.ID: true}
	for _, h := range hits {
		if seen[h.Chunk.DocumentID] {
			continue
		}
		seen[h.Chunk.DocumentID] = true
		out = append(out, Similar{IncidentID: h.Chunk.DocumentID, Title: h.Chunk.Title, Score: h.Score, Reason: reason(q, h.Chunk.Text)})
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// reason names the words the query and the passage share, and the
// passage's opening.
func reason(q, text string) string {
	words := storage.QueryWords(text)
	var shared []string
	for _, w := range storage.QueryWords(q) {
		if len(w) > 2 && slices.Contains(words, w) {
			shared = append(shared, w)
		}
	}
	lead := strings.Join(strings.Fields(text), " ")
	if len(lead) > 160 {
		lead = strings.ToValidUTF8(lead[:160], "") + "…"
	}
	if len(shared) == 0 {
		return "similar wording: " + lead
	}
	return "shares " + strings.Join(shared, ", ") + ": " + lead
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// RunbookQuery is what the investigator knows about an alert.
type RunbookQuery struct {
	AlertName, Service, Summary string
	// RunbookURL is the alert's runbook_url annotation.
	RunbookURL string
}

// Runbook is the result of RunbookPassages.
type Runbook struct {
	// Document is set when runbook_url resolved to an uploaded document.
	Document *storage.KBDocument
	Hits     []kb.Hit
}

// RunbookPassages returns the best runbook passages for an alert. When the
// runbook_url annotation names an uploaded document (by its source_url),
// the passages come from that document first; the rest of the knowledge
// base fills up to limit.
func (s *Service) RunbookPassages(ctx context.Context, orgID string, q RunbookQuery, limit int) (Runbook, error) {
	if limit <= 0 {
		limit = 3
	}
	var out Runbook
	text := strings.Join(nonEmpty(q.AlertName, q.Service, q.Summary), " ")
	if q.RunbookURL != "" {
		doc, err := s.Store.KBDocumentBySourceURL(ctx, orgID, q.RunbookURL)
		if err == nil {
			out.Document = &doc
			hits, err := s.Search(ctx, kb.Query{OrgID: orgID, Kind: kb.KindDocument, DocumentIDs: []string{doc.ID}, Text: text, Limit: limit}, kb.ModeHybrid)
			if err != nil {
				return Runbook{}, err
			}
			out.Hits = hits
		} else if !errors.Is(err, storage.ErrNotFound) {
			return Runbook{}, err
		}
	}
	if len(out.Hits) < limit && text != "" {
		hits, err := s.Search(ctx, kb.Query{OrgID: orgID, Kind: kb.KindDocument, Text: text, Limit: limit}, kb.ModeHybrid)
		if err != nil {
			return Runbook{}, err
		}
		for _, h := range hits {
			if len(out.Hits) == limit {
				break
			}
			if !slices.ContainsFunc(out.Hits, func(x kb.Hit) bool { return x.Chunk.ID == h.Chunk.ID }) {
				out.Hits = append(out.Hits, h)
			}
		}
	}
	return out, nil
}

package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Knowledge-base document statuses.
const (
	KBProcessing = "processing"
	KBReady      = "ready"
	KBFailed     = "failed"
)

// KBDocument is an uploaded knowledge-base file.
type KBDocument struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"-"`
	DedupeKey   string    `json:"-"`
	Title       string    `json:"title"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	SourceURL   string    `json:"source_url,omitempty"`
	Tags        []string  `json:"tags"`
	Status      string    `json:"status"`
	Error       string    `json:"error,omitempty"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size_bytes"`
	BlobKey     string    `json:"-"`
	Chunks      int       `json:"chunks"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

const kbDocCols = `id, org_id, dedupe_key, title, filename, content_type, source_url, tags, status, error, sha256, size_bytes, blob_key, chunk_count, created_at, updated_at`

func scanKBDocument(sc scanner) (KBDocument, error) {
	var d KBDocument
	var tags string
	var created, updated int64
	if err := sc.Scan(&d.ID, &d.OrgID, &d.DedupeKey, &d.Title, &d.Filename, &d.ContentType, &d.SourceURL, &tags,
		&d.Status, &d.Error, &d.SHA256, &d.Size, &d.BlobKey, &d.Chunks, &created, &updated); err != nil {
		return KBDocument{}, err
	}
	_ = json.Unmarshal([]byte(tags), &d.Tags)
	if d.Tags == nil {
		d.Tags = []string{}
	}
	d.CreatedAt, d.UpdatedAt = FromMicro(created), FromMicro(updated)
	return d, nil
}

// UpsertKBDocument stores an upload as processing: a new row, or, when the
// org already has a document with d.DedupeKey, that row with the new
// version's metadata (its id is kept, so links stay valid). It returns the
// stored row.
func (t *Tx) UpsertKBDocument(ctx context.Context, d KBDocument) (KBDocument, error) {
	now := time.Now()
	tags, _ := json.Marshal(nonNil(d.Tags))
	row := t.tx.QueryRowContext(ctx, `INSERT INTO kb_documents (`+kbDocCols+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'',$10,$11,$12,0,$13,$13)
		ON CONFLICT (org_id, dedupe_key) DO UPDATE SET title = excluded.title, filename = excluded.filename,
			content_type = excluded.content_type, source_url = excluded.source_url, tags = excluded.tags,
			status = excluded.status, error = '', sha256 = excluded.sha256, size_bytes = excluded.size_bytes,
			blob_key = excluded.blob_key, chunk_count = 0,
			updated_at = excluded.updated_at
		RETURNING `+kbDocCols,
		d.ID, d.OrgID, d.DedupeKey, d.Title, d.Filename, d.ContentType, d.SourceURL, string(tags), KBProcessing,
		d.SHA256, d.Size, d.BlobKey, Micro(now))
	out, err := scanKBDocument(row)
	if err != nil {
		return KBDocument{}, fmt.Errorf("store kb document: %w", err)
	}
	return out, nil
}

// KBDocumentByDedupeKey finds the org's document uploaded under key.
func (s *Store) KBDocumentByDedupeKey(ctx context.Context, orgID, key string) (KBDocument, error) {
	return s.oneKBDocument(ctx, `org_id = $1 AND dedupe_key = $2`, orgID, key)
}

// KBDocument loads one of the org's documents (from the writer, so a job
// sees the upload that enqueued it).
func (s *Store) KBDocument(ctx context.Context, orgID, id string) (KBDocument, error) {
	return s.oneKBDocument(ctx, `org_id = $1 AND id = $2`, orgID, id)
}

// KBDocumentBySourceURL finds the org's ready document with that
// source_url (how an alert's runbook_url resolves).
func (s *Store) KBDocumentBySourceURL(ctx context.Context, orgID, url string) (KBDocument, error) {
	return s.oneKBDocument(ctx, `org_id = $1 AND source_url = $2 AND status = 'ready' AND $2 <> ''`, orgID, url)
}

func (s *Store) oneKBDocument(ctx context.Context, where string, args ...any) (KBDocument, error) {
	d, err := scanKBDocument(s.DB.primary().QueryRowContext(ctx, `SELECT `+kbDocCols+` FROM kb_documents WHERE `+where+` ORDER BY updated_at DESC LIMIT 1`, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return KBDocument{}, ErrNotFound
	}
	if err != nil {
		return KBDocument{}, fmt.Errorf("load kb document: %w", err)
	}
	return d, nil
}

// ListKBDocuments lists the org's documents, newest first.
func (s *Store) ListKBDocuments(ctx context.Context, orgID string, limit int) ([]KBDocument, error) {
	rows, err := s.DB.R.QueryContext(ctx, `SELECT `+kbDocCols+` FROM kb_documents WHERE org_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2`, orgID, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list kb documents: %w", err)
	}
	docs, err := collect(rows, scanKBDocument)
	if err != nil {
		return nil, fmt.Errorf("list kb documents: %w", err)
	}
	return docs, nil
}

// ListKBDocumentIDs returns every document id of an org (for re-indexing).
func (s *Store) ListKBDocumentIDs(ctx context.Context, orgID string) ([]string, error) {
	rows, err := s.DB.R.QueryContext(ctx, `SELECT id FROM kb_documents WHERE org_id = $1`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list kb documents: %w", err)
	}
	return collect(rows, func(sc scanner) (string, error) {
		var id string
		err := sc.Scan(&id)
		return id, err
	})
}

// FinishKBDocument records a processing outcome, but only for the version
// with sha256: a job for an upload that has since been replaced changes
// nothing. It reports whether the row was updated.
// A non-empty title replaces an empty one (an upload without a title
// takes the document's own, known only once it is parsed).
func (s *Store) FinishKBDocument(ctx context.Context, orgID, id, sha256, status, reason string, chunks int, title string) (bool, error) {
	res, err := s.DB.W.ExecContext(ctx, `UPDATE kb_documents SET status = $1, error = $2, chunk_count = $3, updated_at = $4,
		title = CASE WHEN title = '' THEN $8 ELSE title END
		WHERE org_id = $5 AND id = $6 AND sha256 = $7`, status, reason, chunks, Micro(time.Now()), orgID, id, sha256, title)
	if err != nil {
		return false, fmt.Errorf("finish kb document: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DeleteKBDocument removes the document row; ErrNotFound when the org has
// no such document. Its chunks and file are the caller's to remove.
func (s *Store) DeleteKBDocument(ctx context.Context, orgID, id string) error {
	res, err := s.DB.W.ExecContext(ctx, `DELETE FROM kb_documents WHERE org_id = $1 AND id = $2`, orgID, id)
	if err != nil {
		return fmt.Errorf("delete kb document: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// IncidentFeedback is a person's rating of an incident's report.
type IncidentFeedback struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"-"`
	IncidentID string    `json:"incident_id"`
	Rating     string    `json:"rating"`
	Comment    string    `json:"comment"`
	CreatedAt  time.Time `json:"created_at"`
}

// Feedback ratings.
const (
	FeedbackHelpful    = "helpful"
	FeedbackNotHelpful = "not_helpful"
)

// AddIncidentFeedback stores a rating.
func (s *Store) AddIncidentFeedback(ctx context.Context, f IncidentFeedback) error {
	_, err := s.DB.W.ExecContext(ctx, `INSERT INTO incident_feedback (id, org_id, incident_id, rating, comment, created_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		f.ID, f.OrgID, f.IncidentID, f.Rating, f.Comment, Micro(f.CreatedAt))
	if err != nil {
		return fmt.Errorf("store incident feedback: %w", err)
	}
	return nil
}

// LatestIncidentFeedback is the incident's most recent rating;
// ErrNotFound when it has none.
func (s *Store) LatestIncidentFeedback(ctx context.Context, orgID, incidentID string) (IncidentFeedback, error) {
	var f IncidentFeedback
	var at int64
	err := s.DB.primary().QueryRowContext(ctx, `SELECT id, org_id, incident_id, rating, comment, created_at FROM incident_feedback
		WHERE org_id = $1 AND incident_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1`, orgID, incidentID).
		Scan(&f.ID, &f.OrgID, &f.IncidentID, &f.Rating, &f.Comment, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return IncidentFeedback{}, ErrNotFound
	}
	if err != nil {
		return IncidentFeedback{}, fmt.Errorf("load incident feedback: %w", err)
	}
	f.CreatedAt = FromMicro(at)
	return f, nil
}

// HelpfulIncidentIDs lists the org's incidents whose latest rating is
// helpful.
func (s *Store) HelpfulIncidentIDs(ctx context.Context, orgID string) ([]string, error) {
	rows, err := s.DB.R.QueryContext(ctx, `SELECT f.incident_id FROM incident_feedback f
		WHERE f.org_id = $1 AND f.rating = 'helpful' AND NOT EXISTS (
			SELECT 1 FROM incident_feedback g WHERE g.org_id = f.org_id AND g.incident_id = f.incident_id
			AND (g.created_at > f.created_at OR (g.created_at = f.created_at AND g.id > f.id)))`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list helpful incidents: %w", err)
	}
	return collect(rows, func(sc scanner) (string, error) {
		var id string
		err := sc.Scan(&id)
		return id, err
	})
}

// Package library is the knowledge base as a service: uploads kept in
// object storage and indexed by jobs, deletion, hybrid search, helpful
// incidents indexed as past incidents, and the look-ups the investigator
// makes (runbook passages for an alert, similar past incidents).
package library

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aurora-oss/aurora/internal/blob"
	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/parse"
	"github.com/aurora-oss/aurora/internal/storage"
)

// Defaults of Options.
const (
	DefaultMaxUploadBytes = 20 << 20
	maxTags               = 20
	maxTitle              = 300
)

// ErrInvalid wraps every rejection of an upload's input (a 400).
var ErrInvalid = errors.New("invalid knowledge-base document")

// ErrTooLarge is returned for an upload over MaxUploadBytes (a 413).
var ErrTooLarge = errors.New("document too large")

// Enqueuer inserts a document's ingestion job in the upload's transaction,
// so an upload is never stored without the job that indexes it.
type Enqueuer interface {
	EnqueueKBDocument(ctx context.Context, tx *storage.Tx, orgID, documentID, sha256 string) error
}

// Options configure a Service.
type Options struct {
	ChunkSize, ChunkOverlap int
	MaxUploadBytes          int64
}

// Service is the knowledge base.
type Service struct {
	Store    *storage.Store
	Chunks   kb.Store
	Embedder kb.Embedder
	Blobs    blob.Store
	Queue    Enqueuer
	Opts     Options
	Log      *slog.Logger
}

// Upload is one file to add or replace.
type Upload struct {
	Filename    string
	ContentType string
	Title       string
	SourceURL   string
	Tags        []string
	Data        []byte
}

// Upload validates and stores a file and enqueues its indexing. A document
// with the same source_url (or, without one, the same file name) in the org
// is replaced: same id, new content, status processing until the job has
// swapped its chunks.
func (s *Service) Upload(ctx context.Context, orgID string, up Upload) (storage.KBDocument, error) {
	limit := s.Opts.MaxUploadBytes
	if limit <= 0 {
		limit = DefaultMaxUploadBytes
	}
	if int64(len(up.Data)) > limit {
		return storage.KBDocument{}, fmt.Errorf("%w: %d bytes, the limit is %d (KB_MAX_UPLOAD_BYTES)", ErrTooLarge, len(up.Data), limit)
	}
	name := path.Base(strings.ReplaceAll(strings.TrimSpace(up.Filename), "\\", "/"))
	if strings.TrimSpace(up.Filename) == "" || name == "." || name == "/" || !utf8.ValidString(name) || len(name) > 255 {
		return storage.KBDocument{}, fmt.Errorf("%w: a file name is required (at most 255 bytes of UTF-8)", ErrInvalid)
	}
	if len(up.Data) == 0 {
		return storage.KBDocument{}, fmt.Errorf("%w: the file %q is empty", ErrInvalid, name)
	}
	if _, err := parse.Format(name, up.ContentType); err != nil {
		return storage.KBDocument{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	tags, err := cleanTags(up.Tags)
	if err != nil {
		return storage.KBDocument{}, err
	}
	title := strings.TrimSpace(up.Title)
	if len(title) > maxTitle || !utf8.ValidString(title) {
		return storage.KBDocument{}, fmt.Errorf("%w: title must be at most %d bytes of UTF-8", ErrInvalid, maxTitle)
	}
	src := strings.TrimSpace(up.SourceURL)
	if src != "" && !(strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")) || len(src) > 2000 {
		return storage.KBDocument{}, fmt.Errorf("%w: source_url must be an http(s) URL of at most 2000 bytes", ErrInvalid)
	}
	// The key names the file by path when the caller sent one (the CLI
	// sends paths relative to the folder it adds), so two README.md in
	// different folders stay two documents.
	key := "file:" + strings.TrimSpace(up.Filename)
	if src != "" {
		key = "url:" + src
	}
	sum := sha256.Sum256(up.Data)
	sha := hex.EncodeToString(sum[:])
	prev, err := s.Store.KBDocumentByDedupeKey(ctx, orgID, key)
	switch {
	case err == nil && prev.SHA256 == sha && prev.Status != storage.KBFailed && sameStrings(prev.Tags, tags) && (title == "" || title == prev.Title):
		return prev, nil // unchanged: nothing to re-index
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return storage.KBDocument{}, err
	}
	id := storage.NewID()
	blobKey := "kb/" + orgID + "/" + id
	if err := s.Blobs.Put(ctx, blobKey, bytes.NewReader(up.Data)); err != nil {
		return storage.KBDocument{}, fmt.Errorf("keep uploaded file: %w", err)
	}
	var doc storage.KBDocument
	_, err = s.Store.InTx(ctx, func(tx *storage.Tx) error {
		var err error
		doc, err = tx.UpsertKBDocument(ctx, storage.KBDocument{
			ID: id, OrgID: orgID, DedupeKey: key, Title: title, Filename: name, ContentType: up.ContentType,
			SourceURL: src, Tags: tags, SHA256: sha, Size: int64(len(up.Data)), BlobKey: blobKey,
		})
		if err != nil {
			return err
		}
		return s.Queue.EnqueueKBDocument(ctx, tx, orgID, doc.ID, sha)
	})
	if err != nil {
		_ = s.Blobs.Delete(context.WithoutCancel(ctx), blobKey)
		return storage.KBDocument{}, err
	}
	if err == nil && prev.BlobKey != "" && prev.BlobKey != blobKey {
		// The replaced version's file; its chunks go when the job swaps them.
		if err := s.Blobs.Delete(ctx, prev.BlobKey); err != nil {
			s.Log.Warn("delete replaced kb file", "org", orgID, "document", doc.ID, "err", err)
		}
	}
	return doc, nil
}

// ErrPermanent marks an ingestion failure that a retry cannot fix.
var ErrPermanent = errors.New("permanent")

// Process indexes one version (sha256) of a document: the ingestion job's
// work. A version that has been replaced since is skipped. A file that
// cannot be parsed fails the document at once (wrapping ErrPermanent);
// other errors are returned for a retry and fail the document on the final
// attempt. Everything it does is idempotent, so a worker killed halfway
// leaves the job to be rescued and run again.
func (s *Service) Process(ctx context.Context, orgID, documentID, sha string, final bool) error {
	doc, err := s.Store.KBDocument(ctx, orgID, documentID)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("document %s was deleted: %w", documentID, ErrPermanent)
	}
	if err != nil {
		return err
	}
	if doc.SHA256 != sha {
		return nil // replaced by a newer upload, whose own job indexes it
	}
	fail := func(reason string) error {
		if _, err := s.Store.FinishKBDocument(ctx, orgID, documentID, sha, storage.KBFailed, reason, 0, ""); err != nil {
			return err
		}
		return fmt.Errorf("%s: %w", reason, ErrPermanent)
	}
	r, err := s.Blobs.Get(ctx, doc.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		return fail("the uploaded file is missing from object storage")
	}
	if err != nil {
		return s.retry(ctx, doc, final, fmt.Errorf("read uploaded file: %w", err))
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return s.retry(ctx, doc, final, fmt.Errorf("read uploaded file: %w", err))
	}
	format, err := parse.Format(doc.Filename, doc.ContentType)
	if err != nil {
		return fail(err.Error())
	}
	parsed, err := parse.Parse(format, data)
	if err != nil {
		return fail("could not read the " + format + " file: " + err.Error())
	}
	if strings.TrimSpace(parsed.Text) == "" {
		return fail("the file has no text")
	}
	title := doc.Title
	if title == "" {
		title = parsed.Title
	}
	if title == "" {
		title = strings.TrimSuffix(doc.Filename, path.Ext(doc.Filename))
	}
	n, err := kb.Index(ctx, s.Chunks, s.Embedder, kb.Source{
		OrgID: orgID, Kind: kb.KindDocument, DocumentID: doc.ID, Title: title, SourceURL: doc.SourceURL, Tags: doc.Tags,
	}, parsed, s.Opts.ChunkSize, s.Opts.ChunkOverlap)
	if err != nil {
		return s.retry(ctx, doc, final, fmt.Errorf("index: %w", err))
	}
	ok, err := s.Store.FinishKBDocument(ctx, orgID, doc.ID, sha, storage.KBReady, "", n, title)
	if err != nil {
		return err
	}
	if !ok {
		// Replaced or deleted while indexing: the newer upload's job (or the
		// delete) owns the chunks now; a delete's chunks are removed here.
		if _, err := s.Store.KBDocument(ctx, orgID, doc.ID); errors.Is(err, storage.ErrNotFound) {
			return s.Chunks.ReplaceDocument(ctx, orgID, kb.KindDocument, doc.ID, nil)
		}
	}
	return nil
}

func (s *Service) retry(ctx context.Context, doc storage.KBDocument, final bool, err error) error {
	if final {
		if _, ferr := s.Store.FinishKBDocument(ctx, doc.OrgID, doc.ID, doc.SHA256, storage.KBFailed, err.Error(), 0, ""); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	return err
}

// Delete removes a document, its chunks and its file.
func (s *Service) Delete(ctx context.Context, orgID, id string) error {
	doc, err := s.Store.KBDocument(ctx, orgID, id)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteKBDocument(ctx, orgID, id); err != nil {
		return err
	}
	if err := s.Chunks.ReplaceDocument(ctx, orgID, kb.KindDocument, id, nil); err != nil {
		return fmt.Errorf("delete chunks: %w", err)
	}
	if err := s.Blobs.Delete(ctx, doc.BlobKey); err != nil {
		return fmt.Errorf("delete file: %w", err)
	}
	return nil
}

// Search runs hybrid retrieval (or mode) in the org.
func (s *Service) Search(ctx context.Context, q kb.Query, mode string) ([]kb.Hit, error) {
	return kb.Searcher{Store: s.Chunks, Embedder: s.Embedder}.Search(ctx, q, mode)
}

func cleanTags(in []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, raw := range in {
		for _, t := range strings.Split(raw, ",") {
			t = strings.ToLower(strings.TrimSpace(t))
			if t == "" || seen[t] {
				continue
			}
			if len(t) > 64 || strings.ContainsAny(t, "|\x00") || !utf8.ValidString(t) {
				return nil, fmt.Errorf("%w: tag %q: at most 64 bytes, no '|'", ErrInvalid, t)
			}
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, fmt.Errorf("%w: at most %d tags", ErrInvalid, maxTags)
	}
	return out, nil
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// reportText flattens an investigation report (JSON) into its strings, in
// document order, for indexing: the verdict, root cause, explanation and
// next steps are all text fields.
func reportText(raw []byte, limit int) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		if b.Len() >= limit {
			return
		}
		switch x := v.(type) {
		case string:
			if strings.TrimSpace(x) != "" {
				b.WriteString(x)
				b.WriteString("\n")
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, k := range sortedKeys(x) {
				walk(x[k])
			}
		}
	}
	walk(v)
	s := b.String()
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "")
	}
	return s
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Reindex re-enqueues every document of every org and re-indexes helpful
// incidents: what a change of embedder needs after the store was reset to
// the new vector space (embed.EnsureSpace).
func (s *Service) Reindex(ctx context.Context) error {
	orgs, err := s.Store.ListOrgIDs(ctx)
	if err != nil {
		return err
	}
	for _, org := range orgs {
		docs, err := s.Store.ListKBDocuments(ctx, org, 1000)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if _, err := s.Store.InTx(ctx, func(tx *storage.Tx) error {
				return s.Queue.EnqueueKBDocument(ctx, tx, org, d.ID, d.SHA256)
			}); err != nil {
				return fmt.Errorf("re-index document %s: %w", d.ID, err)
			}
		}
		ids, err := s.Store.HelpfulIncidentIDs(ctx, org)
		if err != nil {
			return err
		}
		for _, id := range ids {
			f, err := s.Store.LatestIncidentFeedback(ctx, org, id)
			if err != nil {
				return err
			}
			inc, err := s.Store.GetIncident(ctx, org, id)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := s.indexIncident(ctx, inc, f.Comment); err != nil {
				s.Log.Warn("re-index helpful incident", "org", org, "incident", id, "err", err)
			}
		}
	}
	return nil
}

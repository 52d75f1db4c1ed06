package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/library"
	"github.com/aurora-oss/aurora/internal/kb/parse"
	"github.com/aurora-oss/aurora/internal/storage"
)

// kbMultipartSlack is what a multipart envelope and its small fields may
// add to the file itself.
const kbMultipartSlack = 64 << 10

// uploadKBDocument takes multipart/form-data with the file in "file" and
// optional "title", "tags" (comma-separated or repeated) and "source_url".
func (s *Server) uploadKBDocument(w http.ResponseWriter, r *http.Request) {
	if s.KB == nil {
		writeError(w, CodeUnavailable, "the knowledge base is not configured on this server")
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		writeError(w, CodeUnsupportedMedia, "send multipart/form-data with the document in a field named file")
		return
	}
	limit := s.KB.Opts.MaxUploadBytes
	if limit <= 0 {
		limit = library.DefaultMaxUploadBytes
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+kbMultipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, CodeBadRequest, "malformed multipart body: "+err.Error())
		return
	}
	var up library.Upload
	gotFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.kbBodyError(w, err, limit)
			return
		}
		name := part.FormName()
		switch name {
		case "file":
			if gotFile {
				writeError(w, CodeInvalidPayload, "one file per upload")
				return
			}
			gotFile = true
			up.Filename = part.FileName()
			up.ContentType = part.Header.Get("Content-Type")
			if badText(up.Filename) || badText(up.ContentType) {
				writeError(w, CodeInvalidPayload, "the file's name or Content-Type holds a NUL character or invalid UTF-8")
				return
			}
			up.Data, err = io.ReadAll(io.LimitReader(part, limit+1))
			if err != nil {
				s.kbBodyError(w, err, limit)
				return
			}
			if int64(len(up.Data)) > limit {
				writeError(w, CodeTooLarge, "document over "+strconv.FormatInt(limit, 10)+" bytes (KB_MAX_UPLOAD_BYTES)")
				return
			}
		case "title", "tags", "source_url":
			b, err := io.ReadAll(io.LimitReader(part, 4097))
			if err != nil {
				s.kbBodyError(w, err, limit)
				return
			}
			if len(b) > 4096 {
				writeError(w, CodeInvalidPayload, "field "+name+" over 4096 bytes")
				return
			}
			if badText(string(b)) {
				writeError(w, CodeInvalidPayload, "field "+name+": holds a NUL character or invalid UTF-8")
				return
			}
			switch name {
			case "title":
				up.Title = string(b)
			case "tags":
				up.Tags = append(up.Tags, string(b))
			case "source_url":
				up.SourceURL = string(b)
			}
		default:
			writeError(w, CodeInvalidPayload, "unknown field "+strconv.Quote(name)+" (want file, title, tags, source_url)")
			return
		}
	}
	if !gotFile {
		writeError(w, CodeInvalidPayload, "multipart upload needs a file field named file")
		return
	}
	doc, err := s.KB.Upload(r.Context(), principal(r).OrgID, up)
	switch {
	case errors.Is(err, library.ErrTooLarge):
		writeError(w, CodeTooLarge, err.Error())
		return
	case errors.Is(err, parse.ErrUnsupported):
		writeError(w, CodeUnsupportedMedia, strings.TrimPrefix(err.Error(), library.ErrInvalid.Error()+": "))
		return
	case errors.Is(err, library.ErrInvalid):
		writeError(w, CodeInvalidPayload, err.Error())
		return
	case err != nil:
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": doc.ID, "status": doc.Status, "document": doc})
}

func (s *Server) kbBodyError(w http.ResponseWriter, err error, limit int64) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, CodeTooLarge, "document over "+strconv.FormatInt(limit, 10)+" bytes (KB_MAX_UPLOAD_BYTES)")
		return
	}
	writeError(w, CodeBadRequest, "malformed multipart body: "+err.Error())
}

func (s *Server) listKBDocuments(w http.ResponseWriter, r *http.Request) {
	if s.KB == nil {
		writeError(w, CodeUnavailable, "the knowledge base is not configured on this server")
		return
	}
	limit, ok := queryLimit(w, r, 100, 1000)
	if !ok {
		return
	}
	docs, err := s.Store.ListKBDocuments(r.Context(), principal(r).OrgID, limit)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": docs})
}

func (s *Server) getKBDocument(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	doc, err := s.Store.KBDocument(r.Context(), principal(r).OrgID, id)
	if err != nil {
		s.storeError(w, r, err, "document "+id)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func (s *Server) deleteKBDocument(w http.ResponseWriter, r *http.Request) {
	if s.KB == nil {
		writeError(w, CodeUnavailable, "the knowledge base is not configured on this server")
		return
	}
	id := r.PathValue("id")
	if err := s.KB.Delete(r.Context(), principal(r).OrgID, id); err != nil {
		s.storeError(w, r, err, "document "+id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// kbSearchItem is one search result as the API returns it.
type kbSearchItem struct {
	DocumentID  string   `json:"document_id"`
	ChunkID     string   `json:"chunk_id"`
	Kind        string   `json:"kind"`
	Title       string   `json:"title"`
	HeadingPath []string `json:"heading_path"`
	Text        string   `json:"text"`
	Start       int      `json:"start"`
	End         int      `json:"end"`
	Score       float64  `json:"score"`
	SourceURL   string   `json:"source_url,omitempty"`
}

// searchKB: GET /api/v1/kb/search?q=…&limit=…[&kind=document|incident]
// [&mode=hybrid|lexical|vector][&document_id=…][&tag=…].
func (s *Server) searchKB(w http.ResponseWriter, r *http.Request) {
	if s.KB == nil {
		writeError(w, CodeUnavailable, "the knowledge base is not configured on this server")
		return
	}
	v := r.URL.Query()
	q := strings.TrimSpace(v.Get("q"))
	if q == "" {
		writeError(w, CodeBadRequest, "q is required")
		return
	}
	if len(q) > 2000 {
		writeError(w, CodeBadRequest, "q must be at most 2000 bytes")
		return
	}
	limit, ok := queryLimit(w, r, 10, 100)
	if !ok {
		return
	}
	kind := v.Get("kind")
	if kind != "" && kind != kb.KindDocument && kind != kb.KindIncident {
		writeError(w, CodeBadRequest, "kind must be document or incident")
		return
	}
	mode := v.Get("mode")
	if mode != "" && mode != kb.ModeHybrid && mode != kb.ModeLexical && mode != kb.ModeVector {
		writeError(w, CodeBadRequest, "mode must be hybrid, lexical or vector")
		return
	}
	hits, err := s.KB.Search(r.Context(), kb.Query{
		OrgID: principal(r).OrgID, Kind: kind, Text: q, Limit: limit,
		DocumentIDs: v["document_id"], Tags: v["tag"],
	}, mode)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	items := make([]kbSearchItem, 0, len(hits))
	for _, h := range hits {
		c := h.Chunk
		hp := c.HeadingPath
		if hp == nil {
			hp = []string{}
		}
		items = append(items, kbSearchItem{DocumentID: c.DocumentID, ChunkID: c.ID, Kind: c.Kind, Title: c.Title, HeadingPath: hp,
			Text: c.Text, Start: c.Start, End: c.End, Score: h.Score, SourceURL: c.SourceURL})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// postIncidentFeedback: {"rating":"helpful|not_helpful","comment":"…"}.
func (s *Server) postIncidentFeedback(w http.ResponseWriter, r *http.Request) {
	if s.KB == nil {
		writeError(w, CodeUnavailable, "the knowledge base is not configured on this server")
		return
	}
	var body struct {
		Rating  string `json:"rating"`
		Comment string `json:"comment"`
	}
	if !readJSON(w, r, apiBodyLimit, &body) {
		return
	}
	id := r.PathValue("id")
	f, err := s.KB.Feedback(r.Context(), principal(r).OrgID, id, body.Rating, body.Comment)
	switch {
	case errors.Is(err, library.ErrInvalid):
		writeError(w, CodeInvalidPayload, err.Error())
	case errors.Is(err, library.ErrNoReport):
		writeError(w, CodeConflict, "incident "+id+" has no finished report to rate yet")
	case err != nil:
		s.storeError(w, r, err, "incident "+id)
	default:
		writeJSON(w, http.StatusCreated, f)
	}
}

// similarIncidents is GET /api/v1/incidents/{id}'s similar_incidents; an
// error there degrades to an empty list (logged), never a failed page.
func (s *Server) similarIncidents(r *http.Request, inc storage.Incident) []library.Similar {
	if s.KB == nil {
		return []library.Similar{}
	}
	sim, err := s.KB.SimilarIncidents(r.Context(), inc, 5)
	if err != nil {
		s.log.Warn("similar incidents", "incident", inc.ID, "err", err)
		return []library.Similar{}
	}
	return sim
}

func queryLimit(w http.ResponseWriter, r *http.Request, def, most int) (int, bool) {
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > most {
		writeError(w, CodeBadRequest, "limit must be an integer from 1 to "+strconv.Itoa(most))
		return 0, false
	}
	return n, true
}

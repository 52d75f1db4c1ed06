package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/api"
	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/blob"
	"github.com/aurora-oss/aurora/internal/jobs"
	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/library"
	"github.com/aurora-oss/aurora/internal/metric"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/storage/storagetest"
)

type kbBundle struct {
	srv    *httptest.Server
	store  *storage.Store
	blobs  *blob.Local
	tokens map[auth.Role]string
}

// kbSetup runs the API with the knowledge base and a worker that indexes
// uploads, on SQLite.
func kbSetup(t *testing.T, maxUpload int64) *kbBundle {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, org := storagetest.SQLite(t)
	db := store.DB
	blobs, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := kb.NewHashEmbedder(256)
	chunks := storage.NewKBStore(db)
	if err := chunks.Reset(ctx, e.Name(), e.Dimensions()); err != nil {
		t.Fatal(err)
	}
	svc := &library.Service{Store: store, Chunks: chunks, Embedder: e, Blobs: blobs, Log: log,
		Opts: library.Options{ChunkSize: 400, ChunkOverlap: 50, MaxUploadBytes: maxUpload}}
	q, err := jobs.New(db, jobs.Options{ProcessID: "t", Work: true, Concurrency: 1, JobTimeout: time.Minute, RescueAfter: 2 * time.Minute,
		Log: log, Store: store, KB: svc})
	if err != nil {
		t.Fatal(err)
	}
	svc.Queue = q
	wctx, cancel := context.WithCancel(ctx)
	if err := q.Client.Start(wctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = q.Client.Stop(sctx)
	})
	h := api.New(api.Options{Store: store, Metrics: metric.New(store, nil), Log: log, PublicURL: "http://aurora.test", MaxBodyBytes: 64 << 10, Version: "test", KB: svc})
	b := &kbBundle{srv: httptest.NewServer(h), store: store, blobs: blobs, tokens: map[auth.Role]string{}}
	t.Cleanup(b.srv.Close)
	for _, r := range []auth.Role{auth.Viewer, auth.Editor} {
		tok := auth.NewToken(auth.APITokenPrefix)
		if _, err := store.CreateAPIToken(ctx, org.ID, string(r), string(r), auth.HashToken(tok)); err != nil {
			t.Fatal(err)
		}
		b.tokens[r] = tok
	}
	return b
}

type part struct{ name, filename, ctype, body string }

func multipartBody(t *testing.T, parts ...part) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.filename != "" {
			h.Set("Content-Disposition", `form-data; name="`+p.name+`"; filename="`+p.filename+`"`)
		} else {
			h.Set("Content-Disposition", `form-data; name="`+p.name+`"`)
		}
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		pw, _ := w.CreatePart(h)
		pw.Write([]byte(p.body))
	}
	w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func (b *kbBundle) do(t *testing.T, role auth.Role, method, path, ctype string, body []byte, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+b.tokens[role])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode
}

func (b *kbBundle) waitStatus(t *testing.T, id string) storage.KBDocument {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var d storage.KBDocument
		if code := b.do(t, auth.Viewer, "GET", "/api/v1/kb/documents/"+id, "", nil, &d); code != 200 {
			t.Fatalf("GET document: %d", code)
		}
		if d.Status != storage.KBProcessing {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("document %s still processing", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type searchResp struct {
	Items []struct {
		DocumentID  string   `json:"document_id"`
		ChunkID     string   `json:"chunk_id"`
		Title       string   `json:"title"`
		HeadingPath []string `json:"heading_path"`
		Text        string   `json:"text"`
		Start       int      `json:"start"`
		End         int      `json:"end"`
		Score       float64  `json:"score"`
	} `json:"items"`
}

func TestKBDocumentLifecycle(t *testing.T) {
	t.Parallel()
	b := kbSetup(t, 0)
	md := "# Redis runbook\n\n## Memory full\n\nWhen redis memory is full evict keys or raise maxmemory.\n\n## Replication lag\n\nCheck the replica link.\n"
	ct, body := multipartBody(t, part{"file", "redis.md", "text/markdown", md}, part{"tags", "", "", "cache, redis"}, part{"source_url", "", "", "https://wiki.example.com/redis"})
	var up struct{ ID, Status string }
	if code := b.do(t, auth.Editor, "POST", "/api/v1/kb/documents", ct, body, &up); code != http.StatusAccepted || up.ID == "" || up.Status != "processing" {
		t.Fatalf("upload: %d %+v", code, up)
	}
	d := b.waitStatus(t, up.ID)
	if d.Status != storage.KBReady || d.Chunks != 3 || d.Title != "Redis runbook" || d.SourceURL != "https://wiki.example.com/redis" || strings.Join(d.Tags, ",") != "cache,redis" {
		t.Fatalf("document after indexing: %+v", d)
	}
	var sr searchResp
	if code := b.do(t, auth.Viewer, "GET", "/api/v1/kb/search?q=redis+memory+full&limit=2", "", nil, &sr); code != 200 || len(sr.Items) == 0 {
		t.Fatalf("search: %d %+v", code, sr)
	}
	top := sr.Items[0]
	if top.DocumentID != up.ID || top.Title != "Redis runbook" || strings.Join(top.HeadingPath, "/") != "Redis runbook/Memory full" || md[top.Start:top.End] != top.Text || top.ChunkID == "" {
		t.Fatalf("top hit: %+v", top)
	}
	if len(sr.Items) > 2 {
		t.Fatalf("limit 2 gave %d", len(sr.Items))
	}
	// Re-upload under the same source_url: same document, new chunks only.
	md2 := "# Redis runbook\n\n## Memory full\n\nFlush the session cache namespace.\n"
	ct, body = multipartBody(t, part{"file", "redis-v2.md", "", md2}, part{"source_url", "", "", "https://wiki.example.com/redis"})
	var up2 struct{ ID string }
	if code := b.do(t, auth.Editor, "POST", "/api/v1/kb/documents", ct, body, &up2); code != http.StatusAccepted || up2.ID != up.ID {
		t.Fatalf("re-upload: %d id %s, want the same id %s", code, up2.ID, up.ID)
	}
	if d := b.waitStatus(t, up.ID); d.Chunks != 2 {
		t.Fatalf("re-uploaded document has %d chunks", d.Chunks)
	}
	b.do(t, auth.Viewer, "GET", "/api/v1/kb/search?q=replica+link&mode=lexical", "", nil, &sr)
	if len(sr.Items) != 0 {
		t.Fatalf("old version's passage still found: %+v", sr.Items)
	}
	var list struct{ Items []storage.KBDocument }
	if code := b.do(t, auth.Viewer, "GET", "/api/v1/kb/documents", "", nil, &list); code != 200 || len(list.Items) != 1 {
		t.Fatalf("list: %d %d", code, len(list.Items))
	}
	keys, _ := b.blobs.List(context.Background(), "")
	if len(keys) != 1 {
		t.Fatalf("object storage holds %v, want only the current version", keys)
	}
	if code := b.do(t, auth.Viewer, "DELETE", "/api/v1/kb/documents/"+up.ID, "", nil, nil); code != http.StatusForbidden {
		t.Fatalf("viewer delete: %d", code)
	}
	if code := b.do(t, auth.Editor, "DELETE", "/api/v1/kb/documents/"+up.ID, "", nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if code := b.do(t, auth.Viewer, "GET", "/api/v1/kb/documents/"+up.ID, "", nil, nil); code != http.StatusNotFound {
		t.Fatalf("get deleted: %d", code)
	}
	b.do(t, auth.Viewer, "GET", "/api/v1/kb/search?q=session+cache", "", nil, &sr)
	if len(sr.Items) != 0 {
		t.Fatalf("deleted document still searchable: %+v", sr.Items)
	}
	if keys, _ := b.blobs.List(context.Background(), ""); len(keys) != 0 {
		t.Fatalf("deleted document's file kept: %v", keys)
	}
}

func TestKBFailedDocument(t *testing.T) {
	t.Parallel()
	b := kbSetup(t, 0)
	ct, body := multipartBody(t, part{"file", "broken.pdf", "application/pdf", "%PDF-1.4 this is not a pdf"})
	var up struct{ ID string }
	if code := b.do(t, auth.Editor, "POST", "/api/v1/kb/documents", ct, body, &up); code != http.StatusAccepted {
		t.Fatalf("upload: %d", code)
	}
	d := b.waitStatus(t, up.ID)
	if d.Status != storage.KBFailed || !strings.Contains(d.Error, "pdf") {
		t.Fatalf("broken PDF: status %s reason %q", d.Status, d.Error)
	}
}

func TestKBBadRequests(t *testing.T) {
	t.Parallel()
	b := kbSetup(t, 1024)
	file := func(name, body string) part { return part{"file", name, "", body} }
	cases := []struct {
		name  string
		role  auth.Role
		ctype string
		body  []byte
		want  int
		code  string
	}{
		{"json body", auth.Editor, "application/json", []byte(`{}`), 415, "unsupported_media_type"},
		{"viewer", auth.Viewer, "", nil, 403, "forbidden"},
		{"no file", auth.Editor, "", nil, 422, "invalid_payload"},
		{"unknown format", auth.Editor, "docx", nil, 415, "unsupported_media_type"},
		{"empty file", auth.Editor, "empty", nil, 422, "invalid_payload"},
		{"too large", auth.Editor, "large", nil, 413, "payload_too_large"},
		{"bad source url", auth.Editor, "badurl", nil, 422, "invalid_payload"},
		{"unknown field", auth.Editor, "field", nil, 422, "invalid_payload"},
		{"NUL in a title", auth.Editor, "nul", nil, 422, "invalid_payload"},
		{"invalid UTF-8 in a file name", auth.Editor, "badname", nil, 422, "invalid_payload"},
		{"malformed multipart", auth.Editor, "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.md\"\r\n\r\nunterminated"), 400, "bad_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctype, body := c.ctype, c.body
			switch c.ctype {
			case "":
				ctype, body = multipartBody(t, part{"title", "", "", "x"})
			case "docx":
				ctype, body = multipartBody(t, file("a.docx", "PK"))
			case "empty":
				ctype, body = multipartBody(t, file("a.md", ""))
			case "large":
				ctype, body = multipartBody(t, file("a.md", strings.Repeat("x", 2000)))
			case "badurl":
				ctype, body = multipartBody(t, file("a.md", "# x"), part{"source_url", "", "", "javascript:alert(1)"})
			case "field":
				ctype, body = multipartBody(t, file("a.md", "# x"), part{"owner", "", "", "me"})
			case "nul":
				ctype, body = multipartBody(t, file("a.md", "# x"), part{"title", "", "", "a\x00b"})
			case "badname":
				ctype, body = multipartBody(t, file("a\xff.md", "# x"))
			}
			var e api.ErrorBody
			if code := b.do(t, c.role, "POST", "/api/v1/kb/documents", ctype, body, &e); code != c.want || e.Error.Code != c.code {
				t.Fatalf("%d %+v, want %d %s", code, e, c.want, c.code)
			}
		})
	}
	for _, q := range []string{"", "?q=", "?q=x&limit=0", "?q=x&limit=101", "?q=x&limit=abc", "?q=x&mode=fuzzy", "?q=x&kind=postmortem", "?q=" + strings.Repeat("a", 2001)} {
		var e api.ErrorBody
		if code := b.do(t, auth.Viewer, "GET", "/api/v1/kb/search"+q, "", nil, &e); code != 400 || e.Error.Code != "bad_request" {
			t.Errorf("search %q: %d %+v, want 400", q, code, e)
		}
	}
	var e api.ErrorBody
	if code := b.do(t, auth.Viewer, "GET", "/api/v1/kb/documents/nope", "", nil, &e); code != 404 {
		t.Fatalf("unknown document: %d", code)
	}
	if docs, _ := b.store.ListKBDocuments(context.Background(), "", 10); len(docs) != 0 {
		t.Fatalf("rejected uploads were stored: %v", docs)
	}
}

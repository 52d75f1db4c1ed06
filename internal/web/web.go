// Package web is Aurora's browser UI, served by the binary itself: pages
// rendered with html/template from embedded files, htmx (vendored) for
// partial updates, and small plain scripts for live events and actions.
// Pages read through the storage layer; every change a page makes goes
// through the REST API with the session cookie and a CSRF token, so the API
// alone decides what a role may do.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the UI.
type Options struct {
	Store *storage.Store
	Log   *slog.Logger
	// PublicURL is the base URL shown in webhook URLs and snippets.
	PublicURL string
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration
	Version    string
	// ChatURL is AURORA_CHAT_URL: where the chat WebSocket lives when
	// chatbots run apart from servers ("" = this origin).
	ChatURL string
	// APIRoutes are the API's "METHOD /path" patterns (api.Routes()); pages
	// for backends the API does not serve say so instead of pretending.
	APIRoutes []string
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// Handler serves the UI.
type Handler struct {
	o      Options
	mux    *http.ServeMux
	pages  map[string]*template.Template
	assets map[string]string // file name → content hash, for cache busting
	// gzipped holds the static files compressed once at start-up.
	gzipped map[string][]byte
	csp     string
}

// pageNames are the templates rendered inside the layout.
var pageNames = []string{"login", "dashboard", "incident", "chat", "integrations", "admin", "error", "kb"}

// New builds the UI handler.
func New(o Options) (*Handler, error) {
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	h := &Handler{o: o, mux: http.NewServeMux(), pages: map[string]*template.Template{}, assets: map[string]string{},
		gzipped: map[string][]byte{}, csp: csp(o.ChatURL)}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		h.assets[name] = hex.EncodeToString(sum[:6])
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(b)
		if err := zw.Close(); err != nil {
			return err
		}
		h.gzipped[name] = gz.Bytes()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: read assets: %w", err)
	}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(h.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	h.routes()
	return h, nil
}

func (h *Handler) now() time.Time {
	if h.o.Now != nil {
		return h.o.Now()
	}
	return time.Now()
}

func (h *Handler) routes() {
	h.mux.HandleFunc("GET /static/{file...}", h.static)
	h.mux.HandleFunc("GET /login", h.loginPage)
	h.mux.HandleFunc("POST /login", h.login)
	h.mux.HandleFunc("POST /logout", h.logout)
	h.mux.HandleFunc("GET /{$}", h.requireSession(h.dashboard))
	h.mux.HandleFunc("GET /incidents/{id}", h.requireSession(h.incident))
	h.mux.HandleFunc("GET /chat", h.requireSession(h.chat))
	h.mux.HandleFunc("GET /integrations", h.requireSession(h.integrations))
	h.mux.HandleFunc("GET /admin", h.requireSession(h.admin))
	h.mux.HandleFunc("GET /kb", h.requireSession(h.knowledgeBase))
	h.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, h.asset("favicon.svg"), http.StatusMovedPermanently)
	})
	h.mux.HandleFunc("/", h.requireSession(func(w http.ResponseWriter, r *http.Request, s *session) {
		h.errorPage(w, r, s, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	}))
}

// csp allows only this origin's scripts and styles: no inline script runs,
// so markup smuggled into a page (it should not get there: templates
// escape) could not execute anyway. connect-src adds the chat socket's
// origin when chat runs elsewhere.
func csp(chatURL string) string {
	connect := "'self'"
	if u, err := url.Parse(chatURL); err == nil && u.Host != "" {
		scheme := map[string]string{"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}[u.Scheme]
		if scheme != "" {
			connect += " " + scheme + "://" + u.Host
		}
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src " + connect + "; " +
		"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// ServeHTTP adds the UI's security headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := staticFS.ReadFile(path.Join("static", path.Clean("/" + name)[1:]))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if v := r.URL.Query().Get("v"); v != "" && v == h.assets[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+h.assets[name]+`"`)
	w.Header().Add("Vary", "Accept-Encoding")
	if gz, ok := h.gzipped[name]; ok && acceptsGzip(r) && r.Header.Get("Range") == "" {
		if r.Header.Get("If-None-Match") == `"`+h.assets[name]+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(gz)))
		_, _ = w.Write(gz)
		return
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// acceptsGzip reports whether the client takes gzip (every browser does).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// asset is the URL of a static file with its content hash.
func (h *Handler) asset(name string) string {
	return "/static/" + name + "?v=" + h.assets[name]
}

// page is what the layout renders.
type page struct {
	Title   string
	Nav     string
	Session *session
	Data    any
	// LastEvent is the org's last event id, read before the page's data:
	// the live stream resumes after it, so a change made while the page
	// was rendered or loading is not missed.
	LastEvent int64
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.o.Log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) && buf.Len() > 1024 {
		// Pages are dense tables: gzip makes them about 8 times smaller.
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(status)
		zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		_, _ = zw.Write(buf.Bytes())
		_ = zw.Close()
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	h.render(w, r, status, "error", page{Title: http.StatusText(status), Session: s, Data: map[string]any{"Status": status, "Message": msg}})
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.o.Log.Error("web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	h.errorPage(w, r, nil, http.StatusInternalServerError, "Something went wrong on the server; it is logged. Try again in a moment.")
}

// hasRoute reports whether the API serves a route, e.g. "GET /api/v1/llm".
func (h *Handler) hasRoute(pattern string) bool { return slices.Contains(h.o.APIRoutes, pattern) }

package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/event"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/kb/library"
	"github.com/aurora-oss/aurora/internal/llm"
	"github.com/aurora-oss/aurora/internal/metric"
	"github.com/aurora-oss/aurora/internal/secret"
	"github.com/aurora-oss/aurora/internal/sns"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolconfig"
)

// Check is one readiness check.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
	// Degraded marks a dependency Aurora works without (Redis, read
	// replicas): its failure shows as "degraded" and keeps the process
	// ready.
	Degraded bool
}

// Options configure the server.
type Options struct {
	Store     *storage.Store
	Incidents *incident.Service
	Secrets   *secret.Store
	// SNS verifies Amazon SNS deliveries (CloudWatch alarms).
	SNS       *sns.Verifier
	Bus       *event.Bus
	Metrics   *metric.Metrics
	Log       *slog.Logger
	PublicURL string
	// MaxBodyBytes limits webhook bodies.
	MaxBodyBytes int64
	Checks       []Check
	Pprof        bool
	Version      string
	// ChatURL is AURORA_CHAT_URL: where chat clients open the socket when
	// chatbots run apart from servers ("" = this origin).
	ChatURL string
	// Toolsets holds each org's toolset settings (nil: the toolset routes
	// answer 503).
	Toolsets *toolconfig.Service
	// UI serves the paths no API route matches (the web UI); nil keeps a
	// plain-text notice at /.
	UI http.Handler
	// Sessions authenticates the web UI's session cookie on API routes, in
	// addition to bearer tokens; nil accepts bearer tokens only.
	Sessions SessionAuthenticator
	// LLM resolves the configured language models (nil: no model is
	// configured; /api/v1/llm says so).
	LLM *llm.Router
	// KB is the knowledge base (nil: its routes answer 503).
	KB *library.Service
}

// SessionAuthenticator authenticates a browser session (the web UI's
// cookie). It returns ok=false when the request carries no session cookie;
// for unsafe methods it checks the CSRF token itself and returns an error
// wrapping ErrCSRF when it is missing or wrong, and ErrSessionInvalid for an
// unknown or expired session.
type SessionAuthenticator interface {
	AuthenticateSession(r *http.Request) (p Principal, ok bool, err error)
}

// Errors of SessionAuthenticator.
var (
	ErrCSRF           = errors.New("missing or wrong CSRF token")
	ErrSessionInvalid = errors.New("session expired or signed out")
)

// Server is the HTTP handler.
type Server struct {
	Options
	log *slog.Logger
	mux *http.ServeMux
	// streams is closed on shutdown to end live-event streams, which never
	// finish by themselves, while ordinary requests run to completion.
	streams   chan struct{}
	closeOnce sync.Once
}

// CloseStreams ends every live-event stream (clients reconnect elsewhere
// with Last-Event-ID). Call it when shutdown begins.
func (s *Server) CloseStreams() { s.closeOnce.Do(func() { close(s.streams) }) }

// apiBodyLimit bounds REST request bodies (they are small objects).
const apiBodyLimit = 1 << 20

// New builds the handler with every route.
func New(o Options) *Server {
	s := &Server{Options: o, log: o.Log, mux: http.NewServeMux(), streams: make(chan struct{})}
	for _, rt := range s.routes() {
		h := rt.h
		if rt.role != "" {
			h = s.authorize(rt.role, h)
		}
		s.mux.Handle(rt.pattern, h)
	}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{Registry: o.Metrics.Registry}))
	if o.Pprof {
		// Profiles expose memory contents and can cost CPU: AURORA_PPROF
		// turns them on, and each request still needs an admin token.
		s.mux.Handle("GET /debug/pprof/", s.authorize(auth.Admin, pprof.Index))
		s.mux.Handle("GET /debug/pprof/cmdline", s.authorize(auth.Admin, pprof.Cmdline))
		s.mux.Handle("GET /debug/pprof/profile", s.authorize(auth.Admin, pprof.Profile))
		s.mux.Handle("GET /debug/pprof/symbol", s.authorize(auth.Admin, pprof.Symbol))
		s.mux.Handle("GET /debug/pprof/trace", s.authorize(auth.Admin, pprof.Trace))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if o.UI != nil && !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/webhooks/") {
			o.UI.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == "/" && r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "Aurora %s is running.\nAPI: %s/api/v1 (OpenAPI: %s/api/v1/openapi.json)\nThe web UI is not part of this build yet.\n", o.Version, o.PublicURL, o.PublicURL)
			return
		}
		writeError(w, CodeNotFound, "no route for "+r.Method+" "+r.URL.Path)
	})
	return s
}

// NewOps serves only /health, /ready and /metrics: the HTTP surface of the
// worker and scheduler roles, so they are probed and scraped like servers.
func NewOps(o Options) *Server {
	s := &Server{Options: o, log: o.Log, mux: http.NewServeMux(), streams: make(chan struct{})}
	s.mux.HandleFunc("GET /health", s.health)
	s.mux.HandleFunc("GET /ready", s.ready)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{Registry: o.Metrics.Registry}))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, CodeNotFound, "this process serves only /health, /ready and /metrics")
	})
	return s
}

// route is one API route; the OpenAPI test walks this table.
type route struct {
	pattern string
	role    auth.Role // "" = no API auth (public or own auth)
	h       http.HandlerFunc
}

func (s *Server) routes() []route {
	return []route{
		{"GET /health", "", s.health},
		{"GET /ready", "", s.ready},
		{"POST /webhooks/{source}", "", s.webhook},
		{"GET /api/v1/openapi.json", "", s.openapi},
		{"GET /api/v1/incidents", auth.Viewer, s.listIncidents},
		{"GET /api/v1/incidents/{id}", auth.Viewer, s.getIncident},
		{"PATCH /api/v1/incidents/{id}", auth.Editor, s.patchIncident},
		{"POST /api/v1/incidents/{id}/investigations", auth.Editor, s.reinvestigate},
		{"GET /api/v1/alerts", auth.Viewer, s.listAlerts},
		{"GET /api/v1/investigations/{id}", auth.Viewer, s.getInvestigation},
		{"POST /api/v1/investigations", auth.Editor, s.uploadBundle},
		{"GET /api/v1/integrations", auth.Viewer, s.listIntegrations},
		{"POST /api/v1/integrations", auth.Admin, s.createIntegration},
		{"GET /api/v1/integrations/{id}", auth.Viewer, s.getIntegration},
		{"PATCH /api/v1/integrations/{id}", auth.Admin, s.patchIntegration},
		{"DELETE /api/v1/integrations/{id}", auth.Admin, s.deleteIntegration},
		{"POST /api/v1/integrations/{id}/token", auth.Admin, s.rotateIntegrationToken},
		{"GET /api/v1/tokens", auth.Admin, s.listTokens},
		{"POST /api/v1/tokens", auth.Admin, s.createToken},
		{"DELETE /api/v1/tokens/{id}", auth.Admin, s.revokeToken},
		{"GET /api/v1/users", auth.Admin, s.listUsers},
		{"POST /api/v1/users", auth.Admin, s.createUser},
		{"GET /api/v1/jobs/runs", auth.Viewer, s.listJobRuns},
		{"GET /api/v1/llm", auth.Viewer, s.llmConfig},
		{"POST /api/v1/llm/test", auth.Admin, s.llmTest},
		{"GET /api/v1/events", auth.Viewer, s.events},
		{"POST /api/v1/chat/token", auth.Viewer, s.chatToken},
		{"GET /api/v1/chat/sessions", auth.Viewer, s.listChatSessions},
		{"GET /api/v1/chat/sessions/{id}", auth.Viewer, s.getChatSession},
		{"GET /api/v1/chat/sessions/{id}/frames", auth.Viewer, s.listChatFrames},
		{"GET /api/v1/toolsets", auth.Viewer, s.listToolsets},
		{"GET /api/v1/toolsets/{name}", auth.Viewer, s.getToolset},
		{"PUT /api/v1/toolsets/{name}", auth.Admin, s.putToolset},
		{"DELETE /api/v1/toolsets/{name}", auth.Admin, s.deleteToolset},
		{"POST /api/v1/toolsets/{name}/test", auth.Admin, s.testToolset},
		{"POST /api/v1/kb/documents", auth.Editor, s.uploadKBDocument},
		{"GET /api/v1/kb/documents", auth.Viewer, s.listKBDocuments},
		{"GET /api/v1/kb/documents/{id}", auth.Viewer, s.getKBDocument},
		{"DELETE /api/v1/kb/documents/{id}", auth.Editor, s.deleteKBDocument},
		{"GET /api/v1/kb/search", auth.Viewer, s.searchKB},
		{"POST /api/v1/incidents/{id}/feedback", auth.Editor, s.postIncidentFeedback},
	}
}

// ServeHTTP adds metrics, panic recovery and security headers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "path", r.URL.Path, "panic", p)
			if !rec.wrote {
				writeError(rec, CodeInternal, "internal error")
			}
		}
		_, pattern := s.mux.Handler(r)
		if pattern == "/" && s.UI != nil && !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/webhooks/") {
			pattern = "ui" // one label for every page of the web UI
		}
		if pattern == "" || pattern == "/" {
			pattern = "unmatched"
		}
		s.Metrics.Requests.WithLabelValues(pattern, r.Method, strconv.Itoa(rec.status)).Inc()
		if !strings.HasSuffix(pattern, "/api/v1/events") {
			s.Metrics.RequestDuration.WithLabelValues(pattern, r.Method).Observe(time.Since(start).Seconds())
		}
	}()
	if part := badURL(r.URL); part != "" {
		writeError(rec, CodeBadRequest, part+" holds a NUL character or invalid UTF-8")
		return
	}
	r = readConsistency(rec, r)
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Flush lets SSE stream through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Principal is who is calling.
type Principal struct {
	OrgID string
	Role  auth.Role
	Name  string
}

type principalKey struct{}

func principal(r *http.Request) Principal {
	p, _ := r.Context().Value(principalKey{}).(Principal)
	return p
}

// bearer extracts a token from the X-Aurora-Token or Authorization header
// or, for senders and EventSource clients that cannot set headers, from
// ?token= / ?access_token=.
func bearer(r *http.Request) string {
	// For senders that can add a custom header but not Authorization.
	if h := r.Header.Get("X-Aurora-Token"); h != "" {
		return strings.TrimSpace(h)
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if t := r.URL.Query().Get("token"); t != "" {
		return t
	}
	return r.URL.Query().Get("access_token")
}

func (s *Server) apiPrincipal(ctx context.Context, token string) (Principal, error) {
	t, err := s.Store.APITokenByHash(ctx, auth.HashToken(token))
	if err != nil {
		return Principal{}, err
	}
	return Principal{OrgID: t.OrgID, Role: auth.Role(t.Role), Name: "token:" + t.Name}, nil
}

func (s *Server) authorize(need auth.Role, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		if tok == "" && s.Sessions != nil {
			p, ok, err := s.Sessions.AuthenticateSession(r)
			switch {
			case errors.Is(err, ErrCSRF):
				writeError(w, CodeForbidden, err.Error())
				return
			case errors.Is(err, ErrSessionInvalid):
				writeError(w, CodeUnauthorized, err.Error())
				return
			case err != nil:
				s.internalError(w, r, err)
				return
			}
			if ok {
				if !p.Role.Allows(need) {
					writeError(w, CodeForbidden, fmt.Sprintf("role %s may not do this (needs %s)", p.Role, need))
					return
				}
				next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
				return
			}
		}
		if tok == "" {
			writeError(w, CodeUnauthorized, "missing API token: send Authorization: Bearer <token>")
			return
		}
		p, err := s.apiPrincipal(r.Context(), tok)
		if errors.Is(err, storage.ErrNotFound) {
			writeError(w, CodeUnauthorized, "invalid or revoked API token")
			return
		}
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if !p.Role.Allows(need) {
			writeError(w, CodeForbidden, fmt.Sprintf("role %s may not do this (needs %s)", p.Role, need))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.Version})
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	type result struct {
		Status string `json:"status"`
		Error  string `json:"error,omitempty"`
	}
	checks := map[string]result{}
	ok, degraded := true, false
	for _, c := range s.Checks {
		switch err := c.Fn(ctx); {
		case err == nil:
			checks[c.Name] = result{Status: "ok"}
		case c.Degraded:
			checks[c.Name] = result{Status: "degraded", Error: err.Error()}
			degraded = true
		default:
			checks[c.Name] = result{Status: "fail", Error: err.Error()}
			ok = false
		}
	}
	status, code := "ready", http.StatusOK
	if !ok {
		status, code = "not_ready", http.StatusServiceUnavailable
	} else if degraded {
		status = "degraded"
	}
	body := map[string]any{"status": status, "checks": checks}
	if ok && s.Store != nil {
		if warn := s.securityWarnings(ctx); len(warn) > 0 {
			body["warnings"] = warn
		}
	}
	writeJSON(w, code, body)
}

// securityWarnings names insecure settings in force; they do not make the
// process unready, but operators see them on every readiness probe.
func (s *Server) securityWarnings(ctx context.Context) []string {
	orgs, err := s.Store.ListOrgIDs(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, org := range orgs {
		list, err := s.Store.ListIntegrations(ctx, org)
		if err != nil {
			return out
		}
		for _, in := range list {
			if in.Source == "cloudwatch" && !snsVerifySignatures(&in) {
				out = append(out, fmt.Sprintf("insecure: cloudwatch integration %q (%s) accepts unsigned SNS messages (settings.verify_signatures=false)", in.Name, in.ID))
			}
		}
	}
	return out
}

// Routes lists "METHOD /path" of every route, for documentation tests.
func Routes() []string {
	s := &Server{}
	out := []string{"GET /metrics"}
	for _, r := range s.routes() {
		out = append(out, r.pattern)
	}
	return out
}

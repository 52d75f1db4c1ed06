package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aurora-oss/aurora/internal/api"
	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/storage"
)

// Cookie and header names.
const (
	sessionCookie = "aurora_session"
	// loginCookie carries the sign-in form's CSRF token before a session
	// exists (double submit: cookie and form field must match).
	loginCookie = "aurora_login_csrf"
	csrfHeader  = "X-CSRF-Token"
	csrfField   = "csrf"
)

// Sign-in rate limits: failures allowed per window, per client address and
// per client address and email. The per-address limit is higher because
// people behind one proxy or NAT share an address.
const (
	loginWindow      = 15 * time.Minute
	loginMaxPerAddr  = 50
	loginMaxPerEmail = 5
)

// dummyHash is checked when the email is unknown, so a wrong email costs the
// same time as a wrong password and does not reveal which users exist.
var dummyHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword("not-a-real-password-for-timing")
	if err != nil {
		panic(err) // only fails for passwords under 8 characters
	}
	return h
})

// session is the signed-in user of a request.
type session struct {
	ID     string // hash of the cookie value
	OrgID  string
	UserID string
	Email  string
	Role   auth.Role
	CSRF   string
}

// Editor reports whether the user may change incidents.
func (s *session) Editor() bool { return s != nil && s.Role.Allows(auth.Editor) }

// Admin reports whether the user may manage integrations, users and tokens.
func (s *session) Admin() bool { return s != nil && s.Role.Allows(auth.Admin) }

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// secure reports whether the browser reached us over HTTPS, directly or
// through a proxy that says so; cookies then get the Secure flag.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: secure(r), MaxAge: maxAge})
}

// loadSession returns the request's session, nil when there is none.
func (h *Handler) loadSession(ctx context.Context, r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	ws, err := h.o.Store.WebSessionByID(ctx, auth.HashToken(c.Value), h.now())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &session{ID: ws.ID, OrgID: ws.OrgID, UserID: ws.UserID, Email: ws.Email, Role: auth.Role(ws.Role), CSRF: ws.CSRFToken}, nil
}

// AuthenticateSession implements api.SessionAuthenticator: the API accepts
// the UI's cookie, and for unsafe methods the session's CSRF token in the
// X-CSRF-Token header, which a cross-site page cannot read or send.
func (h *Handler) AuthenticateSession(r *http.Request) (api.Principal, bool, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return api.Principal{}, false, nil
	}
	s, err := h.loadSession(r.Context(), r)
	if err != nil {
		return api.Principal{}, false, err
	}
	if s == nil {
		return api.Principal{}, false, api.ErrSessionInvalid
	}
	if unsafeMethod(r.Method) && !sameToken(r.Header.Get(csrfHeader), s.CSRF) {
		return api.Principal{}, false, fmt.Errorf("%w: send the %s header the page gives", api.ErrCSRF, csrfHeader)
	}
	return api.Principal{OrgID: s.OrgID, Role: s.Role, Name: "user:" + s.Email}, true, nil
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

func sameToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// clientAddr is the peer address. X-Forwarded-For is not trusted: anyone
// could send one to dodge the rate limit.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// localPath returns next when it is a path on this site, else "/": the
// sign-in redirect must not become an open redirect.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

type loginData struct {
	CSRF  string
	Next  string
	Email string
	Error string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if s, err := h.loadSession(r.Context(), r); err == nil && s != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, loginData{Next: localPath(r.URL.Query().Get("next"))})
}

// renderLogin renders the form with a fresh double-submit token.
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	d.CSRF = randomToken()
	h.setCookie(w, r, loginCookie, d.CSRF, 3600)
	h.render(w, r, status, "login", page{Title: "Sign in", Data: d})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.renderLogin(w, r, http.StatusBadRequest, loginData{Error: "The form could not be read."})
		return
	}
	email, password := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("password")
	next := localPath(r.PostForm.Get("next"))
	if !storage.IsText(email) {
		// No account has such an address, and PostgreSQL could not even
		// look it up (its text holds neither): a 500 before this.
		h.renderLogin(w, r, http.StatusBadRequest, loginData{Next: next, Error: "That email address holds characters no address can."})
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostForm.Get(csrfField), c.Value) {
		h.renderLogin(w, r, http.StatusForbidden, loginData{Next: next, Email: email,
			Error: "The sign-in form expired or was not sent by this page. Try again."})
		return
	}
	ctx := r.Context()
	now := h.now()
	addr := clientAddr(r)
	keys := []string{"addr:" + addr, "addr-email:" + addr + "|" + strings.ToLower(email)}
	limits := []int{loginMaxPerAddr, loginMaxPerEmail}
	for i, k := range keys {
		n, err := h.o.Store.CountLoginFailures(ctx, k, now.Add(-loginWindow))
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if n >= limits[i] {
			w.Header().Set("Retry-After", fmt.Sprint(int(loginWindow.Seconds())))
			h.renderLogin(w, r, http.StatusTooManyRequests, loginData{Next: next, Email: email,
				Error: fmt.Sprintf("Too many failed sign-ins. Wait %d minutes and try again.", int(loginWindow.Minutes()))})
			return
		}
	}
	org, err := h.o.Store.EnsureDefaultOrg(ctx)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	u, err := h.o.Store.UserByEmail(ctx, org.ID, email)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.serverError(w, r, err)
		return
	}
	hash := u.PasswordHash
	if hash == "" {
		hash = dummyHash()
	}
	if ok := auth.CheckPassword(hash, password); !ok || u.ID == "" || password == "" {
		if err := h.o.Store.RecordLoginFailures(ctx, now, keys...); err != nil {
			h.serverError(w, r, err)
			return
		}
		h.o.Log.Info("web sign-in refused", "addr", addr)
		h.renderLogin(w, r, http.StatusUnauthorized, loginData{Next: next, Email: email, Error: "Wrong email or password."})
		return
	}
	_ = h.o.Store.ClearLoginFailures(ctx, keys[1])
	if err := h.o.Store.DeleteExpiredWebSessions(ctx, now, now.Add(-loginWindow)); err != nil {
		h.o.Log.Warn("clean expired web sessions", "err", err)
	}
	tok := randomToken()
	ws := storage.WebSession{ID: auth.HashToken(tok), OrgID: u.OrgID, UserID: u.ID, CSRFToken: randomToken(), CreatedAt: now, ExpiresAt: now.Add(h.o.SessionTTL)}
	if err := h.o.Store.CreateWebSession(ctx, ws); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.setCookie(w, r, loginCookie, "", -1)
	h.setCookie(w, r, sessionCookie, tok, int(h.o.SessionTTL.Seconds()))
	h.o.Log.Info("web sign-in", "user", u.Email, "role", u.Role)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	s, err := h.loadSession(r.Context(), r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if s != nil {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		_ = r.ParseForm()
		if !sameToken(r.PostForm.Get(csrfField), s.CSRF) && !sameToken(r.Header.Get(csrfHeader), s.CSRF) {
			h.errorPage(w, r, s, http.StatusForbidden, "Sign-out refused: the request did not come from an Aurora page (missing CSRF token).")
			return
		}
		if err := h.o.Store.DeleteWebSession(r.Context(), s.OrgID, s.ID); err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	h.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// requireSession wraps a page handler: without a session, browsers are sent
// to the sign-in page (htmx requests get HX-Redirect, since a redirect
// would be swapped into the page).
func (h *Handler) requireSession(next func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := h.loadSession(r.Context(), r)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if s == nil {
			to := "/login?next=" + url.QueryEscape(r.URL.RequestURI())
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", "/login")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		next(w, r, s)
	}
}

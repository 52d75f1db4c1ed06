package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// adminPassword is the AURORA_ADMIN_PASSWORD of the test servers.
const adminPassword = "web-correct-horse-battery"

// startAurora runs the real binary (`aurora all`, embedded SQLite) with the
// UI, as the README's first command does.
func startAurora(t *testing.T, extra testenv.Env) *testenv.Process {
	t.Helper()
	env := testenv.Env{
		"AURORA_ADMIN_TOKEN":    testenv.AdminToken,
		"AURORA_SECRET_KEY":     testenv.SecretKey,
		"AURORA_ADMIN_PASSWORD": adminPassword,
		"AURORA_DATA_DIR":       t.TempDir(),
		"AURORA_HTTP_ADDR":      testenv.FreeAddr(t),
	}
	for k, v := range extra {
		env[k] = v
	}
	return testenv.Start(t, "aurora", env)
}

// client is a browser-like HTTP client: a cookie jar, no redirects followed.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path string, body string, header map[string]string) reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

var (
	csrfFieldRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	csrfMetaRE  = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)
)

func find(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in:\n%.2000s", re, body)
	}
	return m[1]
}

// login signs in through the form and returns the session's CSRF token.
func (c *client) login(email, password string, header map[string]string) (reply, string) {
	c.t.Helper()
	page := c.do("GET", "/login", "", header)
	tok := find(c.t, csrfFieldRE, page.body)
	form := url.Values{"csrf": {tok}, "email": {email}, "password": {password}, "next": {"/"}}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	r := c.do("POST", "/login", form.Encode(), h)
	if r.status != http.StatusSeeOther {
		return r, ""
	}
	dash := c.do("GET", "/", "", nil)
	return r, find(c.t, csrfMetaRE, dash.body)
}

// TestSessionSecurity runs on both storage backends: sessions and sign-in
// failures live in the database (migration 00008).
func TestSessionSecurity(t *testing.T) {
	t.Parallel()
	for _, backend := range []struct {
		name string
		env  func(t *testing.T) testenv.Env
	}{
		{"sqlite", func(*testing.T) testenv.Env { return nil }},
		{"postgres", func(t *testing.T) testenv.Env { return testenv.Env{"DATABASE_URL": testenv.Postgres(t)} }},
	} {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			sessionSecurity(t, startAurora(t, backend.env(t)))
		})
	}
}

func sessionSecurity(t *testing.T, p *testenv.Process) {
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	t.Run("pages need a session", func(t *testing.T) {
		c := newClient(t, p.URL)
		r := c.do("GET", "/incidents/x", "", nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?next=%2Fincidents%2Fx" {
			t.Fatalf("GET /incidents/x without a session: %d %q", r.status, r.header.Get("Location"))
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Fatalf("no strict CSP on UI responses: %q", csp)
		}
	})

	t.Run("sign-in without the form's CSRF token is refused", func(t *testing.T) {
		c := newClient(t, p.URL)
		c.do("GET", "/login", "", nil) // sets the login cookie
		r := c.do("POST", "/login", url.Values{"email": {"admin@localhost"}, "password": {adminPassword}}.Encode(), form)
		if r.status != http.StatusForbidden {
			t.Fatalf("POST /login without csrf: %d, want 403", r.status)
		}
		if strings.Contains(r.header.Get("Set-Cookie"), "aurora_session=") {
			t.Fatal("a session cookie was set without a CSRF token")
		}
	})

	t.Run("wrong password is refused, then rate limited", func(t *testing.T) {
		c := newClient(t, p.URL)
		for i := 0; i < 5; i++ {
			r, _ := c.login("ratelimit@localhost", "wrong-password", nil)
			if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Wrong email or password") {
				t.Fatalf("attempt %d: %d, want 401 with a message", i+1, r.status)
			}
		}
		r, _ := c.login("ratelimit@localhost", "wrong-password", nil)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("6th failure: %d (Retry-After %q), want 429", r.status, r.header.Get("Retry-After"))
		}
		// The limit is per address and email: the admin can still sign in.
		if r, _ := c.login("admin@localhost", adminPassword, nil); r.status != http.StatusSeeOther {
			t.Fatalf("admin sign-in after another email's lockout: %d", r.status)
		}
	})

	t.Run("cookie flags, CSRF on API writes, sign-out", func(t *testing.T) {
		c := newClient(t, p.URL)
		r, csrf := c.login("admin@localhost", adminPassword, nil)
		ck := r.header.Get("Set-Cookie")
		for _, want := range []string{"aurora_session=", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), want) {
				t.Fatalf("session cookie lacks %s: %q", want, r.header.Values("Set-Cookie"))
			}
		}
		if strings.Contains(ck, "Secure") {
			t.Fatalf("Secure cookie over plain HTTP: %q", ck)
		}
		// An incident to change.
		var acc struct {
			IncidentIDs []string `json:"incident_ids"`
		}
		if code := p.Do("POST", "/webhooks/generic", map[string]any{"title": "csrf test", "severity": "warning"}, &acc); code != 202 {
			t.Fatalf("webhook: %d", code)
		}
		path := "/api/v1/incidents/" + acc.IncidentIDs[0]
		body := `{"status":"acknowledged"}`
		jsonH := map[string]string{"Content-Type": "application/json"}
		if r := c.do("GET", path, "", nil); r.status != 200 {
			t.Fatalf("GET with the session cookie: %d %s", r.status, r.body)
		}
		if r := c.do("PATCH", path, body, jsonH); r.status != http.StatusForbidden {
			t.Fatalf("PATCH with cookie, no CSRF header: %d, want 403", r.status)
		}
		if r := c.do("PATCH", path, body, map[string]string{"Content-Type": "application/json", "X-CSRF-Token": csrf + "x"}); r.status != http.StatusForbidden {
			t.Fatalf("PATCH with a wrong CSRF token: %d, want 403", r.status)
		}
		var got struct{ Status string }
		testenv.DoToken(t, p.URL, testenv.AdminToken, "GET", path, nil, &got)
		if got.Status != "open" {
			t.Fatalf("refused PATCH changed the incident: %s", got.Status)
		}
		if r := c.do("PATCH", path, body, map[string]string{"Content-Type": "application/json", "X-CSRF-Token": csrf}); r.status != 200 {
			t.Fatalf("PATCH with the CSRF token: %d %s", r.status, r.body)
		}
		if r := c.do("POST", "/logout", "", form); r.status != http.StatusForbidden {
			t.Fatalf("sign-out without CSRF: %d, want 403", r.status)
		}
		if r := c.do("POST", "/logout", url.Values{"csrf": {csrf}}.Encode(), form); r.status != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", r.status)
		}
		// The old cookie value is dead on the server, not only deleted in this jar.
		old := &http.Cookie{Name: "aurora_session", Value: strings.TrimPrefix(strings.SplitN(ck, ";", 2)[0], "aurora_session=")}
		req, _ := http.NewRequest("GET", p.URL+path, nil)
		req.AddCookie(old)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("API with a signed-out session: %d, want 401", resp.StatusCode)
		}
	})

	t.Run("Secure cookie behind an HTTPS proxy", func(t *testing.T) {
		c := newClient(t, p.URL)
		r, _ := c.login("admin@localhost", adminPassword, map[string]string{"X-Forwarded-Proto": "https"})
		if !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), "Secure") {
			t.Fatalf("no Secure flag behind X-Forwarded-Proto: https: %q", r.header.Values("Set-Cookie"))
		}
	})

	t.Run("an email no database text can hold is a 400", func(t *testing.T) {
		for _, email := range []string{"admin\x00@localhost", "admin\xff@localhost"} {
			c := newClient(t, p.URL)
			if r, _ := c.login(email, adminPassword, nil); r.status != http.StatusBadRequest || !strings.Contains(r.body, "characters no address can") {
				t.Fatalf("sign-in as %q: %d, want 400 with the reason", email, r.status)
			}
		}
	})

	t.Run("no open redirect after sign-in", func(t *testing.T) {
		c := newClient(t, p.URL)
		page := c.do("GET", "/login", "", nil)
		tok := find(t, csrfFieldRE, page.body)
		r := c.do("POST", "/login", url.Values{"csrf": {tok}, "email": {"admin@localhost"}, "password": {adminPassword}, "next": {"//evil.example/x"}}.Encode(), form)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
			t.Fatalf("next=//evil.example: %d → %q", r.status, r.header.Get("Location"))
		}
	})

	t.Run("viewer is refused writes by the API", func(t *testing.T) {
		if code := p.Do("POST", "/api/v1/users", map[string]string{"email": "viewer1@localhost", "role": "viewer", "password": "viewer-password-1"}, nil); code != 201 {
			t.Fatalf("create viewer: %d", code)
		}
		c := newClient(t, p.URL)
		_, csrf := c.login("viewer1@localhost", "viewer-password-1", nil)
		var acc struct {
			IncidentIDs []string `json:"incident_ids"`
		}
		p.Do("POST", "/webhooks/generic", map[string]any{"title": "viewer test", "severity": "warning"}, &acc)
		r := c.do("PATCH", "/api/v1/incidents/"+acc.IncidentIDs[0], `{"status":"resolved"}`, map[string]string{"Content-Type": "application/json", "X-CSRF-Token": csrf})
		if r.status != http.StatusForbidden {
			t.Fatalf("viewer PATCH: %d %s, want 403", r.status, r.body)
		}
		if r := c.do("GET", "/admin", "", nil); r.status != http.StatusForbidden {
			t.Fatalf("viewer GET /admin: %d, want 403", r.status)
		}
	})
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	p := startAurora(t, testenv.Env{"AURORA_SESSION_TTL": "1s"})
	c := newClient(t, p.URL)
	if r, _ := c.login("admin@localhost", adminPassword, nil); r.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", r.status)
	}
	if r := c.do("GET", "/api/v1/incidents", "", nil); r.status != 200 {
		t.Fatalf("fresh session: %d", r.status)
	}
	testenv.Eventually(t, 10*time.Second, "the session to expire", func() bool {
		return c.do("GET", "/api/v1/incidents", "", nil).status == http.StatusUnauthorized
	})
	if r := c.do("GET", "/", "", nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("expired session on a page: %d %q", r.status, r.header.Get("Location"))
	}
}

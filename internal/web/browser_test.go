package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// The browser tests drive Debian's chromium through chromedp against the real
// aurora binary (internal/testenv), so they cover what a newcomer does: the
// README's first command, the printed URL, sign-in, the empty state's
// instructions, the first alert.

// chromiumPath finds the browser. Under CI=true a missing browser fails the
// test (CI installs it); locally the test is skipped with a loud message.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if testenv.CI() {
		t.Fatal("chromium not found: CI must install it (scripts/test.sh APT_PACKAGES)")
	}
	t.Skip("SKIPPING BROWSER TEST: chromium not found (apt-get install -y chromium)")
	return ""
}

// browser is one headless chromium with a fresh profile, and its first tab.
type browser struct {
	t       *testing.T
	ctx     context.Context
	base    string
	dialogs atomic.Int32
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	b := &browser{t: t, ctx: ctx, base: base}
	// Start the browser (the first Run owns its lifetime: no timeout here).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Any alert/confirm/prompt is recorded and dismissed: injected script
	// calling alert() would show up here.
	go func() {
		for ev, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			if ev.Type != page.DialogTypeConfirm {
				b.dialogs.Add(1)
				t.Logf("unexpected dialog: %s %q", ev.Type, ev.Message)
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return b
}

// do runs actions with a timeout.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// waitJS polls a JavaScript expression until it is true. It evaluates from
// the DevTools side, so the page's CSP (no eval) does not get in the way.
func (b *browser) waitJS(what, expr string, d time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("Boolean("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText.slice(0, 3000) : ''"))
			b.t.Fatalf("timed out after %s waiting for %s (%s); err=%v\npage text:\n%s", d, what, expr, err, html)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// click clicks an element of a live region. A live refresh may replace the
// element between chromedp finding it and clicking it (a mouse would simply
// hit its replacement), so a vanished node is looked up again.
func (b *browser) click(what, sel string) {
	b.t.Helper()
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			return
		}
		if attempt == 3 || !strings.Contains(err.Error(), "node") {
			b.t.Fatalf("%s: %v", what, err)
		}
		b.t.Logf("%s: %v; again", what, err)
		time.Sleep(200 * time.Millisecond)
	}
}

func (b *browser) navigate(path string) {
	b.t.Helper()
	b.do("navigate "+path, chromedp.Navigate(b.base+path))
}

func (b *browser) signIn(email, password string) {
	b.t.Helper()
	b.navigate("/login")
	b.do("fill sign-in form",
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.SetValue(chromedp.CSS(`input[name=email]`), email),
		chromedp.SetValue(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`#login-form button[type=submit]`)),
	)
}

// screenshot writes docs/screenshots/NAME.png when AURORA_UPDATE_SCREENSHOTS=1,
// so ordinary runs never dirty the tree.
func (b *browser) screenshot(name, theme string) {
	b.t.Helper()
	if os.Getenv("AURORA_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	eval[bool](b, fmt.Sprintf(`(document.documentElement.setAttribute("data-theme", %q), true)`, theme))
	time.Sleep(150 * time.Millisecond)
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	img, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-"+theme+".png"), img, 0o644); err != nil {
		b.t.Fatal(err)
	}
	eval[bool](b, `(document.documentElement.removeAttribute("data-theme"), true)`)
}

// dashboardScreenshots fills the dashboard with a few more incidents and
// takes its screenshots (only when AURORA_UPDATE_SCREENSHOTS=1).
func dashboardScreenshots(t *testing.T, p *testenv.Process, b *browser) {
	t.Helper()
	for _, a := range []map[string]any{
		{"title": "Payments API p99 latency above 2s", "severity": "high", "service": "payments", "labels": map[string]string{"alertname": "HighLatency", "namespace": "payments"}},
		{"title": "Pod orders-7d9f crash looping", "severity": "critical", "service": "orders", "labels": map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "orders-7d9f"}},
		{"title": "Disk 91% full on db-0", "severity": "warning", "service": "postgres", "labels": map[string]string{"alertname": "NodeFilesystemAlmostFull", "instance": "db-0"}},
		{"title": "Certificate for api.example.com expires in 6 days", "severity": "info", "service": "ingress", "labels": map[string]string{"alertname": "CertExpiring"}},
	} {
		if code := p.Do("POST", "/webhooks/generic", a, nil); code != 202 {
			t.Fatalf("webhook: %d", code)
		}
	}
	b.navigate("/?status=all")
	b.waitJS("rows", `document.querySelectorAll("tr[data-incident]").length >= 5 && document.querySelectorAll("tr[data-incident] [data-inv-status=completed]").length >= 4`, 30*time.Second)
	b.screenshot("dashboard", "light")
	b.screenshot("dashboard", "dark")
	// A phone: the same page at 390 px.
	b.do("phone viewport", chromedp.EmulateViewport(390, 844))
	b.screenshot("dashboard-phone", "light")
	b.do("desktop viewport", chromedp.EmulateViewport(1280, 800))
}

// alertmanagerPayload is an Alertmanager webhook (version 4) with one alert.
func alertmanagerPayload(labels, annotations map[string]string, status string) map[string]any {
	now := time.Now().UTC().Add(-2 * time.Minute).Format(time.RFC3339)
	return map[string]any{
		"version": "4", "status": status, "receiver": "aurora", "groupKey": `{}:{alertname="` + labels["alertname"] + `"}`,
		"groupLabels": map[string]string{"alertname": labels["alertname"]}, "commonLabels": labels, "commonAnnotations": annotations,
		"externalURL": "http://alertmanager.example:9093", "truncatedAlerts": 0,
		"alerts": []map[string]any{{
			"status": status, "labels": labels, "annotations": annotations, "startsAt": now, "endsAt": "0001-01-01T00:00:00Z",
			"generatorURL": "http://prometheus.example:9090/graph", "fingerprint": "",
		}},
	}
}

func TestBrowserIncidentFlow(t *testing.T) {
	t.Parallel()
	p := startAurora(t, nil)
	b := newBrowser(t, p.URL)

	// Wrong password: refused, still on the sign-in page.
	b.signIn("admin@localhost", "not-the-password")
	b.waitJS("sign-in error", `document.querySelector("#login-error") && document.querySelector("#login-error").textContent.includes("Wrong email or password")`, 10*time.Second)
	if loc := eval[string](b, "location.pathname"); loc != "/login" {
		t.Fatalf("after a wrong password the browser is at %s", loc)
	}

	// Right password: the dashboard's empty state says how to send a first alert.
	b.signIn("admin@localhost", adminPassword)
	b.waitJS("empty state", `document.querySelector("#empty-state")`, 10*time.Second)
	curl := eval[string](b, `document.querySelector("#first-alert-curl").textContent`)
	if !strings.Contains(curl, p.URL+"/webhooks/generic") || !strings.Contains(curl, "Authorization: Bearer") {
		t.Fatalf("empty state's curl line lacks the webhook URL or token header:\n%s", curl)
	}

	// Create an Alertmanager integration on the Integrations page: URL,
	// token and snippets are shown once.
	b.navigate("/integrations")
	b.do("create integration",
		chromedp.WaitVisible(chromedp.CSS(`#integration-form`)),
		chromedp.SetValue(chromedp.CSS(`#integration-form select[name=source]`), "alertmanager"),
		chromedp.SetValue(chromedp.CSS(`#integration-form input[name=name]`), "prod"),
		chromedp.Click(chromedp.CSS(`#integration-form button[type=submit]`)),
	)
	b.waitJS("integration token", `!document.querySelector("#integration-result").hidden && document.querySelector("#new-token").textContent.startsWith("aurwh_")`, 10*time.Second)
	token := eval[string](b, `document.querySelector("#new-token").textContent`)
	snippet := eval[string](b, `document.querySelector("#snip-am").textContent`)
	if !strings.Contains(snippet, "credentials: "+token) || !strings.Contains(snippet, p.URL+"/webhooks/alertmanager") {
		t.Fatalf("Alertmanager snippet lacks the URL or token:\n%s", snippet)
	}

	// The dashboard is open; an alert arrives; the incident appears without
	// a reload (the marker set on the page survives).
	b.navigate("/")
	b.waitJS("live stream connected", `document.querySelector("#live-status").dataset.state === "live"`, 10*time.Second)
	eval[bool](b, `(window.__noReload = 42, true)`)
	labels := map[string]string{"alertname": "CheckoutErrors", "severity": "critical", "namespace": "shop", "service": "checkout"}
	annotations := map[string]string{"summary": "Checkout error rate above 5%", "description": "5xx ratio is 12% over 5m"}
	if code := testenv.DoToken(t, p.URL, token, "POST", "/webhooks/alertmanager", alertmanagerPayload(labels, annotations, "firing"), nil); code != 202 {
		t.Fatalf("alertmanager webhook: %d", code)
	}
	start := time.Now()
	b.waitJS("incident row", `document.querySelector("tr[data-incident] .incident-link")`, 15*time.Second)
	t.Logf("incident appeared on the open dashboard %s after the webhook", time.Since(start).Round(time.Millisecond))
	if v := eval[int](b, `window.__noReload || 0`); v != 42 {
		t.Fatal("the dashboard reloaded to show the incident")
	}
	// Its investigation finishes and the row says so, still without reload.
	b.waitJS("investigation completed in the row", `document.querySelector("tr[data-incident] [data-inv-status=completed]")`, 30*time.Second)
	if v := eval[string](b, `document.querySelector("tr[data-incident] [data-inv-status=completed]").textContent`); v != "INCONCLUSIVE" {
		t.Fatalf("the row shows %q, want the report's verdict", v)
	}
	if v := eval[int](b, `window.__noReload || 0`); v != 42 {
		t.Fatal("the dashboard reloaded")
	}
	if c := eval[string](b, `document.querySelector('[data-count="open"]').textContent`); c != "1" {
		t.Fatalf("open count = %q, want 1", c)
	}
	// Search (htmx): a query that matches nothing empties the list in place
	// and the URL keeps the filter; clearing it brings the incident back.
	b.do("search", chromedp.SendKeys(chromedp.CSS(`#f-q`), "zzz-no-such"))
	b.waitJS("no match", `document.querySelector("#dash-live").textContent.includes("No incidents match") && location.search.includes("q=zzz-no-such")`, 10*time.Second)
	eval[bool](b, `(document.querySelector("#f-q").value = "", true)`)
	b.do("search again", chromedp.SendKeys(chromedp.CSS(`#f-q`), "Checkout"))
	b.waitJS("match again", `document.querySelector("tr[data-incident] .incident-link")`, 10*time.Second)
	if v := eval[int](b, `window.__noReload || 0`); v != 42 {
		t.Fatal("searching reloaded the page")
	}

	// Open it: the report, and a citation that opens its evidence.
	b.do("open incident", chromedp.Click(chromedp.CSS(`tr[data-incident] .incident-link`)))
	b.waitJS("report", `document.querySelector("#report") && document.querySelector("#verdict")`, 15*time.Second)
	if v := eval[string](b, `document.querySelector("#verdict").textContent`); v != "INCONCLUSIVE" {
		t.Fatalf("verdict %q: with no evidence source the report must be INCONCLUSIVE", v)
	}
	b.screenshot("incident", "light")
	b.screenshot("incident", "dark")
	if os.Getenv("AURORA_UPDATE_SCREENSHOTS") == "1" {
		b.do("phone viewport", chromedp.EmulateViewport(390, 844))
		b.screenshot("incident-phone", "light")
		b.do("desktop viewport", chromedp.EmulateViewport(1280, 800))
	}
	// By keyboard: the first Tab reaches "Skip to content"; the citation is
	// a link that Enter follows.
	b.do("tab", chromedp.KeyEvent(kb.Tab))
	if c := eval[string](b, `document.activeElement.className`); c != "skip" {
		t.Fatalf("first Tab focuses %q, want the skip link", c)
	}
	// A live refresh landing between focusing and pressing Enter replaces
	// the link (the focus moves to its copy, but a key event in flight is
	// lost), so the keystroke is repeated, as a person would, at most twice.
	for attempt := 1; ; attempt++ {
		b.do("follow citation", chromedp.Focus(chromedp.CSS(`#report a.cite[href="#step-1"]`)), chromedp.KeyEvent(kb.Enter))
		ok, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`location.hash === "#step-1"`))
		if ok || attempt == 3 {
			break
		}
		time.Sleep(500 * time.Millisecond)
		ok, _ = chromedp.Run(b.ctx, chromedp.Evaluate[bool](`location.hash === "#step-1"`))
		if ok {
			break
		}
		t.Logf("Enter on the citation did not navigate (attempt %d; focus on %s)", attempt, eval[string](b, `document.activeElement.outerHTML.slice(0, 80)`))
	}
	citedOpen := `location.hash === "#step-1" && document.querySelector("#step-1 details").open && document.querySelector("#step-1").classList.contains("cited")`
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](citedOpen))
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cited step did not open: %s", eval[string](b, `JSON.stringify({hash: location.hash, open: !!(document.querySelector("#step-1 details") || {}).open,
				cls: (document.querySelector("#step-1") || {}).className, focus: document.activeElement.outerHTML.slice(0, 80)})`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	evidence := eval[string](b, `document.querySelector("#step-1 .step-output").innerText`)
	if !strings.Contains(evidence, "CheckoutErrors") {
		t.Fatalf("cited evidence does not show the alert context:\n%.500s", evidence)
	}
	if why := eval[string](b, `document.querySelector(".alert-item .why").textContent`); why == "" {
		t.Fatal("the alert does not say why it was grouped")
	}
	// Acknowledge, then resolve; the header follows without reload.
	eval[bool](b, `(window.__noReload = 7, true)`)
	b.click("re-investigate", `button[data-action=reinvestigate]`)
	b.waitJS("second investigation", `document.querySelectorAll(".incident-side .inv").length >= 2 && !document.querySelector("#report-pending")`, 30*time.Second)
	b.click("acknowledge", `button[data-status=acknowledged]`)
	b.waitJS("acknowledged", `document.querySelector(".incident-head .status-acknowledged")`, 10*time.Second)
	b.click("resolve", `button[data-status=resolved]`)
	b.waitJS("resolved", `document.querySelector(".incident-head .status-resolved") && document.querySelector("button[data-status=open]")`, 10*time.Second)
	if v := eval[int](b, `window.__noReload || 0`); v != 7 {
		t.Fatal("the incident page reloaded")
	}
	id := eval[string](b, `document.querySelector("[data-incident-page]").dataset.incidentPage`)
	var inc struct{ Status string }
	p.Do("GET", "/api/v1/incidents/"+id, nil, &inc)
	if inc.Status != "resolved" {
		t.Fatalf("API says %q after resolving in the UI", inc.Status)
	}

	if os.Getenv("AURORA_UPDATE_SCREENSHOTS") == "1" {
		dashboardScreenshots(t, p, b)
	}

	// Admin: an API token is created in the UI, shown once, and works.
	b.navigate("/admin")
	b.do("create token", chromedp.WaitVisible(chromedp.CSS(`#token-form`)),
		chromedp.SetValue(chromedp.CSS(`#token-form input[name=name]`), "ci"),
		chromedp.Click(chromedp.CSS(`#token-form button[type=submit]`)))
	b.waitJS("token shown", `!document.querySelector("#token-result").hidden && document.querySelector("#created-token").textContent.startsWith("aur_")`, 10*time.Second)
	apiToken := eval[string](b, `document.querySelector("#created-token").textContent`)
	if code := testenv.DoToken(t, p.URL, apiToken, "GET", "/api/v1/incidents", nil, nil); code != 200 {
		t.Fatalf("token created in the UI: GET /api/v1/incidents = %d", code)
	}

	// Sign out; a viewer sees no write buttons and the API refuses them.
	b.do("sign out", chromedp.Click(chromedp.CSS(`.me form button[type=submit]`)))
	b.waitJS("sign-in page", `location.pathname === "/login"`, 10*time.Second)
	if code := p.Do("POST", "/api/v1/users", map[string]string{"email": "viewer@localhost", "role": "viewer", "password": "viewer-password"}, nil); code != 201 {
		t.Fatalf("create viewer: %d", code)
	}
	b.signIn("viewer@localhost", "viewer-password")
	b.waitJS("dashboard", `document.querySelector("#dash-live")`, 10*time.Second)
	b.navigate("/incidents/" + id)
	b.waitJS("incident page", `document.querySelector("#readonly-note")`, 10*time.Second)
	if n := eval[int](b, `document.querySelectorAll("[data-action]").length`); n != 0 {
		t.Fatalf("viewer sees %d action buttons", n)
	}
	status := eval[int](b, `fetch("/api/v1/incidents/`+id+`", {method: "PATCH", headers: {"Content-Type": "application/json",
		"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content}, body: JSON.stringify({status: "open"})}).then(r => r.status)`)
	if status != 403 {
		t.Fatalf("viewer's PATCH from the page: %d, want 403", status)
	}
	p.Do("GET", "/api/v1/incidents/"+id, nil, &inc)
	if inc.Status != "resolved" {
		t.Fatalf("viewer changed the incident to %q", inc.Status)
	}
	if b.dialogs.Load() != 0 {
		t.Fatal("a JavaScript dialog opened")
	}
}

// xss is a payload that, if it ever ran, sets window.__xss.
const xssScript = `<script>window.__xss=1</script>`

var xssPayloads = []string{
	xssScript,
	`"><img src=x onerror="window.__xss=2">`,
	`' onmouseover='window.__xss=3' x='`,
	`</title></textarea><svg onload="window.__xss=4">`,
	`javascript:window.__xss=5`,
	`{{.}}<iframe srcdoc="<script>parent.__xss=6</script>">`,
	`<a href="javascript:alert(1)">x</a>[1]`,
}

func TestBrowserEscapesAlertFields(t *testing.T) {
	t.Parallel()
	p := startAurora(t, nil)
	b := newBrowser(t, p.URL)

	// Every field of the generic schema, and an Alertmanager alert, carry
	// payloads: titles, descriptions, services, labels (keys and values),
	// annotations, links and fingerprints.
	for i, x := range xssPayloads {
		body := map[string]any{
			"title": x + " title", "severity": "critical", "service": x, "description": x + "\nline two " + x,
			"fingerprint": fmt.Sprintf("fp-%d-%s", i, x),
			"labels":      map[string]string{"alertname": x, "namespace": x, "pod": x, x: "value " + x},
			"annotations": map[string]string{"summary": x, "runbook_url": x, x: x},
			// Intake refuses non-http(s) link URLs; the text and the URL's
			// path and query still carry the payload.
			"links": []map[string]string{{"text": x, "url": "https://runbooks.example/" + url.PathEscape(x) + "?q=" + url.QueryEscape(x)}},
		}
		if code := p.Do("POST", "/webhooks/generic", body, nil); code != 202 {
			t.Fatalf("generic payload %d: %d", i, code)
		}
	}
	labels := map[string]string{"alertname": xssScript, "severity": "critical", "namespace": `"><svg onload=window.__xss=9>`, "pod": xssPayloads[1]}
	if code := p.Do("POST", "/webhooks/alertmanager", alertmanagerPayload(labels, map[string]string{"summary": xssPayloads[2], "description": xssScript}, "firing"), nil); code != 202 {
		t.Fatalf("alertmanager payload: %d", code)
	}

	b.signIn("admin@localhost", adminPassword)
	b.waitJS("dashboard rows", `document.querySelectorAll("tr[data-incident]").length >= 2`, 15*time.Second)
	b.waitJS("investigations done", `document.querySelectorAll("tr[data-incident] [data-inv-status=completed]").length === document.querySelectorAll("tr[data-incident]").length`, 60*time.Second)
	check := func(where string) {
		t.Helper()
		// Hover and focus everything, open every <details>: event-handler
		// payloads would fire now if they were markup.
		eval[bool](b, `(document.querySelectorAll("details").forEach(d => d.open = true),
			document.querySelectorAll("*").forEach(el => { el.dispatchEvent(new MouseEvent("mouseover", {bubbles: true})); }), true)`)
		time.Sleep(300 * time.Millisecond)
		if v := eval[bool](b, `window.__xss !== undefined || window.parent.__xss !== undefined`); v {
			t.Fatalf("%s: injected script ran (window.__xss = %v)", where, eval[any](b, "window.__xss"))
		}
		bad := eval[[]string](b, `Array.from(document.querySelectorAll("img[src=x], iframe, svg[onload], [onerror], [onmouseover], [onload], script:not([src]), a[href^='javascript:' i]")).map(e => e.outerHTML.slice(0, 120))`)
		if len(bad) > 0 {
			t.Fatalf("%s: payload became markup: %q", where, bad)
		}
		scripts := eval[[]string](b, `Array.from(document.scripts).map(s => s.src)`)
		for _, s := range scripts {
			if !strings.HasPrefix(s, p.URL+"/static/") {
				t.Fatalf("%s: unexpected script %q", where, s)
			}
		}
		if !eval[bool](b, `(document.body.innerText.includes("__xss=") || document.body.innerText.includes("javascript:alert(1)"))`) {
			t.Fatalf("%s: the payload is not shown as text:\n%s", where, eval[string](b, "document.body.innerText.slice(0, 2000)"))
		}
	}
	check("dashboard")
	ids := eval[[]string](b, `Array.from(document.querySelectorAll("tr[data-incident]")).map(r => r.dataset.incident)`)
	for _, id := range ids {
		b.navigate("/incidents/" + id)
		b.waitJS("incident page", `document.querySelector("#incident-title")`, 10*time.Second)
		check("incident " + id)
		// Search with a payload: the filters echo it back.
	}
	b.navigate("/?q=" + strings.ReplaceAll(`"><script>window.__xss=8</script>`, " ", "%20"))
	b.waitJS("filtered dashboard", `document.querySelector("#f-q")`, 10*time.Second)
	if v := eval[bool](b, `window.__xss !== undefined`); v {
		t.Fatal("search payload ran")
	}
	if b.dialogs.Load() != 0 {
		t.Fatal("a JavaScript dialog opened")
	}
	// Report text quotes alert titles: its JSON must not be taken as markup either.
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	p.Do("GET", "/api/v1/incidents?limit=100", nil, &list)
	if len(list.Items) < 2 {
		t.Fatalf("%d incidents stored", len(list.Items))
	}
}

func TestBrowserChat(t *testing.T) {
	t.Parallel()
	p := startAurora(t, nil)
	b := newBrowser(t, p.URL)
	var acc struct {
		IncidentIDs []string `json:"incident_ids"`
	}
	body := map[string]any{"title": "Checkout latency high", "severity": "critical", "service": "checkout", "labels": map[string]string{"alertname": "HighLatency", "namespace": "shop"}}
	if code := p.Do("POST", "/webhooks/generic", body, &acc); code != 202 {
		t.Fatalf("webhook: %d", code)
	}
	id := acc.IncidentIDs[0]
	b.signIn("admin@localhost", adminPassword)
	b.waitJS("dashboard", `document.querySelector("#dash-live")`, 10*time.Second)
	b.navigate("/incidents/" + id)
	b.waitJS("report", `document.querySelector("#report")`, 30*time.Second)
	b.waitJS("chat panel", `document.querySelector("[data-chat] textarea")`, 10*time.Second)

	// Ask on the incident's page: the question, the streamed answer and the
	// final message appear in the panel.
	eval[bool](b, `(window.__deltas = 0, new MutationObserver(() => { if (document.querySelector(".msg.assistant.streaming")) window.__deltas++; })
		.observe(document.querySelector(".chat-log"), {childList: true, subtree: true, characterData: true}), true)`)
	b.do("ask", chromedp.SetValue(chromedp.CSS(`[data-chat] textarea`), "Why did this fire?"),
		chromedp.Click(chromedp.CSS(`[data-chat] .chat-form button[type=submit]`)))
	b.waitJS("question shown", `document.querySelector(".msg.user") && document.querySelector(".msg.user").textContent === "Why did this fire?"`, 15*time.Second)
	b.waitJS("final answer", `document.querySelector(".msg.assistant.final") && document.querySelector(".msg.assistant.final").textContent.length > 20`, 60*time.Second)
	answer := eval[string](b, `document.querySelector(".msg.assistant.final").textContent`)
	t.Logf("answer: %.300s", answer)
	if !strings.Contains(strings.ToLower(answer), "checkout") && !strings.Contains(strings.ToLower(answer), "inconclusive") {
		t.Fatalf("the answer does not speak of the incident:\n%s", answer)
	}
	if eval[int](b, `window.__deltas`) == 0 {
		t.Fatal("the answer did not stream (no delta was shown before the final message)")
	}
	// The answer's citations of this incident's investigation open the
	// cited step, like the report's.
	b.waitJS("cited step link in the answer", `document.querySelector(".msg.assistant.final .chat-cites a.cite")`, 10*time.Second)
	b.do("follow the answer's citation", chromedp.Click(chromedp.CSS(`.msg.assistant.final .chat-cites a.cite`)))
	b.waitJS("cited step opened", `(() => { const s = document.querySelector(".step.cited"); return s && s.querySelector("details").open })()`, 10*time.Second)
	session := eval[string](b, `document.querySelector("[data-chat]").dataset.session || ""`)
	if session == "" {
		t.Fatal("no chat session recorded")
	}

	// Agent mode: asking to acknowledge proposes the change; nothing happens
	// until the approval prompt is answered, then the incident is acknowledged.
	b.do("agent mode", chromedp.Click(chromedp.CSS(`[data-chat-agent]`)),
		chromedp.SetValue(chromedp.CSS(`[data-chat] textarea`), "acknowledge"),
		chromedp.Click(chromedp.CSS(`[data-chat] .chat-form button[type=submit]`)))
	b.waitJS("approval prompt", `document.querySelector(".msg.confirm button.primary")`, 30*time.Second)
	var inc struct{ Status string }
	p.Do("GET", "/api/v1/incidents/"+id, nil, &inc)
	if inc.Status != "open" {
		t.Fatalf("the change ran before approval: incident is %s", inc.Status)
	}
	b.do("approve", chromedp.Click(chromedp.CSS(`.msg.confirm button.primary`)))
	testenv.Eventually(t, 30*time.Second, "the approved change to run", func() bool {
		p.Do("GET", "/api/v1/incidents/"+id, nil, &inc)
		return inc.Status == "acknowledged"
	})
	b.waitJS("tool result shown", `Array.from(document.querySelectorAll(".msg.tool")).some(e => e.textContent.includes("← ok"))`, 30*time.Second)
	// The incident header on the same page followed the change live.
	b.waitJS("header acknowledged", `document.querySelector(".incident-head .status-acknowledged")`, 15*time.Second)

	// The chat page lists the conversation; opening it replays it.
	b.navigate("/chat")
	b.waitJS("history", `document.querySelectorAll("[data-chat-history] .session-link").length >= 1`, 15*time.Second)
	b.do("open session", chromedp.Click(chromedp.CSS(`[data-chat-history] .session-link`)))
	b.waitJS("replayed", `document.querySelector(".msg.user") && document.querySelector(".msg.assistant.final")`, 15*time.Second)
	if b.dialogs.Load() != 0 {
		t.Fatal("a JavaScript dialog opened")
	}
}

// startPrometheus runs a real Prometheus (Debian's package) that scrapes
// itself, for the toolset "test connection" button; it returns its URL.
func startPrometheus(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if testenv.CI() {
			t.Fatal("prometheus not found: CI installs it (scripts/test.sh APT_PACKAGES)")
		}
		t.Skip("SKIPPING: prometheus not found (apt-get install -y prometheus)")
	}
	dir := t.TempDir()
	addr := testenv.FreeAddr(t)
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: [%q]\n", addr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	base := "http://" + addr
	testenv.Eventually(t, 30*time.Second, "prometheus ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return base
}

func TestBrowserToolsetTestConnection(t *testing.T) {
	t.Parallel()
	promURL := startPrometheus(t)
	p := startAurora(t, nil)
	b := newBrowser(t, p.URL)
	b.signIn("admin@localhost", adminPassword)
	b.waitJS("dashboard", `document.querySelector("#dash-live")`, 10*time.Second)
	b.navigate("/integrations")
	b.waitJS("toolsets loaded", `document.querySelector('[data-toolset-form="prometheus"]')`, 15*time.Second)

	// A URL where nothing listens: saved, and the test reports the failure.
	dead := "http://" + testenv.FreeAddr(t)
	save := func(u string) {
		t.Helper()
		b.do("set prometheus url",
			chromedp.SetValue(chromedp.CSS(`[data-toolset-form="prometheus"] input[name=url]`), u),
			chromedp.Click(chromedp.CSS(`[data-toolset-form="prometheus"] button[type=submit]`)))
		b.waitJS("saved", fmt.Sprintf(`document.querySelector('[data-toolset="prometheus"] p.muted') && document.querySelector('[data-toolset="prometheus"] p.muted').textContent.includes(%q)`, u), 15*time.Second)
	}
	save(dead)
	b.do("test", chromedp.Click(chromedp.CSS(`[data-toolset-test="prometheus"]`)))
	b.waitJS("failure reported", `document.querySelector('[data-test-result="prometheus"]').textContent.startsWith("FAILED")`, 30*time.Second)

	// The real Prometheus: the test says OK.
	save(promURL)
	b.do("test", chromedp.Click(chromedp.CSS(`[data-toolset-test="prometheus"]`)))
	b.waitJS("success reported", `document.querySelector('[data-test-result="prometheus"]').textContent.startsWith("OK")`, 30*time.Second)
	t.Logf("test result: %s", eval[string](b, `document.querySelector('[data-test-result="prometheus"]').textContent`))
}

// fakeOpenAI answers the OpenAI chat-completions wire format (a test double:
// no vendor API can run here). While reject is set it answers 401 as OpenAI
// does for a wrong key.
type fakeOpenAI struct{ reject atomic.Bool }

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"message":"not found","type":"invalid_request_error"}}`))
		return
	}
	if f.reject.Load() {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided: sk-web-****.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`))
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-web", "object": "chat.completion", "created": time.Now().Unix(), "model": "gpt-web",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": "ok"}, "finish_reason": "stop", "logprobs": nil}},
		"usage":   map[string]any{"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
	})
}

func TestBrowserLLMTestConnection(t *testing.T) {
	t.Parallel()
	model := &fakeOpenAI{}
	srv := httptest.NewServer(model)
	t.Cleanup(srv.Close)
	p := startAurora(t, testenv.Env{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "sk-web-test", "MAIN_MODEL": "gpt-web", "LLM_PROVIDER_MODE": "openai"})
	b := newBrowser(t, p.URL)
	b.signIn("admin@localhost", adminPassword)
	b.waitJS("dashboard", `document.querySelector("#dash-live")`, 10*time.Second)
	b.navigate("/integrations")
	b.waitJS("models listed", `document.querySelector("#llm-models") && document.querySelector("#llm-models").textContent.includes("gpt-web")`, 15*time.Second)

	b.do("test", chromedp.Click(chromedp.CSS(`[data-llm-test]`)))
	b.waitJS("success", `document.querySelector("[data-llm-result]").textContent.startsWith("OK")`, 40*time.Second)
	model.reject.Store(true)
	b.do("test again", chromedp.Click(chromedp.CSS(`[data-llm-test]`)))
	b.waitJS("failure", `document.querySelector("[data-llm-result]").textContent.startsWith("FAILED")`, 40*time.Second)
	res := eval[string](b, `document.querySelector("[data-llm-result]").textContent`)
	t.Logf("failed test reads: %s", res)
	if strings.Contains(res, "sk-web-test") {
		t.Fatalf("the API key is shown: %s", res)
	}
}

// TestBrowserLiveInvestigation watches an investigation run on the incident
// page: steps appear one by one, then the report, without a reload.
// AURORA_DEBUG_STEP_DELAY slows each step so the running state is visible.
func TestBrowserLiveInvestigation(t *testing.T) {
	t.Parallel()
	p := startAurora(t, testenv.Env{"AURORA_DEBUG_STEP_DELAY": "1500ms"})
	b := newBrowser(t, p.URL)
	b.signIn("admin@localhost", adminPassword)
	b.waitJS("dashboard", `document.querySelector("#dash-live")`, 10*time.Second)
	var acc struct {
		IncidentIDs []string `json:"incident_ids"`
	}
	if code := p.Do("POST", "/webhooks/generic", map[string]any{"title": "Orders queue backing up", "severity": "high", "service": "orders"}, &acc); code != 202 {
		t.Fatalf("webhook: %d", code)
	}
	b.navigate("/incidents/" + acc.IncidentIDs[0])
	b.waitJS("investigating", `document.querySelector("#report-pending")`, 10*time.Second)
	eval[bool](b, `(window.__noReload = 1, true)`)
	b.waitJS("first step while running", `document.querySelector("#step-1") && document.querySelector("#report-pending")`, 20*time.Second)
	b.waitJS("report", `document.querySelector("#report") && !document.querySelector("#report-pending")`, 30*time.Second)
	if eval[int](b, `window.__noReload || 0`) != 1 {
		t.Fatal("the page reloaded")
	}
	if n := eval[int](b, `document.querySelectorAll("#steps > li.step[id]").length`); n < 2 {
		t.Fatalf("%d steps shown after the investigation", n)
	}
}

// TestBrowserChatCancel stops a running chat turn with the panel's Cancel
// button. AURORA_DEBUG_STEP_DELAY slows the investigation the question
// starts, so the turn is still running when Cancel is pressed.
func TestBrowserChatCancel(t *testing.T) {
	t.Parallel()
	p := startAurora(t, testenv.Env{"AURORA_DEBUG_STEP_DELAY": "3s"})
	b := newBrowser(t, p.URL)
	b.signIn("admin@localhost", adminPassword)
	b.waitJS("dashboard", `document.querySelector("#dash-live")`, 10*time.Second)
	b.navigate("/chat")
	b.waitJS("chat", `document.querySelector("[data-chat] textarea")`, 10*time.Second)
	b.do("ask", chromedp.SetValue(chromedp.CSS(`[data-chat] textarea`), "what is wrong with deployment shop/checkout"),
		chromedp.Click(chromedp.CSS(`[data-chat] .chat-form button[type=submit]`)))
	b.waitJS("running with a Cancel button", `!document.querySelector("[data-chat-cancel]").hidden`, 20*time.Second)
	b.do("cancel", chromedp.Click(chromedp.CSS(`[data-chat-cancel]`)))
	b.waitJS("cancelled", `document.querySelector("[data-chat]").dataset.state === "cancelled" && document.querySelector(".msg.note") && document.querySelector(".msg.note").textContent === "Cancelled."`, 20*time.Second)
	b.waitJS("Cancel hidden again", `document.querySelector("[data-chat-cancel]").hidden`, 10*time.Second)
}

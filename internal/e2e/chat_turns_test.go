package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// newToken creates an API token of a role through the API.
func newToken(t *testing.T, base, role string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if code := testenv.DoToken(t, base, testenv.AdminToken, "POST", "/api/v1/tokens", map[string]any{"name": role + " for chat", "role": role}, &out); code != 201 {
		t.Fatalf("create %s token: %d", role, code)
	}
	return out.Token
}

func incidentStatus(t *testing.T, p *testenv.Process, id string) string {
	t.Helper()
	var inc struct {
		Status string `json:"status"`
	}
	if code := p.Do("GET", "/api/v1/incidents/"+id, nil, &inc); code != 200 {
		t.Fatalf("GET incident: %d", code)
	}
	return inc.Status
}

// TestChatConfirmations: in agent mode a writing tool waits for a human;
// yes applies it, no and silence (timeout) do not; a viewer may not answer;
// an answer is taken once; ask mode never proposes.
func TestChatConfirmations(t *testing.T) {
	t.Parallel()
	p, _ := startAll(t, embedded, testenv.Env{"AURORA_CHAT_CONFIRM_TIMEOUT": "3s"})
	res := postAlerts(t, p.URL, testenv.AdminToken, "generic", genericAlert("Checkout errors", "CheckoutErrors", "checkout"))
	inc := res.IncidentIDs[0]
	admin := connect(t, "admin", p.URL, testenv.AdminToken)
	viewer := connect(t, "viewer", p.URL, newToken(t, p.URL, "viewer"))

	// Ask mode is read-only: it explains instead of proposing.
	_, turn := admin.ask(map[string]any{"incident_id": inc, "text": "acknowledge this incident", "mode": "ask"}, 30*time.Second)
	if findFrame(turn, isType("confirmation_required")) != nil || !strings.Contains(assistantText(t, turn), "read-only") {
		t.Fatalf("ask mode proposed a change: %s", dump(turn))
	}

	propose := func(text string) (string, frame, int) {
		t.Helper()
		from := len(admin.all())
		admin.send(map[string]any{"type": "query", "incident_id": inc, "text": text, "mode": "agent"})
		s, _ := admin.waitFor(from, 15*time.Second, "session", isType("session"))
		cr, i := admin.waitFor(from, 30*time.Second, "confirmation_required", isType("confirmation_required"))
		return s.str("id"), cr, i
	}
	answer := func(c *chatClient, id, ans string) frame {
		t.Helper()
		from := len(c.all())
		c.send(map[string]any{"type": "confirm", "confirmation_id": id, "answer": ans})
		// Success is silent on the connection; errors are answered at once.
		time.Sleep(300 * time.Millisecond)
		return findFrame(c.all()[from:], isType("error"))
	}

	// yes: applied, recorded, and not answerable twice.
	_, cr, i := propose("acknowledge this incident")
	if cr.str("tool") != "aurora.incident_status" || cr.str("risk") != "low" || !strings.Contains(cr.str("command"), "acknowledged") ||
		!strings.Contains(cr.str("undo"), `"open"`) || cr.str("expires_at") == "" {
		t.Errorf("proposal: %v", cr)
	}
	if incidentStatus(t, p, inc) != "open" {
		t.Fatal("the incident changed before anyone confirmed")
	}
	if e := answer(viewer, cr.str("confirmation_id"), "yes"); e == nil || e.str("code") != "forbidden" {
		t.Errorf("viewer confirm: %v, want forbidden", e)
	}
	if e := answer(admin, cr.str("confirmation_id"), "yes"); e != nil {
		t.Fatalf("admin confirm: %v", e)
	}
	r, _ := admin.waitFor(i, 15*time.Second, "tool_result", isType("tool_result"))
	if r.str("status") != "ok" {
		t.Errorf("after yes: %v", r)
	}
	admin.waitFor(i, 15*time.Second, "done", isType("done"))
	if s := incidentStatus(t, p, inc); s != "acknowledged" {
		t.Errorf("after yes the incident is %s, want acknowledged", s)
	}
	if e := answer(admin, cr.str("confirmation_id"), "no"); e == nil || e.str("code") != "conflict" {
		t.Errorf("second answer: %v, want conflict", e)
	}

	// no: declined, nothing changes.
	_, cr, i = propose("resolve this incident")
	if e := answer(admin, cr.str("confirmation_id"), "no"); e != nil {
		t.Fatalf("confirm no: %v", e)
	}
	r, _ = admin.waitFor(i, 15*time.Second, "tool_result", isType("tool_result"))
	admin.waitFor(i, 15*time.Second, "done", isType("done"))
	if r.str("status") != "declined" || incidentStatus(t, p, inc) != "acknowledged" {
		t.Errorf("after no: %v, incident %s", r, incidentStatus(t, p, inc))
	}

	// silence: timed out after AURORA_CHAT_CONFIRM_TIMEOUT, counted as no.
	start := time.Now()
	_, cr, i = propose("resolve this incident")
	r, _ = admin.waitFor(i, 30*time.Second, "tool_result", isType("tool_result"))
	if r.str("status") != "timed_out" || incidentStatus(t, p, inc) != "acknowledged" {
		t.Errorf("after timeout: %v, incident %s", r, incidentStatus(t, p, inc))
	}
	if d := time.Since(start); d < 2500*time.Millisecond {
		t.Errorf("timed out after %s, before the 3s timeout", d)
	}
	admin.waitFor(i, 15*time.Second, "done", isType("done"))
	if e := answer(admin, cr.str("confirmation_id"), "yes"); e == nil || e.str("code") != "conflict" {
		t.Errorf("answer after timeout: %v, want conflict", e)
	}

	// cancelled while waiting: the turn ends and a late yes is refused.
	sid, cr, i := propose("resolve this incident")
	admin.send(map[string]any{"type": "cancel", "session_id": sid})
	admin.waitFor(i, 15*time.Second, "cancelled", func(f frame) bool { return f.typ() == "status" && f.str("state") == "cancelled" })
	admin.waitFor(i, 15*time.Second, "done", isType("done"))
	if e := answer(admin, cr.str("confirmation_id"), "yes"); e == nil || e.str("code") != "conflict" || incidentStatus(t, p, inc) != "acknowledged" {
		t.Errorf("yes after cancel: %v, incident %s", e, incidentStatus(t, p, inc))
	}
}

// TestChatCancelAndBusy: one running turn per session; cancel stops it
// mid-stream wherever it runs, and the session takes questions again.
func TestChatCancelAndBusy(t *testing.T) {
	t.Parallel()
	p, _ := startAll(t, embedded, testenv.Env{"AURORA_DEBUG_STEP_DELAY": "2s"})
	c := connect(t, "client", p.URL, testenv.AdminToken)
	from := len(c.all())
	c.send(map[string]any{"type": "query", "text": "what is wrong with deployment shop/checkout?"})
	s, _ := c.waitFor(from, 15*time.Second, "session", isType("session"))
	sid := s.str("id")
	_, i := c.waitFor(from, 30*time.Second, "first tool_call", isType("tool_call"))

	// Busy while it runs.
	c.send(map[string]any{"type": "query", "session_id": sid, "text": "hello?"})
	if e, _ := c.waitFor(i, 10*time.Second, "busy", isType("error")); e.str("code") != "busy" {
		t.Errorf("second query: %v, want busy", e)
	}
	// Cancel from another connection of the same user.
	o := connect(t, "other", p.URL, testenv.AdminToken)
	o.send(map[string]any{"type": "cancel", "session_id": sid})
	st, j := c.waitFor(i, 10*time.Second, "cancelled", func(f frame) bool { return f.typ() == "status" && f.str("state") == "cancelled" })
	c.waitFor(j, 5*time.Second, "done", isType("done"))
	all := c.all()
	if m := findFrame(all[from:], func(f frame) bool { return f.typ() == "message" && f.str("role") == "assistant" }); m != nil {
		t.Errorf("a cancelled turn answered: %v", m)
	}
	checkSeqs(t, "cancelled turn", all[from:], 1)
	_ = st
	// The session is free again.
	_, turn := c.ask(map[string]any{"session_id": sid, "text": "hello again"}, 30*time.Second)
	if !strings.Contains(assistantText(t, turn), "No language model") {
		t.Errorf("after cancel: %s", dump(turn))
	}
}

// TestChatLimits: questions per minute per user, and the idle timeout.
func TestChatLimits(t *testing.T) {
	t.Parallel()
	p, _ := startAll(t, embedded, testenv.Env{"AURORA_CHAT_RATE_LIMIT": "3", "AURORA_CHAT_IDLE_TIMEOUT": "2s"})
	c := connect(t, "client", p.URL, testenv.AdminToken)
	for i := range 3 {
		c.ask(map[string]any{"text": fmt.Sprintf("question %d", i)}, 30*time.Second)
	}
	from := len(c.all())
	c.send(map[string]any{"type": "query", "text": "one too many"})
	e, _ := c.waitFor(from, 10*time.Second, "rate_limited", isType("error"))
	if e.str("code") != "rate_limited" || e["retry_after"] == nil {
		t.Errorf("4th question: %v", e)
	}
	// Nothing was stored for the refused question.
	var list struct {
		Items []any `json:"items"`
	}
	if p.Do("GET", "/api/v1/chat/sessions", nil, &list); len(list.Items) != 3 {
		t.Errorf("sessions after the refused question: %d, want 3", len(list.Items))
	}
	// Another user has its own budget.
	other := connect(t, "editor", p.URL, newToken(t, p.URL, "editor"))
	other.ask(map[string]any{"text": "my first"}, 30*time.Second)

	// Idle: pings keep a connection open, silence closes it (1008).
	idle := connect(t, "idle", p.URL, testenv.AdminToken)
	alive := connect(t, "alive", p.URL, testenv.AdminToken)
	for range 4 {
		time.Sleep(time.Second)
		alive.send(map[string]any{"type": "ping"})
	}
	if st := idle.waitClosed(5 * time.Second); st != websocket.StatusPolicyViolation {
		t.Errorf("idle connection closed with %v, want 1008", st)
	}
	from = len(alive.all())
	alive.send(map[string]any{"type": "ping"})
	alive.waitFor(from, 5*time.Second, "pong", isType("pong"))
}

// TestChatGracefulShutdown: a stopping process closes its chat sockets
// with 1001 (going away), so clients reconnect elsewhere and resume, and it
// does not wait on them to exit.
func TestChatGracefulShutdown(t *testing.T) {
	t.Parallel()
	p, _ := startAll(t, embedded, nil)
	c := connect(t, "client", p.URL, testenv.AdminToken)
	c.send(map[string]any{"type": "ping"})
	c.waitFor(0, 5*time.Second, "pong", isType("pong"))
	start := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- p.Stop() }()
	if st := c.waitClosed(15 * time.Second); st != websocket.StatusGoingAway {
		t.Errorf("close status %v, want 1001 going away", st)
	}
	if err := <-errc; err != nil {
		t.Errorf("stop: %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("stopping took %s with a chat socket open", d)
	}
}

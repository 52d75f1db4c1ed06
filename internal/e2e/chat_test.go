package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/aurora-oss/aurora/internal/chat"
	"github.com/aurora-oss/aurora/internal/config"
	"github.com/aurora-oss/aurora/internal/secret"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestChatAuth: the WebSocket accepts a fresh chat token once, or an API
// token header; everything else is refused with 401 before the upgrade.
func TestChatAuth(t *testing.T) {
	t.Parallel()
	p, _ := startAll(t, embedded, nil)

	tok := chatToken(t, p.URL, testenv.AdminToken)
	c, code, err := dialChat(t, "first use", p.URL, "?token="+tok, nil)
	if err != nil {
		t.Fatalf("fresh token refused: %d %v", code, err)
	}
	c.send(map[string]any{"type": "ping"})
	c.waitFor(0, 5*time.Second, "pong", isType("pong"))

	expired := forgeExpiredToken(t)
	for _, tc := range []struct {
		name, query string
		hdr         http.Header
	}{
		{"reused token", "?token=" + tok, nil},
		{"no credentials", "", nil},
		{"garbage token", "?token=aurchat_x.notbase64!", nil},
		{"tampered token", "?token=" + tok[:len(tok)-4] + "AAAA", nil},
		{"expired token", "?token=" + expired, nil},
		{"unknown API token", "", http.Header{"Authorization": {"Bearer aur_not_a_real_token"}}},
		{"chat token from another key", "?token=" + foreignToken(t), nil},
	} {
		_, code, err := dialChat(t, tc.name, p.URL, tc.query, tc.hdr)
		if err == nil || code != http.StatusUnauthorized {
			t.Errorf("%s: dial = %d %v, want 401", tc.name, code, err)
		}
	}
	// Programmatic clients: an API token header.
	hc, code, err := dialChat(t, "api token", p.URL, "", http.Header{"Authorization": {"Bearer " + testenv.AdminToken}})
	if err != nil {
		t.Fatalf("API token header refused: %d %v", code, err)
	}
	hc.send(map[string]any{"type": "ping"})
	hc.waitFor(0, 5*time.Second, "pong", isType("pong"))
	// The token endpoint needs API auth.
	if code := testenv.DoToken(t, p.URL, "", "POST", "/api/v1/chat/token", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("token without auth: %d, want 401", code)
	}
}

// forgeExpiredToken signs a token with the deployment's key that expired.
func forgeExpiredToken(t *testing.T) string {
	t.Helper()
	cfg, err := config.Load(func(k string) (string, bool) {
		if k == "AURORA_SECRET_KEY" {
			return testenv.SecretKey, true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cfg.SecretKeys()
	if err != nil {
		t.Fatal(err)
	}
	var ks []secret.Key
	for _, k := range keys {
		ks = append(ks, secret.Key{ID: k.ID, Bytes: k.Bytes})
	}
	kr, err := secret.NewKeyring(ks)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := chat.IssueToken(kr, "org", "token:admin", "admin", time.Now().Add(-2*chat.TokenTTL))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// foreignToken is a well-formed token sealed with a key the server lacks.
func foreignToken(t *testing.T) string {
	t.Helper()
	kr, err := secret.NewKeyring([]secret.Key{{ID: "other", Bytes: bytes.Repeat([]byte{7}, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := chat.IssueToken(kr, "org", "token:admin", "admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestChatProtocol: frames, sequence numbers, history, resume and bad
// input on one embedded Aurora without a model.
func TestChatProtocol(t *testing.T) {
	t.Parallel()
	p, _ := startAll(t, embedded, nil)
	c := connect(t, "client", p.URL, testenv.AdminToken)

	// A general question: the deterministic engine says what it can do and
	// that no model is configured; every session frame is numbered 1, 2, …
	sid, turn := c.ask(map[string]any{"text": "hello, what can you do?"}, 30*time.Second)
	checkSeqs(t, "first turn", turn, 1)
	wantTypes := []string{"session", "message", "status", "status"}
	for i, w := range wantTypes {
		if turn[i].typ() != w {
			t.Fatalf("frame %d is %s, want %s: %s", i, turn[i].typ(), w, dump(turn))
		}
	}
	if turn[1].str("role") != "user" || turn[1].str("text") != "hello, what can you do?" {
		t.Errorf("first frame is not the user's message: %v", turn[1])
	}
	if turn[2].str("state") != "queued" || turn[3].str("state") != "running" {
		t.Errorf("want status queued then running: %s", dump(turn[:4]))
	}
	text := assistantText(t, turn)
	if !strings.Contains(text, "No language model is configured") || !strings.Contains(text, "what is wrong with") {
		t.Errorf("answer does not explain itself: %q", text)
	}
	var deltas strings.Builder
	for _, f := range turn {
		if f.typ() == "delta" {
			deltas.WriteString(f.str("text"))
		}
		if f.seq() > 0 && (f.str("session_id") != sid || f.str("turn_id") == "") {
			t.Errorf("frame without its session/turn: %v", f)
		}
	}
	if deltas.String() != text {
		t.Errorf("deltas do not add up to the message:\n%q\n%q", deltas.String(), text)
	}
	if u := findFrame(turn, isType("usage")); u == nil || u["tokens"].(float64) != 0 {
		t.Errorf("want a usage frame with 0 tokens: %v", u)
	}
	last := turn[len(turn)-2]
	if last.typ() != "status" || last.str("state") != "completed" {
		t.Errorf("the frame before done is %v, want status completed", last)
	}

	// A second turn in the same session continues the numbering.
	_, turn2 := c.ask(map[string]any{"session_id": sid, "text": "and now?"}, 30*time.Second)
	checkSeqs(t, "second turn", turn2, turn[len(turn)-1].seq()+1)
	lastSeq := turn2[len(turn2)-1].seq()

	// Resume on a new connection: exactly the frames after after_seq.
	r := connect(t, "resumer", p.URL, testenv.AdminToken)
	after := int64(3)
	r.send(map[string]any{"type": "resume", "session_id": sid, "after_seq": after})
	r.waitFor(0, 10*time.Second, "last frame", func(f frame) bool { return f.seq() == lastSeq })
	time.Sleep(300 * time.Millisecond) // nothing more may come
	got := r.all()
	if got[0].typ() != "session" || got[0].str("id") != sid || int64(got[0]["last_seq"].(float64)) != lastSeq {
		t.Errorf("resume starts with %v, want session %s last_seq %d", got[0], sid, lastSeq)
	}
	checkSeqs(t, "resumed", got[1:], after+1)
	if n := int64(len(got) - 1); n != lastSeq-after {
		t.Errorf("resume sent %d frames, want %d", n, lastSeq-after)
	}

	// History over the API.
	var list struct {
		Items []struct {
			ID      string `json:"id"`
			LastSeq int64  `json:"last_seq"`
		} `json:"items"`
	}
	if code := p.Do("GET", "/api/v1/chat/sessions", nil, &list); code != 200 || len(list.Items) != 1 || list.Items[0].ID != sid || list.Items[0].LastSeq != lastSeq {
		t.Errorf("GET /api/v1/chat/sessions: %d %+v", code, list)
	}
	var one struct {
		Messages []struct {
			Message struct{ Role, Text string } `json:"message"`
		} `json:"messages"`
	}
	if code := p.Do("GET", "/api/v1/chat/sessions/"+sid, nil, &one); code != 200 || len(one.Messages) != 4 ||
		one.Messages[0].Message.Role != "user" || one.Messages[1].Message.Role != "assistant" {
		t.Errorf("GET session: %d %+v", code, one)
	}
	if code := p.Do("GET", "/api/v1/chat/sessions/nope", nil, nil); code != 404 {
		t.Errorf("unknown session: %d, want 404", code)
	}

	// Bad frames are answered and the connection stays usable.
	b := connect(t, "bad input", p.URL, testenv.AdminToken)
	for _, tc := range []struct{ name, raw, want string }{
		{"not JSON", `hello`, "JSON object"},
		{"broken JSON", `{"type":"query",`, "invalid JSON"},
		{"array", `[1,2]`, "JSON object"},
		{"no type", `{"text":"x"}`, "type is required"},
		{"unknown type", `{"type":"launch"}`, "unknown frame type"},
		{"empty query", `{"type":"query","text":"  "}`, "text is required"},
		{"bad mode", `{"type":"query","text":"x","mode":"god"}`, "mode must be"},
		{"resume without after_seq", `{"type":"resume","session_id":"x"}`, "after_seq is required"},
		{"confirm bad answer", `{"type":"confirm","confirmation_id":"x","answer":"maybe"}`, "yes or no"},
		{"two objects", `{"type":"ping"}{"type":"ping"}`, "one JSON object"},
	} {
		from := len(b.all())
		b.sendRaw(websocket.MessageText, []byte(tc.raw))
		f, _ := b.waitFor(from, 5*time.Second, tc.name+" error", isType("error"))
		if f.str("code") != "bad_frame" || !strings.Contains(f.str("message"), tc.want) || f.seq() != 0 {
			t.Errorf("%s: %v, want bad_frame mentioning %q", tc.name, f, tc.want)
		}
	}
	from := len(b.all())
	b.sendRaw(websocket.MessageBinary, []byte{1, 2, 3})
	if f, _ := b.waitFor(from, 5*time.Second, "binary error", isType("error")); f.str("code") != "bad_frame" {
		t.Errorf("binary frame: %v", f)
	}
	for _, tc := range []struct{ name, frame, code string }{
		{"resume unknown session", `{"type":"resume","session_id":"nope","after_seq":0}`, "not_found"},
		{"cancel without a turn", `{"type":"cancel","session_id":"` + sid + `"}`, "not_running"},
		{"confirm unknown", `{"type":"confirm","confirmation_id":"nope","answer":"yes"}`, "not_found"},
		{"query unknown incident", `{"type":"query","incident_id":"nope","text":"hi"}`, "not_found"},
	} {
		from := len(b.all())
		b.sendRaw(websocket.MessageText, []byte(tc.frame))
		if f, _ := b.waitFor(from, 5*time.Second, tc.name, isType("error")); f.str("code") != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, f, tc.code)
		}
	}
	from = len(b.all())
	b.send(map[string]any{"type": "ping"})
	b.waitFor(from, 5*time.Second, "pong after bad frames", isType("pong"))

	// An oversize frame closes the connection with 1009.
	b.sendRaw(websocket.MessageText, []byte(`{"type":"query","text":"`+strings.Repeat("x", 17<<10)+`"}`))
	if st := b.waitClosed(10 * time.Second); st != websocket.StatusMessageTooBig {
		t.Errorf("oversize frame: close status %v, want 1009", st)
	}
	// … and stored nothing.
	if code := p.Do("GET", "/api/v1/chat/sessions", nil, &list); code != 200 || len(list.Items) != 1 {
		t.Errorf("sessions after bad input: %+v", list)
	}
}

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// frame is a chat frame as received.
type frame map[string]any

func (f frame) typ() string { s, _ := f["type"].(string); return s }
func (f frame) str(k string) string {
	s, _ := f[k].(string)
	return s
}
func (f frame) seq() int64 { n, _ := f["seq"].(float64); return int64(n) }

// chatClient is a real WebSocket client that records every frame.
type chatClient struct {
	t      *testing.T
	name   string
	c      *websocket.Conn
	mu     sync.Mutex
	frames []frame
	wake   chan struct{}
	closed chan struct{}
	err    error
}

// chatToken asks the API for a single-use chat token.
func chatToken(t *testing.T, base, apiToken string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
		URL   string `json:"url"`
	}
	if code := testenv.DoToken(t, base, apiToken, "POST", "/api/v1/chat/token", nil, &out); code != 200 || out.Token == "" {
		t.Fatalf("POST /api/v1/chat/token: %d %+v", code, out)
	}
	if !strings.HasSuffix(out.URL, "/ws") || !strings.HasPrefix(out.URL, "ws") {
		t.Errorf("token answer's url = %q, want a ws(s)://…/ws URL", out.URL)
	}
	return out.Token
}

// dialChat connects to base/ws with ?token= (chatToken != "") or an API
// token header, and returns the HTTP status of a refused upgrade.
func dialChat(t *testing.T, name, base, query string, hdr http.Header) (*chatClient, int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(base, "http") + "/ws" + query
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		return nil, code, err
	}
	c.SetReadLimit(1 << 22)
	cc := &chatClient{t: t, name: name, c: c, wake: make(chan struct{}, 1), closed: make(chan struct{})}
	go cc.read()
	t.Cleanup(func() { c.CloseNow() })
	return cc, 101, nil
}

// connect dials with a fresh chat token.
func connect(t *testing.T, name, base, apiToken string) *chatClient {
	t.Helper()
	cc, code, err := dialChat(t, name, base, "?token="+chatToken(t, base, apiToken), nil)
	if err != nil {
		t.Fatalf("%s: dial: %d %v", name, code, err)
	}
	return cc
}

func (cc *chatClient) read() {
	defer close(cc.closed)
	for {
		typ, b, err := cc.c.Read(context.Background())
		if err != nil {
			cc.mu.Lock()
			cc.err = err
			cc.mu.Unlock()
			cc.notify()
			return
		}
		var f frame
		if typ != websocket.MessageText || json.Unmarshal(b, &f) != nil {
			f = frame{"type": "<unparseable>", "raw": string(b)}
		}
		cc.mu.Lock()
		cc.frames = append(cc.frames, f)
		cc.mu.Unlock()
		cc.notify()
	}
}

func (cc *chatClient) notify() {
	select {
	case cc.wake <- struct{}{}:
	default:
	}
}

func (cc *chatClient) send(f any) {
	cc.t.Helper()
	b, _ := json.Marshal(f)
	cc.sendRaw(websocket.MessageText, b)
}

func (cc *chatClient) sendRaw(typ websocket.MessageType, b []byte) {
	cc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cc.c.Write(ctx, typ, b); err != nil {
		cc.t.Fatalf("%s: write: %v", cc.name, err)
	}
}

func (cc *chatClient) all() []frame {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return append([]frame(nil), cc.frames...)
}

// waitFor waits for the first frame after index from that matches, and
// returns it with its index.
func (cc *chatClient) waitFor(from int, d time.Duration, what string, match func(frame) bool) (frame, int) {
	cc.t.Helper()
	deadline := time.After(d)
	for {
		cc.mu.Lock()
		for i := from; i < len(cc.frames); i++ {
			if match(cc.frames[i]) {
				f := cc.frames[i]
				cc.mu.Unlock()
				return f, i
			}
		}
		err := cc.err
		cc.mu.Unlock()
		if err != nil {
			cc.t.Fatalf("%s: connection ended (%v) while waiting for %s; frames: %s", cc.name, err, what, dump(cc.all()))
		}
		select {
		case <-cc.wake:
		case <-deadline:
			cc.t.Fatalf("%s: no %s within %s; frames: %s", cc.name, what, d, dump(cc.all()))
		}
	}
}

func isType(typ string) func(frame) bool { return func(f frame) bool { return f.typ() == typ } }

// waitClosed waits for the server to close the connection and returns the
// close status.
func (cc *chatClient) waitClosed(d time.Duration) websocket.StatusCode {
	cc.t.Helper()
	select {
	case <-cc.closed:
	case <-time.After(d):
		cc.t.Fatalf("%s: still open after %s", cc.name, d)
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return websocket.CloseStatus(cc.err)
}

func dump(fs []frame) string {
	var b strings.Builder
	for _, f := range fs {
		x, _ := json.Marshal(f)
		if len(x) > 300 {
			x = append(x[:300], "…"...)
		}
		b.WriteString("\n  ")
		b.Write(x)
	}
	return b.String()
}

// turnFrames returns the frames with seq of one session, checking that
// they are strictly increasing without gaps from first.
func checkSeqs(t *testing.T, name string, fs []frame, first int64) {
	t.Helper()
	want := first
	for _, f := range fs {
		if f.seq() == 0 {
			continue
		}
		if f.seq() != want {
			t.Fatalf("%s: seq %d where %d was expected (duplicate, gap or disorder); frames: %s", name, f.seq(), want, dump(fs))
		}
		want++
	}
}

// ask sends a query and waits for its session frame and done.
func (cc *chatClient) ask(q map[string]any, d time.Duration) (sessionID string, turn []frame) {
	cc.t.Helper()
	from := len(cc.all())
	q["type"] = "query"
	cc.send(q)
	s, i := cc.waitFor(from, 15*time.Second, "session frame", func(f frame) bool { return f.typ() == "session" || f.typ() == "error" })
	if s.typ() == "error" {
		cc.t.Fatalf("%s: query refused: %v", cc.name, s)
	}
	_, j := cc.waitFor(i, d, "done", isType("done"))
	return s.str("id"), cc.all()[i : j+1]
}

func findFrame(fs []frame, match func(frame) bool) frame {
	for _, f := range fs {
		if match(f) {
			return f
		}
	}
	return nil
}

func assistantText(t *testing.T, fs []frame) string {
	t.Helper()
	m := findFrame(fs, func(f frame) bool { return f.typ() == "message" && f.str("role") == "assistant" })
	if m == nil {
		t.Fatalf("no assistant message in %s", dump(fs))
	}
	return m.str("text")
}

package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	dto "github.com/prometheus/client_model/go"

	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/event"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/storage/storagetest"
)

// TestSlowClientIsDropped: a client that stops reading is disconnected
// (its bounded queue full, its writes timing out), while another client on
// the same server keeps getting answers without delay; and a long replay
// to a client that reads reaches it whole, in order, however small the
// queue.
func TestSlowClientIsDropped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, org := storagetest.SQLite(t)
	const token = "aur_slow_client_test_token_0123456789"
	if _, err := st.CreateAPIToken(ctx, org.ID, "t", string(auth.Admin), auth.HashToken(token)); err != nil {
		t.Fatal(err)
	}
	sess, turn, _, err := st.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: org.ID, UserID: UserOfToken("t"), Role: "admin", Mode: ModeAsk, Text: "big"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	big := fmt.Sprintf(`{"text":%q}`, strings.Repeat("x", 64<<10))
	for i := range 200 { // ~13 MB: more than any socket buffers hold
		if _, _, err := st.AppendChatFrame(ctx, org.ID, sess.ID, turn.ID, storage.ChatFrameIn{Key: fmt.Sprint(i), Type: TypeDelta, Data: []byte(big)}); err != nil {
			t.Fatal(err)
		}
	}
	srv := NewServer(Options{Store: st, Bus: event.NewBus(nil, log), Log: log,
		Limits: Limits{SendQueue: 8, WriteTimeout: 2 * time.Second}})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	dial := func() *websocket.Conn {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadLimit(1 << 20)
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	slow, fast := dial(), dial()
	if err := slow.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"type":"resume","session_id":%q,"after_seq":0}`, sess.ID))); err != nil {
		t.Fatal(err)
	}
	// The slow client never reads. The fast one pings throughout and is
	// answered promptly.
	deadline := time.Now().Add(20 * time.Second)
	for srv.Connections() > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the slow client is still connected (%d connections)", srv.Connections())
		}
		start := time.Now()
		if err := fast.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`)); err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, b, err := fast.Read(rctx)
		cancel()
		if err != nil || !strings.Contains(string(b), `"pong"`) {
			t.Fatalf("fast client: %v %s", err, b)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("pong took %s while a slow client was stuck", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The writer counts the drop; the reader may have noticed the closed
	// socket (and left the connection count) a moment before.
	dropped := func() float64 {
		var m dto.Metric
		if err := srv.Metrics.Dropped.Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetCounter().GetValue()
	}
	for dropped() == 0 && time.Now().Before(deadline.Add(10*time.Second)) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // room for a second, wrong, count
	if n := dropped(); n != 1 {
		t.Errorf("dropped = %v, want 1", n)
	}

	// A reading client replays all 200 big frames through the 8-frame queue.
	if err := fast.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"type":"resume","session_id":%q,"after_seq":0}`, sess.ID))); err != nil {
		t.Fatal(err)
	}
	var want int64 = 1
	for want <= 200 {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, b, err := fast.Read(rctx)
		cancel()
		if err != nil {
			t.Fatalf("replay stopped before seq %d: %v", want, err)
		}
		var f struct {
			Type string `json:"type"`
			Seq  int64  `json:"seq"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		if f.Type == TypeSession || f.Type == TypePong {
			continue
		}
		if f.Seq != want {
			t.Fatalf("replay: seq %d where %d was expected", f.Seq, want)
		}
		want++
	}
}

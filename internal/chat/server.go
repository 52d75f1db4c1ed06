package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/event"
	"github.com/aurora-oss/aurora/internal/secret"
	"github.com/aurora-oss/aurora/internal/storage"
)

// Enqueuer queues a stored turn's job in the transaction that stored it.
type Enqueuer interface {
	EnqueueChatTurn(ctx context.Context, tx *storage.Tx, orgID, turnID string) error
}

// Limits bound what one client may do.
type Limits struct {
	// MaxMessageBytes is the largest client frame; larger ones close the
	// connection with 1009.
	MaxMessageBytes int64
	// PerMinute is the most queries per user per minute (0: no limit).
	PerMinute int
	// IdleTimeout closes a connection that sent nothing for this long.
	IdleTimeout time.Duration
	// SendQueue is how many frames may wait for a slow client before it is
	// dropped.
	SendQueue int
	// WriteTimeout bounds one write to a client.
	WriteTimeout time.Duration
	// PingInterval is how often WebSocket pings are sent.
	PingInterval time.Duration
	// Poll is the fallback re-read of a followed session when no wake-up
	// came (a lost notification delays frames, never loses them).
	Poll time.Duration
}

// DefaultLimits are the documented defaults.
func DefaultLimits() Limits {
	return Limits{MaxMessageBytes: 16 << 10, PerMinute: 20, IdleTimeout: 90 * time.Second, SendQueue: 256,
		WriteTimeout: 10 * time.Second, PingInterval: 30 * time.Second, Poll: 5 * time.Second}
}

// Options configure a Server.
type Options struct {
	Store   *storage.Store
	Keys    *secret.Keyring
	Bus     *event.Bus
	Jobs    Enqueuer
	Redis   redis.UniversalClient
	Log     *slog.Logger
	Limits  Limits
	Metrics *Metrics
}

// Server serves /ws.
type Server struct {
	Options
	limiter  *rateLimiter
	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown bool
}

// NewServer returns a server; Limits' zero fields take the defaults.
func NewServer(o Options) *Server {
	s := &Server{Options: o}
	d := DefaultLimits()
	l := &s.Limits
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = d.MaxMessageBytes
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.SendQueue <= 0 {
		l.SendQueue = d.SendQueue
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.PingInterval <= 0 {
		l.PingInterval = d.PingInterval
	}
	if l.Poll <= 0 {
		l.Poll = d.Poll
	}
	if s.Metrics == nil {
		s.Metrics = NewMetrics(nil)
	}
	s.limiter = &rateLimiter{store: s.Store, redis: s.Redis, perMinute: l.PerMinute}
	s.conns = map[*conn]struct{}{}
	return s
}

// maxPoll is the longest a quiet followed session goes unread.
const maxPoll = time.Minute

// maxFramesPerSecond bounds what one connection may send; questions have
// their own, lower, per-user limit.
const maxFramesPerSecond = 30

// principal is who is connected.
type principal struct {
	OrgID, UserID string
	Role          auth.Role
}

// Connections counts open connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// CloseAll closes every connection with "going away" (clients reconnect
// to another replica and resume). Call it when shutdown begins: hijacked
// connections are not tracked by http.Server.Shutdown.
func (s *Server) CloseAll() {
	s.mu.Lock()
	s.shutdown = true
	list := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		list = append(list, c)
	}
	s.mu.Unlock()
	for _, c := range list {
		go c.ws.Close(websocket.StatusGoingAway, "server shutting down; reconnect and resume")
	}
}

func httpError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// authenticate accepts a chat token (?token= or Bearer) or an API token
// (Authorization: Bearer or X-Aurora-Token).
func (s *Server) authenticate(r *http.Request) (principal, error) {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		if h := r.Header.Get("Authorization"); h != "" {
			if scheme, t, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
				tok = strings.TrimSpace(t)
			}
		} else {
			tok = strings.TrimSpace(r.Header.Get("X-Aurora-Token"))
		}
	}
	if tok == "" {
		return principal{}, errors.New("missing token: connect to /ws?token=<token from POST /api/v1/chat/token>, or send Authorization: Bearer <API token>")
	}
	if strings.HasPrefix(tok, TokenPrefix) {
		c, err := ParseToken(s.Keys, tok, time.Now())
		if err != nil {
			return principal{}, err
		}
		if err := s.Store.UseChatToken(r.Context(), c.ID, c.Expires); errors.Is(err, storage.ErrConflict) {
			return principal{}, ErrTokenUsed
		} else if err != nil {
			return principal{}, fmt.Errorf("internal: %w", err)
		}
		return principal{OrgID: c.OrgID, UserID: c.UserID, Role: c.Role}, nil
	}
	t, err := s.Store.APITokenByHash(r.Context(), auth.HashToken(tok))
	if errors.Is(err, storage.ErrNotFound) {
		return principal{}, errors.New("invalid or revoked token")
	}
	if err != nil {
		return principal{}, fmt.Errorf("internal: %w", err)
	}
	return principal{OrgID: t.OrgID, UserID: UserOfToken(t.Name), Role: auth.Role(t.Role)}, nil
}

// UserOfToken is the chat user an API token speaks as (the name the API
// gives its principal), so the same caller sees the same sessions whether
// it connects with the token or with a chat token issued to it.
func UserOfToken(name string) string { return "token:" + name }

// ServeHTTP upgrades an authenticated request and serves the connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, err := s.authenticate(r)
	if err != nil {
		if strings.HasPrefix(err.Error(), "internal: ") {
			s.Log.Error("chat auth", "err", err)
			httpError(w, http.StatusServiceUnavailable, "unavailable", "cannot check the token now; retry")
			return
		}
		httpError(w, http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	// The HTTP server's read and write timeouts are deadlines on the
	// connection, which outlive the hijack: clear them, or every socket
	// would die after a minute. Idle clients are closed by IdleTimeout.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	// Browsers send no ambient credential here (the token is in the URL
	// and single use), so a cross-site page cannot ride a user's session:
	// any origin may connect, which a chatbot on its own host needs.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept has answered
	}
	ws.SetReadLimit(s.Limits.MaxMessageBytes)
	c := &conn{s: s, ws: ws, p: p, send: make(chan []byte, s.Limits.SendQueue), gone: make(chan struct{})}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.Metrics.Connections.Inc()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.Metrics.Connections.Dec()
	}()
	c.serve(context.WithoutCancel(r.Context()))
}

// conn is one client connection: a reader (this goroutine), a writer
// draining the bounded send queue, and while following a session a
// follower that moves stored frames into the queue.
type conn struct {
	s        *Server
	ws       *websocket.Conn
	p        principal
	send     chan []byte
	gone     chan struct{}
	once     sync.Once
	slowOnce sync.Once

	followMu   sync.Mutex
	stopFollow func()

	// frame rate of the current second (reader goroutine only)
	second time.Time
	frames int
}

// drop closes the connection at once (a client that does not read is not
// worth a close handshake it would not read either).
func (c *conn) drop() {
	c.once.Do(func() {
		close(c.gone)
		c.ws.CloseNow()
	})
}

// dropSlow drops a client that is not reading: its queue is full, a write
// or a ping timed out. Counted once per connection, whichever notices
// first — even when the reader, woken by the timed-out write closing the
// socket, already dropped it.
func (c *conn) dropSlow(how string) {
	c.slowOnce.Do(func() {
		c.s.Metrics.Dropped.Inc()
		c.s.Log.Info("chat client too slow: dropping its connection", "user", c.p.UserID, "how", how)
	})
	c.drop()
}

// enqueue queues a connection-level frame (pong, error, session) without
// ever blocking: a full queue means the client is not reading, and it is
// dropped (it reconnects and resumes).
func (c *conn) enqueue(b []byte) bool {
	select {
	case <-c.gone:
		return false
	default:
	}
	select {
	case c.send <- b:
		return true
	default:
		c.dropSlow("send queue full")
		return false
	}
}

// enqueueWait queues a stored frame, waiting while the queue is full: the
// follower replays a session at the pace the client reads, which blocks
// only this connection; a client that stops reading is dropped by the
// writer's timeout, which ends the wait.
func (c *conn) enqueueWait(ctx context.Context, b []byte) bool {
	select {
	case c.send <- b:
		return true
	case <-c.gone:
		return false
	case <-ctx.Done():
		return false
	}
}

func (c *conn) serve(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer c.drop()
	defer c.follow(ctx, "", 0) // stop following
	go c.writer(ctx)
	idle := time.AfterFunc(c.s.Limits.IdleTimeout, func() {
		c.ws.Close(websocket.StatusPolicyViolation, "idle timeout: send ping at least every 30s")
	})
	defer idle.Stop()
	for {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		idle.Reset(c.s.Limits.IdleTimeout)
		if now := time.Now().Truncate(time.Second); now.Equal(c.second) {
			c.frames++
		} else {
			c.second, c.frames = now, 1
		}
		if c.frames > maxFramesPerSecond {
			c.enqueue(errorFrame(CodeRateLimited, fmt.Sprintf("at most %d frames per second", maxFramesPerSecond), map[string]any{"retry_after": 1}))
			continue
		}
		if typ != websocket.MessageText {
			c.enqueue(errorFrame(CodeBadFrame, "frames are JSON text messages", nil))
			continue
		}
		f, err := ParseClientFrame(b)
		if err != nil {
			c.enqueue(errorFrame(CodeBadFrame, err.Error(), nil))
			continue
		}
		c.handle(ctx, f)
	}
}

func (c *conn) writer(ctx context.Context) {
	ping := time.NewTicker(c.s.Limits.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.gone:
			return
		case <-ctx.Done():
			return
		case b := <-c.send:
			wctx, cancel := context.WithTimeout(ctx, c.s.Limits.WriteTimeout)
			err := c.ws.Write(wctx, websocket.MessageText, b)
			slow := errors.Is(wctx.Err(), context.DeadlineExceeded)
			cancel()
			if err != nil {
				// The timeout closes the socket, which may end the reader
				// (and cancel ctx) before this line runs: the deadline, not
				// ctx, tells a client that stopped reading.
				if slow {
					c.dropSlow("write timed out")
				}
				c.drop()
				return
			}
		case <-ping.C:
			go func() {
				pctx, cancel := context.WithTimeout(ctx, c.s.Limits.WriteTimeout)
				defer cancel()
				err := c.ws.Ping(pctx)
				switch {
				case err == nil:
				case errors.Is(pctx.Err(), context.DeadlineExceeded):
					c.dropSlow("ping unanswered")
				default:
					c.drop()
				}
			}()
		}
	}
}

func (c *conn) handle(ctx context.Context, f ClientFrame) {
	s := c.s
	switch f.Type {
	case TypePing:
		c.enqueue(connFrame(TypePong, nil))
	case TypeQuery:
		c.query(ctx, f)
	case TypeResume:
		sess, err := s.Store.GetChatSession(ctx, c.p.OrgID, f.SessionID)
		if c.storeError(err, "session") {
			return
		}
		if sess.UserID != c.p.UserID {
			c.enqueue(errorFrame(CodeForbidden, "this session belongs to another user", nil))
			return
		}
		c.follow(ctx, "", 0)
		c.enqueue(sessionFrame(sess))
		c.follow(ctx, sess.ID, *f.AfterSeq)
	case TypeCancel:
		sess, err := s.Store.GetChatSession(ctx, c.p.OrgID, f.SessionID)
		if c.storeError(err, "session") {
			return
		}
		if sess.UserID != c.p.UserID {
			c.enqueue(errorFrame(CodeForbidden, "this session belongs to another user", nil))
			return
		}
		_, err = s.Store.RequestChatCancel(ctx, c.p.OrgID, f.SessionID)
		if errors.Is(err, storage.ErrChatNotRunning) {
			c.enqueue(errorFrame(CodeNotRunning, "the session has no running turn", nil))
			return
		}
		c.storeError(err, "turn")
	case TypeConfirm:
		if !c.p.Role.Allows(auth.Editor) {
			c.enqueue(errorFrame(CodeForbidden, fmt.Sprintf("role %s may not approve changes (needs editor)", c.p.Role), nil))
			return
		}
		conf, err := s.Store.AnswerChatConfirmation(ctx, c.p.OrgID, f.ConfirmationID, f.Answer, c.p.UserID, time.Now())
		if errors.Is(err, storage.ErrConflict) {
			c.enqueue(errorFrame(CodeConflict, "the confirmation is already "+conf.Status+" or expired", nil))
			return
		}
		if !c.storeError(err, "confirmation") {
			s.Log.Info("chat confirmation answered", "confirmation", conf.ID, "tool", conf.Tool, "answer", f.Answer, "by", c.p.UserID)
		}
	}
}

// storeError answers a storage error and reports whether there was one.
func (c *conn) storeError(err error, what string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, storage.ErrNotFound):
		c.enqueue(errorFrame(CodeNotFound, what+" not found", nil))
	default:
		c.s.Log.Error("chat storage", "err", err)
		c.enqueue(errorFrame(CodeInternal, "storage is unavailable; retry", nil))
	}
	return true
}

func sessionFrame(sess storage.ChatSession) []byte {
	f := map[string]any{"id": sess.ID, "last_seq": sess.LastSeq}
	if sess.IncidentID != "" {
		f["incident_id"] = sess.IncidentID
	}
	return connFrame(TypeSession, f)
}

func (c *conn) query(ctx context.Context, f ClientFrame) {
	s := c.s
	ok, retry, err := s.limiter.allow(ctx, c.p.OrgID, c.p.UserID, time.Now())
	if c.storeError(err, "rate") {
		return
	}
	if !ok {
		c.enqueue(errorFrame(CodeRateLimited, fmt.Sprintf("at most %d questions per minute", s.Limits.PerMinute), map[string]any{"retry_after": retry}))
		return
	}
	if f.IncidentID != "" {
		if _, err := s.Store.GetIncident(ctx, c.p.OrgID, f.IncidentID); c.storeError(err, "incident") {
			return
		}
	}
	user, _ := json.Marshal(map[string]any{"role": "user", "text": f.Text, "mode": f.Mode, "citations": []any{}})
	first := []storage.ChatFrameIn{{Key: "q-message", Type: TypeMessage, Data: user}, {Key: "q-status", Type: TypeStatus, Data: []byte(`{"state":"queued"}`)}}
	sess, _, frames, err := s.Store.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: c.p.OrgID, SessionID: f.SessionID, IncidentID: f.IncidentID,
		UserID: c.p.UserID, Role: string(c.p.Role), Mode: f.Mode, Text: f.Text}, first, func(tx *storage.Tx, t storage.ChatTurn) error {
		return s.Jobs.EnqueueChatTurn(ctx, tx, t.OrgID, t.ID)
	})
	if errors.Is(err, storage.ErrChatBusy) {
		c.enqueue(errorFrame(CodeBusy, "the session already has a running turn: wait for done, or cancel it", nil))
		return
	}
	if c.storeError(err, "session") {
		return
	}
	if s.Bus != nil {
		s.Bus.Notify(NotifyKey(sess.ID))
	}
	c.follow(ctx, "", 0)
	c.enqueue(sessionFrame(sess))
	c.follow(ctx, sess.ID, frames[0].Seq-1)
}

// follow makes the connection follow a session's frames after seq after
// ("" stops following). The previous follower has stopped when it returns,
// so frames of two sessions never interleave.
func (c *conn) follow(ctx context.Context, sessionID string, after int64) {
	c.followMu.Lock()
	defer c.followMu.Unlock()
	if c.stopFollow != nil {
		c.stopFollow()
		c.stopFollow = nil
	}
	if sessionID == "" {
		return
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	c.stopFollow = func() { cancel(); <-done }
	go func() {
		defer close(done)
		c.follower(fctx, sessionID, after)
	}()
}

func (c *conn) follower(ctx context.Context, sessionID string, after int64) {
	s := c.s
	var wake <-chan struct{}
	if s.Bus != nil {
		ch, unsub := s.Bus.Subscribe(NotifyKey(sessionID))
		defer unsub()
		wake = ch
	}
	// The re-read is only a fallback for lost wake-ups: it backs off while
	// the session is quiet (an open but idle chat costs little) and comes
	// back to Limits.Poll as soon as frames flow.
	interval := s.Limits.Poll
	timer := time.NewTimer(interval)
	defer timer.Stop()
	const page = 256
	for {
		frames, err := s.Store.ChatFramesAfter(ctx, c.p.OrgID, sessionID, after, page)
		if err != nil && ctx.Err() == nil {
			s.Log.Warn("chat: read frames", "session", sessionID, "err", err)
		}
		for _, fr := range frames {
			if !c.enqueueWait(ctx, WireFrame(fr)) {
				return
			}
			s.Metrics.Frames.WithLabelValues(fr.Type).Inc()
			after = fr.Seq
		}
		if len(frames) == page {
			continue
		}
		if len(frames) > 0 {
			interval = s.Limits.Poll
		} else {
			interval = min(2*interval, maxPoll)
		}
		timer.Reset(interval)
		select {
		case <-ctx.Done():
			return
		case <-c.gone:
			return
		case <-wake:
		case <-timer.C:
		}
	}
}

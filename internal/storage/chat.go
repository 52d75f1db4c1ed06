package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Chat errors callers branch on.
var (
	// ErrChatBusy: the session already has a turn that has not finished.
	ErrChatBusy = errors.New("the session already has a running turn")
	// ErrChatNotRunning: cancel asked of a session with no running turn.
	ErrChatNotRunning = errors.New("no running turn")
)

// Chat turn states.
const (
	ChatQueued              = "queued"
	ChatRunning             = "running"
	ChatWaitingConfirmation = "waiting_confirmation"
	ChatCompleted           = "completed"
	ChatCancelled           = "cancelled"
	ChatFailed              = "failed"
)

// Confirmation states.
const (
	ConfirmPending  = "pending"
	ConfirmYes      = "yes"
	ConfirmNo       = "no"
	ConfirmTimedOut = "timed_out"
)

// ChatNotifyChannel is the LISTEN/NOTIFY channel chat frames are announced
// on (the live-event bus's channel; payloads are "chat:<session id>").
const ChatNotifyChannel = "aurora_events"

// ChatSession is one conversation of one user.
type ChatSession struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"-"`
	UserID     string    `json:"user_id"`
	IncidentID string    `json:"incident_id,omitempty"`
	Title      string    `json:"title"`
	LastSeq    int64     `json:"last_seq"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ChatTurn is one question and the work of answering it.
type ChatTurn struct {
	ID              string     `json:"id"`
	OrgID           string     `json:"-"`
	SessionID       string     `json:"session_id"`
	UserID          string     `json:"user_id"`
	Role            string     `json:"role"`
	Mode            string     `json:"mode"`
	Text            string     `json:"text"`
	Status          string     `json:"status"`
	Error           string     `json:"error,omitempty"`
	Attempts        int        `json:"attempts"`
	CancelRequested bool       `json:"cancel_requested"`
	CreatedAt       time.Time  `json:"created_at"`
	FinishedAt      *time.Time `json:"finished_at,omitempty"`
}

// Active reports whether the turn has not finished.
func (t ChatTurn) Active() bool {
	return t.Status == ChatQueued || t.Status == ChatRunning || t.Status == ChatWaitingConfirmation
}

// ChatFrame is one stored server frame. Data is the frame's own fields as a
// JSON object (without type, session_id, turn_id and seq).
type ChatFrame struct {
	SessionID string    `json:"session_id"`
	Seq       int64     `json:"seq"`
	TurnID    string    `json:"turn_id"`
	Type      string    `json:"type"`
	Data      RawJSON   `json:"data"`
	CreatedAt time.Time `json:"created_at"`
}

// ChatFrameIn is a frame to append; Key identifies it within its turn so a
// retried turn does not store it twice.
type ChatFrameIn struct {
	Key  string
	Type string
	Data []byte
}

// ChatConfirmation is a writing tool's proposal waiting for a human.
type ChatConfirmation struct {
	ID         string     `json:"id"`
	OrgID      string     `json:"-"`
	SessionID  string     `json:"session_id"`
	TurnID     string     `json:"turn_id"`
	Key        string     `json:"-"`
	Tool       string     `json:"tool"`
	Args       RawJSON    `json:"args"`
	Risk       string     `json:"risk"`
	Command    string     `json:"command"`
	Undo       string     `json:"undo"`
	Status     string     `json:"status"`
	AnsweredBy string     `json:"answered_by,omitempty"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	ExpiresAt  time.Time  `json:"expires_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// NewChatTurn is a question to store and queue.
type NewChatTurn struct {
	OrgID      string
	SessionID  string // "" starts a new session
	IncidentID string // for a new session
	UserID     string
	Role       string
	Mode       string
	Text       string
}

// CreateChatTurn stores a question: the session (when new), the turn, its
// first frames (the user's message and "queued"), and — through enqueue, in
// the same transaction — its job, so a question is never stored without the
// work that answers it. An existing session must belong to in.UserID
// (ErrNotFound otherwise, as for another org's); ErrChatBusy when it
// already has an unfinished turn.
func (s *Store) CreateChatTurn(ctx context.Context, in NewChatTurn, first []ChatFrameIn, enqueue func(*Tx, ChatTurn) error) (ChatSession, ChatTurn, []ChatFrame, error) {
	var sess ChatSession
	var turn ChatTurn
	var frames []ChatFrame
	now := time.Now().UTC()
	_, err := s.InTx(ctx, func(tx *Tx) error {
		frames = frames[:0]
		if in.SessionID == "" {
			title := in.Text
			if r := []rune(title); len(r) > 80 {
				title = string(r[:80]) + "…"
			}
			sess = ChatSession{ID: NewID(), OrgID: in.OrgID, UserID: in.UserID, IncidentID: in.IncidentID, Title: title, CreatedAt: now, UpdatedAt: now}
			if _, err := tx.exec(ctx, `INSERT INTO chat_sessions (id, org_id, user_id, incident_id, title, last_seq, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,0,$6,$6)`,
				sess.ID, sess.OrgID, sess.UserID, emptyNull(sess.IncidentID), sess.Title, Micro(now)); err != nil {
				return fmt.Errorf("create chat session: %w", err)
			}
		} else {
			var err error
			if sess, err = getChatSession(ctx, tx.tx, in.OrgID, in.SessionID); err != nil {
				return err
			}
			if sess.UserID != in.UserID {
				return ErrNotFound
			}
		}
		turn = ChatTurn{ID: NewID(), OrgID: in.OrgID, SessionID: sess.ID, UserID: in.UserID, Role: in.Role, Mode: in.Mode, Text: in.Text, Status: ChatQueued, CreatedAt: now}
		_, err := tx.exec(ctx, `INSERT INTO chat_turns (id, org_id, session_id, user_id, role, mode, text, status, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
			turn.ID, turn.OrgID, turn.SessionID, turn.UserID, turn.Role, turn.Mode, turn.Text, turn.Status, Micro(now))
		if IsUniqueViolation(err) {
			return ErrChatBusy
		}
		if err != nil {
			return fmt.Errorf("create chat turn: %w", err)
		}
		for _, f := range first {
			fr, _, err := tx.AppendChatFrame(ctx, in.OrgID, sess.ID, turn.ID, f)
			if err != nil {
				return err
			}
			frames = append(frames, fr)
		}
		if enqueue != nil {
			return enqueue(tx, turn)
		}
		return nil
	})
	if err != nil {
		return ChatSession{}, ChatTurn{}, nil, err
	}
	if len(frames) > 0 {
		sess.LastSeq = frames[len(frames)-1].Seq
	}
	return sess, turn, frames, nil
}

// AppendChatFrame stores a frame of a turn with the session's next seq.
// A frame whose key the turn already stored is not stored again: the stored
// one is returned with added=false. On PostgreSQL the transaction also
// announces the frame on ChatNotifyChannel, so replicas listening there
// learn of it when it commits.
func (t *Tx) AppendChatFrame(ctx context.Context, orgID, sessionID, turnID string, f ChatFrameIn) (ChatFrame, bool, error) {
	var fr ChatFrame
	var data []byte
	var at int64
	err := t.queryRow(ctx, `SELECT session_id, seq, turn_id, type, data, created_at FROM chat_frames WHERE turn_id = $1 AND key = $2 AND org_id = $3`, turnID, f.Key, orgID).
		Scan(&fr.SessionID, &fr.Seq, &fr.TurnID, &fr.Type, &data, &at)
	if err == nil {
		fr.Data, fr.CreatedAt = data, FromMicro(at)
		return fr, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fr, false, fmt.Errorf("look up chat frame: %w", err)
	}
	now := time.Now().UTC()
	// The increment locks the session row until commit (PostgreSQL), so
	// frames of one session are numbered one at a time and in commit order.
	var seq int64
	err = t.queryRow(ctx, `UPDATE chat_sessions SET last_seq = last_seq + 1, updated_at = $3 WHERE org_id = $1 AND id = $2 RETURNING last_seq`, orgID, sessionID, Micro(now)).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return fr, false, ErrNotFound
	}
	if err != nil {
		return fr, false, fmt.Errorf("number chat frame: %w", err)
	}
	if len(f.Data) == 0 {
		f.Data = []byte("{}")
	}
	_, err = t.exec(ctx, `INSERT INTO chat_frames (org_id, session_id, seq, turn_id, key, type, data, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		orgID, sessionID, seq, turnID, f.Key, f.Type, storableJSON(string(f.Data)), Micro(now))
	if IsUniqueViolation(err) {
		return fr, false, ErrConflict
	}
	if err != nil {
		return fr, false, fmt.Errorf("store chat frame: %w", err)
	}
	if t.dialect == Postgres {
		if _, err := t.exec(ctx, `SELECT pg_notify($1, $2)`, ChatNotifyChannel, "chat:"+sessionID); err != nil {
			return fr, false, fmt.Errorf("notify chat frame: %w", err)
		}
	}
	return ChatFrame{SessionID: sessionID, Seq: seq, TurnID: turnID, Type: f.Type, Data: f.Data, CreatedAt: now}, true, nil
}

// AppendChatFrame stores one frame in its own transaction.
func (s *Store) AppendChatFrame(ctx context.Context, orgID, sessionID, turnID string, f ChatFrameIn) (ChatFrame, bool, error) {
	var fr ChatFrame
	var added bool
	_, err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		fr, added, err = tx.AppendChatFrame(ctx, orgID, sessionID, turnID, f)
		return err
	})
	return fr, added, err
}

// ChatFramesAfter lists a session's frames with seq > after, in order, at
// most limit. It reads the primary: a replica's lag would make a resuming
// client miss frames another replica just sent.
func (s *Store) ChatFramesAfter(ctx context.Context, orgID, sessionID string, after int64, limit int) ([]ChatFrame, error) {
	rows, err := s.DB.primary().QueryContext(ctx, `SELECT session_id, seq, turn_id, type, data, created_at FROM chat_frames WHERE org_id = $1 AND session_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
		orgID, sessionID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list chat frames: %w", err)
	}
	return collect(rows, func(sc scanner) (ChatFrame, error) {
		var fr ChatFrame
		var data []byte
		var at int64
		err := sc.Scan(&fr.SessionID, &fr.Seq, &fr.TurnID, &fr.Type, &data, &at)
		fr.Data, fr.CreatedAt = data, FromMicro(at)
		return fr, err
	})
}

// ChatMessages lists a session's message frames (questions and answers).
func (s *Store) ChatMessages(ctx context.Context, orgID, sessionID string) ([]ChatFrame, error) {
	rows, err := s.DB.primary().QueryContext(ctx, `SELECT session_id, seq, turn_id, type, data, created_at FROM chat_frames WHERE org_id = $1 AND session_id = $2 AND type = 'message' ORDER BY seq`,
		orgID, sessionID)
	if err != nil {
		return nil, fmt.Errorf("list chat messages: %w", err)
	}
	return collect(rows, func(sc scanner) (ChatFrame, error) {
		var fr ChatFrame
		var data []byte
		var at int64
		err := sc.Scan(&fr.SessionID, &fr.Seq, &fr.TurnID, &fr.Type, &data, &at)
		fr.Data, fr.CreatedAt = data, FromMicro(at)
		return fr, err
	})
}

const chatSessionCols = `id, org_id, user_id, incident_id, title, last_seq, created_at, updated_at`

func scanChatSession(sc scanner) (ChatSession, error) {
	var v ChatSession
	var inc sql.NullString
	var created, updated int64
	err := sc.Scan(&v.ID, &v.OrgID, &v.UserID, &inc, &v.Title, &v.LastSeq, &created, &updated)
	v.IncidentID, v.CreatedAt, v.UpdatedAt = inc.String, FromMicro(created), FromMicro(updated)
	return v, err
}

func getChatSession(ctx context.Context, q querier, orgID, id string) (ChatSession, error) {
	v, err := scanChatSession(q.QueryRowContext(ctx, `SELECT `+chatSessionCols+` FROM chat_sessions WHERE org_id = $1 AND id = $2`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("get chat session: %w", err)
	}
	return v, nil
}

// GetChatSession loads a session of the org.
func (s *Store) GetChatSession(ctx context.Context, orgID, id string) (ChatSession, error) {
	return getChatSession(ctx, s.DB.W, orgID, id)
}

// ListChatSessions lists a user's sessions, newest activity first;
// incidentID filters when non-empty.
func (s *Store) ListChatSessions(ctx context.Context, orgID, userID, incidentID string, limit int) ([]ChatSession, error) {
	q := `SELECT ` + chatSessionCols + ` FROM chat_sessions WHERE org_id = $1 AND user_id = $2`
	args := []any{orgID, userID}
	if incidentID != "" {
		q += ` AND incident_id = $3`
		args = append(args, incidentID)
	}
	q += fmt.Sprintf(` ORDER BY updated_at DESC, id DESC LIMIT %d`, limit)
	rows, err := s.DB.reader(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list chat sessions: %w", err)
	}
	return collect(rows, scanChatSession)
}

const chatTurnCols = `id, org_id, session_id, user_id, role, mode, text, status, error, attempts, cancel_requested_at, created_at, finished_at`

func scanChatTurn(sc scanner) (ChatTurn, error) {
	var v ChatTurn
	var cancel, finished sql.NullInt64
	var created int64
	err := sc.Scan(&v.ID, &v.OrgID, &v.SessionID, &v.UserID, &v.Role, &v.Mode, &v.Text, &v.Status, &v.Error, &v.Attempts, &cancel, &created, &finished)
	v.CancelRequested, v.CreatedAt, v.FinishedAt = cancel.Valid, FromMicro(created), nullMicro(finished)
	return v, err
}

// GetChatTurn loads a turn of the org.
func (s *Store) GetChatTurn(ctx context.Context, orgID, id string) (ChatTurn, error) {
	v, err := scanChatTurn(s.DB.primary().QueryRowContext(ctx, `SELECT `+chatTurnCols+` FROM chat_turns WHERE org_id = $1 AND id = $2`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("get chat turn: %w", err)
	}
	return v, nil
}

// StartChatTurn marks a turn running and counts the attempt. It returns
// the turn as stored before the change (its Status says whether it had
// already finished).
func (s *Store) StartChatTurn(ctx context.Context, orgID, id string) (ChatTurn, error) {
	t, err := s.GetChatTurn(ctx, orgID, id)
	if err != nil || !t.Active() {
		return t, err
	}
	_, err = s.DB.W.ExecContext(ctx, `UPDATE chat_turns SET status = $1, attempts = attempts + 1 WHERE org_id = $2 AND id = $3 AND status IN ('queued', 'running', 'waiting_confirmation')`,
		ChatRunning, orgID, id)
	if err != nil {
		return t, fmt.Errorf("start chat turn: %w", err)
	}
	t.Attempts++
	return t, nil
}

// SetChatTurnStatus records a turn's state; a final state also records
// when it finished (and frees the session for its next turn).
func (s *Store) SetChatTurnStatus(ctx context.Context, orgID, id, status, errMsg string) error {
	var fin any
	switch status {
	case ChatCompleted, ChatCancelled, ChatFailed:
		fin = Micro(time.Now())
	}
	_, err := s.DB.W.ExecContext(ctx, `UPDATE chat_turns SET status = $1, error = $2, finished_at = $3 WHERE org_id = $4 AND id = $5`, status, errMsg, fin, orgID, id)
	if err != nil {
		return fmt.Errorf("set chat turn status: %w", err)
	}
	return nil
}

// RequestChatCancel asks the session's unfinished turn to stop and returns
// its id; ErrChatNotRunning when there is none.
func (s *Store) RequestChatCancel(ctx context.Context, orgID, sessionID string) (string, error) {
	var id string
	err := s.DB.W.QueryRowContext(ctx, `UPDATE chat_turns SET cancel_requested_at = $1 WHERE org_id = $2 AND session_id = $3 AND status IN ('queued', 'running', 'waiting_confirmation') RETURNING id`,
		Micro(time.Now()), orgID, sessionID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrChatNotRunning
	}
	if err != nil {
		return "", fmt.Errorf("cancel chat turn: %w", err)
	}
	return id, nil
}

// ChatCancelRequested reports whether someone asked the turn to stop.
func (s *Store) ChatCancelRequested(ctx context.Context, orgID, turnID string) (bool, error) {
	var c sql.NullInt64
	err := s.DB.primary().QueryRowContext(ctx, `SELECT cancel_requested_at FROM chat_turns WHERE org_id = $1 AND id = $2`, orgID, turnID).Scan(&c)
	if err != nil {
		return false, fmt.Errorf("read chat cancel: %w", err)
	}
	return c.Valid, nil
}

const chatConfirmCols = `id, org_id, session_id, turn_id, key, tool, args, risk, command, undo, status, answered_by, answered_at, expires_at, created_at`

func scanChatConfirmation(sc scanner) (ChatConfirmation, error) {
	var v ChatConfirmation
	var args []byte
	var answered sql.NullInt64
	var expires, created int64
	err := sc.Scan(&v.ID, &v.OrgID, &v.SessionID, &v.TurnID, &v.Key, &v.Tool, &args, &v.Risk, &v.Command, &v.Undo, &v.Status, &v.AnsweredBy, &answered, &expires, &created)
	v.Args, v.AnsweredAt, v.ExpiresAt, v.CreatedAt = args, nullMicro(answered), FromMicro(expires), FromMicro(created)
	return v, err
}

// CreateChatConfirmation stores a proposal, once per (turn, key): a retried
// turn gets back the stored one, with its answer if it was answered.
func (s *Store) CreateChatConfirmation(ctx context.Context, c ChatConfirmation) (ChatConfirmation, error) {
	now := time.Now().UTC()
	if c.ID == "" {
		c.ID = NewID()
	}
	if len(c.Args) == 0 {
		c.Args = RawJSON("{}")
	}
	_, err := s.DB.W.ExecContext(ctx, `INSERT INTO chat_confirmations (id, org_id, session_id, turn_id, key, tool, args, risk, command, undo, status, expires_at, created_at)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT (turn_id, key) DO NOTHING`,
		c.ID, c.OrgID, c.SessionID, c.TurnID, c.Key, storableText(c.Tool), storableJSON(string(c.Args)), storableText(c.Risk), storableText(c.Command), storableText(c.Undo),
		ConfirmPending, Micro(c.ExpiresAt), Micro(now))
	if err != nil {
		return c, fmt.Errorf("store confirmation: %w", err)
	}
	v, err := scanChatConfirmation(s.DB.primary().QueryRowContext(ctx, `SELECT `+chatConfirmCols+` FROM chat_confirmations WHERE org_id = $1 AND turn_id = $2 AND key = $3`, c.OrgID, c.TurnID, c.Key))
	if err != nil {
		return v, fmt.Errorf("read confirmation: %w", err)
	}
	return v, nil
}

// GetChatConfirmation loads a confirmation of the org.
func (s *Store) GetChatConfirmation(ctx context.Context, orgID, id string) (ChatConfirmation, error) {
	v, err := scanChatConfirmation(s.DB.primary().QueryRowContext(ctx, `SELECT `+chatConfirmCols+` FROM chat_confirmations WHERE org_id = $1 AND id = $2`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("get confirmation: %w", err)
	}
	return v, nil
}

// AnswerChatConfirmation records a human's answer (ConfirmYes or
// ConfirmNo) to a pending, unexpired confirmation; ErrConflict when it was
// already answered or has expired, ErrNotFound when it is not the org's.
func (s *Store) AnswerChatConfirmation(ctx context.Context, orgID, id, answer, by string, at time.Time) (ChatConfirmation, error) {
	res, err := s.DB.W.ExecContext(ctx, `UPDATE chat_confirmations SET status = $1, answered_by = $2, answered_at = $3 WHERE org_id = $4 AND id = $5 AND status = 'pending' AND expires_at > $3`,
		answer, by, Micro(at), orgID, id)
	if err != nil {
		return ChatConfirmation{}, fmt.Errorf("answer confirmation: %w", err)
	}
	n, _ := res.RowsAffected()
	c, err := s.GetChatConfirmation(ctx, orgID, id)
	if err != nil {
		return c, err
	}
	if n == 0 {
		return c, ErrConflict
	}
	return c, nil
}

// ExpireChatConfirmation turns a pending confirmation past its deadline
// into "timed out" and returns it as stored.
func (s *Store) ExpireChatConfirmation(ctx context.Context, orgID, id string, now time.Time) (ChatConfirmation, error) {
	if _, err := s.DB.W.ExecContext(ctx, `UPDATE chat_confirmations SET status = $1, answered_at = $2 WHERE org_id = $3 AND id = $4 AND status = 'pending' AND expires_at <= $2`,
		ConfirmTimedOut, Micro(now), orgID, id); err != nil {
		return ChatConfirmation{}, fmt.Errorf("expire confirmation: %w", err)
	}
	return s.GetChatConfirmation(ctx, orgID, id)
}

// UseChatToken records the first use of a chat token's id; ErrConflict
// when it was used before. Expired records are pruned on the way.
func (s *Store) UseChatToken(ctx context.Context, jti string, expires time.Time) error {
	now := time.Now()
	if _, err := s.DB.W.ExecContext(ctx, `DELETE FROM chat_token_uses WHERE expires_at < $1`, Micro(now.Add(-time.Minute))); err != nil {
		return fmt.Errorf("prune chat tokens: %w", err)
	}
	_, err := s.DB.W.ExecContext(ctx, `INSERT INTO chat_token_uses (jti, expires_at) VALUES ($1, $2)`, jti, Micro(expires))
	if IsUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("record chat token use: %w", err)
	}
	return nil
}

// ChatRateTake takes one of limit hits of key allowed in the window
// ending at now (a sliding log: one row per hit). When the limit is
// reached it takes nothing and says how long until the oldest hit leaves
// the window. Two replicas racing for the last hit may both be refused,
// never both allowed: each adds its hit before counting.
func (s *Store) ChatRateTake(ctx context.Context, key string, now time.Time, window time.Duration, limit int) (bool, time.Duration, error) {
	at, since := Micro(now), Micro(now.Add(-window))
	if _, err := s.DB.W.ExecContext(ctx, `DELETE FROM chat_rate WHERE key = $1 AND window_start <= $2`, key, since); err != nil {
		return false, 0, fmt.Errorf("prune chat rate: %w", err)
	}
	if _, err := s.DB.W.ExecContext(ctx, `INSERT INTO chat_rate (key, window_start, n) VALUES ($1, $2, 1)
ON CONFLICT (key, window_start) DO UPDATE SET n = chat_rate.n + 1`, key, at); err != nil {
		return false, 0, fmt.Errorf("count chat rate: %w", err)
	}
	var n int
	var oldest int64
	if err := s.DB.primary().QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0), COALESCE(MIN(window_start), 0) FROM chat_rate WHERE key = $1 AND window_start > $2`, key, since).Scan(&n, &oldest); err != nil {
		return false, 0, fmt.Errorf("count chat rate: %w", err)
	}
	if n <= limit {
		return true, 0, nil
	}
	if _, err := s.DB.W.ExecContext(ctx, `UPDATE chat_rate SET n = n - 1 WHERE key = $1 AND window_start = $2`, key, at); err != nil {
		return false, 0, fmt.Errorf("undo chat rate: %w", err)
	}
	_, _ = s.DB.W.ExecContext(ctx, `DELETE FROM chat_rate WHERE key = $1 AND n <= 0`, key)
	return false, time.UnixMicro(oldest).Add(window).Sub(now), nil
}

// DeleteChatSessionsBefore deletes an org's chat sessions with no activity
// since before (their turns, frames and confirmations go with them);
// sessions with an unfinished turn are kept.
func (t *Tx) DeleteChatSessionsBefore(ctx context.Context, orgID string, before time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM chat_sessions WHERE org_id = $1 AND updated_at < $2
AND NOT EXISTS (SELECT 1 FROM chat_turns t WHERE t.session_id = chat_sessions.id AND t.status IN ('queued', 'running', 'waiting_confirmation'))`, orgID, Micro(before))
	if err != nil {
		return 0, fmt.Errorf("delete chat sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ConfirmCancelled is the state of a proposal whose turn ended before
// anyone answered (cancelled or failed): it can no longer be approved.
const ConfirmCancelled = "cancelled"

// CloseChatConfirmations marks a turn's unanswered proposals cancelled, so
// a late "yes" is refused instead of recorded for a change nobody makes.
func (s *Store) CloseChatConfirmations(ctx context.Context, orgID, turnID string) error {
	if _, err := s.DB.W.ExecContext(ctx, `UPDATE chat_confirmations SET status = $1, answered_at = $2 WHERE org_id = $3 AND turn_id = $4 AND status = 'pending'`,
		ConfirmCancelled, Micro(time.Now()), orgID, turnID); err != nil {
		return fmt.Errorf("close confirmations: %w", err)
	}
	return nil
}

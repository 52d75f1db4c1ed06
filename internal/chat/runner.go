package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// DefaultConfirmTimeout is how long a proposal waits for a human.
const DefaultConfirmTimeout = 5 * time.Minute

// errCancelled is the cause of a turn's context when a user cancelled it.
var errCancelled = errors.New("cancelled by the user")

// Runner executes turns; a worker calls RunTurn from the turn's job.
type Runner struct {
	Store  *storage.Store
	Engine Engine
	// Notify wakes the replicas following a session: it is called with
	// NotifyKey(sessionID) after each stored frame.
	Notify func(key string)
	Log    *slog.Logger
	// ConfirmTimeout bounds the wait for a human's answer (default
	// DefaultConfirmTimeout); no answer counts as no.
	ConfirmTimeout time.Duration
	// Poll is how often a running turn looks for a cancel or an answer
	// (default 200ms): both are rows, so any replica may have written them.
	Poll time.Duration
}

// NotifyKey is the event-bus key of a session's frames.
func NotifyKey(sessionID string) string { return "chat:" + sessionID }

func (r *Runner) poll() time.Duration {
	if r.Poll > 0 {
		return r.Poll
	}
	return 200 * time.Millisecond
}

// RunTurn runs (or, on a retried job, resumes) one turn. It returns an
// error only when the queue should retry: a failure on the final attempt is
// reported to the client and recorded as the turn's end.
func (r *Runner) RunTurn(ctx context.Context, orgID, turnID string, attempt int, final bool) error {
	turn, err := r.Store.StartChatTurn(ctx, orgID, turnID)
	if err != nil {
		return fmt.Errorf("start turn %s: %w", turnID, err)
	}
	if !turn.Active() {
		return nil // finished by an earlier attempt
	}
	sess, err := r.Store.GetChatSession(ctx, orgID, turn.SessionID)
	if err != nil {
		return fmt.Errorf("load chat session: %w", err)
	}
	msgs, err := r.Store.ChatMessages(ctx, orgID, sess.ID)
	if err != nil {
		return err
	}
	var hist []HistoryMessage
	for _, m := range msgs {
		if m.TurnID == turn.ID {
			continue
		}
		var h HistoryMessage
		if json.Unmarshal(m.Data, &h) == nil {
			hist = append(hist, h)
		}
	}
	em := &emitter{r: r, orgID: orgID, turn: turn}
	if rp, ok := r.Engine.(replayer); ok && !rp.Replayable() {
		em.prefix = "a" + strconv.Itoa(attempt) + "-"
	}
	tctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go r.watchCancel(tctx, cancel, orgID, turn.ID)
	t := Turn{OrgID: orgID, SessionID: sess.ID, TurnID: turn.ID, UserID: turn.UserID, Role: auth.Role(turn.Role), Mode: turn.Mode,
		Text: turn.Text, IncidentID: sess.IncidentID, Attempt: attempt, Final: final, History: hist}
	detail := ""
	if em.prefix != "" && attempt > 1 {
		detail = "restarted after an interrupted attempt: the answer starts again"
	}
	runErr := em.Status(tctx, storage.ChatRunning, detail)
	if runErr == nil {
		runErr = r.Engine.Run(tctx, t, em)
	}
	end := context.WithoutCancel(ctx)
	switch {
	case errors.Is(context.Cause(tctx), errCancelled):
		return r.finish(end, em, storage.ChatCancelled, "")
	case runErr == nil:
		return r.finish(end, em, storage.ChatCompleted, "")
	case ctx.Err() != nil || !final:
		// Shutdown, timeout or a transient failure: the queue retries and
		// the next attempt resumes after the frames already stored.
		r.Log.Warn("chat turn attempt failed; it will be retried", "turn", turn.ID, "attempt", attempt, "err", runErr)
		return runErr
	default:
		r.Log.Error("chat turn failed", "turn", turn.ID, "err", runErr)
		if err := em.emitKey(end, "end-error", TypeError, map[string]any{"code": CodeTurnFailed, "message": "the turn failed: " + runErr.Error()}); err != nil {
			return err
		}
		return r.finish(end, em, storage.ChatFailed, runErr.Error())
	}
}

// finish sends the turn's last frames, then records its end: a crash in
// between re-runs the turn, whose frames are all found stored already.
func (r *Runner) finish(ctx context.Context, em *emitter, state, errMsg string) error {
	if err := r.Store.CloseChatConfirmations(ctx, em.orgID, em.turn.ID); err != nil {
		return err
	}
	if err := em.emitKey(ctx, "end-status", TypeStatus, map[string]any{"state": state}); err != nil {
		return err
	}
	if err := em.emitKey(ctx, "end-done", TypeDone, nil); err != nil {
		return err
	}
	return r.Store.SetChatTurnStatus(ctx, em.orgID, em.turn.ID, state, errMsg)
}

// watchCancel cancels the turn when a cancel request is stored.
func (r *Runner) watchCancel(ctx context.Context, cancel context.CancelCauseFunc, orgID, turnID string) {
	t := time.NewTicker(r.poll())
	defer t.Stop()
	for {
		if ok, err := r.Store.ChatCancelRequested(ctx, orgID, turnID); err == nil && ok {
			cancel(errCancelled)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// emitter stores a turn's frames. Frames are keyed by their position in
// the turn (e1, e2, …), so a re-run that emits the same frames finds them
// stored and sends nothing twice.
type emitter struct {
	r        *Runner
	orgID    string
	turn     storage.ChatTurn
	n        int
	confirms int
	// prefix keeps the frames of attempts apart for engines that do not
	// replay (see replayer); "" for those that do.
	prefix string
}

func (e *emitter) emit(ctx context.Context, typ string, fields map[string]any) error {
	e.n++
	return e.emitKey(ctx, e.prefix+"e"+strconv.Itoa(e.n), typ, fields)
}

func (e *emitter) emitKey(ctx context.Context, key, typ string, fields map[string]any) error {
	if fields == nil {
		fields = map[string]any{}
	}
	data, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("encode %s frame: %w", typ, err)
	}
	_, added, err := e.r.Store.AppendChatFrame(ctx, e.orgID, e.turn.SessionID, e.turn.ID, storage.ChatFrameIn{Key: key, Type: typ, Data: data})
	if err != nil {
		return fmt.Errorf("store %s frame: %w", typ, err)
	}
	if added && e.r.Notify != nil {
		e.r.Notify(NotifyKey(e.turn.SessionID))
	}
	return nil
}

func (e *emitter) Status(ctx context.Context, state, detail string) error {
	f := map[string]any{"state": state}
	if detail != "" {
		f["detail"] = detail
	}
	return e.emit(ctx, TypeStatus, f)
}

func (e *emitter) Delta(ctx context.Context, text string) error {
	return e.emit(ctx, TypeDelta, map[string]any{"text": text})
}

func (e *emitter) ToolCall(ctx context.Context, id, tool string, args any) error {
	return e.emit(ctx, TypeToolCall, map[string]any{"id": id, "tool": tool, "args": jsonArgs(args)})
}

func (e *emitter) ToolResult(ctx context.Context, id, status, summary string) error {
	return e.emit(ctx, TypeToolResult, map[string]any{"id": id, "status": status, "summary": summary})
}

func (e *emitter) Usage(ctx context.Context, tokens int64, cost float64) error {
	return e.emit(ctx, TypeUsage, map[string]any{"tokens": tokens, "cost": cost})
}

func (e *emitter) Message(ctx context.Context, text string, citations []Citation) error {
	if citations == nil {
		citations = []Citation{}
	}
	return e.emit(ctx, TypeMessage, map[string]any{"role": "assistant", "text": text, "citations": citations})
}

func (e *emitter) Confirm(ctx context.Context, tool string, args map[string]any, p toolset.Proposal) (Confirmation, error) {
	e.confirms++
	timeout := e.r.ConfirmTimeout
	if timeout <= 0 {
		timeout = DefaultConfirmTimeout
	}
	c, err := e.r.Store.CreateChatConfirmation(ctx, storage.ChatConfirmation{OrgID: e.orgID, SessionID: e.turn.SessionID, TurnID: e.turn.ID,
		Key: e.prefix + "c" + strconv.Itoa(e.confirms), Tool: tool, Args: storage.RawJSON(jsonArgs(args)), Risk: p.Risk, Command: p.Command, Undo: p.Undo,
		ExpiresAt: time.Now().Add(timeout)})
	if err != nil {
		return Confirmation{}, err
	}
	if err := e.emit(ctx, TypeConfirmationRequired, map[string]any{"confirmation_id": c.ID, "tool": tool, "args": jsonArgs(args),
		"risk": p.Risk, "command": p.Command, "undo": p.Undo, "expires_at": c.ExpiresAt}); err != nil {
		return Confirmation{}, err
	}
	if err := e.r.Store.SetChatTurnStatus(ctx, e.orgID, e.turn.ID, storage.ChatWaitingConfirmation, ""); err != nil {
		return Confirmation{}, err
	}
	if err := e.Status(ctx, storage.ChatWaitingConfirmation, ""); err != nil {
		return Confirmation{}, err
	}
	c, err = e.wait(ctx, c)
	if err != nil {
		return Confirmation{}, err
	}
	answer := c.Status
	if err := e.r.Store.SetChatTurnStatus(ctx, e.orgID, e.turn.ID, storage.ChatRunning, ""); err != nil {
		return Confirmation{}, err
	}
	if err := e.Status(ctx, storage.ChatRunning, "confirmation answered: "+answer); err != nil {
		return Confirmation{}, err
	}
	return Confirmation{Status: answer, By: c.AnsweredBy}, nil
}

// wait polls the confirmation's row until it is answered or expires.
func (e *emitter) wait(ctx context.Context, c storage.ChatConfirmation) (storage.ChatConfirmation, error) {
	t := time.NewTicker(e.r.poll())
	defer t.Stop()
	for {
		if c.Status != storage.ConfirmPending {
			return c, nil
		}
		var err error
		if now := time.Now(); !now.Before(c.ExpiresAt) {
			c, err = e.r.Store.ExpireChatConfirmation(ctx, e.orgID, c.ID, now)
		} else {
			select {
			case <-ctx.Done():
				return c, context.Cause(ctx)
			case <-t.C:
			}
			c, err = e.r.Store.GetChatConfirmation(ctx, e.orgID, c.ID)
		}
		if err != nil {
			return c, err
		}
	}
}

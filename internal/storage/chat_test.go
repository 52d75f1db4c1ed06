package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
)

// TestChatStore: frame numbering, idempotent frames, one active turn per
// session, cancel, confirmations, single-use tokens and rate counts, on
// both dialects.
func TestChatStore(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		org, err := s.EnsureDefaultOrg(ctx)
		if err != nil {
			t.Fatal(err)
		}
		enqueued := 0
		enq := func(*storage.Tx, storage.ChatTurn) error { enqueued++; return nil }
		first := []storage.ChatFrameIn{{Key: "q-message", Type: "message", Data: []byte(`{"role":"user","text":"hi"}`)}, {Key: "q-status", Type: "status", Data: []byte(`{"state":"queued"}`)}}
		sess, turn, frames, err := s.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: org.ID, UserID: "u1", Role: "editor", Mode: "ask", Text: "hi"}, first, enq)
		if err != nil || len(frames) != 2 || frames[0].Seq != 1 || frames[1].Seq != 2 || sess.LastSeq != 2 || enqueued != 1 {
			t.Fatalf("create turn: %v %+v %+v", err, frames, sess)
		}
		// One unfinished turn per session; a failed enqueue stores nothing.
		if _, _, _, err := s.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: org.ID, SessionID: sess.ID, UserID: "u1", Role: "editor", Mode: "ask", Text: "again"}, first, enq); !errors.Is(err, storage.ErrChatBusy) {
			t.Fatalf("second active turn: %v, want ErrChatBusy", err)
		}
		if _, _, _, err := s.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: org.ID, SessionID: sess.ID, UserID: "u2", Role: "editor", Mode: "ask", Text: "x"}, first, enq); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("another user's session: %v, want ErrNotFound", err)
		}
		if _, _, _, err := s.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: "other-org", SessionID: sess.ID, UserID: "u1", Role: "editor", Mode: "ask", Text: "x"}, first, enq); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("another org's session: %v, want ErrNotFound", err)
		}
		boom := errors.New("queue down")
		before, _ := s.ListChatSessions(ctx, org.ID, "u1", "", 10)
		if _, _, _, err := s.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: org.ID, UserID: "u1", Role: "editor", Mode: "ask", Text: "lost"}, first,
			func(*storage.Tx, storage.ChatTurn) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("enqueue failure: %v", err)
		}
		if after, _ := s.ListChatSessions(ctx, org.ID, "u1", "", 10); len(after) != len(before) {
			t.Fatalf("a question whose job failed to enqueue was stored")
		}

		// Concurrent appends get distinct, gap-free seqs; a repeated key
		// returns the stored frame.
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := s.AppendChatFrame(ctx, org.ID, sess.ID, turn.ID, storage.ChatFrameIn{Key: fmt.Sprintf("e%d", i), Type: "delta", Data: []byte(`{"text":"x"}`)}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		again, added, err := s.AppendChatFrame(ctx, org.ID, sess.ID, turn.ID, storage.ChatFrameIn{Key: "e3", Type: "delta", Data: []byte(`{"text":"different"}`)})
		if err != nil || added || string(again.Data) == `{"text":"different"}` {
			t.Fatalf("repeated key: added=%v %v %s", added, err, again.Data)
		}
		all, err := s.ChatFramesAfter(ctx, org.ID, sess.ID, 0, 100)
		if err != nil || len(all) != 22 {
			t.Fatalf("frames: %d %v", len(all), err)
		}
		for i, f := range all {
			if f.Seq != int64(i+1) {
				t.Fatalf("frame %d has seq %d", i, f.Seq)
			}
		}
		if page, _ := s.ChatFramesAfter(ctx, org.ID, sess.ID, 20, 100); len(page) != 2 || page[0].Seq != 21 {
			t.Fatalf("after 20: %+v", page)
		}
		if other, _ := s.ChatFramesAfter(ctx, "other-org", sess.ID, 0, 100); len(other) != 0 {
			t.Fatal("frames visible to another org")
		}

		// Cancel marks the active turn; none active → ErrChatNotRunning.
		if id, err := s.RequestChatCancel(ctx, org.ID, sess.ID); err != nil || id != turn.ID {
			t.Fatalf("cancel: %s %v", id, err)
		}
		if ok, _ := s.ChatCancelRequested(ctx, org.ID, turn.ID); !ok {
			t.Fatal("cancel not recorded")
		}
		if err := s.SetChatTurnStatus(ctx, org.ID, turn.ID, storage.ChatCancelled, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RequestChatCancel(ctx, org.ID, sess.ID); !errors.Is(err, storage.ErrChatNotRunning) {
			t.Fatalf("cancel finished turn: %v", err)
		}
		if _, _, _, err := s.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: org.ID, SessionID: sess.ID, UserID: "u1", Role: "editor", Mode: "ask", Text: "next"}, nil, enq); err != nil {
			t.Fatalf("turn after the finished one: %v", err)
		}

		// Confirmations: once per key, answered once, expiring to timed_out.
		c := storage.ChatConfirmation{OrgID: org.ID, SessionID: sess.ID, TurnID: turn.ID, Key: "c1", Tool: "t", Risk: "low", ExpiresAt: time.Now().Add(time.Hour)}
		c1, err := s.CreateChatConfirmation(ctx, c)
		if err != nil || c1.Status != storage.ConfirmPending {
			t.Fatal(err, c1)
		}
		if c2, _ := s.CreateChatConfirmation(ctx, c); c2.ID != c1.ID {
			t.Fatal("same key made a second confirmation")
		}
		if _, err := s.AnswerChatConfirmation(ctx, "other-org", c1.ID, storage.ConfirmYes, "x", time.Now()); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("answer from another org: %v", err)
		}
		got, err := s.AnswerChatConfirmation(ctx, org.ID, c1.ID, storage.ConfirmYes, "token:admin", time.Now())
		if err != nil || got.Status != storage.ConfirmYes || got.AnsweredBy != "token:admin" || got.AnsweredAt == nil {
			t.Fatalf("answer: %v %+v", err, got)
		}
		if _, err := s.AnswerChatConfirmation(ctx, org.ID, c1.ID, storage.ConfirmNo, "y", time.Now()); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("second answer: %v", err)
		}
		c.Key, c.ExpiresAt = "c2", time.Now().Add(-time.Second)
		c3, _ := s.CreateChatConfirmation(ctx, c)
		if _, err := s.AnswerChatConfirmation(ctx, org.ID, c3.ID, storage.ConfirmYes, "x", time.Now()); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("answer after expiry: %v", err)
		}
		if e, err := s.ExpireChatConfirmation(ctx, org.ID, c3.ID, time.Now()); err != nil || e.Status != storage.ConfirmTimedOut {
			t.Fatalf("expire: %v %+v", err, e)
		}

		// Tokens are single use.
		if err := s.UseChatToken(ctx, "jti-1", time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.UseChatToken(ctx, "jti-1", time.Now().Add(time.Minute)); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("reuse: %v", err)
		}
		// The rate window slides: three hits in a minute, the fourth waits
		// until the first is a minute old, whatever the calendar minute.
		w := time.Date(2026, 1, 1, 10, 0, 50, 0, time.UTC)
		for i, at := range []time.Time{w, w.Add(5 * time.Second), w.Add(5 * time.Second)} {
			if ok, _, err := s.ChatRateTake(ctx, "o/u", at, time.Minute, 3); err != nil || !ok {
				t.Fatalf("hit %d: %v %v", i+1, ok, err)
			}
		}
		if ok, wait, err := s.ChatRateTake(ctx, "o/u", w.Add(20*time.Second), time.Minute, 3); err != nil || ok || wait != 40*time.Second {
			t.Fatalf("4th hit across the minute boundary: %v, wait %s, %v", ok, wait, err)
		}
		if ok, _, _ := s.ChatRateTake(ctx, "o/u", w.Add(time.Minute+time.Second), time.Minute, 3); !ok {
			t.Fatal("a minute after the first hit there is room again")
		}
		if ok, _, _ := s.ChatRateTake(ctx, "o/u", w.Add(time.Minute+2*time.Second), time.Minute, 3); ok {
			t.Fatal("the two hits at +5s and the one at +61s fill the window")
		}

		// Retention: quiet sessions go with their rows; a session with an
		// unfinished turn stays.
		old, oldTurn, _, err := s.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: org.ID, UserID: "u3", Role: "viewer", Mode: "ask", Text: "old"}, first, enq)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.InTx(ctx, func(tx *storage.Tx) error {
			n, err := tx.DeleteChatSessionsBefore(ctx, org.ID, time.Now().Add(time.Hour))
			if n != 0 {
				t.Errorf("deleted %d sessions with unfinished turns", n)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetChatTurnStatus(ctx, org.ID, oldTurn.ID, storage.ChatCompleted, ""); err != nil {
			t.Fatal(err)
		}
		var deleted int
		if _, err := s.InTx(ctx, func(tx *storage.Tx) error {
			var err error
			deleted, err = tx.DeleteChatSessionsBefore(ctx, org.ID, time.Now().Add(time.Hour))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetChatSession(ctx, org.ID, old.ID); !errors.Is(err, storage.ErrNotFound) || deleted < 1 {
			t.Fatalf("quiet session kept: %v (deleted %d)", err, deleted)
		}
		if fs, _ := s.ChatFramesAfter(ctx, org.ID, old.ID, 0, 10); len(fs) != 0 {
			t.Fatal("frames of a deleted session remain")
		}
		if _, err := s.GetChatSession(ctx, org.ID, sess.ID); err == nil {
			// sess has an unfinished turn ("next") and must remain
		} else {
			t.Fatalf("session with an unfinished turn deleted: %v", err)
		}
	})
}

// A chat turn's agent steps are stored once (a retried attempt storing the
// same step changes nothing, and its usage is not counted twice), read back
// in order, and go with their session.
func TestChatAgentSteps(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		org, err := s.EnsureDefaultOrg(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sess, turn, _, err := s.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: org.ID, UserID: "u1", Role: "editor", Mode: "ask", Text: "hi"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now()
		model := storage.ChatAgentStep{TurnID: turn.ID, OrgID: org.ID, Seq: 1, Kind: "llm", Tool: "openai/gpt-4.1", Output: storage.RawJSON(`{"message":{}}`), StartedAt: at, FinishedAt: at}
		usage := &storage.ChatLLMUsage{Model: "openai/gpt-4.1", InputTokens: 100, OutputTokens: 10, CostUSD: 0.25}
		for range 2 { // the second is a retried attempt's
			if err := s.SaveChatAgentStep(ctx, model, usage); err != nil {
				t.Fatal(err)
			}
		}
		tool := storage.ChatAgentStep{TurnID: turn.ID, OrgID: org.ID, Seq: 2, Kind: "tool", Tool: "kubernetes.get", Input: storage.RawJSON(`{"args":{}}`), StartedAt: at, FinishedAt: at}
		if err := s.SaveChatAgentStep(ctx, tool, nil); err != nil {
			t.Fatal(err)
		}
		steps, err := s.ChatAgentSteps(ctx, org.ID, turn.ID)
		if err != nil || len(steps) != 2 || steps[0].Kind != "llm" || steps[1].Tool != "kubernetes.get" || string(steps[0].Output) != `{"message":{}}` {
			t.Fatalf("steps %+v, %v", steps, err)
		}
		if other, _ := s.ChatAgentSteps(ctx, "other-org", turn.ID); len(other) != 0 {
			t.Fatalf("another org read the steps")
		}
		u, err := s.DailyLLMUsage(ctx, org.ID, at)
		if err != nil || u.Calls != 1 || u.InputTokens != 100 || u.CostUSD != 0.25 {
			t.Fatalf("daily usage %+v, %v: want the call counted once", u, err)
		}
		if err := s.SetChatTurnStatus(ctx, org.ID, turn.ID, storage.ChatCompleted, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.InTx(ctx, func(tx *storage.Tx) error {
			_, err := tx.DeleteChatSessionsBefore(ctx, org.ID, time.Now().Add(time.Hour))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if steps, _ := s.ChatAgentSteps(ctx, org.ID, turn.ID); len(steps) != 0 {
			t.Fatalf("session %s deleted, its agent steps kept", sess.ID)
		}
	})
}

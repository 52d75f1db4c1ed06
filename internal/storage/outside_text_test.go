package storage_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
)

// Evidence is outside text: a container's logs may hold NUL bytes and
// broken UTF-8, which PostgreSQL's text and jsonb refuse. A step, a report,
// an error or a chat frame quoting them is stored (each such character
// shown as U+FFFD) on both backends; on PostgreSQL each failed to store
// before, and the investigation with it.
func TestOutsideTextIsStored(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		org, err := s.EnsureDefaultOrg(ctx)
		if err != nil {
			t.Fatal(err)
		}
		logLine := "panic: bad frame \x00\x01 at \xff\xfe offset 3"
		// Marshalled, the NUL is the escape \u0000 and each invalid byte a
		// U+FFFD; stored as text, a run of invalid bytes is one U+FFFD.
		out, _ := json.Marshal(map[string]string{"output": logLine})
		v := newInvestigation(t, s, org.ID)
		if _, err := s.InTx(ctx, func(tx *storage.Tx) error {
			st := &storage.Step{InvestigationID: v.ID, Seq: 1, Kind: "tool", Tool: "kubernetes.logs\x00", Input: storage.RawJSON(`{"pod":"a\u0000"}`), Output: out,
				Status: "failed", Error: "read logs: " + logLine, StartedAt: time.Now()}
			if err := tx.UpsertStep(ctx, org.ID, st); err != nil {
				return err
			}
			v.Report = storage.RawJSON(`{"summary":"the log says \u0000 here; a backslash: \\u0000"}`)
			return tx.SetInvestigationStatus(ctx, &v, storage.InvestigationFailed, "failed on "+logLine, time.Now())
		}); err != nil {
			t.Fatalf("store a step, report and error quoting a log line: %v", err)
		}
		got, err := s.GetInvestigation(ctx, org.ID, v.ID)
		if err != nil || len(got.Steps) != 1 {
			t.Fatalf("read back: %v %+v", err, got)
		}
		st := got.Steps[0]
		var o struct{ Output string }
		if err := json.Unmarshal(st.Output, &o); err != nil || o.Output != "panic: bad frame \uFFFD\x01 at \uFFFD\uFFFD offset 3" {
			t.Errorf("step output = %q (%v)", o.Output, err)
		}
		if st.Tool != "kubernetes.logs\uFFFD" || st.Error != "read logs: panic: bad frame \uFFFD\x01 at \uFFFD offset 3" || !strings.Contains(string(st.Input), `a\ufffd`) && !strings.Contains(string(st.Input), "a\uFFFD") {
			t.Errorf("step tool %q, error %q, input %s", st.Tool, st.Error, st.Input)
		}
		var rep struct{ Summary string }
		if err := json.Unmarshal(got.Report, &rep); err != nil || rep.Summary != `the log says `+"\uFFFD"+` here; a backslash: \u0000` {
			t.Errorf("report summary = %q (%v)", rep.Summary, err)
		}
		if got.Error != "failed on panic: bad frame \uFFFD\x01 at \uFFFD offset 3" {
			t.Errorf("investigation error = %q", got.Error)
		}

		// A chat answer quoting the same line.
		sess, turn, _, err := s.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: org.ID, UserID: "u1", Role: "editor", Mode: "ask", Text: "why?"}, nil,
			func(*storage.Tx, storage.ChatTurn) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(map[string]string{"text": logLine})
		if _, _, err := s.AppendChatFrame(ctx, org.ID, sess.ID, turn.ID, storage.ChatFrameIn{Key: "a", Type: "delta", Data: data}); err != nil {
			t.Fatalf("store a chat frame quoting a log line: %v", err)
		}
		frames, err := s.ChatFramesAfter(ctx, org.ID, sess.ID, 0, 10)
		if err != nil || len(frames) != 1 {
			t.Fatalf("frames: %v %d", err, len(frames))
		}
		var d struct{ Text string }
		if err := json.Unmarshal(frames[0].Data, &d); err != nil || d.Text != "panic: bad frame \uFFFD\x01 at \uFFFD\uFFFD offset 3" {
			t.Errorf("chat frame text = %q (%v)", d.Text, err)
		}
	})
}

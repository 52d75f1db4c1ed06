package chat

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/agent"
	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/llm"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/storage/storagetest"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// scripted is a model double: the n-th call (from 0) answers next(n).
// Only the LLM vendor is faked; the agent loop, the store and the turn
// runner are the real ones.
type scripted struct {
	mu   sync.Mutex
	n    int
	reqs []llm.Request
	next func(n int, onDelta func(string)) llm.Response
}

func (p *scripted) Name() string { return "scripted" }
func (p *scripted) Chat(_ context.Context, req llm.Request, onDelta func(string)) (llm.Response, error) {
	p.mu.Lock()
	n := p.n
	p.n++
	p.reqs = append(p.reqs, req)
	p.mu.Unlock()
	return p.next(n, onDelta), nil
}

// TestAgentEngine: a model-backed turn streams deltas, shows its tool call,
// waits for a human's yes before the writing tool runs, and ends with usage
// and the answer; ask mode offers the model no writing tool.
func TestAgentEngine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, org := storagetest.SQLite(t)
	svc := &incident.Service{Store: st, Cfg: incident.Config{Rules: incident.DefaultRules(30 * time.Minute)}, Now: time.Now}
	a := alert.Alert{Source: "generic", Fingerprint: "f1", Status: alert.StatusFiring, Severity: alert.SeverityCritical, Name: "Down", Title: "Checkout down", StartsAt: time.Now()}
	raw, _ := json.Marshal(a)
	res, err := svc.Ingest(ctx, incident.Request{OrgID: org.ID, Source: "generic", ContentType: "application/json", Body: raw, Alerts: []alert.Alert{a},
		Policy: &incident.Policy{Severities: map[alert.Severity]bool{}}})
	if err != nil {
		t.Fatal(err)
	}
	incID := res.IncidentIDs[0]

	p := &scripted{next: func(n int, onDelta func(string)) llm.Response {
		if n == 0 {
			args, _ := json.Marshal(map[string]any{"incident_id": incID, "status": "acknowledged"})
			return llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call1", Name: "aurora_incident_status", Arguments: args}}},
				Usage: llm.Usage{InputTokens: 100, OutputTokens: 10}}
		}
		onDelta("Acknowledged ")
		onDelta("it.")
		return llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "Acknowledged it."}, Usage: llm.Usage{InputTokens: 120, OutputTokens: 5}}
	}}
	eng := &AgentEngine{Agent: agent.New(agent.Config{Model: llm.Model{Provider: p, Name: "m", Ref: "scripted/m"}, Purpose: "chat"}), Store: st, Incidents: svc}
	r := &Runner{Store: st, Engine: eng, Log: log, Poll: 20 * time.Millisecond}

	run := func(mode, text string) []storage.ChatFrame {
		t.Helper()
		sess, turn, _, err := st.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: org.ID, IncidentID: incID, UserID: "token:admin", Role: "admin", Mode: mode, Text: text}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// A human answers yes when the proposal appears.
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				frames, _ := st.ChatFramesAfter(ctx, org.ID, sess.ID, 0, 100)
				for _, f := range frames {
					if f.Type == TypeConfirmationRequired {
						var c struct {
							ConfirmationID string `json:"confirmation_id"`
						}
						_ = json.Unmarshal(f.Data, &c)
						_, _ = st.AnswerChatConfirmation(ctx, org.ID, c.ConfirmationID, storage.ConfirmYes, "token:alice", time.Now())
					}
				}
			}
		}()
		defer close(stop)
		if err := r.RunTurn(ctx, org.ID, turn.ID, 1, true); err != nil {
			t.Fatal(err)
		}
		frames, err := st.ChatFramesAfter(ctx, org.ID, sess.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		return frames
	}

	frames := run(ModeAgent, "acknowledge the incident")
	var types []string
	var deltas strings.Builder
	for _, f := range frames {
		types = append(types, f.Type)
		var d struct{ Text string }
		if f.Type == TypeDelta && json.Unmarshal(f.Data, &d) == nil {
			deltas.WriteString(d.Text)
		}
	}
	for _, want := range []string{TypeToolCall, TypeConfirmationRequired, TypeToolResult, TypeDelta, TypeUsage, TypeMessage, TypeDone} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s frame in %v", want, types)
		}
	}
	if slices.Index(types, TypeConfirmationRequired) > slices.Index(types, TypeToolResult) {
		t.Errorf("the tool ran before its confirmation: %v", types)
	}
	if deltas.String() != "Acknowledged it." {
		t.Errorf("deltas %q", deltas.String())
	}
	for _, f := range frames {
		switch f.Type {
		case TypeToolResult:
			if !strings.Contains(string(f.Data), `"ok"`) {
				t.Errorf("tool result: %s", f.Data)
			}
		case TypeUsage:
			if !strings.Contains(string(f.Data), `"tokens":235`) {
				t.Errorf("usage: %s", f.Data)
			}
		case TypeMessage:
			if !strings.Contains(string(f.Data), "Acknowledged it.") {
				t.Errorf("message: %s", f.Data)
			}
		}
	}
	if inc, _ := st.GetIncident(ctx, org.ID, incID); inc.Status != storage.IncidentAcknowledged {
		t.Errorf("incident %s after yes", inc.Status)
	}

	// Ask mode: the model is offered no writing tool.
	p.mu.Lock()
	p.n, p.reqs = 1, nil // answer at once
	p.mu.Unlock()
	run(ModeAsk, "what happened?")
	for _, td := range p.reqs[0].Tools {
		if strings.Contains(td.Name, "incident_status") {
			t.Errorf("ask mode offered the writing tool %s", td.Name)
		}
	}
	if !strings.Contains(p.reqs[0].System+dumpMessages(p.reqs[0].Messages), "Checkout down") {
		t.Error("the incident was not given to the model")
	}
}

func dumpMessages(ms []llm.Message) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Content)
	}
	return b.String()
}

// blocking streams a partial answer, then waits until its context ends
// (a worker dying mid-answer); later calls answer at once.
type blocking struct {
	mu sync.Mutex
	n  int
}

func (b *blocking) Name() string { return "scripted" }
func (b *blocking) Chat(ctx context.Context, _ llm.Request, onDelta func(string)) (llm.Response, error) {
	b.mu.Lock()
	n := b.n
	b.n++
	b.mu.Unlock()
	if n == 0 {
		onDelta("Half an ")
		<-ctx.Done()
		return llm.Response{}, ctx.Err()
	}
	onDelta("A whole answer.")
	return llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "A whole answer."}, Usage: llm.Usage{InputTokens: 10, OutputTokens: 3}}, nil
}

// TestAgentEngineRetry: a model-backed turn interrupted mid-answer is
// retried; the retry says it restarted, sends its own frames after the
// interrupted ones (none twice, seqs without gaps) and one answer.
func TestAgentEngineRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, org := storagetest.SQLite(t)
	eng := &AgentEngine{Agent: agent.New(agent.Config{Model: llm.Model{Provider: &blocking{}, Name: "m", Ref: "scripted/m"}, Purpose: "chat"}), Store: st}
	r := &Runner{Store: st, Engine: eng, Log: log, Poll: 20 * time.Millisecond}
	sess, turn, _, err := st.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: org.ID, UserID: "u", Role: "viewer", Mode: ModeAsk, Text: "q"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithCancel(ctx)
	go func() {
		for { // the worker dies once the partial answer is stored
			fs, _ := st.ChatFramesAfter(ctx, org.ID, sess.ID, 0, 100)
			for _, f := range fs {
				if f.Type == TypeDelta {
					cancel()
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if err := r.RunTurn(actx, org.ID, turn.ID, 1, false); err == nil {
		t.Fatal("the interrupted attempt reported success")
	}
	if err := r.RunTurn(ctx, org.ID, turn.ID, 2, false); err != nil {
		t.Fatal(err)
	}
	fs, _ := st.ChatFramesAfter(ctx, org.ID, sess.ID, 0, 100)
	var got []string
	for i, f := range fs {
		if f.Seq != int64(i+1) {
			t.Fatalf("seq %d at %d", f.Seq, i)
		}
		got = append(got, f.Type+" "+string(f.Data))
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{`delta {"text":"Half an "}`, "restarted after an interrupted attempt", `delta {"text":"A whole answer."}`, `"text":"A whole answer."`} {
		if !strings.Contains(all, want) {
			t.Errorf("frames lack %s:\n%s", want, all)
		}
	}
	if n := strings.Count(all, "\nmessage "); n != 1 || strings.Count(all, "\ndone ") != 1 {
		t.Errorf("%d answers:\n%s", n, all)
	}
	if tr, _ := st.GetChatTurn(ctx, org.ID, turn.ID); tr.Status != storage.ChatCompleted || tr.Attempts != 2 {
		t.Errorf("turn %s after %d attempts", tr.Status, tr.Attempts)
	}
}

// countTool is a read-only tool that counts its calls.
type countTool struct{ calls atomic.Int32 }

func (c *countTool) Name() string        { return "demo.pods" }
func (c *countTool) Description() string { return "lists pods" }
func (c *countTool) Parameters() json.RawMessage {
	return json.RawMessage(`{"type":"object","properties":{}}`)
}
func (c *countTool) ReadOnly() bool         { return true }
func (c *countTool) Timeout() time.Duration { return time.Second }
func (c *countTool) Call(context.Context, map[string]any) (toolset.Result, error) {
	c.calls.Add(1)
	return toolset.Result{Output: "web-1 CrashLoopBackOff"}, nil
}

// TestAgentEngineResumesSteps: a turn whose worker died after the model's
// first call and its tool call resumes from the stored steps — neither is
// made again — and each model call is counted once in the org's daily
// usage (LLM_DAILY_BUDGET_USD covers chat).
func TestAgentEngineResumesSteps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, org := storagetest.SQLite(t)
	tool := &countTool{}
	reg, err := toolset.NewRegistry(tool)
	if err != nil {
		t.Fatal(err)
	}
	// The model asks for the tool until it sees its result, then answers.
	p := &byHistory{}
	// The first attempt dies in its second model call.
	actx, kill := context.WithCancel(ctx)
	defer kill()
	dying := &dyingAfter{inner: p, calls: 1, kill: kill}
	newEngine := func(prov llm.Provider) *AgentEngine {
		return &AgentEngine{Agent: agent.New(agent.Config{Model: llm.Model{Provider: prov, Name: "m", Ref: "scripted/m", Price: llm.Price{InputPerMTok: 1, OutputPerMTok: 1}}, Purpose: "chat"}),
			Store: st, ToolsFor: func(context.Context, string) (*toolset.Registry, error) { return reg, nil }}
	}
	sess, turn, _, err := st.CreateChatTurn(ctx, storage.NewChatTurn{OrgID: org.ID, UserID: "u", Role: "viewer", Mode: ModeAsk, Text: "why is web down?"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r1 := &Runner{Store: st, Engine: newEngine(dying), Log: log, Poll: 20 * time.Millisecond}
	if err := r1.RunTurn(actx, org.ID, turn.ID, 1, false); err == nil {
		t.Fatal("the interrupted attempt reported success")
	}
	r2 := &Runner{Store: st, Engine: newEngine(p), Log: log, Poll: 20 * time.Millisecond}
	if err := r2.RunTurn(ctx, org.ID, turn.ID, 2, false); err != nil {
		t.Fatal(err)
	}
	if got := tool.calls.Load(); got != 1 {
		t.Errorf("the tool ran %d times, want once", got)
	}
	if got := p.calls.Load(); got != 2 {
		t.Errorf("the model was called %d times, want 2 (the tool call once, the answer once)", got)
	}
	u, err := st.DailyLLMUsage(ctx, org.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if u.Calls != 2 || u.InputTokens != 300 || u.OutputTokens != 30 {
		t.Errorf("daily usage %+v, want 2 calls, 300 in, 30 out", u)
	}
	fs, _ := st.ChatFramesAfter(ctx, org.ID, sess.ID, 0, 100)
	var all strings.Builder
	for _, f := range fs {
		all.WriteString(f.Type + " " + string(f.Data) + "\n")
	}
	if !strings.Contains(all.String(), "web-1 is crash-looping.") || strings.Count(all.String(), "\nmessage ") != 1 {
		t.Errorf("frames:\n%s", all.String())
	}
}

// dyingAfter passes the first calls calls to inner; in the next one the
// worker dies (kill ends the attempt's context).
type dyingAfter struct {
	inner llm.Provider
	calls int
	kill  context.CancelFunc
	n     atomic.Int32
}

func (d *dyingAfter) Name() string { return "scripted" }
func (d *dyingAfter) Chat(ctx context.Context, req llm.Request, onDelta func(string)) (llm.Response, error) {
	if int(d.n.Add(1)) > d.calls {
		d.kill()
		<-ctx.Done()
		return llm.Response{}, ctx.Err()
	}
	return d.inner.Chat(ctx, req, onDelta)
}

// byHistory asks for demo.pods until the conversation holds its result,
// then answers; it counts its calls.
type byHistory struct{ calls atomic.Int32 }

func (b *byHistory) Name() string { return "scripted" }
func (b *byHistory) Chat(_ context.Context, req llm.Request, onDelta func(string)) (llm.Response, error) {
	b.calls.Add(1)
	for _, m := range req.Messages {
		if m.Role == llm.RoleTool {
			onDelta("web-1 is crash-looping.")
			return llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "web-1 is crash-looping."}, StopReason: llm.StopEnd,
				Usage: llm.Usage{InputTokens: 200, OutputTokens: 20}}, nil
		}
	}
	return llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "demo_pods", Arguments: json.RawMessage(`{}`)}}},
		StopReason: llm.StopToolCalls, Usage: llm.Usage{InputTokens: 100, OutputTokens: 10}}, nil
}

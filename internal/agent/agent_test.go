package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/agent"
	"github.com/aurora-oss/aurora/internal/llm"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// memJournal keeps steps in memory.
type memJournal struct {
	mu    sync.Mutex
	steps map[int]agent.Step
}

func (j *memJournal) Start(_ context.Context, s agent.Step) error { return j.put(s) }
func (j *memJournal) Finish(_ context.Context, s agent.Step) error {
	return j.put(s)
}
func (j *memJournal) put(s agent.Step) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.steps == nil {
		j.steps = map[int]agent.Step{}
	}
	j.steps[s.Seq] = s
	return nil
}

// provider answers with next(n, req) for the n-th call (from 0).
type provider struct {
	mu   sync.Mutex
	n    int
	reqs []llm.Request
	next func(n int, req llm.Request, onDelta func(string)) llm.Response
}

func (p *provider) Name() string { return "scripted" }
func (p *provider) Chat(_ context.Context, req llm.Request, onDelta func(string)) (llm.Response, error) {
	p.mu.Lock()
	n := p.n
	p.n++
	p.reqs = append(p.reqs, req)
	p.mu.Unlock()
	return p.next(n, req, onDelta), nil
}

func toolCall(id, name string, args any) llm.ToolCall {
	b, _ := json.Marshal(args)
	return llm.ToolCall{ID: id, Name: name, Arguments: b}
}

func answer(calls ...llm.ToolCall) llm.Response {
	return llm.Response{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: calls}, Usage: llm.Usage{InputTokens: 100, OutputTokens: 10}}
}

func logsTool(size int) toolset.Tool {
	return &toolset.Func{ToolName: "logs.read", Desc: "read logs", Params: `{"type":"object","properties":{"n":{"type":"integer"}}}`,
		Fn: func(_ context.Context, args map[string]any) (string, error) {
			return fmt.Sprintf("log %v\n", args["n"]) + strings.Repeat("x", size), nil
		}}
}

// Near the context limit the oldest tool outputs are elided, saying so;
// the opening (alert and findings) and the latest turns are kept.
func TestCompaction(t *testing.T) {
	t.Parallel()
	reg, _ := toolset.NewRegistry(logsTool(3000))
	p := &provider{next: func(n int, req llm.Request, _ func(string)) llm.Response {
		if n < 12 {
			return answer(toolCall(fmt.Sprint(n), "logs_read", map[string]any{"n": n}))
		}
		return answer(toolCall("s", agent.SubmitTool, map[string]any{"verdict": "INCONCLUSIVE", "summary": "s", "confidence": 0.1, "findings": []any{}}))
	}}
	a := agent.New(agent.Config{Model: llm.Model{Provider: p, Name: "m", Ref: "t/m"}, ContextTokens: 8000, ToolOutputLimit: 4000})
	res, err := a.Run(context.Background(), agent.Task{Question: "why?", Data: []agent.DataBlock{{Title: "alert", Text: "THE ALERT"}},
		Tools: reg, FirstSeq: 2, Journal: &memJournal{}, Known: []agent.Known{{Seq: 1}}})
	if err != nil || res.Status != agent.StatusCompleted {
		t.Fatalf("run: %+v %v", res, err)
	}
	last := p.reqs[len(p.reqs)-1]
	if !strings.Contains(last.Messages[0].Content, "THE ALERT") {
		t.Fatal("the opening was dropped")
	}
	elided, kept := 0, 0
	for i, m := range last.Messages {
		if m.Role != llm.RoleTool {
			continue
		}
		if strings.HasPrefix(m.Content, "[elided") {
			elided++
			if i >= len(last.Messages)-8 {
				t.Errorf("a recent output was elided: message %d of %d", i, len(last.Messages))
			}
			if !strings.Contains(m.Content, "removed to fit the context window") || !strings.Contains(m.Content, "(step [") {
				t.Errorf("elision does not say what was cut: %s", m.Content)
			}
		} else {
			kept++
		}
	}
	if elided == 0 || kept == 0 {
		t.Fatalf("elided %d, kept %d", elided, kept)
	}
	size := 0
	for _, m := range last.Messages {
		size += len(m.Content)
	}
	if size/4 > 8000 {
		t.Fatalf("request of ~%d tokens over an 8000-token window", size/4)
	}
}

type approver struct{ asked []toolset.Proposal }

func (a *approver) Approve(_ context.Context, _ llm.ToolCall, p toolset.Proposal) (bool, string, error) {
	a.asked = append(a.asked, p)
	return true, "alice", nil
}

type restart struct{ calls int }

func (*restart) Name() string                { return "kubernetes.rollout_restart" }
func (*restart) Description() string         { return "restart" }
func (*restart) Parameters() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }
func (*restart) ReadOnly() bool              { return false }
func (*restart) Timeout() time.Duration      { return time.Second }
func (r *restart) Call(context.Context, map[string]any) (toolset.Result, error) {
	r.calls++
	return toolset.Result{Output: "restarted"}, nil
}
func (*restart) Propose(context.Context, map[string]any) (toolset.Proposal, error) {
	return toolset.Proposal{Command: "kubectl rollout restart deployment/web", Risk: toolset.RiskLow, Undo: "none needed"}, nil
}

// Chat drives the same loop: text streams through OnDelta, tool activity
// through the callbacks, a writing tool runs once the Approver says yes
// (who and when recorded), and the run ends with a plain answer.
func TestChatWithApprover(t *testing.T) {
	t.Parallel()
	w := &restart{}
	reg, _ := toolset.NewRegistry(w)
	p := &provider{next: func(n int, _ llm.Request, onDelta func(string)) llm.Response {
		if n == 0 {
			return answer(toolCall("a", "kubernetes_rollout_restart", map[string]any{"name": "web"}))
		}
		onDelta("Done: ")
		onDelta("restarted.")
		return llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "Done: restarted."}}
	}}
	ap := &approver{}
	var deltas strings.Builder
	var events []string
	j := &memJournal{}
	res, err := agent.New(agent.Config{Model: llm.Model{Provider: p, Name: "m", Ref: "t/m"}}).Run(context.Background(), agent.Task{
		Mode: agent.ModeChat, Question: "restart web", Tools: reg, FirstSeq: 1, Journal: j, Approver: ap,
		OnDelta:    func(s string) { deltas.WriteString(s) },
		OnToolCall: func(seq int, c llm.ToolCall) { events = append(events, fmt.Sprintf("call %d %s", seq, c.Name)) },
		OnToolResult: func(seq int, _ llm.ToolCall, o agent.ToolOutput) {
			events = append(events, fmt.Sprintf("result %d %s", seq, o.Text))
		},
	})
	if err != nil || res.Status != agent.StatusCompleted || res.Text != "Done: restarted." || deltas.String() != "Done: restarted." {
		t.Fatalf("run: %+v %v %q", res, err, deltas.String())
	}
	if w.calls != 1 || len(ap.asked) != 1 || strings.Join(events, ";") != "call 2 kubernetes_rollout_restart;result 2 restarted" {
		t.Fatalf("calls %d, asked %v, events %v", w.calls, ap.asked, events)
	}
	var out agent.ToolOutput
	_ = json.Unmarshal(j.steps[2].Output, &out)
	if out.Approval == nil || out.Approval.By != "alice" || out.Approval.At.IsZero() {
		t.Fatalf("approval not recorded: %s", j.steps[2].Output)
	}
}

// BenchmarkStep measures the agent's own work per step (prompt building,
// step records, tool dispatch, history), with a model and a tool that
// answer at once: what a step costs on top of the model's and the tool's
// time.
func BenchmarkStep(b *testing.B) {
	reg, _ := toolset.NewRegistry(logsTool(2000))
	const turns = 20
	b.ReportAllocs()
	steps := 0
	for b.Loop() {
		p := &provider{next: func(n int, _ llm.Request, _ func(string)) llm.Response {
			if n < turns {
				return answer(toolCall(fmt.Sprint(n), "logs_read", map[string]any{"n": n}))
			}
			return answer(toolCall("s", agent.SubmitTool, map[string]any{"verdict": "INCONCLUSIVE", "summary": "s", "confidence": 0.1,
				"findings": []any{map[string]any{"text": "x", "citations": []int{2}}}}))
		}}
		a := agent.New(agent.Config{Model: llm.Model{Provider: p, Name: "m", Ref: "t/m"}})
		res, err := a.Run(context.Background(), agent.Task{Question: "why?", Data: []agent.DataBlock{{Title: "alert", Text: strings.Repeat("alert ", 500)}},
			Tools: reg, FirstSeq: 2, Journal: &memJournal{}, Known: []agent.Known{{Seq: 1}}})
		if err != nil || res.Status != agent.StatusCompleted {
			b.Fatalf("run: %+v %v", res, err)
		}
		steps += len(res.Steps)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
}

// A submitted report is outside input (the model writes it): whatever the
// arguments, the run ends in a valid report or says why, and a kept
// finding cites only existing steps.
func FuzzSubmitReport(f *testing.F) {
	for _, s := range []string{
		`{"verdict":"CONFIRMED","summary":"s","confidence":1,"root_cause":{"category":"oom","object":"pod/a/b","summary":"x"},"findings":[{"text":"t","citations":[1,2]}]}`,
		`{"verdict":"LIKELY","findings":[{"text":"t","citations":[]}]}`,
		`{"verdict":"INCONCLUSIVE","root_cause":{"category":"nope"},"next_steps":[{"title":"x","risk":"extreme"}]}`,
		`{"verdict":"confirmed","findings":[{"text":"t","citations":[99]}],"timeline":[{"at":"yesterday"}]}`,
		`[1,2,3]`, `null`, `{"findings":"x"}`, `{`,
	} {
		f.Add(s)
	}
	reg, _ := toolset.NewRegistry(logsTool(10))
	f.Fuzz(func(t *testing.T, args string) {
		p := &provider{next: func(n int, _ llm.Request, _ func(string)) llm.Response {
			switch n {
			case 0:
				return answer(toolCall("a", "logs_read", map[string]any{"n": 1}))
			case 1, 2:
				return answer(llm.ToolCall{ID: "s", Name: agent.SubmitTool, Arguments: json.RawMessage(args)})
			}
			return answer(toolCall("z", agent.SubmitTool, map[string]any{"verdict": "INCONCLUSIVE", "summary": "s", "confidence": 0, "findings": []any{}}))
		}}
		a := agent.New(agent.Config{Model: llm.Model{Provider: p, Name: "m", Ref: "t/m"}, Limit: 6, Categories: []string{"oom", "unknown"}})
		res, err := a.Run(context.Background(), agent.Task{Question: "q", Tools: reg, FirstSeq: 2, Journal: &memJournal{}, Known: []agent.Known{{Seq: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		switch res.Status {
		case agent.StatusCompleted:
			rep := res.Report
			if rep.Verdict != agent.VerdictConfirmed && rep.Verdict != agent.VerdictLikely && rep.Verdict != agent.VerdictInconclusive {
				t.Fatalf("verdict %q", rep.Verdict)
			}
			if rep.Verdict != agent.VerdictInconclusive && rep.RootCause == nil {
				t.Fatalf("%s without a root cause", rep.Verdict)
			}
			for _, fd := range rep.Findings {
				if len(fd.Citations) == 0 {
					t.Fatalf("uncited finding kept: %+v", fd)
				}
				for _, c := range fd.Citations {
					if c < 1 || c > 3 {
						t.Fatalf("finding cites step %d, which does not exist", c)
					}
				}
			}
			if rep.Verdict == agent.VerdictConfirmed && !slices.ContainsFunc(rep.Findings, func(fd agent.Finding) bool { return slices.Contains(fd.Citations, 3) }) {
				t.Fatalf("CONFIRMED without citing the only tool output: %+v", rep)
			}
		case agent.StatusLimitReached:
		default:
			t.Fatalf("status %s: %s", res.Status, res.Reason)
		}
	})
}

// The tool calls of one answer run at the same time: two calls that each
// wait for the other finish only if they run concurrently.
func TestParallelToolCalls(t *testing.T) {
	t.Parallel()
	var started sync.WaitGroup
	started.Add(2)
	both := make(chan struct{})
	go func() { started.Wait(); close(both) }()
	wait := &toolset.Func{ToolName: "probe.wait", Desc: "wait", Params: `{"type":"object","properties":{"n":{"type":"integer"}}}`,
		Fn: func(ctx context.Context, args map[string]any) (string, error) {
			started.Done()
			select {
			case <-both:
				return fmt.Sprintf("probe %v done", args["n"]), nil
			case <-time.After(5 * time.Second):
				return "", fmt.Errorf("probe %v ran alone: the calls were not concurrent", args["n"])
			}
		}}
	reg, _ := toolset.NewRegistry(wait)
	p := &provider{next: func(n int, _ llm.Request, _ func(string)) llm.Response {
		if n == 0 {
			return answer(toolCall("a", "probe_wait", map[string]any{"n": 1}), toolCall("b", "probe_wait", map[string]any{"n": 2}))
		}
		return answer(toolCall("s", agent.SubmitTool, map[string]any{"verdict": "INCONCLUSIVE", "summary": "s", "confidence": 0.1,
			"findings": []any{map[string]any{"text": "both probes", "citations": []int{2, 3}}}}))
	}}
	res, err := agent.New(agent.Config{Model: llm.Model{Provider: p, Name: "m", Ref: "t/m"}}).Run(context.Background(), agent.Task{
		Question: "q", Tools: reg, FirstSeq: 1, Journal: &memJournal{}})
	if err != nil || res.Status != agent.StatusCompleted {
		t.Fatalf("run: %+v %v", res, err)
	}
	// Results go back in the order the model asked.
	msgs := p.reqs[1].Messages
	if msgs[2].ToolCallID != "a" || msgs[3].ToolCallID != "b" || !strings.Contains(msgs[2].Content, "probe 1 done") || !strings.Contains(msgs[3].Content, "probe 2 done") {
		t.Fatalf("tool results: %+v", msgs[2:])
	}
}

package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aurora-oss/aurora/internal/llm"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// call is one tool call of a model answer being answered.
type call struct {
	c      llm.ToolCall
	tool   string // the registry's name (c.Name is the wire name)
	seq    int    // 0: answered without a step
	args   map[string]any
	argsOK bool
	dupOf  int
	prev   *Step
	out    ToolOutput
	// answer is set for calls answered without a step.
	answer string
	err    error
}

// toolCalls answers the tool calls of one model answer: the tools run
// concurrently, each as its own step, and their outputs go back to the
// model in the order it asked. submit_report is handled after the others.
func (r *run) toolCalls(ctx context.Context, calls []llm.ToolCall, final bool) (bool, error) {
	cfg := r.a.cfg
	var submit *call
	list := make([]*call, len(calls))
	for i, c := range calls {
		k := &call{c: c, tool: r.realName(c.Name)}
		list[i] = k
		if c.Name == SubmitTool {
			if submit != nil {
				submit.answer = "Ignored: only the last " + SubmitTool + " call of an answer counts."
			}
			submit = k
			continue
		}
		if final || r.used >= cfg.Limit {
			k.answer = "Not run: the step limit (AGENT_RECURSION_LIMIT) is reached; call " + SubmitTool + " now."
			continue
		}
		k.seq = r.seq
		r.seq++
		r.used++
		if prev, ok := r.resume[k.seq]; ok {
			if prev.Kind != KindTool || prev.Tool != k.tool {
				return false, fmt.Errorf("resume: step %d is %s %s where the conversation calls %s; the steps do not match this run", k.seq, prev.Kind, prev.Tool, k.tool)
			}
			k.prev = &prev
		}
		k.args, k.argsOK = decodeArgs(c.Arguments)
		if k.argsOK {
			key := callKey(k.tool, k.args)
			if s, dup := r.calls[key]; dup {
				k.dupOf = s
			} else {
				r.calls[key] = k.seq
			}
		}
	}
	var wg sync.WaitGroup
	for _, k := range list {
		if k.seq == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			k.err = r.runTool(ctx, k)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	for _, k := range list {
		if k.err != nil {
			return false, k.err
		}
	}
	// Outputs are known only now: a duplicate may name a call of this batch.
	for _, k := range list {
		if k.seq == 0 {
			continue
		}
		r.outputs[k.seq] = k.out
		r.direct[k.seq] = k.out.Error == "" && !k.out.Refused && strings.TrimSpace(k.out.Text) != ""
		if k.dupOf != 0 {
			r.direct[k.seq] = r.direct[k.dupOf]
		}
		r.known[k.seq] = Known{Seq: k.seq, Tool: k.tool, Args: k.args, Direct: r.direct[k.seq]}
		if k.out.Refused && k.out.Proposal != nil {
			r.res.Proposals = append(r.res.Proposals, *k.out.Proposal)
		}
	}
	var submitted bool
	for _, k := range list {
		if k == submit {
			var reply string
			submitted, reply = r.submit(k.c, final)
			if submitted {
				return true, nil
			}
			r.history = append(r.history, llm.Message{Role: llm.RoleTool, ToolCallID: k.c.ID, Name: k.c.Name, Content: reply, IsError: true})
			continue
		}
		r.history = append(r.history, r.toolMessage(k))
	}
	if final {
		r.end(StatusLimitReached, fmt.Sprintf("the model did not %s within AGENT_RECURSION_LIMIT=%d steps", r.goal(), cfg.Limit))
		return true, nil
	}
	return false, nil
}

// runTool makes (or replays) tool step k.seq.
func (r *run) runTool(ctx context.Context, k *call) error {
	if k.prev != nil {
		if err := json.Unmarshal(k.prev.Output, &k.out); err != nil {
			return fmt.Errorf("resume: decode tool step %d: %w", k.seq, err)
		}
		r.addStep(*k.prev)
		return nil
	}
	cfg := r.a.cfg
	in := ToolInput{CallID: k.c.ID, Args: k.args}
	if !k.argsOK {
		in.RawArgs = string(k.c.Arguments)
	}
	input, _ := json.Marshal(in)
	st := Step{Seq: k.seq, Kind: KindTool, Tool: k.tool, Input: input, StartedAt: cfg.Now().UTC()}
	if err := r.t.Journal.Start(ctx, st); err != nil {
		return err
	}
	r.callback(func() {
		if r.t.OnToolCall != nil {
			r.t.OnToolCall(k.seq, k.c)
		}
	})
	started := time.Now()
	k.out = r.execute(ctx, k)
	took := time.Since(started)
	k.out.DurationMS = took.Milliseconds()
	if ctx.Err() != nil {
		// Interrupted, not finished: a retry runs the call again.
		return ctx.Err()
	}
	st.Output, _ = json.Marshal(k.out)
	st.FinishedAt = cfg.Now().UTC()
	if err := r.t.Journal.Finish(ctx, st); err != nil {
		return err
	}
	if m := cfg.Metrics; m != nil && m.AgentStepDuration != nil {
		m.AgentStepDuration.WithLabelValues(KindTool).Observe(took.Seconds())
	}
	r.addStep(st)
	r.callback(func() {
		if r.t.OnToolResult != nil {
			r.t.OnToolResult(k.seq, k.c, k.out)
		}
	})
	return nil
}

func (r *run) callback(fn func()) {
	r.cbMu.Lock()
	defer r.cbMu.Unlock()
	fn()
}

// execute calls the tool, or says why not. Tool errors are outputs (the
// model reads them), not failures of the run.
func (r *run) execute(ctx context.Context, k *call) ToolOutput {
	if !k.argsOK {
		return ToolOutput{Error: fmt.Sprintf("the arguments are not a JSON object: %.200s", string(k.c.Arguments))}
	}
	if k.dupOf != 0 {
		return ToolOutput{DuplicateOf: k.dupOf}
	}
	reg := r.t.Tools
	if reg == nil {
		return ToolOutput{Error: fmt.Sprintf("unknown tool %q: no tools are configured", k.c.Name)}
	}
	tool, ok := reg.Get(k.tool)
	if !ok {
		return ToolOutput{Error: fmt.Sprintf("unknown tool %q (known: %s)", k.c.Name, strings.Join(r.wireNames(), ", "))}
	}
	var approval *Approval
	if !tool.ReadOnly() {
		w, isWriter := tool.(toolset.Writer)
		if !isWriter {
			return ToolOutput{Refused: true, Error: "this tool changes things and offers no proposal to approve, so it is never run by the agent"}
		}
		p, err := w.Propose(ctx, k.args)
		if err != nil {
			return ToolOutput{Error: "cannot propose this change: " + err.Error()}
		}
		if r.t.Approver == nil {
			return ToolOutput{Refused: true, Proposal: &p,
				Error: "refused: background investigations never change anything; the change is proposed as a next step for a human instead"}
		}
		ok, by, err := r.t.Approver.Approve(ctx, k.c, p)
		if err != nil {
			return ToolOutput{Refused: true, Proposal: &p, Error: "approval failed: " + err.Error()}
		}
		if !ok {
			return ToolOutput{Refused: true, Proposal: &p, Error: "the change was not approved"}
		}
		approval = &Approval{By: by, At: r.a.cfg.Now().UTC()}
	}
	res, err := reg.Call(ctx, k.tool, k.args)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return ToolOutput{}
		}
		return ToolOutput{Error: err.Error(), Approval: approval}
	}
	return ToolOutput{Text: res.Output, Truncated: res.Truncated, Approval: approval}
}

// toolMessage is the model's view of a call's result: redacted, within the
// per-tool output budget, in a data block naming the step to cite.
func (r *run) toolMessage(k *call) llm.Message {
	m := llm.Message{Role: llm.RoleTool, ToolCallID: k.c.ID, Name: k.c.Name}
	if k.seq == 0 {
		m.Content, m.IsError = k.answer, true
		return m
	}
	out := k.out
	var b strings.Builder
	if out.DuplicateOf != 0 {
		fmt.Fprintf(&b, "Step [%d] repeats the call of step [%d]; the tool was not called again. Cite [%d]. ", k.seq, out.DuplicateOf, out.DuplicateOf)
		earlier, ok := r.outputs[out.DuplicateOf]
		if !ok {
			b.WriteString("Its output is in the data above.")
			m.Content = b.String()
			return m
		}
		b.WriteString("Its output again:\n")
		out = earlier
	}
	switch {
	case out.Refused && out.Proposal != nil:
		m.IsError = true
		fmt.Fprintf(&b, "Step [%d]: %s. Proposed next step: `%s` (risk %s; undo: %s).", k.seq, out.Error, out.Proposal.Command, out.Proposal.Risk, out.Proposal.Undo)
	case out.Error != "":
		m.IsError = true
		fmt.Fprintf(&b, "Step [%d] failed: %s", k.seq, r.a.cfg.Redact(out.Error))
	default:
		text := r.a.cfg.Redact(out.Text)
		capped := toolset.CapOutput(text, r.a.cfg.ToolOutputLimit)
		if capped.Truncated {
			capped.Output += fmt.Sprintf(" (the agent shows at most %d bytes of one output; the whole output is stored in step [%d]; narrow the call to see the rest)", r.a.cfg.ToolOutputLimit, k.seq)
		}
		fmt.Fprintf(&b, "Step [%d] output of %s:\n%s", k.seq, k.tool, dataBlock(fmt.Sprintf("step %d", k.seq), capped.Output))
	}
	m.Content = b.String()
	return m
}

// wireName is a tool's name as the model sees it: vendors accept only
// [a-zA-Z0-9_-] in function names, so "kubernetes.describe" is offered as
// "kubernetes_describe".
func wireName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}

// tools are the definitions offered to the model; they also fill the
// wire-name map.
func (r *run) tools() []llm.ToolDef {
	r.wire = map[string]string{}
	var defs []llm.ToolDef
	if r.t.Tools != nil {
		for _, t := range r.t.Tools.List() {
			w := wireName(t.Name())
			for i := 2; r.wire[w] != "" || w == SubmitTool; i++ {
				w = fmt.Sprintf("%s_%d", wireName(t.Name()), i)
			}
			r.wire[w] = t.Name()
			desc := t.Description()
			if !t.ReadOnly() {
				desc += " This tool CHANGES the system: it runs only after a human approves it; in background investigations it is never run and its proposal becomes a next step."
			}
			params := t.Parameters()
			if len(params) == 0 {
				params = json.RawMessage(`{"type":"object","properties":{}}`)
			}
			defs = append(defs, llm.ToolDef{Name: w, Description: desc, Parameters: params})
		}
	}
	if r.t.Mode == ModeReport {
		defs = append(defs, r.submitDef())
	}
	return defs
}

func (r *run) realName(wire string) string {
	if n, ok := r.wire[wire]; ok {
		return n
	}
	return wire
}

func (r *run) wireNames() []string {
	out := make([]string, 0, len(r.wire))
	for w := range r.wire {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

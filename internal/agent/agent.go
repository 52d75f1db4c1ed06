// Package agent is Aurora's tool-calling loop over a language model: it
// starts from what is already known (the alert, the deterministic findings),
// lets the model call the read-only tools, and ends when the model submits a
// report (investigations) or answers (chat). Every model call and every tool
// call is a step handed to a Journal before the next one starts, and a run
// given the finished steps of an earlier attempt replays them instead of
// calling the model or the tools again.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aurora-oss/aurora/internal/llm"
	"github.com/aurora-oss/aurora/internal/metric"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// Step kinds.
const (
	KindLLM  = "llm"
	KindTool = "tool"
)

// Statuses of a run (Result.Status).
const (
	// StatusCompleted: the model submitted a report (or answered, in chat).
	StatusCompleted = "completed"
	// StatusFailed: the model failed (after the provider's retries).
	StatusFailed = "failed"
	// StatusBudgetExceeded: a token or cost budget stopped the run.
	StatusBudgetExceeded = "budget_exceeded"
	// StatusLimitReached: AGENT_RECURSION_LIMIT steps passed without a report.
	StatusLimitReached = "limit_reached"
	// StatusSkipped: the agent was not run (e.g. a limit leaving no room for
	// one model call).
	StatusSkipped = "skipped"
)

// SubmitTool is the tool that ends an investigation.
const SubmitTool = "submit_report"

// Mode says how a run ends.
type Mode int

// Modes.
const (
	// ModeReport ends with a submit_report call (background investigations).
	ModeReport Mode = iota
	// ModeChat ends with a plain answer.
	ModeChat
)

// Step is one model or tool call as persisted.
type Step struct {
	Seq  int    `json:"seq"`
	Kind string `json:"kind"`
	// Tool is the tool's name (tool steps) or the model's reference (model
	// steps).
	Tool       string          `json:"tool"`
	Input      json.RawMessage `json:"input"`
	Output     json.RawMessage `json:"output,omitempty"`
	Err        string          `json:"error,omitempty"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at"`
	// Usage and CostUSD are a model step's (zero for tools).
	Usage   llm.Usage `json:"-"`
	CostUSD float64   `json:"-"`
}

// ModelOutput is what a model step stores: the assistant message (text and
// tool calls) that a resumed run replays, and what it cost.
type ModelOutput struct {
	Message    llm.Message `json:"message"`
	Usage      llm.Usage   `json:"usage"`
	CostUSD    float64     `json:"cost_usd"`
	Model      string      `json:"model"`
	StopReason string      `json:"stop_reason,omitempty"`
	DurationMS int64       `json:"duration_ms"`
}

// ToolOutput is what a tool step stores. Text, Error and Truncated have the
// names of an investigation's evidence output, so reports cite both alike.
type ToolOutput struct {
	Text      string `json:"text"`
	Error     string `json:"error,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	// DuplicateOf is the earlier step that made the same call; the tool was
	// not called again and Text is empty (the earlier step holds it).
	DuplicateOf int `json:"duplicate_of,omitempty"`
	// Refused is set when a writing tool was not run; Proposal says what it
	// would have done.
	Refused    bool              `json:"refused,omitempty"`
	Proposal   *toolset.Proposal `json:"proposal,omitempty"`
	Approval   *Approval         `json:"approval,omitempty"`
	DurationMS int64             `json:"duration_ms"`
}

// ToolInput is what a tool step stores as input.
type ToolInput struct {
	CallID string         `json:"call_id"`
	Args   map[string]any `json:"args"`
	// RawArgs keeps arguments that are not a JSON object, as the model
	// wrote them.
	RawArgs string `json:"raw_args,omitempty"`
}

// Approval records who let a writing tool run, and when.
type Approval struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// Approver is asked before a writing tool runs (chat). Background
// investigations have none: writing tools are then refused and proposed.
type Approver interface {
	Approve(ctx context.Context, call llm.ToolCall, p toolset.Proposal) (ok bool, by string, err error)
}

// Journal persists steps. Start is called when a step begins and Finish
// when it ends (Err set when it failed); a model step's Finish carries its
// Usage and CostUSD, which the journal counts in the same transaction.
// Tool steps of one model answer run concurrently, so a Journal must be
// safe for concurrent use.
type Journal interface {
	Start(ctx context.Context, s Step) error
	Finish(ctx context.Context, s Step) error
}

// Known is a step the run did not make but may cite and reuse: the alert
// context and the deterministic plan's tool calls.
type Known struct {
	Seq  int
	Tool string
	// Args and Output let an identical call by the model be answered from
	// this step.
	Args   map[string]any
	Output string
	// Err is the call's error when it gave no output.
	Err string
	// Direct is true when the step's output is evidence from a system (a
	// tool's output), false for the alert and anything the model wrote.
	Direct bool
}

// DataBlock is a piece of outside text (alert, findings, tool output): the
// prompt puts it between markers and tells the model it is data.
type DataBlock struct {
	Title string
	Text  string
}

// DailyBudget is the org's spend of the current UTC day, shared by all
// replicas.
type DailyBudget interface {
	SpentTodayUSD(ctx context.Context) (float64, error)
}

// Config is what does not change between runs.
type Config struct {
	Model llm.Model
	// Purpose labels metrics ("rca", "chat").
	Purpose string
	// Limit is the most steps (model and tool calls) of one run
	// (AGENT_RECURSION_LIMIT; default 240).
	Limit int
	// ToolOutputLimit is the most bytes of one tool output shown to the
	// model (default 16 KiB); the step keeps the whole output.
	ToolOutputLimit int
	// ContextTokens is the model's context window (default 128k); history is
	// compacted when a request would pass ContextFill of it.
	ContextTokens int
	// MaxTokens bounds one answer (0: provider default).
	MaxTokens int
	// TokenBudget and CostBudgetUSD bound one run (0: no limit);
	// DailyBudgetUSD bounds the org's day, read from Daily.
	TokenBudget    int
	CostBudgetUSD  float64
	DailyBudgetUSD float64
	// Redact removes secrets from every text sent to the model (nil: none).
	Redact func(string) string
	// Categories is the closed list of root-cause categories.
	Categories []string
	Now        func() time.Time
	Metrics    *metric.Metrics
}

// Agent runs the loop; it is safe for concurrent runs.
type Agent struct {
	cfg Config
}

// New returns an agent with cfg's defaults filled in.
func New(cfg Config) *Agent {
	if cfg.Limit <= 0 {
		cfg.Limit = 240
	}
	if cfg.ToolOutputLimit <= 0 {
		cfg.ToolOutputLimit = 16 << 10
	}
	if cfg.ContextTokens <= 0 {
		cfg.ContextTokens = 128_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Redact == nil {
		cfg.Redact = func(s string) string { return s }
	}
	if cfg.Purpose == "" {
		cfg.Purpose = "rca"
	}
	return &Agent{cfg: cfg}
}

// ModelRef is the model's configured reference.
func (a *Agent) ModelRef() string { return a.cfg.Model.Ref }

// Task is one run.
type Task struct {
	Mode Mode
	// Question is the instruction of the run (ours, not outside data).
	Question string
	// Data are the outside texts the run starts from (alert, findings).
	Data []DataBlock
	// Known are the steps before the run's own.
	Known []Known
	// Tools are the tools offered (nil: none but submit_report).
	Tools *toolset.Registry
	// FirstSeq numbers the run's first step.
	FirstSeq int
	// Resume are the finished steps of earlier attempts (seq >= FirstSeq).
	Resume  []Step
	Journal Journal
	// Approver is asked before a writing tool runs; nil refuses them.
	Approver Approver
	// Daily is the org's spend today (nil: no daily budget applies).
	Daily DailyBudget
	// OnDelta streams the model's text; OnToolCall and OnToolResult report
	// tool activity (chat). They are never called concurrently.
	OnDelta      func(text string)
	OnToolCall   func(seq int, call llm.ToolCall)
	OnToolResult func(seq int, call llm.ToolCall, out ToolOutput)
}

// Result is how a run ended.
type Result struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	Model  string `json:"model"`
	// Report is the submitted report (ModeReport, StatusCompleted).
	Report *Report `json:"-"`
	// Text is the answer (ModeChat).
	Text string `json:"-"`
	// Dropped lists findings removed for citing no existing step.
	Dropped []string `json:"dropped_findings,omitempty"`
	// Proposals are writing-tool calls that were refused, in call order.
	Proposals []toolset.Proposal `json:"-"`
	// Steps are the run's steps (replayed and new), in seq order.
	Steps []Step `json:"-"`
	// NextSeq is the first step number after the run's steps.
	NextSeq      int     `json:"-"`
	Calls        int     `json:"calls"`
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
}

// run is the state of one Run.
type run struct {
	a      *Agent
	t      Task
	res    *Result
	seq    int
	used   int
	resume map[int]Step
	// history is the conversation after the first user message, redacted.
	history []llm.Message
	first   string
	// known indexes every citable step (Known and the run's tool steps).
	known map[int]Known
	// calls maps a call's canonical key to the step that made it.
	calls   map[string]int
	submits int
	// citeRejects counts reports sent back for uncited claims (once).
	citeRejects int
	nudges      int
	cbMu        sync.Mutex
	direct      map[int]bool
	stepsMu     sync.Mutex
	toolDefs    []llm.ToolDef
	lastInput   int
	// outputs are the tool outputs by step (Known and the run's own), for
	// answering duplicates.
	outputs map[int]ToolOutput
	// wire maps the names offered to the model to the registry's.
	wire map[string]string
}

// Run runs (or resumes) a task. It returns an error only when the run
// cannot go on and should be retried (ctx cancelled, the journal failing);
// a failing model, a budget or the limit end the run with a Result status.
func (a *Agent) Run(ctx context.Context, t Task) (*Result, error) {
	r := &run{a: a, t: t, res: &Result{Model: a.cfg.Model.Ref}, seq: t.FirstSeq, resume: map[int]Step{},
		known: map[int]Known{}, calls: map[string]int{}, direct: map[int]bool{}, outputs: map[int]ToolOutput{}}
	for _, s := range t.Resume {
		r.resume[s.Seq] = s
	}
	for _, k := range t.Known {
		r.known[k.Seq] = k
		r.direct[k.Seq] = k.Direct
		if k.Tool != "" && k.Args != nil {
			r.calls[callKey(k.Tool, k.Args)] = k.Seq
			r.outputs[k.Seq] = ToolOutput{Text: k.Output, Error: k.Err}
		}
	}
	r.first = r.firstMessage()
	r.toolDefs = r.tools()
	if a.cfg.Limit < 1 {
		r.end(StatusSkipped, "AGENT_RECURSION_LIMIT leaves no step for the model")
		return r.res, nil
	}
	for {
		done, err := r.turn(ctx)
		if err != nil {
			return nil, err
		}
		if done {
			return r.res, nil
		}
	}
}

// turn is one model call and the tool calls it asks for. done is true when
// the run ended (r.res says how).
func (r *run) turn(ctx context.Context) (bool, error) {
	cfg := r.a.cfg
	if r.used >= cfg.Limit {
		r.end(StatusLimitReached, fmt.Sprintf("the model did not %s within AGENT_RECURSION_LIMIT=%d steps", r.goal(), cfg.Limit))
		return true, nil
	}
	final := r.used+1 >= cfg.Limit
	seq := r.seq
	out, ok, err := r.replayModel(seq)
	if err != nil {
		return false, err
	}
	if !ok {
		if stop, why, err := r.overBudget(ctx); err != nil {
			return false, err
		} else if stop {
			r.end(StatusBudgetExceeded, why)
			return true, nil
		}
		out, err = r.callModel(ctx, seq, final)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			var jerr journalError
			if errors.As(err, &jerr) {
				return false, jerr.err
			}
			r.seq++ // the failed call keeps its step
			r.end(StatusFailed, "the model failed: "+err.Error())
			return true, nil
		}
	}
	r.seq++
	r.used++
	r.res.Calls++
	r.res.InputTokens += out.Usage.InputTokens
	r.res.OutputTokens += out.Usage.OutputTokens
	r.res.CostUSD += out.CostUSD
	r.lastInput = out.Usage.InputTokens
	r.known[seq] = Known{Seq: seq, Tool: cfg.Model.Ref} // citable, never direct
	msg := out.Message
	msg.Role = llm.RoleAssistant
	msg.Content = cfg.Redact(msg.Content)
	r.history = append(r.history, msg)

	if len(msg.ToolCalls) == 0 {
		if r.t.Mode == ModeChat {
			r.res.Text = msg.Content
			r.end(StatusCompleted, "")
			return true, nil
		}
		if final {
			r.end(StatusLimitReached, fmt.Sprintf("the model did not submit a report within AGENT_RECURSION_LIMIT=%d steps", cfg.Limit))
			return true, nil
		}
		// Deterministic from the step, so a replay adds the same message.
		r.nudges++
		r.history = append(r.history, llm.Message{Role: llm.RoleUser, Content: "Continue the investigation with the tools, and finish by calling " + SubmitTool + " (plain answers are not read)."})
		return false, nil
	}
	return r.toolCalls(ctx, msg.ToolCalls, final)
}

func (r *run) goal() string {
	if r.t.Mode == ModeChat {
		return "answer"
	}
	return "submit a report"
}

func (r *run) end(status, reason string) {
	r.res.Status, r.res.Reason, r.res.NextSeq = status, reason, r.seq
	r.stepsMu.Lock()
	defer r.stepsMu.Unlock()
	sortSteps(r.res.Steps)
}

// replayModel returns the model step seq of an earlier attempt, if any.
func (r *run) replayModel(seq int) (ModelOutput, bool, error) {
	prev, ok := r.resume[seq]
	if !ok {
		return ModelOutput{}, false, nil
	}
	if prev.Kind != KindLLM {
		return ModelOutput{}, false, fmt.Errorf("resume: step %d is a %s step where the conversation has a model call; the steps do not match this run", seq, prev.Kind)
	}
	var out ModelOutput
	if err := json.Unmarshal(prev.Output, &out); err != nil {
		return ModelOutput{}, false, fmt.Errorf("resume: decode model step %d: %w", seq, err)
	}
	r.addStep(prev)
	return out, true, nil
}

// journalError marks a failure to persist, which the run returns as is.
type journalError struct{ err error }

func (e journalError) Error() string { return e.err.Error() }

// overBudget says whether the next model call would pass a budget.
func (r *run) overBudget(ctx context.Context) (bool, string, error) {
	cfg := r.a.cfg
	// Spend is known only after a call, so the call that crosses a budget
	// completes and the next one is not made.
	if spent := r.res.InputTokens + r.res.OutputTokens; cfg.TokenBudget > 0 && spent >= cfg.TokenBudget {
		return true, fmt.Sprintf("RCA_TOKEN_BUDGET=%d reached: %d tokens used", cfg.TokenBudget, spent), nil
	}
	if cfg.CostBudgetUSD > 0 && r.res.CostUSD >= cfg.CostBudgetUSD {
		return true, fmt.Sprintf("RCA_COST_BUDGET_USD=%g reached: $%.6f spent", cfg.CostBudgetUSD, r.res.CostUSD), nil
	}
	if cfg.DailyBudgetUSD > 0 && r.t.Daily != nil {
		spent, err := r.t.Daily.SpentTodayUSD(ctx)
		if err != nil {
			return false, "", fmt.Errorf("read the daily LLM spend: %w", err)
		}
		if spent >= cfg.DailyBudgetUSD {
			return true, fmt.Sprintf("LLM_DAILY_BUDGET_USD=%g reached: $%.6f spent by the org today (UTC)", cfg.DailyBudgetUSD, spent), nil
		}
	}
	return false, "", nil
}

// callModel makes model step seq.
func (r *run) callModel(ctx context.Context, seq int, final bool) (ModelOutput, error) {
	cfg := r.a.cfg
	req := llm.Request{System: r.system(), Messages: r.messages(final), MaxTokens: cfg.MaxTokens}
	elided := countElided(req.Messages)
	switch {
	case final && r.t.Mode == ModeChat:
		req.ToolChoice = llm.ToolNone
	case final:
		req.Tools, req.ToolChoice = []llm.ToolDef{r.submitDef()}, llm.ToolRequired
	default:
		req.Tools = r.toolDefs
	}
	names := make([]string, len(req.Tools))
	for i, d := range req.Tools {
		names[i] = d.Name
	}
	input, _ := json.Marshal(map[string]any{"messages": len(req.Messages) + 1, "tools": names, "final": final, "elided_outputs": elided})
	st := Step{Seq: seq, Kind: KindLLM, Tool: cfg.Model.Ref, Input: input, StartedAt: cfg.Now().UTC()}
	if err := r.t.Journal.Start(ctx, st); err != nil {
		return ModelOutput{}, journalError{err}
	}
	started := time.Now()
	var onDelta func(string)
	if r.t.OnDelta != nil {
		onDelta = func(s string) {
			r.cbMu.Lock()
			defer r.cbMu.Unlock()
			r.t.OnDelta(s)
		}
	}
	resp, err := cfg.Model.Chat(ctx, req, onDelta)
	took := time.Since(started)
	st.FinishedAt = cfg.Now().UTC()
	if err != nil {
		r.observeModel("error", llm.Usage{}, 0, took)
		st.Err = err.Error()
		if ctx.Err() == nil {
			if jerr := r.t.Journal.Finish(context.WithoutCancel(ctx), st); jerr != nil {
				return ModelOutput{}, journalError{jerr}
			}
		}
		return ModelOutput{}, err
	}
	out := ModelOutput{Message: resp.Message, Usage: resp.Usage, CostUSD: cfg.Model.Price.Cost(resp.Usage), Model: cfg.Model.Ref,
		StopReason: resp.StopReason, DurationMS: took.Milliseconds()}
	out.Message.Role = llm.RoleAssistant
	for i, c := range out.Message.ToolCalls {
		if c.ID == "" { // some servers omit ids; replies must name one
			out.Message.ToolCalls[i].ID = fmt.Sprintf("call_%d_%d", seq, i)
		}
	}
	st.Output, _ = json.Marshal(out)
	st.Usage, st.CostUSD = out.Usage, out.CostUSD
	if err := r.t.Journal.Finish(ctx, st); err != nil {
		return ModelOutput{}, journalError{err}
	}
	r.observeModel("ok", out.Usage, out.CostUSD, took)
	r.addStep(st)
	return out, nil
}

func (r *run) observeModel(outcome string, u llm.Usage, cost float64, d time.Duration) {
	m := r.a.cfg.Metrics
	if m == nil || m.LLMRequests == nil {
		return
	}
	model, purpose := r.a.cfg.Model.Ref, r.a.cfg.Purpose
	m.LLMRequests.WithLabelValues(model, outcome).Inc()
	m.AgentStepDuration.WithLabelValues(KindLLM).Observe(d.Seconds())
	if outcome == "ok" {
		m.LLMTokens.WithLabelValues(model, "input", purpose).Add(float64(u.InputTokens))
		m.LLMTokens.WithLabelValues(model, "output", purpose).Add(float64(u.OutputTokens))
		m.LLMCost.WithLabelValues(model, purpose).Add(cost)
	}
}

func (r *run) addStep(s Step) {
	r.stepsMu.Lock()
	defer r.stepsMu.Unlock()
	r.res.Steps = append(r.res.Steps, s)
}

// callKey is a tool call's identity: name and canonical arguments (JSON
// with sorted keys, as encoding/json writes maps).
func callKey(tool string, args map[string]any) string {
	b, _ := json.Marshal(args)
	return tool + " " + string(b)
}

// decodeArgs parses a call's arguments; ok is false when they are not a
// JSON object.
func decodeArgs(raw json.RawMessage) (map[string]any, bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return map[string]any{}, true
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// Settings are the configuration's agent limits (config.LLM).
type Settings struct {
	RecursionLimit int
	TokenBudget    int
	CostBudgetUSD  float64
	DailyBudgetUSD float64
}

// ForInvestigations returns the agent of background investigations over
// model, with the configured limits and the closed list of categories.
func ForInvestigations(model llm.Model, s Settings, categories []string, redact func(string) string, m *metric.Metrics) *Agent {
	return New(Config{Model: model, Purpose: "rca", Limit: s.RecursionLimit, TokenBudget: s.TokenBudget, CostBudgetUSD: s.CostBudgetUSD,
		DailyBudgetUSD: s.DailyBudgetUSD, Categories: categories, Redact: redact, Metrics: m})
}

package investigate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/agent"
	"github.com/aurora-oss/aurora/internal/analyze"
	"github.com/aurora-oss/aurora/internal/storage"
)

// LLM statuses of a report (Report.LLM.Status); see docs/agent.md.
const (
	LLMCompleted      = agent.StatusCompleted
	LLMFailed         = agent.StatusFailed
	LLMBudgetExceeded = agent.StatusBudgetExceeded
	LLMLimitReached   = agent.StatusLimitReached
	LLMSkipped        = agent.StatusSkipped
)

// LLMReport says what the language model did for a report: whether its
// analysis is in it, and if not why; what it cost; what was changed in what
// it submitted.
type LLMReport struct {
	Status       string  `json:"status"`
	Reason       string  `json:"reason,omitempty"`
	Model        string  `json:"model"`
	Calls        int     `json:"calls"`
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
	// DroppedFindings were submitted without a citation of an existing step
	// (after being sent back once).
	DroppedFindings []string `json:"dropped_findings,omitempty"`
	// Notes say how the submitted report was changed: a verdict lowered
	// for lack of direct evidence, the analyzers' root cause kept.
	Notes []string `json:"notes,omitempty"`
}

// Categories is the closed list of root-cause categories
// (docs/root-cause-categories.md).
var Categories = []string{analyze.CategoryCrashloop, analyze.CategoryOOM, analyze.CategoryImagePull, analyze.CategoryMissingConfig,
	analyze.CategoryScheduling, analyze.CategoryStorage, analyze.CategoryProbe, analyze.CategoryRollout, analyze.CategoryJobFailure,
	analyze.CategoryAutoscaling, analyze.CategoryServiceRouting, analyze.CategoryNetworkPolicy, analyze.CategoryDNS, analyze.CategoryNode,
	analyze.CategoryQuota, analyze.CategoryDependency, analyze.CategoryCertificate, analyze.CategoryAuth, analyze.CategoryApplicationErr,
	analyze.CategorySaturation, analyze.CategoryLatency, analyze.CategoryUnknown}

// openingOutputLimit is how much of each deterministic evidence output the
// agent's opening shows; the same call again shows up to the agent's
// per-tool budget, answered from the stored step.
const openingOutputLimit = 4 << 10

// journal persists the agent's steps as the investigation's steps, and a
// model step's usage with it, in one transaction.
type journal struct {
	r  *Runner
	st *state
}

func (j journal) Start(ctx context.Context, s agent.Step) error {
	rec := storage.Step{InvestigationID: j.st.inv.ID, Seq: s.Seq, Kind: s.Kind, Tool: s.Tool, Input: storage.RawJSON(s.Input),
		Status: storage.StepRunning, StartedAt: s.StartedAt}
	return j.r.saveStep(ctx, j.st, &rec, nil)
}

func (j journal) Finish(ctx context.Context, s agent.Step) error {
	fin := s.FinishedAt
	rec := storage.Step{InvestigationID: j.st.inv.ID, Seq: s.Seq, Kind: s.Kind, Tool: s.Tool, Input: storage.RawJSON(s.Input),
		Output: storage.RawJSON(s.Output), Status: storage.StepCompleted, Error: s.Err, StartedAt: s.StartedAt, FinishedAt: &fin}
	if s.Err != "" {
		rec.Status = storage.StepFailed
	}
	var usage func(tx *storage.Tx) error
	if s.Kind == agent.KindLLM && s.Err == "" {
		usage = func(tx *storage.Tx) error {
			return tx.AddLLMUsage(ctx, j.st.inv.OrgID, j.st.inv.ID, s.Tool, int64(s.Usage.InputTokens), int64(s.Usage.OutputTokens), s.CostUSD, fin)
		}
	}
	return j.r.saveStep(ctx, j.st, &rec, usage)
}

// daily reads the org's spend today from the database all replicas share.
type daily struct {
	store *storage.Store
	org   string
	now   func() time.Time
}

func (d daily) SpentTodayUSD(ctx context.Context) (float64, error) {
	u, err := d.store.DailyLLMUsage(ctx, d.org, d.now())
	return u.CostUSD, err
}

// runAgent runs (or resumes) the agent after the deterministic steps 1..n
// and returns the report to store: the agent's merged with the
// deterministic one, or the deterministic one saying why the agent's is
// missing.
func (r *Runner) runAgent(ctx context.Context, st *state, det Report, n int) (Report, int, error) {
	var resume []agent.Step
	for _, s := range st.inv.Steps {
		if s.Seq > n && s.Status == storage.StepCompleted && (s.Kind == agent.KindLLM || s.Kind == agent.KindTool) {
			resume = append(resume, agent.Step{Seq: s.Seq, Kind: s.Kind, Tool: s.Tool, Input: json.RawMessage(s.Input), Output: json.RawMessage(s.Output),
				StartedAt: s.StartedAt, FinishedAt: deref(s.FinishedAt)})
		}
	}
	known := []agent.Known{{Seq: 1, Tool: "aurora.alert_context"}}
	data := []agent.DataBlock{{Title: "step 1: alert context (aurora.alert_context)", Text: string(st.outputs[1])}}
	for i, p := range st.plan[:n] {
		if p.kind != "evidence" {
			continue
		}
		seq := i + 1
		var out EvidenceOutput
		_ = json.Unmarshal(st.outputs[seq], &out)
		known = append(known, agent.Known{Seq: seq, Tool: p.tool, Args: p.input, Output: out.Text, Err: out.Error, Direct: out.Error == "" && strings.TrimSpace(out.Text) != ""})
		text := out.Text
		if out.Error != "" {
			text = "error: " + out.Error
		} else if len(text) > openingOutputLimit {
			text = text[:openingOutputLimit] + fmt.Sprintf("\n… [the first %d of %d bytes; call %s with the same arguments to read more]", openingOutputLimit, len(out.Text), p.tool)
		}
		args, _ := json.Marshal(p.input)
		data = append(data, agent.DataBlock{Title: fmt.Sprintf("step %d: %s %s", seq, p.tool, args), Text: text})
	}
	data = append(data, agent.DataBlock{Title: "the deterministic analyzers' report over these steps", Text: Markdown(det)})
	question := fmt.Sprintf("Investigate this incident. Step [1] is the alert context; steps [2]–[%d] are evidence the deterministic plan gathered, "+
		"and the analyzers' report over them follows. Check their conclusion with the tools (confirm or refute it), look further where they are unsure, "+
		"then call %s. Cite steps by number.", n, agent.SubmitTool)
	if n < 2 {
		question = fmt.Sprintf("Investigate this incident. Step [1] is the alert context; no evidence was gathered yet. Use the tools, then call %s. Cite steps by number.", agent.SubmitTool)
	}
	res, err := r.Agent.Run(ctx, agent.Task{Mode: agent.ModeReport, Question: question, Data: data, Known: known, Tools: st.tools,
		FirstSeq: n + 1, Resume: resume, Journal: journal{r: r, st: st}, Daily: daily{store: r.Store, org: st.inv.OrgID, now: r.Now}})
	if err != nil {
		return Report{}, 0, err
	}
	return merge(det, res), res.NextSeq, nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// merge writes the report of an investigation the agent took part in.
//
//   - The agent did not submit: the deterministic report, its "llm" field
//     saying why and not_checked naming the model.
//   - It submitted: its report, with the evidence cited, the deterministic
//     findings it did not cover, both timelines, the proposals of writing
//     tools it asked for as next steps.
//   - Root cause: when the analyzers CONFIRMED one and the model names
//     another without direct evidence (its verdict is not CONFIRMED after
//     the verdict gate), the analyzers' root cause and verdict win. With
//     direct evidence the model's wins; the analyzers' is kept as a finding.
func merge(det Report, res *agent.Result) Report {
	info := &LLMReport{Status: res.Status, Reason: res.Reason, Model: res.Model, Calls: res.Calls, InputTokens: res.InputTokens,
		OutputTokens: res.OutputTokens, CostUSD: res.CostUSD, DroppedFindings: res.Dropped}
	rep := det
	rep.Model, rep.LLM = res.Model, info
	rep.NotChecked = slices.DeleteFunc(slices.Clone(det.NotChecked), func(n NotChecked) bool { return n.Source == "llm" })
	proposals := make([]NextStep, 0, len(res.Proposals))
	for _, p := range res.Proposals {
		proposals = append(proposals, NextStep{Title: "Proposed by the agent (not run: background investigations never change anything)", Command: p.Command, Risk: p.Risk, Undo: p.Undo})
	}
	tools := map[int]string{}
	for _, s := range res.Steps {
		if s.Kind == agent.KindTool {
			tools[s.Seq] = s.Tool + " " + string(compactArgs(s.Input))
		}
	}
	if res.Status != agent.StatusCompleted || res.Report == nil {
		rep.Model = ""
		rep.NotChecked = append(rep.NotChecked, NotChecked{Source: "llm", Reason: "the model's analysis is missing (" + res.Status + "): " + res.Reason})
		rep.NextSteps = dedupeSteps(append(slices.Clone(det.NextSteps), proposals...))
		return rep
	}
	ag := res.Report
	rep.Verdict, rep.Confidence, rep.Summary, rep.Impact = ag.Verdict, ag.Confidence, ag.Summary, ag.Impact
	if ag.VerdictNote != "" {
		info.Notes = append(info.Notes, ag.VerdictNote)
	}
	if ag.RootCause != nil {
		rep.RootCause = &RootCause{Category: ag.RootCause.Category, Object: ag.RootCause.Object, Summary: ag.RootCause.Summary}
	} else {
		rep.RootCause = nil
	}
	if rep.Impact == "" {
		rep.Impact = det.Impact
	}
	findings := make([]Finding, 0, len(ag.Findings)+len(det.Findings))
	for _, f := range ag.Findings {
		findings = append(findings, Finding{Text: f.Text, Citations: f.Citations})
	}
	detFirst := false
	if det.Verdict == VerdictConfirmed && det.RootCause != nil {
		agrees := ag.RootCause != nil && strings.EqualFold(ag.RootCause.Category, det.RootCause.Category) && strings.EqualFold(ag.RootCause.Object, det.RootCause.Object)
		switch {
		case agrees:
			rep.Verdict = VerdictConfirmed // the analyzers' direct evidence confirms it
			rep.Confidence = max(rep.Confidence, det.Confidence)
		case ag.Verdict != VerdictConfirmed:
			detFirst = true
			rep.Verdict, rep.RootCause, rep.Confidence, rep.Summary = det.Verdict, det.RootCause, det.Confidence, det.Summary
			claim := "no root cause"
			if ag.RootCause != nil {
				claim = fmt.Sprintf("%s %s", ag.RootCause.Category, ag.RootCause.Object)
			}
			info.Notes = append(info.Notes, fmt.Sprintf("kept the analyzers' CONFIRMED root cause (%s %s): the model's (%s, %s) cites no direct evidence against it",
				det.RootCause.Category, det.RootCause.Object, claim, ag.Verdict))
		default:
			info.Notes = append(info.Notes, fmt.Sprintf("the model's CONFIRMED root cause, on direct evidence, replaces the analyzers' (%s %s)", det.RootCause.Category, det.RootCause.Object))
		}
	}
	covered := map[int]bool{}
	for _, f := range findings {
		for _, c := range f.Citations {
			covered[c] = true
		}
	}
	var detFindings []Finding
	for _, f := range det.Findings {
		if detFirst || !allIn(f.Citations, covered) {
			detFindings = append(detFindings, f)
		}
	}
	if detFirst {
		findings = append(detFindings, findings...)
	} else {
		findings = append(findings, detFindings...)
	}
	rep.Findings = findings
	// Evidence: what the findings cite, described.
	byN := map[int]Citation{}
	for _, c := range det.Evidence {
		byN[c.N] = c
	}
	rep.Evidence = []Citation{}
	seen := map[int]bool{}
	for _, f := range rep.Findings {
		for _, n := range f.Citations {
			if seen[n] {
				continue
			}
			seen[n] = true
			c, ok := byN[n]
			if !ok {
				c = Citation{N: n, StepSeq: n, Tool: strings.Fields(tools[n] + " agent")[0], Summary: tools[n]}
				if tools[n] == "" {
					c.Tool, c.Summary = "agent", "model step"
				}
			}
			rep.Evidence = append(rep.Evidence, c)
		}
	}
	if len(byN) > 0 {
		if c, ok := byN[1]; ok && !seen[1] {
			rep.Evidence = append(rep.Evidence, c)
		}
	}
	sort.SliceStable(rep.Evidence, func(i, j int) bool { return rep.Evidence[i].N < rep.Evidence[j].N })
	rep.Timeline = slices.Clone(det.Timeline)
	for _, e := range ag.Timeline {
		if at, err := time.Parse(time.RFC3339, e.At); err == nil && e.Event != "" {
			rep.Timeline = append(rep.Timeline, TimePoint{At: at, Event: e.Event})
		}
	}
	sort.SliceStable(rep.Timeline, func(i, j int) bool { return rep.Timeline[i].At.Before(rep.Timeline[j].At) })
	rep.RuledOut = append(slices.Clone(ag.RuledOut), det.RuledOut...)
	if rep.RuledOut == nil {
		rep.RuledOut = []string{}
	}
	steps := make([]NextStep, 0, len(ag.NextSteps)+len(proposals)+len(det.NextSteps))
	for _, s := range ag.NextSteps {
		steps = append(steps, NextStep{Title: s.Title, Command: s.Command, Risk: s.Risk, Undo: s.Undo})
	}
	if detFirst {
		steps = append(slices.Clone(det.NextSteps), steps...)
		steps = append(steps, proposals...)
	} else {
		steps = append(steps, proposals...)
		steps = append(steps, det.NextSteps...)
	}
	rep.NextSteps = dedupeSteps(steps)
	return rep
}

func allIn(cites []int, set map[int]bool) bool {
	for _, c := range cites {
		if !set[c] {
			return false
		}
	}
	return len(cites) > 0
}

// dedupeSteps drops next steps whose command (or title, without one)
// appeared earlier.
func dedupeSteps(in []NextStep) []NextStep {
	seen := map[string]bool{}
	out := []NextStep{}
	for _, s := range in {
		key := "c:" + s.Command
		if s.Command == "" {
			key = "t:" + s.Title
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, s)
	}
	return out
}

// compactArgs is a tool step's arguments as compact JSON.
func compactArgs(input json.RawMessage) json.RawMessage {
	var in agent.ToolInput
	if json.Unmarshal(input, &in) != nil {
		return nil
	}
	b, _ := json.Marshal(in.Args)
	return b
}

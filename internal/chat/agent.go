package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aurora-oss/aurora/internal/agent"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/llm"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// AgentEngine answers with the language-model agent (package agent) when
// a chat model is configured: the model's text streams as delta frames,
// its tool calls as tool_call / tool_result, a writing tool waits for a
// human through the confirmation flow, and the turn ends with usage and
// the answer.
//
// The agent's finished steps (model and tool calls) are stored as they
// end, with each model call's usage counted in the org's daily LLM total:
// a turn retried after a worker died resumes the conversation from them,
// so no finished model or tool call is made (or paid for) twice. Its frames
// follow the interrupted attempt's under a "restarted" status — nothing is
// sent twice, and the answer is streamed again from the start.
type AgentEngine struct {
	Agent     *agent.Agent
	Store     *storage.Store
	Incidents *incident.Service
	// ToolsFor gives an org's tools (nil: none).
	ToolsFor func(ctx context.Context, orgID string) (*toolset.Registry, error)
}

// Replayable implements replayer: a model does not answer the same twice,
// so a retried attempt's frames are new frames, not a replay.
func (g *AgentEngine) Replayable() bool { return false }

// Run implements Engine.
func (g *AgentEngine) Run(ctx context.Context, t Turn, e Emitter) error {
	tools, err := g.tools(ctx, t)
	if err != nil {
		return err
	}
	data, err := g.context(ctx, t)
	if err != nil {
		return err
	}
	// The callbacks cannot fail the run; the first emit error is kept and
	// ends the turn after the run.
	var mu sync.Mutex
	var emitErr error
	keep := func(err error) {
		mu.Lock()
		if emitErr == nil {
			emitErr = err
		}
		mu.Unlock()
	}
	callID := func(seq int, c llm.ToolCall) string {
		if c.ID != "" {
			return c.ID
		}
		return "a" + strconv.Itoa(seq)
	}
	stored, err := g.Store.ChatAgentSteps(ctx, t.OrgID, t.TurnID)
	if err != nil {
		return err
	}
	resume := make([]agent.Step, 0, len(stored))
	for _, st := range stored {
		resume = append(resume, agent.Step{Seq: st.Seq, Kind: st.Kind, Tool: st.Tool, Input: json.RawMessage(st.Input), Output: json.RawMessage(st.Output),
			Err: st.Error, StartedAt: st.StartedAt, FinishedAt: st.FinishedAt})
	}
	task := agent.Task{Mode: agent.ModeChat, Question: t.Text, Data: data, Tools: tools, FirstSeq: 1, Resume: resume,
		Journal: journal{store: g.Store, orgID: t.OrgID, turnID: t.TurnID}, Daily: daily{store: g.Store, orgID: t.OrgID},
		Approver: &approver{e: e},
		OnDelta: func(s string) {
			if s != "" {
				keep(e.Delta(ctx, s))
			}
		},
		OnToolCall: func(seq int, c llm.ToolCall) {
			keep(e.ToolCall(ctx, callID(seq, c), c.Name, json.RawMessage(orEmpty(c.Arguments))))
		},
		OnToolResult: func(seq int, c llm.ToolCall, out agent.ToolOutput) {
			status, summary := "ok", firstLine(out.Text)
			switch {
			case out.Refused:
				status, summary = "declined", "not run: no human approved it"
			case out.Error != "":
				status, summary = "error", firstLine(out.Error)
			case out.DuplicateOf > 0:
				summary = fmt.Sprintf("same call as step %d", out.DuplicateOf)
			}
			keep(e.ToolResult(ctx, callID(seq, c), status, summary))
		}}
	res, err := g.Agent.Run(ctx, task)
	if err != nil {
		return err
	}
	if emitErr != nil {
		return emitErr
	}
	if err := e.Usage(ctx, int64(res.InputTokens+res.OutputTokens), res.CostUSD); err != nil {
		return err
	}
	text := res.Text
	if res.Status != agent.StatusCompleted {
		text = strings.TrimSpace(text + "\n\n" + fmt.Sprintf("(The model stopped without an answer: %s %s.)", res.Status, res.Reason))
	}
	return e.Message(ctx, text, nil)
}

// tools are the org's tools: read-only ones in ask mode; in agent mode also
// the writing tools and the incident-status tool, which run only after a
// human's yes.
func (g *AgentEngine) tools(ctx context.Context, t Turn) (*toolset.Registry, error) {
	var list []toolset.Tool
	if g.ToolsFor != nil {
		reg, err := g.ToolsFor(ctx, t.OrgID)
		if err != nil {
			return nil, fmt.Errorf("tools of org: %w", err)
		}
		if reg != nil {
			list = reg.List()
		}
	}
	var keep []toolset.Tool
	for _, tool := range list {
		if t.Mode == ModeAgent || tool.ReadOnly() {
			keep = append(keep, tool)
		}
	}
	if t.Mode == ModeAgent && g.Incidents != nil {
		keep = append(keep, &incidentStatusTool{orgID: t.OrgID, actor: t.UserID + " (chat)", svc: g.Incidents})
	}
	return toolset.NewRegistry(keep...)
}

// context is what the model starts from: the conversation so far and, in
// an incident's session, the incident and its report.
func (g *AgentEngine) context(ctx context.Context, t Turn) ([]agent.DataBlock, error) {
	var data []agent.DataBlock
	if len(t.History) > 0 {
		var b strings.Builder
		for _, h := range t.History[max(0, len(t.History)-20):] {
			fmt.Fprintf(&b, "%s: %s\n\n", h.Role, h.Text)
		}
		data = append(data, agent.DataBlock{Title: "Conversation so far", Text: b.String()})
	}
	if t.IncidentID == "" {
		return data, nil
	}
	inc, err := g.Store.GetIncident(ctx, t.OrgID, t.IncidentID)
	if errors.Is(err, storage.ErrNotFound) {
		return data, nil
	}
	if err != nil {
		return nil, err
	}
	data = append(data, agent.DataBlock{Title: "Incident", Text: fmt.Sprintf("id %s\ntitle %s\nseverity %s\nstatus %s\nservice %s\nnamespace %s\ncreated %s",
		inc.ID, inc.Title, inc.Severity, inc.Status, inc.Service, inc.Namespace, inc.CreatedAt)})
	if inc.Investigation != nil {
		inv, err := g.Store.GetInvestigation(ctx, t.OrgID, inc.Investigation.ID)
		if err != nil {
			return nil, err
		}
		var rep investigate.Report
		if json.Unmarshal(inv.Report, &rep) == nil && rep.Verdict != "" {
			text, _ := reportText(rep, inv.ID)
			data = append(data, agent.DataBlock{Title: "The incident's investigation report", Text: text})
		}
	}
	return data, nil
}

func orEmpty(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}

// approver asks a human through the turn's confirmation flow.
type approver struct{ e Emitter }

func (a *approver) Approve(ctx context.Context, call llm.ToolCall, p toolset.Proposal) (bool, string, error) {
	var args map[string]any
	_ = json.Unmarshal(call.Arguments, &args)
	res, err := a.e.Confirm(ctx, call.Name, args, p)
	if err != nil {
		return false, "", err
	}
	return res.Status == storage.ConfirmYes, res.By, nil
}

// journal stores a turn's finished agent steps (see AgentEngine).
type journal struct {
	store         *storage.Store
	orgID, turnID string
}

// Start implements agent.Journal: only finished steps are resumed, so
// nothing is stored when a step begins.
func (journal) Start(context.Context, agent.Step) error { return nil }

// Finish implements agent.Journal. A failed step is not stored: a retried
// attempt makes that call again.
func (j journal) Finish(ctx context.Context, s agent.Step) error {
	if s.Err != "" {
		return nil
	}
	var usage *storage.ChatLLMUsage
	if s.Kind == agent.KindLLM {
		usage = &storage.ChatLLMUsage{Model: s.Tool, InputTokens: int64(s.Usage.InputTokens), OutputTokens: int64(s.Usage.OutputTokens), CostUSD: s.CostUSD}
	}
	return j.store.SaveChatAgentStep(ctx, storage.ChatAgentStep{TurnID: j.turnID, OrgID: j.orgID, Seq: s.Seq, Kind: s.Kind, Tool: s.Tool,
		Input: storage.RawJSON(s.Input), Output: storage.RawJSON(s.Output), StartedAt: s.StartedAt, FinishedAt: s.FinishedAt}, usage)
}

// daily is the org's LLM spend today, which chat shares with
// investigations (LLM_DAILY_BUDGET_USD).
type daily struct {
	store *storage.Store
	orgID string
}

func (d daily) SpentTodayUSD(ctx context.Context) (float64, error) {
	u, err := d.store.DailyLLMUsage(ctx, d.orgID, time.Now())
	return u.CostUSD, err
}

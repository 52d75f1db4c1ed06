// Package investigate runs investigations: an ordered list of steps, each
// persisted with its input and output (the evidence a report cites) before
// the next starts, so a retried job resumes after its last finished step.
package investigate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/agent"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// Event type published when an investigation changes.
const EventInvestigationUpdated = "investigation.updated"

// Verdicts of a report.
const (
	VerdictConfirmed    = "CONFIRMED"
	VerdictLikely       = "LIKELY"
	VerdictInconclusive = "INCONCLUSIVE"
)

// Report is the structured result of an investigation.
type Report struct {
	// Version of the report schema.
	Version    int          `json:"version"`
	Verdict    string       `json:"verdict"`
	Confidence float64      `json:"confidence"`
	Summary    string       `json:"summary"`
	RootCause  *RootCause   `json:"root_cause"`
	Findings   []Finding    `json:"findings"`
	Evidence   []Citation   `json:"evidence"`
	Timeline   []TimePoint  `json:"timeline"`
	Impact     string       `json:"impact"`
	RuledOut   []string     `json:"ruled_out"`
	NotChecked []NotChecked `json:"not_checked"`
	NextSteps  []NextStep   `json:"next_steps"`
	// Model is the language model whose analysis the report holds (empty
	// for a deterministic report).
	Model string `json:"model,omitempty"`
	// LLM says what the model did, when one is configured; absent without.
	LLM *LLMReport `json:"llm,omitempty"`
}

// RootCause names what broke. Nil until evidence shows one.
type RootCause struct {
	// Category is one of the closed list in docs/root-cause-categories.md.
	Category string `json:"category"`
	// Object is kind/namespace/name (kind/name when cluster-scoped).
	Object string `json:"object"`
	// Summary says what is wrong and why, naming the culprit.
	Summary string `json:"summary"`
}

// Finding is one claim with the evidence [n] that supports it.
type Finding struct {
	Text      string `json:"text"`
	Citations []int  `json:"citations"`
}

// Citation [n] points at a step.
type Citation struct {
	N       int    `json:"n"`
	StepSeq int    `json:"step_seq"`
	Tool    string `json:"tool"`
	Summary string `json:"summary"`
}

// TimePoint is an entry of the report's timeline.
type TimePoint struct {
	At    time.Time `json:"at"`
	Event string    `json:"event"`
}

// NotChecked names an evidence source the investigation could not use.
type NotChecked struct {
	Source string `json:"source"`
	Reason string `json:"reason"`
}

// NextStep is a suggested action. Risk is safe (read-only), low, medium
// or high.
type NextStep struct {
	Title   string `json:"title"`
	Command string `json:"command,omitempty"`
	Risk    string `json:"risk"`
	Undo    string `json:"undo,omitempty"`
}

// ReportVersion is the current report schema version.
const ReportVersion = 1

// Sources Aurora can gather evidence from once configured (later features);
// until then a report lists them as not checked.
var Sources = []NotChecked{
	{"kubernetes", "no Kubernetes cluster is configured"},
	{"prometheus", "no Prometheus is configured"},
	{"logs", "no log source is configured"},
	{"recent_changes", "no deployment or change source is configured"},
	{"knowledge_base", "no runbooks or documents are indexed"},
	{"past_incidents", "past-incident search is not available yet"},
	{"web_search", "web search is not configured"},
	{"llm", "no language model is configured; deterministic analysis only"},
}

// Runner executes investigations.
type Runner struct {
	Store *storage.Store
	// Notify wakes live-event listeners after a commit that wrote events.
	Notify func(orgID string)
	Now    func() time.Time
	Log    *slog.Logger
	// StepDelay pauses before each step; a debugging aid that makes a
	// running investigation observable (and killable) in tests.
	StepDelay time.Duration
	// Tools are the configured toolsets' tools (nil: none configured).
	Tools *toolset.Registry
	// ToolsFor, when set, gives the tools of one org (its own toolset
	// settings win over the environment) and the evidence sources it cannot
	// check, which the report lists as not checked. It is asked once at the
	// start of each attempt; nil means Tools for every org and the sources
	// not checked are derived from which toolsets the plan used.
	ToolsFor func(ctx context.Context, orgID string) (*toolset.Registry, []NotChecked, error)
	// Agent, when set, runs after the deterministic steps and writes the
	// report with them (nil: the deterministic report alone).
	Agent *agent.Agent
}

// step is one unit of an investigation's plan.
type step struct {
	kind, tool string
	input      map[string]any
	run        func(ctx context.Context, st *state) (any, error)
}

// state carries what steps learn to later steps.
type state struct {
	inv     storage.Investigation
	inc     storage.Incident
	outputs map[int]json.RawMessage
	plan    []step
	alerts  []storage.Alert
	// tools are this attempt's tools; notChecked, when not nil, is what
	// ToolsFor said cannot be checked.
	tools      *toolset.Registry
	notChecked []NotChecked
}

// plan lists the steps: the alert context, the evidence the configured
// tools can give about what the alerts name, then the report. It depends
// only on the incident's alerts and the tools, so a resumed attempt plans
// the same steps.
func (r *Runner) plan(alerts []storage.Alert, tools *toolset.Registry) []step {
	steps := []step{{kind: "context", tool: "aurora.alert_context", run: r.alertContext}}
	for _, call := range evidencePlan(alerts, tools) {
		steps = append(steps, step{kind: "evidence", tool: call.tool, input: call.args, run: r.evidence(tools, call)})
	}
	return append(steps, step{kind: "report", tool: "aurora.report", run: r.report})
}

// ErrFinished is returned when the investigation is already in a final state.
var ErrFinished = errors.New("investigation already finished")

// Run executes (or resumes) an investigation. final says whether this is
// the last attempt the queue will make, so a failure is recorded as final.
func (r *Runner) Run(ctx context.Context, orgID, id string, final bool) error {
	inv, err := r.Store.GetInvestigation(ctx, orgID, id)
	if err != nil {
		return fmt.Errorf("load investigation %s: %w", id, err)
	}
	switch inv.Status {
	case storage.InvestigationCompleted, storage.InvestigationFailed, storage.InvestigationCancelled:
		return ErrFinished
	}
	inc, err := r.Store.GetIncident(ctx, orgID, inv.IncidentID)
	if err != nil {
		return fmt.Errorf("load incident: %w", err)
	}
	if err := r.setStatus(ctx, &inv, storage.InvestigationRunning, ""); err != nil {
		return err
	}
	alerts, err := r.Store.IncidentAlerts(ctx, orgID, inc.ID)
	if err != nil {
		return fmt.Errorf("load alerts: %w", err)
	}
	tools, notChecked := r.Tools, []NotChecked(nil)
	if r.ToolsFor != nil {
		if tools, notChecked, err = r.ToolsFor(ctx, orgID); err != nil {
			return fmt.Errorf("load the org's tools: %w", err)
		}
		if notChecked == nil {
			notChecked = []NotChecked{}
		}
	}
	plan := r.plan(alerts, tools)
	st := &state{inv: inv, inc: inc, outputs: map[int]json.RawMessage{}, plan: plan, alerts: alerts, tools: tools, notChecked: notChecked}
	done := map[int]storage.Step{}
	for _, s := range inv.Steps {
		if s.Status == storage.StepCompleted {
			done[s.Seq] = s
		}
	}
	n := len(plan) - 1 // the steps before the report
	for i, p := range plan[:n] {
		seq := i + 1
		// Resumed: a step that finished in an earlier attempt is not run
		// again, unless the org's tools changed since and planned another
		// call at its place.
		if prev, ok := done[seq]; ok && prev.Tool == p.tool {
			st.outputs[seq] = json.RawMessage(prev.Output)
			continue
		}
		if err := r.delay(ctx); err != nil {
			return err
		}
		if err := r.runStep(ctx, st, seq, p); err != nil {
			if final {
				_ = r.setStatus(context.WithoutCancel(ctx), &st.inv, storage.InvestigationFailed, err.Error())
			}
			return err
		}
	}
	// The report step comes last: right after the plan, or after the
	// agent's steps. One already stored ends the investigation as it was.
	for _, s := range inv.Steps {
		if s.Kind == "report" && s.Status == storage.StepCompleted && s.Seq > n {
			st.inv.Report = storage.RawJSON(s.Output)
			return r.setStatus(ctx, &st.inv, storage.InvestigationCompleted, "")
		}
	}
	reportSeq := n + 1
	reportStep := plan[n]
	if r.Agent != nil {
		detOut, err := r.report(ctx, st)
		if err != nil {
			return r.fail(ctx, st, final, fmt.Errorf("deterministic report: %w", err))
		}
		det := detOut.(Report)
		// The last attempt keeps time to store the deterministic report
		// should the agent not finish within the job's timeout.
		actx := ctx
		if dl, ok := ctx.Deadline(); ok && final {
			var cancel context.CancelFunc
			actx, cancel = context.WithDeadline(ctx, dl.Add(-min(30*time.Second, time.Until(dl)/5)))
			defer cancel()
		}
		rep, next, err := r.runAgent(actx, st, det, n)
		if err != nil {
			if ctx.Err() != nil || !final {
				return err
			}
			// The last attempt: the deterministic report, saying why.
			reason := err.Error()
			if actx.Err() != nil {
				reason = "the investigation's last attempt ran out of time (AURORA_JOB_TIMEOUT) before the model finished"
			}
			rep = merge(det, &agent.Result{Status: agent.StatusFailed, Reason: reason, Model: r.Agent.ModelRef()})
			if next, err = r.nextSeq(ctx, st, reportSeq); err != nil {
				return r.fail(ctx, st, final, err)
			}
		}
		reportSeq = next
		reportStep.run = func(context.Context, *state) (any, error) { return rep, nil }
	}
	if err := r.delay(ctx); err != nil {
		return err
	}
	if err := r.runStep(ctx, st, reportSeq, reportStep); err != nil {
		return r.fail(ctx, st, final, err)
	}
	var rep Report
	if err := json.Unmarshal(st.outputs[reportSeq], &rep); err != nil {
		return fmt.Errorf("decode report: %w", err)
	}
	st.inv.Report, _ = json.Marshal(rep)
	return r.setStatus(ctx, &st.inv, storage.InvestigationCompleted, "")
}

// nextSeq is the first step number after every stored step (at least
// from): the agent's steps of this attempt included.
func (r *Runner) nextSeq(ctx context.Context, st *state, from int) (int, error) {
	v, err := r.Store.GetInvestigation(ctx, st.inv.OrgID, st.inv.ID)
	if err != nil {
		return 0, fmt.Errorf("load steps: %w", err)
	}
	for _, s := range v.Steps {
		from = max(from, s.Seq+1)
	}
	return from, nil
}

// delay waits StepDelay (a debugging aid) before a step.
func (r *Runner) delay(ctx context.Context) error {
	if r.StepDelay <= 0 {
		return nil
	}
	select {
	case <-time.After(r.StepDelay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fail records a failure as final on the last attempt and returns it.
func (r *Runner) fail(ctx context.Context, st *state, final bool, err error) error {
	if final {
		_ = r.setStatus(context.WithoutCancel(ctx), &st.inv, storage.InvestigationFailed, err.Error())
	}
	return err
}

func (r *Runner) runStep(ctx context.Context, st *state, seq int, p step) error {
	started := r.Now().UTC()
	input := storage.RawJSON(`{"incident_id":"` + st.inc.ID + `"}`)
	if p.input != nil {
		input, _ = json.Marshal(p.input)
	}
	rec := storage.Step{InvestigationID: st.inv.ID, Seq: seq, Kind: p.kind, Tool: p.tool, Input: input,
		Status: storage.StepRunning, StartedAt: started}
	if err := r.saveStep(ctx, st, &rec, nil); err != nil {
		return err
	}
	out, runErr := p.run(ctx, st)
	fin := r.Now().UTC()
	rec.FinishedAt = &fin
	if runErr != nil {
		rec.Status, rec.Error = storage.StepFailed, runErr.Error()
		_ = r.saveStep(context.WithoutCancel(ctx), st, &rec, nil)
		return fmt.Errorf("step %d %s: %w", seq, p.tool, runErr)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode step %d output: %w", seq, err)
	}
	rec.Output, rec.Status = b, storage.StepCompleted
	if err := r.saveStep(ctx, st, &rec, nil); err != nil {
		return err
	}
	st.outputs[seq] = b
	return nil
}

// saveStep writes a step and its event; also, when set, runs in the same
// transaction (a model step's usage, counted exactly once).
func (r *Runner) saveStep(ctx context.Context, st *state, rec *storage.Step, also func(*storage.Tx) error) error {
	wrote, err := r.Store.InTx(ctx, func(tx *storage.Tx) error {
		if err := tx.UpsertStep(ctx, st.inv.OrgID, rec); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		err := tx.InsertEvent(ctx, st.inv.OrgID, EventInvestigationUpdated, map[string]any{
			"id": st.inv.ID, "incident_id": st.inv.IncidentID, "status": st.inv.Status, "step": rec})
		return err
	})
	if err == nil && wrote && r.Notify != nil {
		r.Notify(st.inv.OrgID)
	}
	return err
}

func (r *Runner) setStatus(ctx context.Context, v *storage.Investigation, status, msg string) error {
	now := r.Now().UTC()
	wrote, err := r.Store.InTx(ctx, func(tx *storage.Tx) error {
		if err := tx.SetInvestigationStatus(ctx, v, status, msg, now); err != nil {
			return err
		}
		if status != storage.InvestigationRunning || v.Attempts == 1 {
			kind := "investigation_" + status
			text := "Investigation " + status
			if msg != "" {
				text += ": " + msg
			}
			if err := tx.InsertTimeline(ctx, v.OrgID, v.IncidentID, kind, text, map[string]any{"investigation_id": v.ID}, now); err != nil {
				return err
			}
		}
		ev := *v
		ev.Steps = nil
		err := tx.InsertEvent(ctx, v.OrgID, EventInvestigationUpdated, ev)
		return err
	})
	if err == nil && wrote && r.Notify != nil {
		r.Notify(v.OrgID)
	}
	return err
}

// AlertContext is the output of the alert-context step.
type AlertContext struct {
	Incident struct {
		ID        string    `json:"id"`
		Title     string    `json:"title"`
		Severity  string    `json:"severity"`
		Status    string    `json:"status"`
		Service   string    `json:"service"`
		Namespace string    `json:"namespace"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"incident"`
	FiringSince   time.Time      `json:"firing_since"`
	Alerts        []AlertSummary `json:"alerts"`
	Where         map[string]any `json:"where"`
	RelatedAlerts []AlertSummary `json:"related_alerts"`
	Runbooks      []string       `json:"runbooks"`
	Links         []string       `json:"links"`
}

// AlertSummary is one alert as the context step reports it.
type AlertSummary struct {
	ID          string            `json:"id"`
	Source      string            `json:"source"`
	Name        string            `json:"name"`
	Title       string            `json:"title"`
	Description string            `json:"description,omitempty"`
	Status      string            `json:"status"`
	Severity    string            `json:"severity"`
	StartsAt    time.Time         `json:"starts_at"`
	Labels      map[string]string `json:"labels,omitempty"`
	IncidentID  string            `json:"incident_id,omitempty"`
}

func summarize(a storage.Alert, withLabels bool) AlertSummary {
	s := AlertSummary{ID: a.ID, Source: a.Source, Name: a.Name, Title: a.Title, Description: a.Description, Status: a.Status, Severity: a.Severity, StartsAt: a.StartsAt, IncidentID: a.IncidentID}
	if withLabels {
		s.Labels = a.Labels
	}
	return s
}

// whereLabels are labels that locate an alert in the infrastructure.
var whereLabels = []string{"cluster", "region", "zone", "environment", "env", "namespace", "service", "job", "instance", "pod", "node", "container", "deployment", "host"}

func (r *Runner) alertContext(ctx context.Context, st *state) (any, error) {
	alerts, err := r.Store.IncidentAlerts(ctx, st.inc.OrgID, st.inc.ID)
	if err != nil {
		return nil, err
	}
	var out AlertContext
	out.Incident.ID, out.Incident.Title, out.Incident.Severity, out.Incident.Status = st.inc.ID, st.inc.Title, st.inc.Severity, st.inc.Status
	out.Incident.Service, out.Incident.Namespace, out.Incident.CreatedAt = st.inc.Service, st.inc.Namespace, st.inc.CreatedAt
	out.Where = map[string]any{}
	runbooks, links := map[string]bool{}, map[string]bool{}
	for _, a := range alerts {
		out.Alerts = append(out.Alerts, summarize(a, true))
		if out.FiringSince.IsZero() || a.StartsAt.Before(out.FiringSince) {
			out.FiringSince = a.StartsAt
		}
		for _, k := range whereLabels {
			if v := a.Labels[k]; v != "" {
				vals, _ := out.Where[k].([]string)
				if !contains(vals, v) {
					out.Where[k] = append(vals, v)
				}
			}
		}
		for _, k := range []string{"runbook_url", "runbook"} {
			if v := a.Annotations[k]; v != "" {
				runbooks[v] = true
			}
		}
		for _, l := range a.Links {
			if strings.Contains(strings.ToLower(l.Text), "runbook") {
				runbooks[l.URL] = true
			} else {
				links[l.URL] = true
			}
		}
	}
	related, err := r.Store.RelatedAlerts(ctx, st.inc.OrgID, st.inc.ID, st.inc.Service, st.inc.Namespace, r.Now().Add(-24*time.Hour), 20)
	if err != nil {
		return nil, err
	}
	out.RelatedAlerts = []AlertSummary{}
	for _, a := range related {
		out.RelatedAlerts = append(out.RelatedAlerts, summarize(a, false))
	}
	out.Runbooks, out.Links = slices.Sorted(maps.Keys(runbooks)), slices.Sorted(maps.Keys(links))
	if out.Alerts == nil {
		out.Alerts = []AlertSummary{}
	}
	return out, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// report writes the honest first-stage report: what fired, where and since
// when, and what was not checked. It claims no root cause: nothing here is
// evidence of one.
func (r *Runner) report(ctx context.Context, st *state) (any, error) {
	if rep, ok := r.evidenceReport(st); ok {
		return rep, nil
	}
	var c AlertContext
	if err := json.Unmarshal(st.outputs[1], &c); err != nil {
		return nil, fmt.Errorf("decode alert context: %w", err)
	}
	firing := 0
	names := map[string]bool{}
	for _, a := range c.Alerts {
		if a.Status == "firing" {
			firing++
		}
		names[a.Name] = true
	}
	where := []string{}
	for _, k := range []string{"cluster", "namespace", "service", "instance", "pod", "node"} {
		if v, ok := c.Where[k]; ok {
			where = append(where, fmt.Sprintf("%s=%s", k, strings.Join(toStrings(v), ",")))
		}
	}
	summary := fmt.Sprintf("%d alert(s) (%s), %d still firing, since %s", len(c.Alerts), strings.Join(slices.Sorted(maps.Keys(names)), ", "), firing, c.FiringSince.Format(time.RFC3339))
	if len(where) > 0 {
		summary += "; where: " + strings.Join(where, "; ")
	}
	summary += ". No evidence source beyond the alerts is configured, so no root cause is claimed."
	rep := Report{
		Version:    ReportVersion,
		Verdict:    VerdictInconclusive,
		Summary:    summary,
		Findings:   []Finding{{Text: fmt.Sprintf("%s fired with severity %s", c.Incident.Title, c.Incident.Severity), Citations: []int{1}}},
		Evidence:   []Citation{{N: 1, StepSeq: 1, Tool: "aurora.alert_context", Summary: fmt.Sprintf("%d alert(s) of the incident, %d related alert(s) in the last 24h", len(c.Alerts), len(c.RelatedAlerts))}},
		Timeline:   []TimePoint{},
		RuledOut:   []string{},
		NotChecked: Sources,
		NextSteps:  []NextStep{},
	}
	if st.notChecked != nil {
		rep.NotChecked = withLLM(st.notChecked)
	}
	for _, a := range c.Alerts {
		rep.Timeline = append(rep.Timeline, TimePoint{At: a.StartsAt, Event: fmt.Sprintf("%s started firing (%s)", a.Title, a.Source)})
	}
	sort.SliceStable(rep.Timeline, func(i, j int) bool { return rep.Timeline[i].At.Before(rep.Timeline[j].At) })
	if len(c.RelatedAlerts) > 0 {
		rep.Findings = append(rep.Findings, Finding{Text: fmt.Sprintf("%d other alert(s) on the same service or namespace in the last 24h", len(c.RelatedAlerts)), Citations: []int{1}})
	}
	if c.Incident.Service != "" {
		rep.Impact = "Service " + c.Incident.Service + " is alerting; impact beyond the alert is not measured."
	} else {
		rep.Impact = "Impact is not measured: no evidence source beyond the alert is configured."
	}
	for _, rb := range c.Runbooks {
		rep.NextSteps = append(rep.NextSteps, NextStep{Title: "Follow the runbook: " + rb, Risk: "safe"})
	}
	rep.NextSteps = append(rep.NextSteps, NextStep{Title: "Connect Kubernetes and Prometheus so the investigator can gather evidence", Risk: "safe"})
	return rep, nil
}

func toStrings(v any) []string {
	switch t := v.(type) {
	case []string:
		return t
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

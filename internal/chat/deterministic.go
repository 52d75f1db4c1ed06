package chat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/storage"
)

// NoModelNote ends every answer of the deterministic engine.
const NoModelNote = "(No language model is configured: this answer comes from Aurora's deterministic investigator and stored reports.)"

// Deterministic answers without a language model, from stored reports and
// evidence and by running investigations (see docs/chat-protocol.md).
type Deterministic struct {
	Store        *storage.Store
	Incidents    *incident.Service
	Investigator *investigate.Runner
	// Poll is how often a running investigation's steps are read to stream
	// them (default 200ms).
	Poll time.Duration
}

// maxEvidenceChars bounds evidence quoted in one answer.
const maxEvidenceChars = 6000

// Run implements Engine.
func (d *Deterministic) Run(ctx context.Context, t Turn, e Emitter) error {
	if err := e.Status(ctx, storage.ChatRunning, "no language model is configured: answering with the deterministic investigator"); err != nil {
		return err
	}
	if status := statusIntent(t.Text); status != "" {
		return d.changeStatus(ctx, t, e, status)
	}
	if tg, ok := parseTarget(t.Text); ok {
		return d.investigateTarget(ctx, t, e, tg)
	}
	if t.IncidentID != "" {
		return d.incidentAnswer(ctx, t, e)
	}
	return d.help(ctx, t, e)
}

// answer streams text as deltas (a paragraph each) and sends it whole.
func answer(ctx context.Context, e Emitter, text string, cites []Citation) error {
	text = strings.TrimSpace(text) + "\n\n" + NoModelNote
	parts := strings.SplitAfter(text, "\n\n")
	for _, p := range parts {
		if p == "" {
			continue
		}
		if err := e.Delta(ctx, p); err != nil {
			return err
		}
	}
	if err := e.Usage(ctx, 0, 0); err != nil {
		return err
	}
	return e.Message(ctx, text, cites)
}

var (
	reStatus = regexp.MustCompile(`(?i)^\s*(?:please\s+)?(acknowledge|ack|resolve|reopen)\b|\bmark\s+(?:it|this|the incident|incident\s+\S+)\s+(?:as\s+)?(acknowledged|resolved|open)\b`)
	reUUID   = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// statusIntent recognises a request to change the incident's status:
// "acknowledge / resolve / reopen …" or "mark it as resolved".
func statusIntent(text string) string {
	m := reStatus.FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	switch strings.ToLower(m[1] + m[2]) {
	case "reopen", "open":
		return storage.IncidentOpen
	case "acknowledge", "ack", "acknowledged":
		return storage.IncidentAcknowledged
	default:
		return storage.IncidentResolved
	}
}

func (d *Deterministic) changeStatus(ctx context.Context, t Turn, e Emitter, status string) error {
	id := t.IncidentID
	if m := reUUID.FindString(strings.ToLower(t.Text)); m != "" {
		id = m
	}
	if id == "" {
		return answer(ctx, e, "Which incident? Ask from an incident's chat, or name the incident's id.", nil)
	}
	if t.Mode != ModeAgent {
		return answer(ctx, e, fmt.Sprintf("Changing an incident is a write, and this chat is in ask mode, which is read-only. Switch to agent mode to have me propose setting incident %s to %s (an editor or admin confirms it).", id, status), nil)
	}
	tool := &incidentStatusTool{orgID: t.OrgID, actor: t.UserID + " (chat)", svc: d.Incidents}
	args := map[string]any{"incident_id": id, "status": status}
	if err := e.ToolCall(ctx, "w1", tool.Name(), args); err != nil {
		return err
	}
	p, err := tool.Propose(ctx, args)
	if err != nil {
		if err := e.ToolResult(ctx, "w1", "error", err.Error()); err != nil {
			return err
		}
		return answer(ctx, e, "I cannot propose that: "+err.Error(), nil)
	}
	outcome, err := e.Confirm(ctx, tool.Name(), args, p)
	if err != nil {
		return err
	}
	var msg string
	switch outcome.Status {
	case storage.ConfirmYes:
		res, err := tool.Call(ctx, args)
		if err != nil {
			if err := e.ToolResult(ctx, "w1", "error", err.Error()); err != nil {
				return err
			}
			msg = "The change was approved but failed: " + err.Error()
		} else {
			if err := e.ToolResult(ctx, "w1", "ok", res.Output); err != nil {
				return err
			}
			msg = "Done (approved by " + outcome.By + "): " + res.Output + ". To undo: " + p.Undo
		}
	case storage.ConfirmNo:
		if err := e.ToolResult(ctx, "w1", "declined", "declined by a human; nothing was changed"); err != nil {
			return err
		}
		msg = "Not done: the change was declined, so nothing was changed."
	default:
		if err := e.ToolResult(ctx, "w1", "timed_out", "no answer in time; counted as no"); err != nil {
			return err
		}
		msg = "Not done: nobody confirmed the change in time, which counts as no."
	}
	return answer(ctx, e, msg, nil)
}

// target is what "what is wrong with X" names.
type target struct {
	Kind, Namespace, Name string
}

func (tg target) String() string {
	s := tg.Name
	if tg.Kind != "" {
		s = tg.Kind + " " + s
	}
	if tg.Namespace != "" {
		s += " in namespace " + tg.Namespace
	}
	return s
}

var reTarget = regexp.MustCompile(`(?i)(?:what(?:'s|’s| is) (?:wrong|going on|happening) with|why is|investigate|diagnose)\s+(?:the\s+)?(?:(pod|deployment|deploy|statefulset|daemonset|job|node|service|svc)[\s/]+)?([a-z0-9][a-z0-9._-]*(?:/[a-z0-9][a-z0-9._-]*)?)(?:\s+(?:in|on)\s+(?:the\s+)?(?:namespace\s+|ns\s+)?([a-z0-9][a-z0-9-]*))?`)

// parseTarget finds "what is wrong with [kind] [ns/]name [in namespace ns]".
func parseTarget(text string) (target, bool) {
	m := reTarget.FindStringSubmatch(text)
	if m == nil {
		return target{}, false
	}
	tg := target{Kind: strings.ToLower(m[1]), Name: strings.ToLower(m[2]), Namespace: strings.ToLower(m[3])}
	switch tg.Kind {
	case "deploy":
		tg.Kind = "deployment"
	case "svc":
		tg.Kind = "service"
	}
	if ns, name, ok := strings.Cut(tg.Name, "/"); ok {
		tg.Namespace, tg.Name = ns, name
	}
	tg.Name = strings.TrimRight(tg.Name, ".")
	switch tg.Name {
	case "it", "this", "that", "the", "my", "our":
		return target{}, false
	}
	return tg, true
}

// labels turn a target into the labels an alert about it would carry, so
// the investigation plans the same evidence as for such an alert. Without
// a kind the name is taken as a service and, with a namespace, also as a
// deployment (what most services run as).
func (tg target) labels() map[string]string {
	l := map[string]string{"alertname": "ChatQuestion"}
	if tg.Namespace != "" {
		l["namespace"] = tg.Namespace
	}
	switch tg.Kind {
	case "":
		l["service"] = tg.Name
		if tg.Namespace != "" {
			l["deployment"] = tg.Name
		}
	case "service":
		l["service"] = tg.Name
	default:
		l[tg.Kind] = tg.Name
	}
	return l
}

func (d *Deterministic) investigateTarget(ctx context.Context, t Turn, e Emitter, tg target) error {
	inv, err := d.chatInvestigation(ctx, t, tg)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { errc <- d.Investigator.Run(rctx, t.OrgID, inv.ID, t.Final) }()
	st := &stepStream{}
	poll := d.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var runErr error
	for running := true; running; {
		select {
		case runErr = <-errc:
			running = false
		case <-ctx.Done():
			cancel()
			<-errc
			return context.Cause(ctx)
		case <-tick.C:
		}
		cur, err := d.Store.GetInvestigation(ctx, t.OrgID, inv.ID)
		if err != nil {
			return err
		}
		if err := st.emit(ctx, e, cur.Steps); err != nil {
			return err
		}
	}
	if runErr != nil && !errors.Is(runErr, investigate.ErrFinished) {
		return fmt.Errorf("investigate %s: %w", tg, runErr)
	}
	done, err := d.Store.GetInvestigation(ctx, t.OrgID, inv.ID)
	if err != nil {
		return err
	}
	var rep investigate.Report
	if err := json.Unmarshal(done.Report, &rep); err != nil {
		return fmt.Errorf("read report: %w", err)
	}
	text, cites := reportText(rep, done.ID)
	return answer(ctx, e, fmt.Sprintf("I investigated %s (incident %s, investigation %s).\n\n%s", tg, done.IncidentID, done.ID, text), cites)
}

// chatInvestigation returns the turn's investigation, creating it (and the
// question's alert and incident) on the first attempt. The alert's
// fingerprint and the investigation's trigger name the turn, so a retried
// turn finds both instead of making twins.
func (d *Deterministic) chatInvestigation(ctx context.Context, t Turn, tg target) (storage.Investigation, error) {
	sum := sha256.Sum256([]byte(t.TurnID))
	a := alert.Alert{Source: "chat", Fingerprint: "chat:" + hex.EncodeToString(sum[:8]), Status: alert.StatusFiring, Severity: alert.SeverityUnknown,
		Name: "ChatQuestion", Title: "Chat: what is wrong with " + tg.String() + "?", Namespace: tg.Namespace, Labels: tg.labels(), StartsAt: time.Now().UTC()}
	if tg.Kind == "" || tg.Kind == "service" {
		a.Service = tg.Name
	}
	raw, _ := json.Marshal(a)
	res, err := d.Incidents.Ingest(ctx, incident.Request{OrgID: t.OrgID, Source: "chat", ContentType: "application/json", Body: raw,
		Alerts: []alert.Alert{a}, Policy: &incident.Policy{Severities: map[alert.Severity]bool{}}})
	if err != nil {
		return storage.Investigation{}, fmt.Errorf("record the question: %w", err)
	}
	if len(res.IncidentIDs) == 0 {
		return storage.Investigation{}, errors.New("the question's alert belongs to no incident")
	}
	incID := res.IncidentIDs[0]
	trigger := "chat:" + t.TurnID
	list, err := d.Store.IncidentInvestigations(ctx, t.OrgID, incID)
	if err != nil {
		return storage.Investigation{}, err
	}
	for _, v := range list {
		if v.Trigger == trigger {
			return v, nil
		}
	}
	var v storage.Investigation
	wrote, err := d.Store.InTx(ctx, func(tx *storage.Tx) error {
		inc, err := tx.IncidentForUpdate(ctx, t.OrgID, incID)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		if v, err = tx.InsertInvestigation(ctx, t.OrgID, incID, trigger, now, nil); err != nil {
			return err
		}
		inc.Investigation = &storage.InvestigationRef{ID: v.ID, Status: v.Status}
		inc.UpdatedAt = now
		if err := tx.SaveIncident(ctx, inc); err != nil {
			return err
		}
		return tx.InsertEvent(ctx, t.OrgID, incident.EventIncidentUpdated, inc)
	})
	if err == nil && wrote && d.Incidents.Notify != nil {
		d.Incidents.Notify(t.OrgID)
	}
	return v, err
}

// stepStream turns an investigation's persisted steps into tool_call and
// tool_result frames, each once and in step order. Steps run one after
// another, so this order is the same however often the steps are read.
type stepStream struct {
	called, resulted map[int]bool
}

func (s *stepStream) emit(ctx context.Context, e Emitter, steps []storage.Step) error {
	if s.called == nil {
		s.called, s.resulted = map[int]bool{}, map[int]bool{}
	}
	slices.SortFunc(steps, func(a, b storage.Step) int { return a.Seq - b.Seq })
	for _, st := range steps {
		id := "s" + strconv.Itoa(st.Seq)
		if !s.called[st.Seq] {
			s.called[st.Seq] = true
			var args any = json.RawMessage(st.Input)
			if len(st.Input) == 0 {
				args = map[string]any{}
			}
			if err := e.ToolCall(ctx, id, st.Tool, args); err != nil {
				return err
			}
		}
		if s.resulted[st.Seq] || (st.Status != storage.StepCompleted && st.Status != storage.StepFailed) {
			continue
		}
		s.resulted[st.Seq] = true
		status, summary := "ok", stepSummary(st)
		if st.Status == storage.StepFailed {
			status, summary = "error", st.Error
		}
		if err := e.ToolResult(ctx, id, status, summary); err != nil {
			return err
		}
	}
	return nil
}

// stepSummary is one line about a step's output.
func stepSummary(st storage.Step) string {
	switch st.Kind {
	case "report":
		var rep investigate.Report
		if json.Unmarshal(st.Output, &rep) == nil {
			return rep.Verdict + ": " + firstLine(rep.Summary)
		}
	case "context":
		var c investigate.AlertContext
		if json.Unmarshal(st.Output, &c) == nil {
			return fmt.Sprintf("%d alert(s); %d related", len(c.Alerts), len(c.RelatedAlerts))
		}
	default:
		var out investigate.EvidenceOutput
		if json.Unmarshal(st.Output, &out) == nil {
			if out.Error != "" {
				return "no data: " + firstLine(out.Error)
			}
			return fmt.Sprintf("%d lines: %s", strings.Count(out.Text, "\n")+1, firstLine(out.Text))
		}
	}
	return st.Status
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if r := []rune(s); len(r) > 160 {
		s = string(r[:160]) + "…"
	}
	return s
}

// reportText renders a report for chat, with its evidence as citations.
func reportText(rep investigate.Report, invID string) (string, []Citation) {
	var b strings.Builder
	fmt.Fprintf(&b, "Verdict: %s (confidence %.2f). %s", rep.Verdict, rep.Confidence, rep.Summary)
	if rc := rep.RootCause; rc != nil {
		fmt.Fprintf(&b, "\n\nRoot cause (%s, %s): %s", rc.Category, rc.Object, rc.Summary)
	}
	if len(rep.Findings) > 0 {
		b.WriteString("\n\nFindings:")
		for _, f := range rep.Findings {
			b.WriteString("\n- " + f.Text)
			for _, n := range f.Citations {
				fmt.Fprintf(&b, " [%d]", n)
			}
		}
	}
	if len(rep.NextSteps) > 0 {
		b.WriteString("\n\nNext steps:")
		for _, s := range rep.NextSteps {
			b.WriteString("\n- " + s.Title)
			if s.Command != "" {
				fmt.Fprintf(&b, " — `%s` (risk %s)", s.Command, s.Risk)
			}
		}
	}
	if len(rep.NotChecked) > 0 {
		b.WriteString("\n\nNot checked:")
		for _, n := range rep.NotChecked {
			fmt.Fprintf(&b, "\n- %s: %s", n.Source, n.Reason)
		}
	}
	cites := make([]Citation, 0, len(rep.Evidence))
	for _, c := range rep.Evidence {
		cites = append(cites, Citation{N: c.N, Tool: c.Tool, Summary: c.Summary, InvestigationID: invID, StepSeq: c.StepSeq})
	}
	return b.String(), cites
}

func (d *Deterministic) incidentAnswer(ctx context.Context, t Turn, e Emitter) error {
	inc, err := d.Store.GetIncident(ctx, t.OrgID, t.IncidentID)
	if errors.Is(err, storage.ErrNotFound) {
		return answer(ctx, e, "This session's incident no longer exists.", nil)
	}
	if err != nil {
		return err
	}
	if inc.Investigation == nil {
		return answer(ctx, e, fmt.Sprintf("Incident %q (%s, %s) has no investigation yet. An editor can start one with POST /api/v1/incidents/%s/investigations.", inc.Title, inc.Severity, inc.Status, inc.ID), nil)
	}
	if err := e.ToolCall(ctx, "t1", "aurora.report", map[string]any{"incident_id": inc.ID, "investigation_id": inc.Investigation.ID}); err != nil {
		return err
	}
	inv, err := d.Store.GetInvestigation(ctx, t.OrgID, inc.Investigation.ID)
	if err != nil {
		return err
	}
	if inv.Status != storage.InvestigationCompleted || len(inv.Report) == 0 {
		if err := e.ToolResult(ctx, "t1", "ok", "investigation "+inv.Status); err != nil {
			return err
		}
		return answer(ctx, e, fmt.Sprintf("The investigation of %q is %s (%d step(s) so far); ask again when it has finished.", inc.Title, inv.Status, len(inv.Steps)), nil)
	}
	var rep investigate.Report
	if err := json.Unmarshal(inv.Report, &rep); err != nil {
		return fmt.Errorf("read report: %w", err)
	}
	if err := e.ToolResult(ctx, "t1", "ok", rep.Verdict+": "+firstLine(rep.Summary)); err != nil {
		return err
	}
	if kind := evidenceIntent(t.Text); kind != "" {
		return d.evidenceAnswer(ctx, t, e, inv, rep, kind)
	}
	text, cites := reportText(rep, inv.ID)
	return answer(ctx, e, fmt.Sprintf("About incident %q (%s, %s):\n\n%s", inc.Title, inc.Severity, inc.Status, text), cites)
}

var reCite = regexp.MustCompile(`\[(\d+)\]|(?i)\b(?:evidence|step|citation)\s+#?(\d+)`)

// evidenceIntent says which evidence the question asks to see: a tool
// name, or "#n" for a cited step.
func evidenceIntent(text string) string {
	if m := reCite.FindStringSubmatch(text); m != nil {
		return "#" + m[1] + m[2]
	}
	low := strings.ToLower(text)
	switch {
	case strings.Contains(low, "log"):
		return "kubernetes.logs"
	case strings.Contains(low, "event"):
		return "kubernetes.events"
	case strings.Contains(low, "describe") || strings.Contains(low, "description"):
		return "kubernetes.describe"
	case strings.Contains(low, "alerts") && strings.Contains(low, "prometheus"):
		return "prometheus.alerts"
	}
	return ""
}

// evidenceAnswer shows a stored evidence step: the one cited as #n, or the
// best match of the tool asked for — preferring steps the report cites and
// the pod or object the question names ("previous" logs when it says so).
func (d *Deterministic) evidenceAnswer(ctx context.Context, t Turn, e Emitter, inv storage.Investigation, rep investigate.Report, kind string) error {
	cited := map[int]int{} // step seq → citation n
	for _, c := range rep.Evidence {
		cited[c.StepSeq] = c.N
	}
	low := strings.ToLower(t.Text)
	var best *storage.Step
	bestScore := -1
	for i := range inv.Steps {
		st := &inv.Steps[i]
		score := 0
		if n, ok := strings.CutPrefix(kind, "#"); ok {
			want, _ := strconv.Atoi(n)
			if c, ok := cited[st.Seq]; !ok || c != want {
				continue
			}
		} else if st.Tool != kind {
			continue
		}
		if _, ok := cited[st.Seq]; ok {
			score += 2
		}
		var in map[string]any
		_ = json.Unmarshal(st.Input, &in)
		for _, k := range []string{"pod", "name"} {
			if v, _ := in[k].(string); v != "" && strings.Contains(low, strings.ToLower(v)) {
				score += 4
			}
		}
		prev, _ := in["previous"].(bool)
		if prev == strings.Contains(low, "previous") {
			score++
		}
		if score > bestScore {
			best, bestScore = st, score
		}
	}
	if best == nil {
		var have []string
		for _, st := range inv.Steps {
			if st.Kind == "evidence" {
				have = append(have, fmt.Sprintf("step %d %s %s", st.Seq, st.Tool, string(st.Input)))
			}
		}
		msg := "The investigation has no such evidence."
		if len(have) > 0 {
			msg += " It gathered:\n- " + strings.Join(have, "\n- ")
		} else {
			msg += " It gathered no tool evidence (no toolset was configured or applicable)."
		}
		return answer(ctx, e, msg, nil)
	}
	if err := e.ToolCall(ctx, "t2", "aurora.evidence", map[string]any{"investigation_id": inv.ID, "step_seq": best.Seq}); err != nil {
		return err
	}
	var out investigate.EvidenceOutput
	_ = json.Unmarshal(best.Output, &out)
	body := out.Text
	if body == "" {
		body = string(best.Output)
	}
	if out.Error != "" {
		body = "no data: " + out.Error
	}
	truncated := ""
	if r := []rune(body); len(r) > maxEvidenceChars {
		body = string(r[len(r)-maxEvidenceChars:])
		truncated = fmt.Sprintf(" (last %d characters)", maxEvidenceChars)
	}
	if err := e.ToolResult(ctx, "t2", "ok", best.Tool+" "+string(best.Input)); err != nil {
		return err
	}
	n := cited[best.Seq]
	ref := ""
	if n > 0 {
		ref = fmt.Sprintf(" [%d]", n)
	}
	text := fmt.Sprintf("%s %s, step %d of investigation %s%s%s:\n\n```\n%s\n```", best.Tool, string(best.Input), best.Seq, inv.ID, ref, truncated, strings.TrimRight(body, "\n"))
	return answer(ctx, e, text, []Citation{{N: max(n, 1), Tool: best.Tool, Summary: "step " + strconv.Itoa(best.Seq), InvestigationID: inv.ID, StepSeq: best.Seq}})
}

func (d *Deterministic) help(ctx context.Context, t Turn, e Emitter) error {
	var b strings.Builder
	b.WriteString("I can answer from Aurora's investigations without a language model. Ask me:\n" +
		"- \"what is wrong with pod checkout-7d9f in namespace shop\" (or a deployment, service, node…) to run an investigation;\n" +
		"- in an incident's chat: \"why did it fail?\" for its report, \"show me the logs of the pod you cited\" or \"show evidence [2]\";\n" +
		"- in agent mode: \"acknowledge\", \"resolve\" or \"reopen\" the incident (a human confirms).")
	list, _, err := d.Store.ListIncidents(ctx, t.OrgID, storage.IncidentFilter{Status: []string{storage.IncidentOpen}, Limit: 5})
	if err == nil && len(list) > 0 {
		b.WriteString("\n\nOpen incidents:")
		for _, inc := range list {
			verdict := "not investigated"
			if inc.Investigation != nil {
				verdict = "investigation " + inc.Investigation.Status
			}
			fmt.Fprintf(&b, "\n- %s %q (%s, %s)", inc.ID, inc.Title, inc.Severity, verdict)
		}
	}
	return answer(ctx, e, b.String(), nil)
}

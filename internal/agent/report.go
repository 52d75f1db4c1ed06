package agent

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aurora-oss/aurora/internal/llm"
)

// Report is what the model submits: the report schema's fields the model
// writes (evidence and not_checked are Aurora's own).
type Report struct {
	Verdict    string     `json:"verdict"`
	Summary    string     `json:"summary"`
	RootCause  *RootCause `json:"root_cause"`
	Findings   []Finding  `json:"findings"`
	Timeline   []Event    `json:"timeline"`
	Impact     string     `json:"impact"`
	RuledOut   []string   `json:"ruled_out"`
	NextSteps  []NextStep `json:"next_steps"`
	Confidence float64    `json:"confidence"`
	// VerdictNote says why the verdict was lowered, when it was.
	VerdictNote string `json:"-"`
}

// RootCause is the submitted cause.
type RootCause struct {
	Category string `json:"category"`
	Object   string `json:"object"`
	Summary  string `json:"summary"`
}

// Finding is a claim with the steps that show it.
type Finding struct {
	Text      string `json:"text"`
	Citations []int  `json:"citations"`
}

// Event is a timeline entry; At is RFC 3339 as the model wrote it.
type Event struct {
	At    string `json:"at"`
	Event string `json:"event"`
}

// NextStep is a suggested action.
type NextStep struct {
	Title   string `json:"title"`
	Command string `json:"command,omitempty"`
	Risk    string `json:"risk"`
	Undo    string `json:"undo,omitempty"`
}

// Verdicts.
const (
	VerdictConfirmed    = "CONFIRMED"
	VerdictLikely       = "LIKELY"
	VerdictInconclusive = "INCONCLUSIVE"
)

func (r *run) submitDef() llm.ToolDef {
	cats := r.a.cfg.Categories
	catSchema := `{"type":"string"}`
	if len(cats) > 0 {
		b, _ := json.Marshal(cats)
		catSchema = `{"type":"string","enum":` + string(b) + `}`
	}
	schema := `{"type":"object","additionalProperties":false,
"required":["verdict","summary","findings","confidence"],
"properties":{
 "verdict":{"type":"string","enum":["CONFIRMED","LIKELY","INCONCLUSIVE"],"description":"CONFIRMED only when a cited tool output shows the cause itself; LIKELY when the evidence points at it; INCONCLUSIVE otherwise (then no root_cause)."},
 "summary":{"type":"string","description":"Two or three sentences: what broke and why, with citations like [3]."},
 "root_cause":{"type":["object","null"],"required":["category","object","summary"],"properties":{
   "category":` + catSchema + `,
   "object":{"type":"string","description":"kind/namespace/name, or kind/name when cluster-scoped; kind lower-case and singular"},
   "summary":{"type":"string"}}},
 "findings":{"type":"array","items":{"type":"object","required":["text","citations"],"properties":{
   "text":{"type":"string"},
   "citations":{"type":"array","items":{"type":"integer"},"minItems":1,"description":"step numbers [n] whose output shows the finding"}}}},
 "timeline":{"type":"array","items":{"type":"object","required":["at","event"],"properties":{"at":{"type":"string","description":"RFC 3339 time"},"event":{"type":"string"}}}},
 "impact":{"type":"string"},
 "ruled_out":{"type":"array","items":{"type":"string"}},
 "next_steps":{"type":"array","items":{"type":"object","required":["title","risk"],"properties":{
   "title":{"type":"string"},"command":{"type":"string"},
   "risk":{"type":"string","enum":["safe","low","medium","high"]},
   "undo":{"type":"string","description":"how to reverse it (required unless risk is safe)"}}}},
 "confidence":{"type":"number","minimum":0,"maximum":1}}}`
	return llm.ToolDef{Name: SubmitTool, Description: "Submit the root-cause report and end the investigation. Every finding cites the step numbers [n] whose output shows it.",
		Parameters: json.RawMessage(schema)}
}

// submit checks a submitted report. ok is true when the run ends with it;
// otherwise reply goes back to the model. Claims citing no existing step
// are sent back once, then dropped; other faults are sent back each time.
func (r *run) submit(c llm.ToolCall, final bool) (ok bool, reply string) {
	var rep Report
	dec := json.NewDecoder(strings.NewReader(string(c.Arguments)))
	if err := dec.Decode(&rep); err != nil {
		return r.rejectSubmit(final, []string{"the arguments are not a report object: " + err.Error()})
	}
	var faults []string
	rep.Verdict = strings.ToUpper(strings.TrimSpace(rep.Verdict))
	switch rep.Verdict {
	case VerdictConfirmed, VerdictLikely:
		if rep.RootCause == nil {
			faults = append(faults, "verdict "+rep.Verdict+" needs a root_cause")
		}
	case VerdictInconclusive:
	default:
		faults = append(faults, fmt.Sprintf("verdict %q is not CONFIRMED, LIKELY or INCONCLUSIVE", rep.Verdict))
	}
	if rc := rep.RootCause; rc != nil && len(r.a.cfg.Categories) > 0 && !slices.Contains(r.a.cfg.Categories, rc.Category) {
		faults = append(faults, fmt.Sprintf("root_cause.category %q is not one of: %s", rc.Category, strings.Join(r.a.cfg.Categories, ", ")))
	}
	for i, s := range rep.NextSteps {
		switch s.Risk {
		case "safe", "low", "medium", "high":
		default:
			faults = append(faults, fmt.Sprintf("next_steps[%d].risk %q is not safe, low, medium or high", i, s.Risk))
		}
	}
	if len(faults) > 0 {
		return r.rejectSubmit(final, faults)
	}
	var uncited []string
	for i, f := range rep.Findings {
		if bad := r.badCitations(f.Citations); len(f.Citations) == 0 || len(bad) > 0 {
			uncited = append(uncited, fmt.Sprintf("findings[%d] %q cites %s", i, f.Text, describeBad(f.Citations, bad)))
		}
	}
	if len(uncited) > 0 && r.citeRejects == 0 && !final {
		r.citeRejects++
		return false, "Report not accepted: every finding must cite existing steps [n] whose output shows it.\n" + strings.Join(uncited, "\n") +
			"\nFix the citations (or remove the claims) and call " + SubmitTool + " again; claims still uncited next time are dropped."
	}
	kept := rep.Findings[:0]
	for _, f := range rep.Findings {
		if len(f.Citations) > 0 && len(r.badCitations(f.Citations)) == 0 {
			kept = append(kept, f)
		} else {
			r.res.Dropped = append(r.res.Dropped, f.Text)
		}
	}
	rep.Findings = kept
	r.gate(&rep)
	r.res.Report = &rep
	r.end(StatusCompleted, "")
	return true, ""
}

func (r *run) rejectSubmit(final bool, faults []string) (bool, string) {
	r.submits++
	if final {
		r.end(StatusLimitReached, fmt.Sprintf("the last report submitted within AGENT_RECURSION_LIMIT=%d steps was invalid: %s", r.a.cfg.Limit, strings.Join(faults, "; ")))
		return true, ""
	}
	return false, "Report not accepted:\n" + strings.Join(faults, "\n") + "\nFix it and call " + SubmitTool + " again."
}

// badCitations are the cited numbers that name no step.
func (r *run) badCitations(cites []int) []int {
	var bad []int
	for _, n := range cites {
		if _, ok := r.known[n]; !ok {
			bad = append(bad, n)
		}
	}
	return bad
}

func describeBad(cites, bad []int) string {
	if len(cites) == 0 {
		return "no step"
	}
	s := make([]string, len(bad))
	for i, n := range bad {
		s[i] = fmt.Sprintf("[%d]", n)
	}
	return "steps that do not exist: " + strings.Join(s, ", ")
}

// gate lowers CONFIRMED to LIKELY unless a finding cites direct evidence: a
// tool's output, not the alert or text the model wrote.
func (r *run) gate(rep *Report) {
	if rep.Verdict == VerdictInconclusive && rep.RootCause != nil {
		rep.RootCause = nil
		rep.VerdictNote = "an INCONCLUSIVE report claims no root cause; the submitted one was removed"
	}
	if rep.Verdict != VerdictConfirmed {
		return
	}
	for _, f := range rep.Findings {
		for _, n := range f.Citations {
			if r.direct[n] {
				return
			}
		}
	}
	rep.Verdict = VerdictLikely
	rep.VerdictNote = "lowered from CONFIRMED to LIKELY: no finding cites a tool's output (direct evidence), only the alert or other non-evidence steps"
	if rep.Confidence > 0.8 {
		rep.Confidence = 0.8
	}
}

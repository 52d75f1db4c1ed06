package investigate

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aurora-oss/aurora/internal/analyze"
)

// kbSearchTool is the knowledge base's tool (package kb/kbtool; not
// imported: kbtool depends on the toolset this package plans with).
const kbSearchTool = "kb.search"

var (
	// "[1] Title › Heading (document ID, bytes 0–120, https://…)"
	kbPassageLine = regexp.MustCompile(`(?m)^\[\d+\] (.+) \(document \S+, bytes`)
	// "[1] past incident ID "Title" (report marked helpful; …)"
	kbIncidentLine = regexp.MustCompile(`(?m)^\[\d+\] past incident \S+ (".*") \(report marked helpful`)
)

// citeKnowledge makes the knowledge-base steps that found something
// findings of the report, cited like any other evidence: the runbook
// passages the responder should read, and similar past incidents as hints.
// Neither changes the verdict or the root cause (a runbook says what to
// do, not what broke), and a step that found something is not "ruled
// out".
func citeKnowledge(rep *Report, items []analyze.Item) {
	for _, it := range items {
		if it.Tool != kbSearchTool {
			continue
		}
		var text, summary string
		if m := kbIncidentLine.FindAllStringSubmatch(it.Output, -1); len(m) > 0 {
			text = "Similar past incident " + m[0][1] + more(len(m)) + " was marked helpful: a hint where to look, not proof of this cause"
			summary = fmt.Sprintf("%d similar past incident(s)", len(m))
		} else if m := kbPassageLine.FindAllStringSubmatch(it.Output, -1); len(m) > 0 {
			text = "Runbook passage for the alert: " + m[0][1] + more(len(m))
			summary = fmt.Sprintf("%d knowledge-base passage(s)", len(m))
		} else {
			continue
		}
		rep.Findings = append(rep.Findings, Finding{Text: text + cite([]int{it.ID}), Citations: []int{it.ID}})
		rep.Evidence = append(rep.Evidence, Citation{N: it.ID, StepSeq: it.ID, Tool: it.Tool, Summary: summary + " for " + describeItem(it)})
		suffix := fmt.Sprintf("[%d]", it.ID)
		kept := rep.RuledOut[:0]
		for _, r := range rep.RuledOut {
			if !strings.HasSuffix(r, suffix) {
				kept = append(kept, r)
			}
		}
		rep.RuledOut = kept
	}
	sort.SliceStable(rep.Evidence, func(i, j int) bool { return rep.Evidence[i].N < rep.Evidence[j].N })
}

func more(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" (and %d more)", n-1)
}

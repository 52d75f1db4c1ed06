package investigate

import (
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/analyze"
)

// The knowledge-base steps that found passages or past incidents are
// findings cited like other evidence; one that found nothing stays ruled
// out.
func TestCiteKnowledge(t *testing.T) {
	t.Parallel()
	items := []analyze.Item{
		{ID: 2, Tool: "kubernetes.describe", Output: "Name: cart"},
		{ID: 3, Tool: kbSearchTool, Args: map[string]any{"query": "CartDown cart"}, Output: "runbook_url https://wiki/cart is the uploaded document \"Cart runbook\" (d1).\n\n" +
			"[1] Cart runbook › Cart down (document d1, bytes 0–120, https://wiki/cart)\nRestart the cart.\n\n" +
			"[2] Cart runbook › Escalation (document d1, bytes 120–200, https://wiki/cart)\nPage the team.\n"},
		{ID: 4, Tool: kbSearchTool, Args: map[string]any{"query": "CartDown cart", "kind": "incident"}, Output: "[1] past incident i9 \"Cart down on Monday\" (report marked helpful; similarity 0.8123)\nThe cache was full.\n\n" +
			"Past incidents are hints, not proof: confirm the cause with current evidence.\n"},
		{ID: 5, Tool: kbSearchTool, Args: map[string]any{"query": "other"}, Output: "No knowledge-base passage matches."},
	}
	rep := FromConclusion(nil, items, analyze.Conclusion{Verdict: "inconclusive"})
	citeKnowledge(&rep, items)
	var texts []string
	for _, f := range rep.Findings {
		texts = append(texts, f.Text)
	}
	all := strings.Join(texts, "\n")
	if len(rep.Findings) != 2 ||
		rep.Findings[0].Text != "Runbook passage for the alert: Cart runbook › Cart down (and 1 more) [3]" || rep.Findings[0].Citations[0] != 3 ||
		!strings.HasPrefix(rep.Findings[1].Text, `Similar past incident "Cart down on Monday" was marked helpful`) || rep.Findings[1].Citations[0] != 4 {
		t.Fatalf("findings:\n%s", all)
	}
	if len(rep.Evidence) != 2 || rep.Evidence[0].StepSeq != 3 || rep.Evidence[1].StepSeq != 4 || rep.Evidence[0].Tool != kbSearchTool {
		t.Fatalf("evidence %+v", rep.Evidence)
	}
	ruled := strings.Join(rep.RuledOut, "\n")
	if strings.Contains(ruled, "[3]") || strings.Contains(ruled, "[4]") || !strings.Contains(ruled, "[5]") || !strings.Contains(ruled, "[2]") {
		t.Fatalf("ruled out:\n%s", ruled)
	}
	if rep.RootCause != nil || rep.Verdict != "inconclusive" {
		t.Fatalf("a runbook changed the verdict: %+v", rep)
	}
}

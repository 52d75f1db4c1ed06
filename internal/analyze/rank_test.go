package analyze

import "testing"

func TestRankChainMakesDeeperCauseRoot(t *testing.T) {
	fs := []Finding{
		// The client's log: refused connections to redis, right before it died.
		{Category: CategoryDependency, Object: "pod/shop/api-1", Culprit: "10.52.201.7:6379", Evidence: []int{3}, Score: 0.95, Related: []string{"service/shop/redis"}},
		{Category: CategoryCrashloop, Object: "pod/shop/api-1", Evidence: []int{2}, Score: 0.75},
		{Category: CategoryServiceRouting, Object: "service/shop/redis", Culprit: "app=redis,tier=cache", Evidence: []int{4}, Score: 0.7},
	}
	c := Rank(fs, Focus{Namespace: "shop", Names: []string{"api-1"}})
	if c.Root == nil || c.Root.Object != "service/shop/redis" || c.Verdict != VerdictLikely {
		t.Fatalf("root = %+v, verdict %s", c.Root, c.Verdict)
	}
	if c.Symptoms["pod/shop/api-1"] != "service/shop/redis" {
		t.Errorf("symptoms = %v", c.Symptoms)
	}
	if len(c.Findings) != 3 {
		t.Errorf("findings = %d, want all kept", len(c.Findings))
	}
	// A direct deeper cause is confirmed.
	fs[2].Direct, fs[2].Score = true, 0.85
	if c := Rank(fs, Focus{}); c.Root == nil || c.Root.Object != "service/shop/redis" || c.Verdict != VerdictConfirmed {
		t.Fatalf("direct deeper: root = %+v, verdict %s", c.Root, c.Verdict)
	}
	// A weak finding on the related object does not take the blame.
	fs[2].Direct, fs[2].Score = false, 0.2
	if c := Rank(fs, Focus{}); c.Root == nil || c.Root.Object != "pod/shop/api-1" {
		t.Fatalf("weak deeper: root = %+v", c.Root)
	}
}

func TestRankOutOfFocusIsInconclusive(t *testing.T) {
	fs := []Finding{{Category: CategoryCrashloop, Object: "pod/sandbox/debug-shell-7f9c8", Evidence: []int{4}, Score: 0.5}}
	c := Rank(fs, Focus{Namespace: "billing", Names: []string{"billing-api"}})
	if c.Verdict != VerdictInconclusive || c.Root != nil || len(c.Findings) != 1 {
		t.Fatalf("out of focus: %+v", c)
	}
	// A question (no alert) has no focus: the finding stands.
	if c := Rank(fs, Focus{}); c.Verdict != VerdictLikely || c.Root == nil {
		t.Fatalf("no focus: %+v", c)
	}
	// In the alert's namespace it stands too.
	if c := Rank(fs, Focus{Namespace: "sandbox", Names: []string{"other"}}); c.Root == nil {
		t.Fatalf("same namespace: %+v", c)
	}
}

func TestRankNodeReachedFromFocusedPod(t *testing.T) {
	fs := []Finding{
		{Category: CategoryScheduling, Object: "pod/reports/report-builder-7c8d9b6f5-p9d2m", Evidence: []int{1}, Score: 0.6, Related: []string{"node/aks-1"}},
		{Category: CategoryNode, Object: "node/aks-1", Evidence: []int{5}, Direct: true, Score: 0.8},
		{Category: CategoryNode, Object: "node/aks-2", Evidence: []int{6}, Direct: true, Score: 0.5},
	}
	focus := Focus{Namespace: "reports", Names: []string{"report-builder"}}
	c := Rank(fs, focus)
	if c.Root == nil || c.Root.Object != "node/aks-1" || c.Verdict != VerdictConfirmed {
		t.Fatalf("root = %+v, verdict %s", c.Root, c.Verdict)
	}
	// A node nothing in focus leads to is not the alert's cause.
	c = Rank(fs[2:], focus)
	if c.Root != nil || c.Verdict != VerdictInconclusive {
		t.Fatalf("unrelated node: %+v", c)
	}
	// A node alert names the node itself.
	if c := Rank(fs[2:], Focus{Names: []string{"aks-2"}}); c.Root == nil || c.Root.Object != "node/aks-2" {
		t.Fatalf("node alert: %+v", c)
	}
}

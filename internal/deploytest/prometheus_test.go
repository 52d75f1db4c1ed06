package deploytest

import (
	"path/filepath"
	"strings"
	"testing"
)

func promtool(t testing.TB) string {
	return tool(t, "AURORA_TEST_PROMTOOL", "promtool")
}

func TestPromtoolRules(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(root(t), "deploy", "prometheus")
	out := run(t, dir, promtool(t), "check", "rules", "aurora-rules.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool check rules:\n%s", out)
	}
	// The scrape configuration loads the same rules file.
	out = run(t, dir, promtool(t), "check", "config", "prometheus.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool check config:\n%s", out)
	}
}

// TestAlertsCovered: the alerts the operator's guide promises exist.
func TestAlertsCovered(t *testing.T) {
	t.Parallel()
	rules := loadRules(t)
	for _, want := range []string{"AuroraQueueBacklog", "AuroraHighErrorRate", "AuroraInvestigationsStuck", "AuroraReadReplicaLagging"} {
		if _, ok := rules.alerts[want]; !ok {
			t.Errorf("no alert %s in deploy/prometheus/aurora-rules.yml", want)
		}
	}
}

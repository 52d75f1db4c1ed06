package investigate_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/agent"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/storage"
)

// BenchmarkAgentStepSQLite is the agent's overhead per step in a real
// investigation on SQLite — prompt building, dispatch, and storing each step
// (running, then finished, each with its live event) — with a model and
// tools that answer at once, so none of the time is theirs.
func BenchmarkAgentStepSQLite(b *testing.B) {
	f := newFixture(b, storage.Options{SQLitePath: filepath.Join(b.TempDir(), "a.db")})
	_, reg := newToolbox(b)
	const turns = 10
	steps := 0
	var agentTime time.Duration
	for b.Loop() {
		b.StopTimer()
		id := f.again(b)
		script := make([]turn, 0, turns+1)
		for i := range turns {
			script = append(script, calls(tc(fmt.Sprint(i), "kubernetes_events", map[string]any{"namespace": "shop", "n": i})))
		}
		script = append(script, submit("s", map[string]any{"verdict": "INCONCLUSIVE", "summary": "s", "confidence": 0.1,
			"findings": []any{map[string]any{"text": "events", "citations": []int{firstAgentSeq + 1}}}}))
		s := &scripted{t: b, turns: script}
		r := &investigate.Runner{Store: f.store, Now: time.Now, Tools: reg, Agent: newAgent(s, nil)}
		b.StartTimer()
		if err := r.Run(context.Background(), f.org, id, false); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		// The agent's part: from its first step's start to the report's
		// end (the deterministic plan before it is not counted).
		v, _ := f.store.GetInvestigation(context.Background(), f.org, id)
		last := v.Steps[len(v.Steps)-1]
		agentTime += last.FinishedAt.Sub(stepOf(v, firstAgentSeq).StartedAt)
		for _, st := range v.Steps {
			if st.Kind == agent.KindLLM || st.Kind == agent.KindTool {
				steps++
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(agentTime.Nanoseconds())/float64(steps), "ns/agent-step")
}

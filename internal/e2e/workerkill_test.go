package e2e

import (
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestWorkerKillResumes kills a worker (kill -9) in the middle of an
// investigation; a new worker resumes it after its last finished step.
//
// Timing (docs/configuration.md, River v0.51.2): each step waits
// AURORA_DEBUG_STEP_DELAY (3s) first, so step 1 finishes ~3s into the
// attempt and the worker is killed before step 2 (~6s) finishes. The job of
// the killed worker stays "running" in River until it is older than
// AURORA_JOB_RESCUE_AFTER (18s) and River's rescuer (every 30s, run only by
// the elected leader; the dead worker's leadership lapses after ~15s) hands
// it back; the retry runs the remaining steps (the plan has four: context,
// two knowledge-base searches, report) within the 15s AURORA_JOB_TIMEOUT.
// Expect recovery in roughly 20–60s.
func TestWorkerKillResumes(t *testing.T) {
	t.Parallel()
	c := startCluster(t, testenv.Env{
		"AURORA_DEBUG_STEP_DELAY": "3s",
		"AURORA_JOB_TIMEOUT":      "15s",
		"AURORA_JOB_RESCUE_AFTER": "18s",
	}, 1, 1, 0)
	server, worker := c.servers[0], c.workers[0]

	res := postAlerts(t, server.URL, testenv.AdminToken, "generic", genericAlert("Payment gateway timeouts", "PaymentTimeouts", "payments"))
	incID := res.IncidentIDs[0]
	invID := investigationOf(t, server, incID).ID

	// Running, with step 1 finished and step 2 not.
	var before investigation
	testenv.Eventually(t, 60*time.Second, "step 1 to complete", func() bool {
		get(t, server, "/api/v1/investigations/"+invID, &before)
		if before.Status == "completed" || before.Status == "failed" {
			t.Fatalf("investigation %s before the kill", before.Status)
		}
		s1 := stepBySeq(before, 1)
		return before.Status == "running" && s1 != nil && s1.Status == "completed"
	})
	step1 := stepBySeq(before, 1)
	if step1.FinishedAt == nil {
		t.Fatal("completed step 1 has no finished_at")
	}
	if s2 := stepBySeq(before, 2); s2 != nil && s2.Status == "completed" {
		t.Fatalf("step 2 already completed before the kill: %+v", before.Steps)
	}

	worker.Kill()
	killed := time.Now()
	var check investigation
	get(t, server, "/api/v1/investigations/"+invID, &check)
	if check.Status != "running" {
		t.Fatalf("after kill -9 the investigation is %s, want still running", check.Status)
	}
	t.Logf("killed the worker at attempt %d with steps %s", check.Attempts, stepSummary(check))

	worker2 := testenv.Start(t, "worker2", merge(c.env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(t)}), "worker")
	var after investigation
	testenv.Eventually(t, 120*time.Second, "the new worker to complete the investigation", func() bool {
		if worker2.Exited() {
			t.Fatalf("worker2 exited:\n%s", worker2.Output())
		}
		get(t, server, "/api/v1/investigations/"+invID, &after)
		if after.Status == "failed" || after.Status == "cancelled" {
			t.Fatalf("investigation %s: %s", after.Status, after.Error)
		}
		return after.Status == "completed"
	})
	t.Logf("recovered %s after the kill (attempts %d, steps %s)", time.Since(killed).Round(time.Second), after.Attempts, stepSummary(after))

	n := 0
	for _, s := range after.Steps {
		if s.Seq == 1 {
			n++
		}
		if s.Status != "completed" {
			t.Errorf("step %d is %s", s.Seq, s.Status)
		}
	}
	if n != 1 {
		t.Errorf("step 1 appears %d times, want once", n)
	}
	if s := stepBySeq(after, 1); s == nil || s.FinishedAt == nil || *s.FinishedAt != *step1.FinishedAt {
		t.Errorf("step 1 was re-run: finished_at %v, was %s before the kill", s, *step1.FinishedAt)
	}
	if len(after.Steps) < 2 {
		t.Errorf("%d steps, want ≥ 2", len(after.Steps))
	}
	if after.Attempts < 2 {
		t.Errorf("attempts = %d, want ≥ 2", after.Attempts)
	}
	if after.Report == nil || after.Report.Verdict == "" {
		t.Error("completed investigation has no report")
	}
}

func stepBySeq(v investigation, seq int) *step {
	for i := range v.Steps {
		if v.Steps[i].Seq == seq {
			return &v.Steps[i]
		}
	}
	return nil
}

func stepSummary(v investigation) string {
	s := ""
	for _, st := range v.Steps {
		fin := "-"
		if st.FinishedAt != nil {
			fin = *st.FinishedAt
		}
		s += "[" + st.Tool + " " + st.Status + " " + fin + "]"
	}
	return s
}

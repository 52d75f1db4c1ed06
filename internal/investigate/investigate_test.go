package investigate_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/storage"
)

type nopQueue struct{}

func (nopQueue) EnqueueInvestigation(context.Context, *storage.Tx, string, string, *time.Time) error {
	return nil
}

// An interrupted investigation resumes after its last finished step and does
// not run that step again.
func TestResumeAfterLastFinishedStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := storage.Open(ctx, storage.Options{SQLitePath: filepath.Join(t.TempDir(), "a.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, log); err != nil {
		t.Fatal(err)
	}
	store := storage.NewStore(db)
	org, _ := store.EnsureDefaultOrg(ctx)
	svc := &incident.Service{Store: store, Now: time.Now, Jobs: nopQueue{}, Cfg: incident.Config{Rules: incident.DefaultRules(time.Hour), ReopenWindow: time.Hour,
		Investigate: map[alert.Severity]bool{alert.SeverityCritical: true}}}
	labels := map[string]string{"alertname": "PodCrashLooping", "namespace": "shop", "pod": "cart-1", "service": "cart"}
	res, err := svc.Ingest(ctx, incident.Request{OrgID: org.ID, Source: "alertmanager", Body: []byte("{}"), Alerts: []alert.Alert{{
		Source: "alertmanager", Fingerprint: alert.Fingerprint(labels), Status: alert.StatusFiring, Severity: alert.SeverityCritical, Name: "PodCrashLooping",
		Title: "cart-1 crash looping", Service: "cart", Namespace: "shop", Labels: labels, Annotations: map[string]string{"runbook_url": "https://runbooks.example/crashloop"},
		StartsAt: time.Now().Add(-5 * time.Minute)}}})
	if err != nil {
		t.Fatal(err)
	}
	inc, _ := store.GetIncident(ctx, org.ID, res.IncidentIDs[0])
	invID := inc.Investigation.ID

	// First attempt: interrupted while waiting before step 2.
	r := &investigate.Runner{Store: store, Now: time.Now, StepDelay: time.Second}
	short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	err = r.Run(short, org.ID, invID, false)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("interrupted run: %v", err)
	}
	v, _ := store.GetInvestigation(ctx, org.ID, invID)
	if v.Status != storage.InvestigationRunning || len(v.Steps) != 1 || v.Steps[0].Status != storage.StepCompleted {
		t.Fatalf("after interruption: status %s, steps %+v", v.Status, v.Steps)
	}
	step1 := v.Steps[0]

	// Second attempt completes without redoing step 1.
	r.StepDelay = 0
	if err := r.Run(ctx, org.ID, invID, false); err != nil {
		t.Fatal(err)
	}
	v, _ = store.GetInvestigation(ctx, org.ID, invID)
	if v.Status != storage.InvestigationCompleted || v.Attempts != 2 || len(v.Steps) != 2 {
		t.Fatalf("after resume: %+v", v)
	}
	if !v.Steps[0].FinishedAt.Equal(*step1.FinishedAt) || v.Steps[0].ID != step1.ID {
		t.Fatalf("step 1 ran again: before %+v after %+v", step1, v.Steps[0])
	}
	var rep investigate.Report
	if err := json.Unmarshal(v.Report, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != investigate.VerdictInconclusive || rep.RootCause != nil || len(rep.NotChecked) == 0 {
		t.Fatalf("report claims more than its evidence: %+v", rep)
	}
	if len(rep.Evidence) == 0 || rep.Evidence[0].StepSeq != 1 {
		t.Fatalf("report cites no step: %+v", rep.Evidence)
	}
	found := false
	for _, s := range rep.NextSteps {
		if s.Title == "Follow the runbook: https://runbooks.example/crashloop" {
			found = true
		}
	}
	if !found {
		t.Errorf("runbook not among next steps: %+v", rep.NextSteps)
	}
	// A finished investigation is not run again.
	if err := r.Run(ctx, org.ID, invID, false); !errors.Is(err, investigate.ErrFinished) {
		t.Fatalf("re-run of finished investigation: %v", err)
	}
}

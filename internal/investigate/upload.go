package investigate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/bundle"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/storage"
)

// maxStepOutput bounds one evidence file kept as a step's output.
const maxStepOutput = 1 << 20

// RecordBundle runs an uploaded bundle like any investigation: its alert
// (or question) becomes an alert of an incident through the normal intake,
// each evidence file becomes a step, and the report is the bundle's. The
// analysis is fast and offline, so it runs in the request.
func RecordBundle(ctx context.Context, svc *incident.Service, orgID string, b *bundle.Bundle) (string, storage.Investigation, error) {
	a := b.Alert
	if a == nil {
		sum := sha256.Sum256([]byte(b.Question))
		a = &alert.Alert{Source: "bundle", Fingerprint: "question:" + hex.EncodeToString(sum[:8]), Status: alert.StatusFiring,
			Severity: alert.SeverityUnknown, Name: "question", Title: b.Question, StartsAt: time.Now().UTC()}
	}
	raw, _ := json.Marshal(a)
	// The bundle carries its own investigation: none is queued for it.
	res, err := svc.Ingest(ctx, incident.Request{OrgID: orgID, Source: a.Source, ContentType: "application/json", Body: raw,
		Alerts: []alert.Alert{*a}, Policy: &incident.Policy{Severities: map[alert.Severity]bool{}}})
	if err != nil {
		return "", storage.Investigation{}, err
	}
	if len(res.IncidentIDs) == 0 {
		return "", storage.Investigation{}, fmt.Errorf("the bundle's alert is resolved and belongs to no incident")
	}
	incID := res.IncidentIDs[0]
	rep := Bundle(b)
	var v storage.Investigation
	wrote, err := svc.Store.InTx(ctx, func(tx *storage.Tx) error {
		inc, err := tx.IncidentForUpdate(ctx, orgID, incID)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		if v, err = tx.InsertInvestigation(ctx, orgID, incID, "bundle", now, nil); err != nil {
			return err
		}
		if err := tx.SetInvestigationStatus(ctx, &v, storage.InvestigationRunning, "", now); err != nil {
			return err
		}
		for _, it := range b.Items {
			out := it.Output
			if len(out) > maxStepOutput {
				out = out[:maxStepOutput] + fmt.Sprintf("\n… [truncated: %d more bytes]", len(it.Output)-maxStepOutput)
			}
			input, _ := json.Marshal(it.Args)
			output, _ := json.Marshal(map[string]string{"text": out})
			st := storage.Step{InvestigationID: v.ID, Seq: it.ID, Kind: "evidence", Tool: it.Tool, Input: input, Output: output,
				Status: storage.StepCompleted, StartedAt: now, FinishedAt: &now}
			if err := tx.UpsertStep(ctx, orgID, &st); err != nil {
				return err
			}
		}
		v.Report, _ = json.Marshal(rep)
		if err := tx.SetInvestigationStatus(ctx, &v, storage.InvestigationCompleted, "", now); err != nil {
			return err
		}
		inc.Investigation = &storage.InvestigationRef{ID: v.ID, Status: v.Status}
		inc.UpdatedAt = now
		if err := tx.SaveIncident(ctx, inc); err != nil {
			return err
		}
		if err := tx.InsertTimeline(ctx, orgID, incID, "investigation_completed", "Investigation of an uploaded bundle completed: "+rep.Verdict,
			map[string]any{"investigation_id": v.ID}, now); err != nil {
			return err
		}
		ev := v
		ev.Steps = nil
		if err := tx.InsertEvent(ctx, orgID, EventInvestigationUpdated, ev); err != nil {
			return err
		}
		return tx.InsertEvent(ctx, orgID, incident.EventIncidentUpdated, inc)
	})
	if err != nil {
		return "", storage.Investigation{}, err
	}
	if wrote && svc.Notify != nil {
		svc.Notify(orgID)
	}
	full, err := svc.Store.GetInvestigation(ctx, orgID, v.ID)
	return incID, full, err
}

package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// incidentStatusTool is a writing tool of Aurora itself: it changes an
// incident's status (acknowledge, resolve, reopen). It is bound to the
// turn's org and names the asking user as the actor on the timeline.
type incidentStatusTool struct {
	orgID, actor string
	svc          *incident.Service
}

var _ toolset.Writer = (*incidentStatusTool)(nil)

const incidentStatusToolName = "aurora.incident_status"

func (t *incidentStatusTool) Name() string { return incidentStatusToolName }
func (t *incidentStatusTool) Description() string {
	return "Set an incident's status to open, acknowledged or resolved."
}
func (t *incidentStatusTool) Parameters() json.RawMessage {
	return json.RawMessage(`{"type":"object","properties":{"incident_id":{"type":"string"},"status":{"type":"string","enum":["open","acknowledged","resolved"]}},"required":["incident_id","status"]}`)
}
func (t *incidentStatusTool) ReadOnly() bool         { return false }
func (t *incidentStatusTool) Timeout() time.Duration { return 30 * time.Second }

func (t *incidentStatusTool) args(args map[string]any) (id, status string, err error) {
	id, _ = args["incident_id"].(string)
	status, _ = args["status"].(string)
	if id == "" {
		return "", "", fmt.Errorf("incident_id: required")
	}
	switch status {
	case storage.IncidentOpen, storage.IncidentAcknowledged, storage.IncidentResolved:
	default:
		return "", "", fmt.Errorf("status: must be open, acknowledged or resolved, not %q", status)
	}
	return id, status, nil
}

// Propose reads the incident to say what would change and how to undo it.
func (t *incidentStatusTool) Propose(ctx context.Context, args map[string]any) (toolset.Proposal, error) {
	id, status, err := t.args(args)
	if err != nil {
		return toolset.Proposal{}, err
	}
	inc, err := t.svc.Store.GetIncident(ctx, t.orgID, id)
	if err != nil {
		return toolset.Proposal{}, fmt.Errorf("read incident %s: %w", id, err)
	}
	cmd := fmt.Sprintf(`PATCH /api/v1/incidents/%s {"status":%q}   # %q: %s → %s`, id, status, inc.Title, inc.Status, status)
	undo := fmt.Sprintf(`PATCH /api/v1/incidents/%s {"status":%q}`, id, inc.Status)
	if inc.Status == status {
		undo = "nothing to undo: the incident is already " + status
	}
	return toolset.Proposal{Command: cmd, Risk: toolset.RiskLow, Undo: undo}, nil
}

func (t *incidentStatusTool) Call(ctx context.Context, args map[string]any) (toolset.Result, error) {
	id, status, err := t.args(args)
	if err != nil {
		return toolset.Result{}, err
	}
	inc, err := t.svc.SetStatus(ctx, t.orgID, id, status, t.actor)
	if err != nil {
		return toolset.Result{}, err
	}
	return toolset.Result{Output: fmt.Sprintf("incident %s (%s) is now %s", inc.ID, inc.Title, inc.Status)}, nil
}

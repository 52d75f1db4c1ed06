package incident

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
)

// ErrBadTransition is returned for a status change the incident cannot make.
var ErrBadTransition = errors.New("invalid status change")

// SetStatus changes an incident's status on a person's request: acknowledge,
// resolve, or reopen. actor names who did it, for the timeline.
func (s *Service) SetStatus(ctx context.Context, orgID, id, status, actor string) (storage.Incident, error) {
	var out storage.Incident
	wrote, err := s.Store.InTx(ctx, func(tx *storage.Tx) error {
		inc, err := tx.IncidentForUpdate(ctx, orgID, id)
		if err != nil {
			return err
		}
		now := s.Now().UTC()
		if inc.Status == status {
			out = *inc
			return nil // idempotent: nothing to record
		}
		var msg string
		switch status {
		case storage.IncidentAcknowledged:
			if inc.Status == storage.IncidentResolved {
				return fmt.Errorf("%w: a resolved incident cannot be acknowledged; reopen it first", ErrBadTransition)
			}
			inc.AcknowledgedAt = &now
			msg = "Acknowledged by " + actor
		case storage.IncidentResolved:
			inc.ResolvedAt = &now
			msg = "Resolved by " + actor
			if inc.FiringCount > 0 {
				msg += fmt.Sprintf(" (%d alert(s) still firing)", inc.FiringCount)
			}
		case storage.IncidentOpen:
			inc.ResolvedAt, inc.AcknowledgedAt = nil, nil
			msg = "Reopened by " + actor
		default:
			return fmt.Errorf("%w: unknown status %q (want open, acknowledged or resolved)", ErrBadTransition, status)
		}
		inc.Status, inc.UpdatedAt = status, now
		if err := tx.SaveIncident(ctx, inc); err != nil {
			return err
		}
		if err := tx.InsertTimeline(ctx, orgID, id, "status", msg, map[string]any{"status": status, "actor": actor}, now); err != nil {
			return err
		}
		if err := tx.InsertEvent(ctx, orgID, EventIncidentUpdated, inc); err != nil {
			return err
		}
		out = *inc
		return nil
	})
	if err != nil {
		return storage.Incident{}, err
	}
	if wrote && s.Notify != nil {
		s.Notify(orgID)
	}
	return out, nil
}

// Reinvestigate queues a new investigation of an incident.
func (s *Service) Reinvestigate(ctx context.Context, orgID, id, actor string) (storage.Incident, error) {
	var out storage.Incident
	_, err := s.Store.InTx(ctx, func(tx *storage.Tx) error {
		inc, err := tx.IncidentForUpdate(ctx, orgID, id)
		if err != nil {
			return err
		}
		now := s.Now().UTC()
		if err := s.StartInvestigation(ctx, tx, inc, "manual:"+actor, now); err != nil {
			return err
		}
		inc.UpdatedAt = now
		if err := tx.SaveIncident(ctx, inc); err != nil {
			return err
		}
		if err := tx.InsertEvent(ctx, orgID, EventIncidentUpdated, inc); err != nil {
			return err
		}
		out = *inc
		return nil
	})
	if err != nil {
		return storage.Incident{}, err
	}
	if s.Notify != nil {
		s.Notify(orgID)
	}
	return out, nil
}

// ResendingSources re-send firing alerts on every evaluation, so silence
// from them means the alert stopped (or the sender died).
var ResendingSources = []string{"alertmanager", "grafana"}

// AutoResolve resolves firing alerts of re-sending sources not received for
// `after`, and the incidents left with none firing. It returns how many
// alerts it resolved.
func (s *Service) AutoResolve(ctx context.Context, orgID string, after time.Duration) (int, error) {
	total := 0
	for {
		n := 0
		wrote, err := s.Store.InTx(ctx, func(tx *storage.Tx) error {
			now := s.Now().UTC()
			stale, err := tx.StaleFiringAlerts(ctx, orgID, ResendingSources, now.Add(-after), 200)
			if err != nil {
				return err
			}
			it := &ingestTx{s: s, tx: tx, req: Request{OrgID: orgID}, now: now,
				incidents: map[string]*storage.Incident{}, created: map[string]bool{}, changed: map[string]bool{}, counted: map[string]bool{}}
			for i := range stale {
				a := &stale[i]
				// ends_at is the last time the sender said it was firing.
				if err := tx.ResolveAlertAuto(ctx, a, a.LastReceivedAt); err != nil {
					return err
				}
				if a.IncidentID != "" {
					if err := tx.InsertTimeline(ctx, orgID, a.IncidentID, "auto_resolved",
						fmt.Sprintf("Alert %s auto-resolved: not re-sent by %s for %s", a.Title, a.Source, after), map[string]any{"alert_id": a.ID}, now); err != nil {
						return err
					}
					if err := it.alertResolved(ctx, a); err != nil {
						return err
					}
				}
			}
			for id := range it.changed {
				inc := it.incidents[id]
				if err := tx.SaveIncident(ctx, inc); err != nil {
					return err
				}
				if err := tx.InsertEvent(ctx, orgID, EventIncidentUpdated, inc); err != nil {
					return err
				}
			}
			n = len(stale)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("auto-resolve: %w", err)
		}
		if wrote && s.Notify != nil {
			s.Notify(orgID)
		}
		total += n
		if n < 200 {
			return total, nil
		}
	}
}

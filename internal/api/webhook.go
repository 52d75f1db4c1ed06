package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/webhook"
)

// webhook receives alerts. Checks run cheapest and safest first: route,
// token (nothing is read from strangers), content type, size, then parsing;
// only a failure to store answers 5xx, so senders retry exactly then.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	source := r.PathValue("source")
	if !slices.Contains(webhook.Sources(), source) {
		s.rejected(source, "unknown_source")
		writeError(w, CodeUnknownSource, fmt.Sprintf("unknown webhook source %q; known: %s", source, strings.Join(webhook.Sources(), ", ")))
		return
	}
	tok := bearer(r)
	if tok == "" {
		s.rejected(source, "unauthorized")
		writeError(w, CodeUnauthorized, "missing token: send Authorization: Bearer <integration token>, or ?token= for senders that cannot set headers")
		return
	}
	orgID, integ, err := s.webhookPrincipal(r, source, tok)
	if err != nil {
		s.rejected(source, "unauthorized")
		var fe forbiddenError
		if errors.As(err, &fe) {
			writeError(w, CodeForbidden, fe.msg)
			return
		}
		if errors.Is(err, storage.ErrNotFound) {
			writeError(w, CodeUnauthorized, "invalid or revoked token")
			return
		}
		s.internalError(w, r, err)
		return
	}
	ct := r.Header.Get("Content-Type")
	if !webhook.AcceptsContentType(source, ct) {
		s.rejected(source, "unsupported_media_type")
		writeError(w, CodeUnsupportedMedia, fmt.Sprintf("%s webhooks are JSON; Content-Type %q is not accepted", source, ct))
		return
	}
	if r.ContentLength > s.MaxBodyBytes {
		s.rejected(source, "too_large")
		writeError(w, CodeTooLarge, fmt.Sprintf("body of %d bytes is over the limit of %d bytes (AURORA_MAX_BODY_BYTES); for Alertmanager, set max_alerts on the webhook receiver", r.ContentLength, s.MaxBodyBytes))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.rejected(source, "too_large")
			writeError(w, CodeTooLarge, fmt.Sprintf("body is over the limit of %d bytes (AURORA_MAX_BODY_BYTES); for Alertmanager, set max_alerts on the webhook receiver", s.MaxBodyBytes))
			return
		}
		s.rejected(source, "read_error")
		writeError(w, CodeBadRequest, "could not read the request body: "+err.Error())
		return
	}
	integrationID := ""
	if integ != nil {
		integrationID = integ.ID
	}
	if done := s.checkSource(w, r, source, orgID, integ, body); done {
		return
	}
	now := time.Now()
	alerts, err := webhook.Parse(source, body, now)
	if err == nil && integ != nil {
		alerts = applySettings(source, integ, alerts)
		if len(alerts) == 0 {
			err = fmt.Errorf("%w: every alert was dropped by the integration's settings", webhook.ErrIgnored)
		}
	}
	if errors.Is(err, webhook.ErrIgnored) {
		// Nothing to act on, but the delivery is kept like any other.
		if _, serr := s.Incidents.Ingest(r.Context(), incident.Request{OrgID: orgID, IntegrationID: integrationID, Source: source, ContentType: ct, Body: body}); serr != nil {
			s.rejected(source, "store_failed")
			s.log.Error("storing an ignored delivery failed", "source", source, "err", serr)
			writeError(w, CodeUnavailable, "the delivery could not be stored; retry later")
			return
		}
		s.Metrics.AlertsReceived.WithLabelValues(source, "ignored").Inc()
		writeJSON(w, http.StatusAccepted, map[string]any{"accepted": 0, "alert_ids": []string{}, "incident_ids": []string{}, "ignored": err.Error()})
		return
	}
	if err != nil {
		switch {
		case errors.Is(err, webhook.ErrMalformed):
			s.rejected(source, "malformed")
			writeError(w, CodeMalformedJSON, err.Error())
		case errors.Is(err, webhook.ErrInvalid):
			s.rejected(source, "invalid")
			writeError(w, CodeInvalidPayload, err.Error())
		default:
			s.internalError(w, r, err)
		}
		return
	}
	res, err := s.Incidents.Ingest(r.Context(), incident.Request{OrgID: orgID, IntegrationID: integrationID, Source: source, ContentType: ct, Body: body, Alerts: alerts, Policy: policyOf(integ)})
	if err != nil {
		s.rejected(source, "store_failed")
		s.log.Error("storing alerts failed", "source", source, "err", err)
		writeError(w, CodeUnavailable, "alerts could not be stored; retry later")
		return
	}
	for outcome, n := range res.Outcomes {
		s.Metrics.AlertsReceived.WithLabelValues(source, outcome).Add(float64(n))
	}
	s.Metrics.IncidentsCreated.Add(float64(res.NewIncidents))
	writeJSON(w, http.StatusAccepted, res)
}

func (s *Server) rejected(source, reason string) {
	if !slices.Contains(webhook.Sources(), source) {
		source = "unknown"
	}
	s.Metrics.AlertsReceived.WithLabelValues(source, "rejected_"+reason).Inc()
}

type forbiddenError struct{ msg string }

func (e forbiddenError) Error() string { return e.msg }

// webhookPrincipal accepts an integration token of this source, or an admin
// or editor API token (handy for tests and scripts; such alerts carry no
// integration).
func (s *Server) webhookPrincipal(r *http.Request, source, tok string) (orgID string, integ *storage.Integration, err error) {
	ctx := r.Context()
	viaAPIToken := func() (string, *storage.Integration, error) {
		p, err := s.apiPrincipal(ctx, tok)
		if err != nil {
			return "", nil, err
		}
		if !p.Role.Allows(auth.Editor) {
			return "", nil, forbiddenError{fmt.Sprintf("an API token with role %s cannot send alerts (needs editor)", p.Role)}
		}
		return p.OrgID, nil, nil
	}
	// One lookup per delivery: a token that does not look like an
	// integration's (aurwh_…) is looked up as an API token first. Either
	// kind is still found if it lacks its prefix (AURORA_ADMIN_TOKEN is
	// any string the operator chose).
	if !strings.HasPrefix(tok, auth.IntegrationTokenPrefix) {
		orgID, integ, err := viaAPIToken()
		if !errors.Is(err, storage.ErrNotFound) {
			return orgID, integ, err
		}
	}
	in, err := s.Store.IntegrationByTokenHash(ctx, auth.HashToken(tok))
	if errors.Is(err, storage.ErrNotFound) {
		if strings.HasPrefix(tok, auth.IntegrationTokenPrefix) {
			return viaAPIToken()
		}
		return "", nil, err
	}
	if err != nil {
		return "", nil, err
	}
	if in.Source != source {
		return "", nil, forbiddenError{fmt.Sprintf("this token belongs to a %s integration; send to /webhooks/%s", in.Source, in.Source)}
	}
	return in.OrgID, &in, nil
}

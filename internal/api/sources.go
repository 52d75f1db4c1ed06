package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/sns"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/webhook"
)

// checkSource runs a source's own authenticity checks before the body is
// parsed: PagerDuty's HMAC signature, and SNS's topic allow-list, signature
// and subscription handshake. It answers and returns true when the request
// is finished. Alerts sent with an editor API token skip sender signatures:
// the caller is already authenticated as a user of this Aurora.
func (s *Server) checkSource(w http.ResponseWriter, r *http.Request, source, orgID string, integ *storage.Integration, body []byte) bool {
	switch source {
	case "pagerduty":
		if integ == nil {
			return false
		}
		secrets, err := s.signingSecrets(r.Context(), orgID, integ)
		if err != nil {
			s.internalError(w, r, err)
			return true
		}
		if len(secrets) == 0 {
			s.rejected(source, "unauthorized")
			writeError(w, CodeUnauthorized, "this PagerDuty integration has no signing secret: set signing_secret (PATCH /api/v1/integrations/{id}) to the secret PagerDuty shows for the webhook subscription")
			return true
		}
		if err := webhook.VerifyPagerDuty(r.Header.Get("X-PagerDuty-Signature"), body, secrets); err != nil {
			s.rejected(source, "bad_signature")
			msg := "X-PagerDuty-Signature does not match the body for any configured signing secret"
			if errors.Is(err, webhook.ErrSignatureMissing) {
				msg = "missing X-PagerDuty-Signature header (v1=<HMAC-SHA256 of the body>)"
			}
			writeError(w, CodeUnauthorized, msg)
			return true
		}
	case "cloudwatch":
		return s.checkSNS(w, r, integ, body)
	}
	return false
}

// signingSecrets reads an integration's signing secrets: several may be
// stored, separated by newlines or commas, while a sender rotates them.
func (s *Server) signingSecrets(ctx context.Context, orgID string, integ *storage.Integration) ([]string, error) {
	if integ.SecretRef == "" {
		return nil, nil
	}
	v, err := s.Secrets.Get(ctx, orgID, integ.SecretRef)
	if err != nil {
		return nil, fmt.Errorf("read signing secret: %w", err)
	}
	var out []string
	for _, f := range strings.FieldsFunc(string(v), func(r rune) bool { return r == '\n' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out, nil
}

// settingStrings reads a list of strings from integration settings.
func settingStrings(in *storage.Integration, key string) []string {
	raw, _ := in.Settings[key].([]any)
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// snsVerifySignatures says whether SNS signatures are checked (the default).
// Only an explicit "verify_signatures": false turns it off, and /ready then
// warns that the integration is insecure.
func snsVerifySignatures(in *storage.Integration) bool {
	v, ok := in.Settings["verify_signatures"].(bool)
	return !ok || v
}

func (s *Server) checkSNS(w http.ResponseWriter, r *http.Request, integ *storage.Integration, body []byte) bool {
	const source = "cloudwatch"
	if integ == nil {
		s.rejected(source, "unauthorized")
		writeError(w, CodeForbidden, "CloudWatch deliveries need an integration token (its settings hold the allowed SNS topics); create one with source cloudwatch")
		return true
	}
	m, err := sns.ParseMessage(body)
	if err != nil {
		s.rejected(source, "invalid")
		writeError(w, CodeInvalidPayload, "not an SNS message: "+err.Error())
		return true
	}
	allowed := settingStrings(integ, "topic_arns")
	ok := false
	for _, a := range allowed {
		if a == m.TopicArn {
			ok = true
		}
	}
	if !ok {
		s.rejected(source, "topic_not_allowed")
		if len(allowed) == 0 {
			writeError(w, CodeForbidden, "this integration allows no SNS topic yet: add "+m.TopicArn+" to settings.topic_arns")
		} else {
			writeError(w, CodeForbidden, "SNS topic "+m.TopicArn+" is not in this integration's settings.topic_arns")
		}
		return true
	}
	if snsVerifySignatures(integ) {
		if err := s.SNS.Verify(r.Context(), m); err != nil {
			if errors.Is(err, sns.ErrCertFetch) {
				s.log.Warn("could not fetch the SNS signing certificate", "err", err)
				writeError(w, CodeUnavailable, "could not fetch the SNS signing certificate; retry later")
				return true
			}
			s.rejected(source, "bad_signature")
			writeError(w, CodeUnauthorized, "SNS signature check failed: "+err.Error())
			return true
		}
	}
	switch m.Type {
	case sns.TypeSubscriptionConfirmation:
		if err := s.SNS.Confirm(r.Context(), m); err != nil {
			s.log.Warn("SNS subscription confirmation failed", "topic", m.TopicArn, "err", err)
			if errors.Is(err, sns.ErrSubscribeHost) {
				writeError(w, CodeForbidden, "SubscribeURL is not an SNS endpoint: "+err.Error())
			} else {
				writeError(w, CodeUnavailable, "could not confirm the subscription; SNS will retry: "+err.Error())
			}
			return true
		}
		s.log.Info("confirmed SNS subscription", "topic", m.TopicArn, "integration", integ.ID)
		writeJSON(w, http.StatusOK, map[string]any{"confirmed": true, "topic_arn": m.TopicArn})
		return true
	case sns.TypeUnsubscribeConfirmation:
		writeJSON(w, http.StatusOK, map[string]any{"confirmed": false, "ignored": "unsubscribe confirmation"})
		return true
	}
	return false
}

// applySettings applies an integration's per-source settings to parsed
// alerts. CloudWatch's INSUFFICIENT_DATA state is configurable with
// settings.insufficient_data: "firing" (default), "resolved" or "ignore".
func applySettings(source string, integ *storage.Integration, alerts []alert.Alert) []alert.Alert {
	if source != "cloudwatch" {
		return alerts
	}
	mode, _ := integ.Settings["insufficient_data"].(string)
	out, err := webhook.CloudWatchApplyInsufficientData(alerts, mode)
	if err != nil { // validated when written; keep the alerts as parsed
		return alerts
	}
	return out
}

// validateSettings checks an integration's settings when they are written,
// so a typo is a 422 now rather than a silent default later.
func validateSettings(source string, settings map[string]any) error {
	for k, v := range settings {
		switch k {
		case "investigate":
			if _, err := parsePolicy(v); err != nil {
				return err
			}
		case "topic_arns":
			list, ok := v.([]any)
			if !ok {
				return fmt.Errorf("settings.topic_arns must be a list of SNS topic ARNs")
			}
			for _, x := range list {
				s, ok := x.(string)
				if !ok || !strings.HasPrefix(s, "arn:") || strings.Count(s, ":") != 5 {
					return fmt.Errorf("settings.topic_arns: %v is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)", x)
				}
			}
		case "insufficient_data":
			if s, _ := v.(string); s != "firing" && s != "resolved" && s != "ignore" {
				return fmt.Errorf("settings.insufficient_data must be firing, resolved or ignore")
			}
		case "verify_signatures":
			if _, ok := v.(bool); !ok {
				return fmt.Errorf("settings.verify_signatures must be true or false")
			}
		}
		if source != "cloudwatch" && (k == "topic_arns" || k == "insufficient_data" || k == "verify_signatures") {
			return fmt.Errorf("settings.%s applies only to cloudwatch integrations", k)
		}
	}
	return nil
}

// parsePolicy reads settings.investigate: false (never investigate this
// integration's incidents automatically), true (the default policy), or
// {"severities": [...], "skip_acknowledged": bool}.
func parsePolicy(v any) (*incident.Policy, error) {
	const shape = `settings.investigate must be true, false or {"severities": ["critical", …], "skip_acknowledged": false}`
	switch t := v.(type) {
	case nil:
		return nil, nil
	case bool:
		if t {
			return nil, nil
		}
		return &incident.Policy{Severities: map[alert.Severity]bool{}}, nil
	case map[string]any:
		p := &incident.Policy{Severities: map[alert.Severity]bool{}}
		for k, x := range t {
			switch k {
			case "severities":
				list, ok := x.([]any)
				if !ok {
					return nil, errors.New(shape)
				}
				for _, e := range list {
					s, _ := e.(string)
					if !alert.Severity(s).Valid() {
						return nil, fmt.Errorf("settings.investigate.severities: %v is not one of critical, high, warning, info, unknown", e)
					}
					p.Severities[alert.Severity(s)] = true
				}
			case "skip_acknowledged":
				b, ok := x.(bool)
				if !ok {
					return nil, errors.New(shape)
				}
				p.SkipAcknowledged = b
			default:
				return nil, errors.New(shape)
			}
		}
		if _, ok := t["severities"]; !ok {
			return nil, fmt.Errorf("settings.investigate.severities is required")
		}
		return p, nil
	}
	return nil, errors.New(shape)
}

// policyOf is the investigation policy of an integration (nil: default).
func policyOf(integ *storage.Integration) *incident.Policy {
	if integ == nil {
		return nil
	}
	p, _ := parsePolicy(integ.Settings["investigate"]) // validated when written
	return p
}

package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/kb/library"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/webhook"
)

// page is the shape of every list response.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func newPage[T any](items []T, next string) page[T] {
	p := page[T]{Items: items}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

// listParams parses the query parameters lists share.
type listParams struct {
	q      url.Values
	limit  int
	cursor *storage.Cursor
	since  time.Time
	until  time.Time
}

func parseList(w http.ResponseWriter, r *http.Request, allowed ...string) (*listParams, bool) {
	q := r.URL.Query()
	known := append([]string{"limit", "cursor", "since", "until", "token", "access_token"}, allowed...)
	for k := range q {
		if !slices.Contains(known, k) {
			writeError(w, CodeBadRequest, fmt.Sprintf("unknown query parameter %q (known: %s)", k, strings.Join(known[:4], ", ")+", "+strings.Join(allowed, ", ")))
			return nil, false
		}
	}
	p := &listParams{q: q, limit: 50}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeError(w, CodeBadRequest, "limit must be an integer from 1 to 500")
			return nil, false
		}
		p.limit = n
	}
	var err error
	if p.cursor, err = storage.DecodeCursor(q.Get("cursor")); err != nil {
		writeError(w, CodeBadRequest, "cursor is not one this API returned")
		return nil, false
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"since", &p.since}, {"until", &p.until}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeError(w, CodeBadRequest, f.name+" must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z")
				return nil, false
			}
			*f.dst = t
		}
	}
	return p, true
}

// multi reads a comma-separated (or repeated) parameter and checks values.
func multi(w http.ResponseWriter, q url.Values, name string, valid []string) ([]string, bool) {
	var out []string
	for _, v := range q[name] {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x == "" {
				continue
			}
			if !slices.Contains(valid, x) {
				writeError(w, CodeBadRequest, fmt.Sprintf("%s %q is not one of %s", name, x, strings.Join(valid, ", ")))
				return nil, false
			}
			out = append(out, x)
		}
	}
	return out, true
}

var (
	incidentStatuses = []string{storage.IncidentOpen, storage.IncidentAcknowledged, storage.IncidentResolved}
	severities       = []string{"critical", "high", "warning", "info", "unknown"}
	alertStatuses    = []string{"firing", "resolved"}
)

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) {
	p, ok := parseList(w, r, "status", "severity", "service", "q")
	if !ok {
		return
	}
	st, ok := multi(w, p.q, "status", incidentStatuses)
	if !ok {
		return
	}
	sev, ok := multi(w, p.q, "severity", severities)
	if !ok {
		return
	}
	items, next, err := s.Store.ListIncidents(r.Context(), principal(r).OrgID, storage.IncidentFilter{
		Status: st, Severity: sev, Service: p.q.Get("service"), Query: p.q.Get("q"), Since: p.since, Until: p.until, Limit: p.limit, Cursor: p.cursor})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPage(items, next))
}

// incidentDetail is GET /incidents/{id}.
type incidentDetail struct {
	storage.Incident
	Alerts         []storage.Alert         `json:"alerts"`
	Timeline       []storage.TimelineEvent `json:"timeline"`
	Investigations []storage.Investigation `json:"investigations"`
	Latest         *investigationView      `json:"latest_investigation"`
	// SimilarIncidents are helpful past incidents like this one.
	SimilarIncidents []library.Similar `json:"similar_incidents"`
}

// investigationView is an investigation with what its language model
// used so far (llm_usage: null when no model was called).
type investigationView struct {
	storage.Investigation
	LLMUsage *storage.LLMUsage `json:"llm_usage"`
}

func (s *Server) investigationView(r *http.Request, v storage.Investigation) (*investigationView, error) {
	u, err := s.Store.InvestigationLLMUsage(r.Context(), v.OrgID, v.ID)
	return &investigationView{Investigation: v, LLMUsage: u}, err
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) {
	org, id := principal(r).OrgID, r.PathValue("id")
	inc, err := s.Store.GetIncident(r.Context(), org, id)
	if err != nil {
		s.storeError(w, r, err, "incident "+id)
		return
	}
	d := incidentDetail{Incident: inc}
	if d.Alerts, err = s.Store.IncidentAlerts(r.Context(), org, id); err == nil {
		if d.Timeline, err = s.Store.Timeline(r.Context(), org, id); err == nil {
			d.Investigations, err = s.Store.IncidentInvestigations(r.Context(), org, id)
		}
	}
	if err == nil && inc.Investigation != nil {
		var v storage.Investigation
		if v, err = s.Store.GetInvestigation(r.Context(), org, inc.Investigation.ID); err == nil {
			d.Latest, err = s.investigationView(r, v)
		}
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	d.SimilarIncidents = s.similarIncidents(r, inc)
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) patchIncident(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Status string `json:"status"`
	}
	if !readJSON(w, r, apiBodyLimit, &body) {
		return
	}
	if !slices.Contains(incidentStatuses, body.Status) {
		writeError(w, CodeInvalidPayload, "status must be one of open, acknowledged, resolved")
		return
	}
	p := principal(r)
	inc, err := s.Incidents.SetStatus(r.Context(), p.OrgID, r.PathValue("id"), body.Status, p.Name)
	if errors.Is(err, incident.ErrBadTransition) {
		writeError(w, CodeConflict, err.Error())
		return
	}
	if err != nil {
		s.storeError(w, r, err, "incident")
		return
	}
	writeJSON(w, http.StatusOK, inc)
}

func (s *Server) reinvestigate(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	inc, err := s.Incidents.Reinvestigate(r.Context(), p.OrgID, r.PathValue("id"), p.Name)
	if err != nil {
		s.storeError(w, r, err, "incident")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"incident_id": inc.ID, "investigation": inc.Investigation})
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	p, ok := parseList(w, r, "status", "severity", "source", "service", "incident_id")
	if !ok {
		return
	}
	st, ok := multi(w, p.q, "status", alertStatuses)
	if !ok {
		return
	}
	sev, ok := multi(w, p.q, "severity", severities)
	if !ok {
		return
	}
	items, next, err := s.Store.ListAlerts(r.Context(), principal(r).OrgID, storage.AlertFilter{Status: st, Severity: sev, Source: p.q.Get("source"),
		Service: p.q.Get("service"), IncidentID: p.q.Get("incident_id"), Since: p.since, Until: p.until, Limit: p.limit, Cursor: p.cursor})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPage(items, next))
}

func (s *Server) getInvestigation(w http.ResponseWriter, r *http.Request) {
	v, err := s.Store.GetInvestigation(r.Context(), principal(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err, "investigation")
		return
	}
	view, err := s.investigationView(r, v)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// ---------------------------------------------------------------- integrations

type integrationView struct {
	storage.Integration
	WebhookURL   string `json:"webhook_url"`
	HasSecret    bool   `json:"has_signing_secret"`
	Token        string `json:"token,omitempty"`
	URLWithToken string `json:"webhook_url_with_token,omitempty"`
	// Warnings name insecure settings of this integration.
	Warnings []string `json:"warnings,omitempty"`
}

func (s *Server) view(in storage.Integration) integrationView {
	v := integrationView{Integration: in, WebhookURL: s.PublicURL + "/webhooks/" + in.Source, HasSecret: in.SecretRef != ""}
	if in.Source == "cloudwatch" && !snsVerifySignatures(&in) {
		v.Warnings = append(v.Warnings, "insecure: SNS signatures are not verified (settings.verify_signatures=false)")
	}
	if in.Source == "pagerduty" && in.SecretRef == "" {
		v.Warnings = append(v.Warnings, "no signing secret: PagerDuty deliveries are refused until signing_secret is set")
	}
	return v
}

func (s *Server) withToken(v integrationView, tok string) integrationView {
	v.Token = tok
	v.URLWithToken = v.WebhookURL + "?token=" + url.QueryEscape(tok)
	return v
}

func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.ListIntegrations(r.Context(), principal(r).OrgID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := make([]integrationView, 0, len(list))
	for _, in := range list {
		out = append(out, s.view(in))
	}
	writeJSON(w, http.StatusOK, newPage(out, ""))
}

func (s *Server) getIntegration(w http.ResponseWriter, r *http.Request) {
	in, err := s.Store.GetIntegration(r.Context(), principal(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err, "integration")
		return
	}
	writeJSON(w, http.StatusOK, s.view(in))
}

// IntegrationInput is the body of POST /integrations.
type IntegrationInput struct {
	Source        string         `json:"source"`
	Name          string         `json:"name"`
	SigningSecret string         `json:"signing_secret,omitempty"`
	Settings      map[string]any `json:"settings,omitempty"`
}

func validName(n string) error {
	if n = strings.TrimSpace(n); n == "" || len(n) > 100 {
		return errors.New("name must be 1 to 100 characters")
	}
	return nil
}

// CreateIntegration validates and stores an integration, returning its token
// (shown only once). The CLI uses it too.
func CreateIntegration(r *http.Request, s *Server, orgID string, in IntegrationInput) (integrationView, error) {
	if err := validateSettings(in.Source, in.Settings); err != nil {
		return integrationView{}, err
	}
	tok := auth.NewToken(auth.IntegrationTokenPrefix)
	rec := storage.Integration{OrgID: orgID, Source: in.Source, Name: strings.TrimSpace(in.Name), Settings: in.Settings}
	if in.SigningSecret != "" {
		ref, err := s.Secrets.Put(r.Context(), orgID, "integration:"+in.Source+":"+rec.Name, []byte(in.SigningSecret))
		if err != nil {
			return integrationView{}, err
		}
		rec.SecretRef = ref
	}
	out, err := s.Store.CreateIntegration(r.Context(), rec, auth.HashToken(tok))
	if err != nil {
		if rec.SecretRef != "" {
			_ = s.Secrets.Delete(r.Context(), orgID, rec.SecretRef)
		}
		return integrationView{}, err
	}
	return s.withToken(s.view(out), tok), nil
}

func (s *Server) createIntegration(w http.ResponseWriter, r *http.Request) {
	var in IntegrationInput
	if !readJSON(w, r, apiBodyLimit, &in) {
		return
	}
	if !slices.Contains(webhook.Sources(), in.Source) {
		writeError(w, CodeInvalidPayload, fmt.Sprintf("source %q is not one of %s", in.Source, strings.Join(webhook.Sources(), ", ")))
		return
	}
	if err := validName(in.Name); err != nil {
		writeError(w, CodeInvalidPayload, err.Error())
		return
	}
	if err := validateSettings(in.Source, in.Settings); err != nil {
		writeError(w, CodeInvalidPayload, err.Error())
		return
	}
	v, err := CreateIntegration(r, s, principal(r).OrgID, in)
	if err != nil {
		s.storeError(w, r, err, "integration")
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) patchIntegration(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name          *string         `json:"name"`
		Settings      *map[string]any `json:"settings"`
		SigningSecret *string         `json:"signing_secret"`
	}
	if !readJSON(w, r, apiBodyLimit, &body) {
		return
	}
	org := principal(r).OrgID
	in, err := s.Store.GetIntegration(r.Context(), org, r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err, "integration")
		return
	}
	if body.Name != nil {
		if err := validName(*body.Name); err != nil {
			writeError(w, CodeInvalidPayload, err.Error())
			return
		}
		in.Name = strings.TrimSpace(*body.Name)
	}
	if body.Settings != nil {
		if err := validateSettings(in.Source, *body.Settings); err != nil {
			writeError(w, CodeInvalidPayload, err.Error())
			return
		}
		in.Settings = *body.Settings
	}
	oldRef := in.SecretRef
	if body.SigningSecret != nil {
		// Several secrets, separated by newlines or commas, are all accepted
		// while a sender rotates them; "" removes the secret.
		in.SecretRef = ""
		if *body.SigningSecret != "" {
			ref, err := s.Secrets.Put(r.Context(), org, "integration:"+in.Source+":"+in.Name, []byte(*body.SigningSecret))
			if err != nil {
				s.internalError(w, r, err)
				return
			}
			in.SecretRef = ref
		}
	}
	if err := s.Store.UpdateIntegration(r.Context(), in); err != nil {
		if in.SecretRef != oldRef && in.SecretRef != "" {
			_ = s.Secrets.Delete(r.Context(), org, in.SecretRef)
		}
		s.storeError(w, r, err, "integration")
		return
	}
	if in.SecretRef != oldRef && oldRef != "" {
		_ = s.Secrets.Delete(r.Context(), org, oldRef)
	}
	writeJSON(w, http.StatusOK, s.view(in))
}

func (s *Server) deleteIntegration(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.DisableIntegration(r.Context(), principal(r).OrgID, r.PathValue("id")); err != nil {
		s.storeError(w, r, err, "integration")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) rotateIntegrationToken(w http.ResponseWriter, r *http.Request) {
	org := principal(r).OrgID
	tok := auth.NewToken(auth.IntegrationTokenPrefix)
	if err := s.Store.RotateIntegrationToken(r.Context(), org, r.PathValue("id"), auth.HashToken(tok)); err != nil {
		s.storeError(w, r, err, "integration")
		return
	}
	in, err := s.Store.GetIntegration(r.Context(), org, r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err, "integration")
		return
	}
	writeJSON(w, http.StatusOK, s.withToken(s.view(in), tok))
}

// ---------------------------------------------------------------- tokens and users

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.ListAPITokens(r.Context(), principal(r).OrgID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPage(list, ""))
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if !readJSON(w, r, apiBodyLimit, &body) {
		return
	}
	role, err := auth.ParseRole(body.Role)
	if err != nil {
		writeError(w, CodeInvalidPayload, err.Error())
		return
	}
	if err := validName(body.Name); err != nil {
		writeError(w, CodeInvalidPayload, err.Error())
		return
	}
	tok := auth.NewToken(auth.APITokenPrefix)
	t, err := s.Store.CreateAPIToken(r.Context(), principal(r).OrgID, strings.TrimSpace(body.Name), string(role), auth.HashToken(tok))
	if err != nil {
		s.storeError(w, r, err, "token")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "id": t.ID, "name": t.Name, "role": t.Role, "created_at": t.CreatedAt})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.RevokeAPIToken(r.Context(), principal(r).OrgID, r.PathValue("id")); err != nil {
		s.storeError(w, r, err, "token")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.ListUsers(r.Context(), principal(r).OrgID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPage(list, ""))
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Email    string `json:"email"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if !readJSON(w, r, apiBodyLimit, &body) {
		return
	}
	role, err := auth.ParseRole(body.Role)
	if err != nil {
		writeError(w, CodeInvalidPayload, err.Error())
		return
	}
	if !strings.Contains(body.Email, "@") || len(body.Email) > 254 {
		writeError(w, CodeInvalidPayload, "email must be an email address")
		return
	}
	hash, err := auth.HashPassword(body.Password)
	if err != nil {
		writeError(w, CodeInvalidPayload, err.Error())
		return
	}
	u, err := s.Store.CreateUser(r.Context(), storage.User{OrgID: principal(r).OrgID, Email: strings.TrimSpace(body.Email), Role: string(role), PasswordHash: hash})
	if err != nil {
		s.storeError(w, r, err, "user")
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) listJobRuns(w http.ResponseWriter, r *http.Request) {
	runs, err := s.Store.ListJobRuns(r.Context(), principal(r).OrgID, 200)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPage(runs, ""))
}

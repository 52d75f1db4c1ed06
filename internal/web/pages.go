package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/webhook"
)

// statusTabs are the dashboard's status filters, in order.
var statusTabs = []struct{ Key, Label string }{
	{"active", "Active"}, {"open", "Open"}, {"acknowledged", "Acknowledged"}, {"resolved", "Resolved"}, {"all", "All"},
}

var severityOptions = []string{"critical", "high", "warning", "info", "unknown"}

type tab struct {
	Key, Label, URL string
	Count           int
	Current         bool
}

type dashboardData struct {
	Tabs       []tab
	Status     string
	Severity   string
	Service    string
	Query      string
	Severities []string
	Incidents  []storage.Incident
	// Verdicts of the listed incidents' latest reports, by investigation id.
	Verdicts   map[string]storage.Verdict
	More       string // URL of the next page
	Total      int
	Filtered   bool
	WebhookURL string
	PublicURL  string
	HasInteg   bool
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	last, err := h.o.Store.LastEventID(ctx, s.OrgID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	q := r.URL.Query()
	d := dashboardData{Status: q.Get("status"), Severity: q.Get("severity"), Service: strings.TrimSpace(q.Get("service")),
		Query: strings.TrimSpace(q.Get("q")), Severities: severityOptions, PublicURL: h.o.PublicURL, WebhookURL: h.o.PublicURL + "/webhooks/generic"}
	if !slices.ContainsFunc(statusTabs, func(t struct{ Key, Label string }) bool { return t.Key == d.Status }) {
		d.Status = "active"
	}
	if !slices.Contains(severityOptions, d.Severity) {
		d.Severity = ""
	}
	counts, err := h.o.Store.IncidentCounts(ctx, s.OrgID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, n := range counts {
		d.Total += n
	}
	for _, t := range statusTabs {
		n := counts[t.Key]
		switch t.Key {
		case "active":
			n = counts[storage.IncidentOpen] + counts[storage.IncidentAcknowledged]
		case "all":
			n = d.Total
		}
		v := url.Values{}
		v.Set("status", t.Key)
		for k, val := range map[string]string{"severity": d.Severity, "service": d.Service, "q": d.Query} {
			if val != "" {
				v.Set(k, val)
			}
		}
		d.Tabs = append(d.Tabs, tab{Key: t.Key, Label: t.Label, Count: n, Current: t.Key == d.Status, URL: "/?" + v.Encode()})
	}
	f := storage.IncidentFilter{Service: d.Service, Query: d.Query, Limit: 100}
	switch d.Status {
	case "active":
		f.Status = []string{storage.IncidentOpen, storage.IncidentAcknowledged}
	case "all":
	default:
		f.Status = []string{d.Status}
	}
	if d.Severity != "" {
		f.Severity = []string{d.Severity}
	}
	if f.Cursor, err = storage.DecodeCursor(q.Get("cursor")); err != nil {
		f.Cursor = nil
	}
	var next string
	d.Incidents, next, err = h.o.Store.ListIncidents(ctx, s.OrgID, f)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	ids := make([]string, 0, len(d.Incidents))
	for _, in := range d.Incidents {
		if in.Investigation != nil && in.Investigation.Status == storage.InvestigationCompleted {
			ids = append(ids, in.Investigation.ID)
		}
	}
	if d.Verdicts, err = h.o.Store.InvestigationVerdicts(ctx, s.OrgID, ids); err != nil {
		h.serverError(w, r, err)
		return
	}
	if next != "" {
		v := r.URL.Query()
		v.Set("cursor", next)
		d.More = "/?" + v.Encode()
	}
	d.Filtered = d.Severity != "" || d.Service != "" || d.Query != ""
	if d.Total == 0 {
		list, err := h.o.Store.ListIntegrations(ctx, s.OrgID)
		if err == nil {
			d.HasInteg = len(list) > 0
		}
	}
	h.render(w, r, http.StatusOK, "dashboard", page{Title: "Incidents", Nav: "incidents", Session: s, Data: d, LastEvent: last})
}

// report mirrors the investigator's report JSON (investigate.Report, schema
// version 1). It is decoded here rather than imported so the UI renders
// what is stored, whatever produced it.
type report struct {
	Version    int     `json:"version"`
	Verdict    string  `json:"verdict"`
	Confidence float64 `json:"confidence"`
	Summary    string  `json:"summary"`
	RootCause  *struct {
		Category string `json:"category"`
		Object   string `json:"object"`
		Summary  string `json:"summary"`
	} `json:"root_cause"`
	Findings []struct {
		Text      string `json:"text"`
		Citations []int  `json:"citations"`
	} `json:"findings"`
	Evidence []citation `json:"evidence"`
	Timeline []struct {
		At    time.Time `json:"at"`
		Event string    `json:"event"`
	} `json:"timeline"`
	Impact     string   `json:"impact"`
	RuledOut   []string `json:"ruled_out"`
	NotChecked []struct {
		Source string `json:"source"`
		Reason string `json:"reason"`
	} `json:"not_checked"`
	NextSteps []struct {
		Title   string `json:"title"`
		Command string `json:"command"`
		Risk    string `json:"risk"`
		Undo    string `json:"undo"`
	} `json:"next_steps"`
}

type citation struct {
	N       int    `json:"n"`
	StepSeq int    `json:"step_seq"`
	Tool    string `json:"tool"`
	Summary string `json:"summary"`
}

// reportView is a report with its text split at citations.
type reportView struct {
	*report
	SummaryText   []segment
	RootCauseText []segment
	ImpactText    []segment
	Findings      [][]segment
}

type incidentData struct {
	Incident       storage.Incident
	Alerts         []storage.Alert
	Timeline       []storage.TimelineEvent
	Investigations []storage.Investigation
	Latest         *storage.Investigation
	Report         *reportView
	ReportError    string
	Running        bool
	ChatAvailable  bool
	Chat           chatBox
}

// chatBox configures a chat panel.
type chatBox struct {
	Incident    string
	ChatURL     string
	Placeholder string
}

func (h *Handler) incident(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id := r.PathValue("id")
	last, err := h.o.Store.LastEventID(ctx, s.OrgID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	inc, err := h.o.Store.GetIncident(ctx, s.OrgID, id)
	if errors.Is(err, storage.ErrNotFound) {
		h.errorPage(w, r, s, http.StatusNotFound, "No incident "+id+" in your organisation.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d := incidentData{Incident: inc, ChatAvailable: h.chatAvailable(),
		Chat: chatBox{Incident: inc.ID, ChatURL: h.o.ChatURL, Placeholder: "Why did this fire? What changed?"}}
	if d.Alerts, err = h.o.Store.IncidentAlerts(ctx, s.OrgID, id); err == nil {
		if d.Timeline, err = h.o.Store.Timeline(ctx, s.OrgID, id); err == nil {
			d.Investigations, err = h.o.Store.IncidentInvestigations(ctx, s.OrgID, id)
		}
	}
	if err == nil && inc.Investigation != nil {
		var v storage.Investigation
		if v, err = h.o.Store.GetInvestigation(ctx, s.OrgID, inc.Investigation.ID); err == nil {
			d.Latest = &v
			d.Running = v.Status == storage.InvestigationQueued || v.Status == storage.InvestigationRunning
		}
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if d.Latest != nil && len(d.Latest.Report) > 0 && string(d.Latest.Report) != "null" {
		if d.Report, err = decodeReport(d.Latest.Report); err != nil {
			d.ReportError = "The stored report could not be read: " + err.Error()
		}
	}
	h.render(w, r, http.StatusOK, "incident", page{Title: inc.Title, Nav: "incidents", Session: s, Data: d, LastEvent: last})
}

// decodeReport reads a stored report for display.
func decodeReport(raw storage.RawJSON) (*reportView, error) {
	var rep report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, err
	}
	return viewReport(&rep), nil
}

func viewReport(rep *report) *reportView {
	cites := map[int]citation{}
	for _, c := range rep.Evidence {
		cites[c.N] = c
	}
	v := &reportView{report: rep, SummaryText: cite(rep.Summary, nil, cites), ImpactText: cite(rep.Impact, nil, cites)}
	if rep.RootCause != nil {
		v.RootCauseText = cite(rep.RootCause.Summary, nil, cites)
	}
	for _, f := range rep.Findings {
		v.Findings = append(v.Findings, cite(f.Text, f.Citations, cites))
	}
	return v
}

// chatAvailable reports whether this build serves chat: the API issues
// chat tokens (docs/chat-protocol.md).
func (h *Handler) chatAvailable() bool { return h.hasRoute("POST /api/v1/chat/token") }

func (h *Handler) chat(w http.ResponseWriter, r *http.Request, s *session) {
	h.render(w, r, http.StatusOK, "chat", page{Title: "Chat", Nav: "chat", Session: s, Data: map[string]any{"Available": h.chatAvailable(),
		"Chat": chatBox{ChatURL: h.o.ChatURL, Placeholder: "Ask about your systems: what is wrong with shop/checkout?"}}})
}

type integrationRow struct {
	storage.Integration
	WebhookURL string
}

type integrationsData struct {
	Integrations []integrationRow
	Sources      []string
	PublicURL    string
	Toolsets     bool
	LLM          bool
}

func (h *Handler) integrations(w http.ResponseWriter, r *http.Request, s *session) {
	list, err := h.o.Store.ListIntegrations(r.Context(), s.OrgID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d := integrationsData{Sources: webhook.Sources(), PublicURL: h.o.PublicURL,
		Toolsets: h.hasRoute("GET /api/v1/toolsets/{name}"), LLM: h.hasRoute("GET /api/v1/llm")}
	for _, in := range list {
		d.Integrations = append(d.Integrations, integrationRow{Integration: in, WebhookURL: h.o.PublicURL + "/webhooks/" + in.Source})
	}
	h.render(w, r, http.StatusOK, "integrations", page{Title: "Integrations", Nav: "integrations", Session: s, Data: d})
}

type adminData struct {
	Users  []storage.User
	Tokens []storage.APIToken
}

func (h *Handler) admin(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.Admin() {
		h.errorPage(w, r, s, http.StatusForbidden, "Only admins manage users and API tokens; your role is "+string(s.Role)+".")
		return
	}
	var d adminData
	var err error
	if d.Users, err = h.o.Store.ListUsers(r.Context(), s.OrgID); err == nil {
		d.Tokens, err = h.o.Store.ListAPITokens(r.Context(), s.OrgID)
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "admin", page{Title: "Users and tokens", Nav: "admin", Session: s, Data: d})
}

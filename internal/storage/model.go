package storage

import (
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// Incident statuses.
const (
	IncidentOpen         = "open"
	IncidentAcknowledged = "acknowledged"
	IncidentResolved     = "resolved"
)

// Investigation statuses: queued → running → completed | failed | cancelled.
const (
	InvestigationQueued    = "queued"
	InvestigationRunning   = "running"
	InvestigationCompleted = "completed"
	InvestigationFailed    = "failed"
	InvestigationCancelled = "cancelled"
)

// Step statuses.
const (
	StepRunning   = "running"
	StepCompleted = "completed"
	StepFailed    = "failed"
)

// Org is a tenant. Every other row belongs to one.
type Org struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// User is a person who signs in.
type User struct {
	ID           string    `json:"id"`
	OrgID        string    `json:"org_id"`
	Email        string    `json:"email"`
	Role         string    `json:"role"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// APIToken is a bearer token for the API; only its hash is stored.
type APIToken struct {
	ID         string     `json:"id"`
	OrgID      string     `json:"org_id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Integration is one webhook sender with its own token.
type Integration struct {
	ID         string         `json:"id"`
	OrgID      string         `json:"org_id"`
	Source     string         `json:"source"`
	Name       string         `json:"name"`
	SecretRef  string         `json:"-"`
	Settings   map[string]any `json:"settings"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
	DisabledAt *time.Time     `json:"disabled_at,omitempty"`
}

// InvestigationRef is the short form of an investigation embedded in lists.
type InvestigationRef struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// Incident groups correlated alerts.
type Incident struct {
	ID              string            `json:"id"`
	OrgID           string            `json:"org_id"`
	Status          string            `json:"status"`
	Severity        string            `json:"severity"`
	Title           string            `json:"title"`
	Service         string            `json:"service"`
	Namespace       string            `json:"namespace"`
	AlertName       string            `json:"alert_name"`
	GroupKey        string            `json:"-"`
	CorrelationRule string            `json:"correlation_rule"`
	AlertCount      int               `json:"alert_count"`
	FiringCount     int               `json:"firing_count"`
	Investigation   *InvestigationRef `json:"investigation"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	LastAlertAt     time.Time         `json:"last_alert_at"`
	AcknowledgedAt  *time.Time        `json:"acknowledged_at,omitempty"`
	ResolvedAt      *time.Time        `json:"resolved_at,omitempty"`
}

// Alert is one stored firing episode of (org, source, fingerprint).
type Alert struct {
	ID                string            `json:"id"`
	OrgID             string            `json:"org_id"`
	Source            string            `json:"source"`
	IntegrationID     string            `json:"integration_id,omitempty"`
	Fingerprint       string            `json:"fingerprint"`
	Status            string            `json:"status"`
	Severity          string            `json:"severity"`
	Name              string            `json:"name"`
	Title             string            `json:"title"`
	Description       string            `json:"description"`
	Service           string            `json:"service"`
	Environment       string            `json:"environment"`
	Namespace         string            `json:"namespace"`
	Labels            map[string]string `json:"labels"`
	Annotations       map[string]string `json:"annotations"`
	Links             []alert.Link      `json:"links"`
	StartsAt          time.Time         `json:"starts_at"`
	EndsAt            *time.Time        `json:"ends_at,omitempty"`
	FirstReceivedAt   time.Time         `json:"first_received_at"`
	LastReceivedAt    time.Time         `json:"last_received_at"`
	ReceivedCount     int               `json:"received_count"`
	IncidentID        string            `json:"incident_id,omitempty"`
	RawPayloadID      string            `json:"raw_payload_id,omitempty"`
	CorrelationRule   string            `json:"correlation_rule"`
	CorrelationReason string            `json:"correlation_reason"`

	// enc holds Labels, Annotations and Links encoded, once: intake writes
	// each alert twice (its row and its alert.received event). On SQLite
	// the caller encodes them ahead (SetEncoded), since encoding inside the
	// single writer's transaction holds up every other delivery.
	enc *AlertFields
}

// AlertFields are an alert's labels, annotations and links as JSON.
type AlertFields struct{ Labels, Annotations, Links string }

// EncodeAlertFields encodes an alert's labels, annotations and links, as
// stored: none is {} or [], never null.
func EncodeAlertFields(labels, annotations map[string]string, links []alert.Link) *AlertFields {
	f := &AlertFields{Labels: "{}", Annotations: "{}", Links: "[]"}
	if len(labels) > 0 {
		f.Labels = string(appendJSONStringMap(nil, labels))
	}
	if len(annotations) > 0 {
		f.Annotations = string(appendJSONStringMap(nil, annotations))
	}
	if len(links) > 0 {
		f.Links = string(appendJSONLinks(nil, links))
	}
	return f
}

// SetEncoded records f as the encoding of a's labels, annotations and
// links, which must not change afterwards.
func (a *Alert) SetEncoded(f *AlertFields) { a.enc = f }

// fields returns the alert's labels, annotations and links as JSON,
// encoding them on first use (the row and the event share one encoding).
func (a *Alert) fields() *AlertFields {
	if a.enc == nil {
		a.enc = EncodeAlertFields(a.Labels, a.Annotations, a.Links)
	}
	return a.enc
}

// TimelineEvent is one change in an incident's life.
type TimelineEvent struct {
	ID         string         `json:"id"`
	IncidentID string         `json:"incident_id"`
	At         time.Time      `json:"at"`
	Kind       string         `json:"kind"`
	Message    string         `json:"message"`
	Data       map[string]any `json:"data,omitempty"`
}

// Investigation is one run of the investigator over an incident.
type Investigation struct {
	ID         string `json:"id"`
	OrgID      string `json:"org_id"`
	IncidentID string `json:"incident_id"`
	Status     string `json:"status"`
	Trigger    string `json:"trigger"`
	Attempts   int    `json:"attempts"`
	// RateLimited is set while the org's investigation rate limit holds the
	// investigation back; it starts at ScheduledAt.
	RateLimited bool       `json:"rate_limited"`
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
	Error       string     `json:"error,omitempty"`
	Report      RawJSON    `json:"report"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Steps       []Step     `json:"steps"`
}

// Step is one persisted unit of investigation work; its output is evidence.
type Step struct {
	ID              string     `json:"id"`
	InvestigationID string     `json:"investigation_id"`
	Seq             int        `json:"seq"`
	Kind            string     `json:"kind"`
	Tool            string     `json:"tool,omitempty"`
	Input           RawJSON    `json:"input"`
	Output          RawJSON    `json:"output"`
	Status          string     `json:"status"`
	Error           string     `json:"error,omitempty"`
	StartedAt       time.Time  `json:"started_at"`
	FinishedAt      *time.Time `json:"finished_at,omitempty"`
}

// Event is one entry of the live event stream (SSE).
type Event struct {
	ID        int64     `json:"id"`
	OrgID     string    `json:"org_id"`
	Type      string    `json:"type"`
	Data      RawJSON   `json:"data"`
	CreatedAt time.Time `json:"created_at"`
}

// RawJSON is stored JSON passed through untouched; it encodes as null when empty.
type RawJSON []byte

// MarshalJSON implements json.Marshaler.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *RawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// Package alert holds the normalised alert every webhook source is turned
// into, and the small rules shared by all sources (severity names, service
// and fingerprint derivation).
package alert

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Status is the state of one alert as its sender reports it.
type Status string

// Alert statuses.
const (
	StatusFiring   Status = "firing"
	StatusResolved Status = "resolved"
)

// Severity is Aurora's common severity scale; every source maps onto it.
type Severity string

// Severities, from most to least urgent.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
	SeverityUnknown  Severity = "unknown"
)

// Rank orders severities: higher is more urgent.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 0
	default:
		return 1 // unknown sits above info: it may be anything
	}
}

// Valid reports whether s is one of the known severities.
func (s Severity) Valid() bool {
	switch s {
	case SeverityCritical, SeverityHigh, SeverityWarning, SeverityInfo, SeverityUnknown:
		return true
	}
	return false
}

// Action is what a sender reports besides firing or resolving: people
// acting on the alert in the sending tool. Status still says whether the
// alert fires.
type Action string

// Actions.
const (
	ActionNone          Action = ""              // a plain firing or resolved notification
	ActionAcknowledge   Action = "acknowledge"   // someone acknowledged it at the sender
	ActionUnacknowledge Action = "unacknowledge" // acknowledgement withdrawn (e.g. escalated, reopened)
	ActionNote          Action = "note"          // a note or annotation; no status change
)

// Link is a URL a sender attached to an alert (generator, runbook, dashboard…).
type Link struct {
	Text string `json:"text,omitempty"`
	URL  string `json:"url"`
}

// Alert is one alert as a sender described it, normalised. It is what parsers
// return; storage adds ids, episodes and incident membership.
type Alert struct {
	Source      string            `json:"source"`
	Fingerprint string            `json:"fingerprint"`
	Status      Status            `json:"status"`
	Severity    Severity          `json:"severity"`
	Name        string            `json:"name"` // alertname (or the title when a source has none); used by correlation
	Title       string            `json:"title"`
	Description string            `json:"description,omitempty"`
	Service     string            `json:"service,omitempty"`
	Environment string            `json:"environment,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    time.Time         `json:"starts_at"`
	EndsAt      time.Time         `json:"ends_at,omitzero"`
	Links       []Link            `json:"links,omitempty"`
	// Action, when set, is applied to the alert's incident (see Action).
	Action Action `json:"action,omitempty"`
	// Actor names who acted at the sender (for the timeline), when known.
	Actor string `json:"actor,omitempty"`
	// Note is the text of an ActionNote, or a short description of the
	// sender's event for the timeline.
	Note string `json:"note,omitempty"`
}

// ServiceLabels are the labels that name a service, in order of preference.
var ServiceLabels = []string{"service", "app", "app_kubernetes_io_name", "job", "container"}

// ServiceFromLabels returns the first present service-naming label.
func ServiceFromLabels(labels map[string]string) string {
	for _, k := range ServiceLabels {
		if v := strings.TrimSpace(labels[k]); v != "" {
			return v
		}
	}
	return ""
}

// ParseSeverity maps the many spellings senders use onto Aurora's scale.
func ParseSeverity(s string) Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "crit", "fatal", "emergency", "emerg", "alert", "page", "disaster", "p1", "sev1", "sev-1", "sev0", "p0":
		return SeverityCritical
	case "high", "error", "err", "major", "p2", "sev2", "sev-2":
		return SeverityHigh
	case "warning", "warn", "minor", "medium", "average", "p3", "sev3", "sev-3":
		return SeverityWarning
	case "info", "informational", "information", "low", "notice", "none", "debug", "ok", "p4", "p5", "sev4", "sev5":
		return SeverityInfo
	}
	return SeverityUnknown
}

// Fingerprint computes the same fingerprint Alertmanager computes for a label
// set (FNV-64a over sorted names and values, each followed by 0xff), so an
// older Alertmanager that omits the field and a newer one that sends it key
// the same alert identically.
func Fingerprint(labels map[string]string) string {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
		sep      = 0xff
	)
	names := slices.Sorted(maps.Keys(labels))
	h := uint64(offset64)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime64
		}
	}
	for _, n := range names {
		add(n)
		h ^= sep
		h *= prime64
		add(labels[n])
		h ^= sep
		h *= prime64
	}
	const hexdigits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = hexdigits[h&0xf]
		h >>= 4
	}
	return string(b[:])
}

// Package incident turns normalised alerts into stored alert episodes and
// incidents: de-duplication by fingerprint, correlation by rules, reopening,
// resolution, timeline, and the investigation each new incident needs.
package incident

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// Rule groups alerts into one incident when all GroupBy fields are equal and
// the incident's latest alert is younger than Window. Match, when set, limits
// the rule to alerts whose fields equal the given values. The first matching
// rule decides.
type Rule struct {
	Name    string            `json:"name"`
	Match   map[string]string `json:"match,omitempty"`
	GroupBy []string          `json:"group_by"`
	Window  time.Duration     `json:"-"`
	// WindowText is the JSON form of Window ("30m").
	WindowText string `json:"window"`
}

// DefaultRules is the rule used when none is configured: same alertname, same
// service and same namespace (absent matches only absent) within 30 minutes.
func DefaultRules(window time.Duration) []Rule {
	return []Rule{{Name: "default", GroupBy: []string{"alertname", "service", "namespace"}, Window: window, WindowText: window.String()}}
}

// ParseRules reads rules from JSON, e.g.
// [{"name":"db","match":{"label:team":"db"},"group_by":["service"],"window":"1h"}].
// Fields: alertname, service, namespace, environment, source, severity, and
// label:<name>. A rule without window uses def.
func ParseRules(s string, def time.Duration) ([]Rule, error) {
	var rules []Rule
	if err := json.Unmarshal([]byte(s), &rules); err != nil {
		return nil, fmt.Errorf("rules must be a JSON array of {name, match, group_by, window}: %w", err)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("no rules given")
	}
	seen := map[string]bool{}
	for i := range rules {
		r := &rules[i]
		if r.Name == "" || seen[r.Name] {
			return nil, fmt.Errorf("rule %d: name must be set and unique", i)
		}
		seen[r.Name] = true
		if len(r.GroupBy) == 0 {
			return nil, fmt.Errorf("rule %s: group_by must list at least one field", r.Name)
		}
		for _, f := range append(append([]string{}, r.GroupBy...), slices.Sorted(maps.Keys(r.Match))...) {
			if !validField(f) {
				return nil, fmt.Errorf("rule %s: unknown field %q (want alertname, service, namespace, environment, source, severity or label:<name>)", r.Name, f)
			}
		}
		r.Window = def
		if r.WindowText != "" {
			d, err := time.ParseDuration(r.WindowText)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("rule %s: window %q is not a positive duration", r.Name, r.WindowText)
			}
			r.Window = d
		}
	}
	return rules, nil
}

func validField(f string) bool {
	switch f {
	case "alertname", "service", "namespace", "environment", "source", "severity":
		return true
	}
	return strings.HasPrefix(f, "label:") && len(f) > len("label:")
}

func field(a *alert.Alert, f string) string {
	switch f {
	case "alertname":
		return a.Name
	case "service":
		return a.Service
	case "namespace":
		return a.Namespace
	case "environment":
		return a.Environment
	case "source":
		return a.Source
	case "severity":
		return string(a.Severity)
	}
	return a.Labels[strings.TrimPrefix(f, "label:")]
}

// match is the decision of a rule for one alert.
type match struct {
	rule     *Rule
	groupKey string
	values   []string // field=value pairs for the reason text
}

// selectRule finds the first rule that applies to the alert and computes the
// alert's group key under it. Alerts no configured rule matches get a key of
// their own fingerprint, so they never merge with anything.
func selectRule(rules []Rule, a *alert.Alert) match {
	for i := range rules {
		r := &rules[i]
		ok := true
		for k, v := range r.Match {
			if field(a, k) != v {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		var b strings.Builder
		b.WriteString(r.Name)
		vals := make([]string, 0, len(r.GroupBy))
		for _, f := range r.GroupBy {
			v := field(a, f)
			// A NUL separator and an explicit absent marker keep "" apart from
			// any real value and fields from running into each other.
			b.WriteByte(0)
			if v == "" {
				b.WriteString("\x01absent")
				vals = append(vals, f+"=(absent)")
			} else {
				b.WriteString(v)
				vals = append(vals, f+"="+v)
			}
		}
		return match{rule: r, groupKey: hashKey(b.String()), values: vals}
	}
	return match{rule: &Rule{Name: "none"}, groupKey: hashKey("none\x00" + a.Source + "\x00" + a.Fingerprint), values: []string{"fingerprint=" + a.Fingerprint}}
}

func hashKey(s string) string {
	h := fnv.New128a()
	h.Write([]byte(s))
	return fmt.Sprintf("%x", h.Sum(nil))
}

func lockKey(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return int64(h.Sum64())
}

// Package bundle reads evidence bundles: a directory holding the alert
// (alert.json, any payload a webhook accepts) or a question (question.txt),
// and evidence/*.txt files whose first line is a JSON header naming the tool
// and its arguments, the rest being the tool's raw output. Bundles drive
// offline investigations, replays, support bundles and Aurora's RCA tests.
package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/analyze"
	"github.com/aurora-oss/aurora/internal/webhook"
)

// Bundle is a loaded bundle.
type Bundle struct {
	Dir      string
	Alert    *alert.Alert // nil for a question bundle
	Question string
	Items    []analyze.Item
}

// Header is the first line of an evidence file.
type Header struct {
	Tool string         `json:"tool"`
	Args map[string]any `json:"args,omitempty"`
}

// MaxEvidenceBytes bounds one evidence file.
const MaxEvidenceBytes = 8 << 20

// Load reads a bundle directory.
func Load(dir string) (*Bundle, error) {
	b := &Bundle{Dir: dir}
	if raw, err := os.ReadFile(filepath.Join(dir, "alert.json")); err == nil {
		a, err := ParseAlert(raw, time.Now())
		if err != nil {
			return nil, fmt.Errorf("bundle %s: alert.json: %w", dir, err)
		}
		b.Alert = a
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("bundle %s: %w", dir, err)
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "question.txt")); err == nil {
		b.Question = strings.TrimSpace(string(raw))
	}
	if b.Alert == nil && b.Question == "" {
		return nil, fmt.Errorf("bundle %s: needs alert.json or question.txt", dir)
	}
	files, err := filepath.Glob(filepath.Join(dir, "evidence", "*.txt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		it, err := readEvidence(f)
		if err != nil {
			return nil, fmt.Errorf("bundle %s: %w", dir, err)
		}
		it.ID = len(b.Items) + 1
		b.Items = append(b.Items, it)
	}
	return b, nil
}

func readEvidence(path string) (analyze.Item, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return analyze.Item{}, err
	}
	if len(raw) > MaxEvidenceBytes {
		return analyze.Item{}, fmt.Errorf("%s: over %d bytes", filepath.Base(path), MaxEvidenceBytes)
	}
	first, rest, _ := bytes.Cut(raw, []byte("\n"))
	var h Header
	if err := json.Unmarshal(bytes.TrimSpace(first), &h); err != nil || h.Tool == "" {
		return analyze.Item{}, fmt.Errorf("%s: first line must be a JSON header {\"tool\":…,\"args\":{…}}", filepath.Base(path))
	}
	return analyze.Item{Tool: h.Tool, Args: h.Args, Output: string(rest)}, nil
}

// ParseAlert reads any payload a webhook accepts — its source detected from
// its shape, or named by a wrapper {"source": "pagerduty", "payload": {…}} —
// or a normalised alert, and returns the first alert it describes.
func ParseAlert(raw []byte, now time.Time) (*alert.Alert, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	source := ""
	if s, ok := probe["source"]; ok && probe["payload"] != nil {
		_ = json.Unmarshal(s, &source)
		raw = probe["payload"]
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("payload: %w", err)
		}
	}
	if source == "" {
		source = detect(probe)
	}
	if source == "normalised" {
		var a alert.Alert
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, err
		}
		return &a, nil
	}
	alerts, err := webhook.Parse(source, raw, now)
	if err != nil {
		return nil, fmt.Errorf("as %s: %w", source, err)
	}
	return &alerts[0], nil
}

func has(m map[string]json.RawMessage, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// detect guesses a payload's source from its shape.
func detect(m map[string]json.RawMessage) string {
	switch {
	case has(m, "fingerprint", "status", "source", "severity"):
		return "normalised"
	case has(m, "alerts") && (has(m, "orgId") || has(m, "state") && has(m, "title")):
		return "grafana"
	case has(m, "alerts") && (has(m, "receiver") || has(m, "groupKey") || has(m, "version")):
		return "alertmanager"
	case has(m, "event") && bytes.Contains(m["event"], []byte(`"event_type"`)):
		return "pagerduty"
	case has(m, "action", "alert"):
		return "opsgenie"
	case has(m, "issueUrl") || has(m, "alertPolicyNames"):
		return "newrelic"
	case has(m, "TopicArn") || has(m, "Records"):
		return "cloudwatch"
	case has(m, "alert_id") || has(m, "transition") || has(m, "event_type", "title", "body"):
		return "datadog"
	}
	return "generic"
}

package webhook

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aurora-oss/aurora/internal/alert"
)

// Limits on what one payload may carry. Bodies come from outside, so every
// size that ends up stored or shown is bounded here, whatever the API's body
// size limit.
const (
	// MaxAlerts is the most alerts one payload may carry.
	MaxAlerts = 1000
	// MaxKeyBytes bounds label and annotation names and fingerprints.
	MaxKeyBytes = 256
	// MaxValueBytes bounds label and annotation values.
	MaxValueBytes = 16 << 10
	// MaxTitleRunes is where titles are cut.
	MaxTitleRunes = 512
	// MaxDescriptionBytes is where descriptions are cut.
	MaxDescriptionBytes = 16 << 10
)

// stringMap reads a label or annotation object. Empty values are dropped, as
// Prometheus treats an empty label as an absent one; over-long names or
// values are rejected rather than cut, since a cut label would silently
// change the alert's identity. With scalars, numbers and booleans are taken
// in their JSON text form (hand-written senders write {"port": 8080}).
func stringMap(o object, key string, scalars bool) (map[string]string, error) {
	sub, ok, err := o.obj(key)
	if err != nil || !ok {
		return nil, err
	}
	// Sorted so that, of several bad entries, the same one is reported each time.
	names := make([]string, 0, len(sub.m))
	for k := range sub.m {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make(map[string]string, len(names))
	for _, k := range names {
		p := sub.path + "[" + strconv.Quote(short(k)) + "]"
		if err := noNUL(p, k); err != nil {
			return nil, err
		}
		if strings.TrimSpace(k) == "" {
			return nil, invalidf("%s: name must not be empty", p)
		}
		if len(k) > MaxKeyBytes {
			return nil, invalidf("%s: name is %d bytes, at most %d", p, len(k), MaxKeyBytes)
		}
		var s string
		switch v := sub.m[k].(type) {
		case nil:
		case string:
			s = v
		case json.Number:
			if !scalars {
				return nil, invalidf("%s: must be a string, got number", p)
			}
			s = v.String()
		case bool:
			if !scalars {
				return nil, invalidf("%s: must be a string, got boolean", p)
			}
			s = strconv.FormatBool(v)
		default:
			return nil, invalidf("%s: must be a string, got %s", p, kind(v))
		}
		if len(s) > MaxValueBytes {
			return nil, invalidf("%s: value is %d bytes, at most %d", p, len(s), MaxValueBytes)
		}
		if err := noNUL(p, s); err != nil {
			return nil, err
		}
		if s != "" {
			out[k] = s
		}
	}
	return out, nil
}

// status reads an alert status; absent or "" is "" so the caller can apply
// its default. Case and surrounding space are forgiven.
func status(o object, key string) (alert.Status, error) {
	s, err := o.str(key)
	if err != nil {
		return "", err
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		// Senders that serialise an unset field write "", not null.
		return "", nil
	case "firing":
		return alert.StatusFiring, nil
	case "resolved":
		return alert.StatusResolved, nil
	}
	return "", invalidf("%s: must be firing or resolved, got %q", o.at(key), short(s))
}

// fingerprint reads a sender's fingerprint; "" means compute one.
func fingerprint(o object, key string) (string, error) {
	s, err := o.str(key)
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if len(s) > MaxKeyBytes {
		return "", invalidf("%s: is %d bytes, at most %d", o.at(key), len(s), MaxKeyBytes)
	}
	return s, nil
}

// severityFrom returns the first of the candidate spellings Aurora
// recognises, so an unrecognised label does not hide a usable fallback.
func severityFrom(candidates ...string) alert.Severity {
	for _, c := range candidates {
		if s := alert.ParseSeverity(c); s != alert.SeverityUnknown {
			return s
		}
	}
	return alert.SeverityUnknown
}

// first returns the first candidate that is not blank.
func first(candidates ...string) string {
	for _, c := range candidates {
		if strings.TrimSpace(c) != "" {
			return c
		}
	}
	return ""
}

// environment reads the environment the way Prometheus rules tend to label it.
func environment(labels map[string]string) string {
	return strings.TrimSpace(first(labels["env"], labels["environment"]))
}

// links collects an alert's links, in the order added, once per URL.
type links []alert.Link

// add keeps url if it is an absolute http(s) URL within MaxValueBytes and
// reports whether it did. Anything else is refused because links end up as
// hrefs in the UI, where a javascript: URL would run.
func (l *links) add(text, raw string) bool {
	u := strings.TrimSpace(raw)
	if !validURL(u) {
		return false
	}
	for _, have := range *l {
		if have.URL == u {
			return true
		}
	}
	*l = append(*l, alert.Link{Text: text, URL: u})
	return true
}

func validURL(s string) bool {
	if s == "" || len(s) > MaxValueBytes {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// annotationLinks adds the links conventionally kept in annotations.
func (l *links) annotationLinks(annotations map[string]string) {
	for _, k := range []string{"runbook_url", "runbook"} {
		l.add("runbook", annotations[k])
	}
	for _, k := range []string{"dashboard_url", "grafana_url"} {
		l.add("dashboard", annotations[k])
	}
}

// truncateRunes cuts s to at most n runes, ending in "…" when it cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return s[:i] + "…"
}

// truncateBytes cuts s to at most n bytes on a rune boundary, ending in "…"
// when it cut.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

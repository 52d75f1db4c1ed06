package storage

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aurora-oss/aurora/internal/alert"
)

// Every stored alert is encoded twice per delivery (its labels, annotations
// and links for its row, the whole alert for its alert.received event), and
// encoding/json's reflection over those maps and structs was an eighth of
// the server's CPU under intake load. The encoders here write exactly the
// bytes json.Marshal writes for these types (TestAlertJSONMatchesMarshal and
// FuzzAlertJSON compare them); anything else still goes through
// encoding/json.

// appendJSONString appends s as encoding/json encodes a string: HTML
// characters, control characters, U+2028 and U+2029 escaped, invalid UTF-8
// replaced by U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONStringMap appends m as encoding/json encodes a map[string]string
// (keys sorted); nil is null.
func appendJSONStringMap(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		dst = appendJSONString(dst, m[k])
	}
	return append(dst, '}')
}

// appendJSONLinks appends links as encoding/json encodes []alert.Link; nil
// is null.
func appendJSONLinks(dst []byte, links []alert.Link) []byte {
	if links == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, l := range links {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		if l.Text != "" {
			dst = append(dst, `"text":`...)
			dst = appendJSONString(dst, l.Text)
			dst = append(dst, ',')
		}
		dst = append(dst, `"url":`...)
		dst = appendJSONString(dst, l.URL)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendJSONTime appends t as time.Time's MarshalJSON does; ok is false for
// the times it refuses (years outside 0–9999, offsets it cannot write).
func appendJSONTime(dst []byte, t time.Time) (_ []byte, ok bool) {
	b, err := t.MarshalJSON()
	if err != nil {
		return dst, false
	}
	return append(dst, b...), true
}

// eventJSON encodes a as json.Marshal(a) would, reusing its encoded fields.
func (a *Alert) eventJSON() string {
	f := a.fields()
	b := make([]byte, 0, 512+len(a.Description)+len(a.CorrelationReason)+len(f.Labels)+len(f.Annotations)+len(f.Links))
	str := func(key, v string) {
		b = append(b, key...)
		b = appendJSONString(b, v)
	}
	str(`{"id":`, a.ID)
	str(`,"org_id":`, a.OrgID)
	str(`,"source":`, a.Source)
	if a.IntegrationID != "" {
		str(`,"integration_id":`, a.IntegrationID)
	}
	str(`,"fingerprint":`, a.Fingerprint)
	str(`,"status":`, a.Status)
	str(`,"severity":`, a.Severity)
	str(`,"name":`, a.Name)
	str(`,"title":`, a.Title)
	str(`,"description":`, a.Description)
	str(`,"service":`, a.Service)
	str(`,"environment":`, a.Environment)
	str(`,"namespace":`, a.Namespace)
	b = append(b, `,"labels":`...)
	b = append(b, f.Labels...)
	b = append(b, `,"annotations":`...)
	b = append(b, f.Annotations...)
	b = append(b, `,"links":`...)
	b = append(b, f.Links...)
	ok := true
	tm := func(key string, t time.Time) {
		b = append(b, key...)
		var good bool
		if b, good = appendJSONTime(b, t); !good {
			ok = false
		}
	}
	tm(`,"starts_at":`, a.StartsAt)
	if a.EndsAt != nil {
		tm(`,"ends_at":`, *a.EndsAt)
	}
	tm(`,"first_received_at":`, a.FirstReceivedAt)
	tm(`,"last_received_at":`, a.LastReceivedAt)
	if !ok {
		// Let encoding/json report the time it cannot encode.
		return mustJSON(a)
	}
	b = append(b, `,"received_count":`...)
	b = strconv.AppendInt(b, int64(a.ReceivedCount), 10)
	if a.IncidentID != "" {
		str(`,"incident_id":`, a.IncidentID)
	}
	if a.RawPayloadID != "" {
		str(`,"raw_payload_id":`, a.RawPayloadID)
	}
	str(`,"correlation_rule":`, a.CorrelationRule)
	str(`,"correlation_reason":`, a.CorrelationReason)
	b = append(b, '}')
	return string(b)
}

// dataJSON encodes a timeline entry's data as json.Marshal does. Intake
// writes several entries per delivery, each a small map of strings (ids,
// rules, reasons) and flags, which are encoded by hand; any other value
// sends the whole map through encoding/json.
func dataJSON(m map[string]any) string {
	if m == nil {
		return "null"
	}
	keys := make([]string, 0, len(m))
	for k, v := range m {
		switch v.(type) {
		case string, bool, nil:
		default:
			return mustJSON(m)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 128)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		switch v := m[k].(type) {
		case string:
			b = appendJSONString(b, v)
		case bool:
			b = strconv.AppendBool(b, v)
		default:
			b = append(b, "null"...)
		}
	}
	return string(append(b, '}'))
}

package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Payloads are decoded into generic values (map[string]any, []any, string,
// json.Number, bool, nil) and walked by hand rather than unmarshalled into
// structs: encoding/json's type errors neither name array indexes nor stop at
// the first problem in document order, and senders deserve "alerts[2].status"
// rather than "cannot unmarshal number into Go struct field".

// decodeObject decodes body, which must hold exactly one JSON object.
func decodeObject(body []byte) (object, error) {
	// Some Windows tooling prefixes a BOM; it is not JSON but carries no meaning.
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	dec := json.NewDecoder(bytes.NewReader(body))
	// Numbers keep their literal text: a float64 would round large integers
	// that senders use as ids or nanosecond times.
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return object{}, fmt.Errorf("%w: empty body", ErrMalformed)
		}
		return object{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return object{}, fmt.Errorf("%w: data after the top-level JSON value", ErrMalformed)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return object{}, invalidf("body: must be a JSON object, got %s", kind(v))
	}
	return object{m: m}, nil
}

// object is a decoded JSON object together with its path in the payload, so
// every error can name the field it is about.
type object struct {
	m    map[string]any
	path string
}

// at is the path of a member, for error messages.
func (o object) at(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

// str returns a string member; absent or null is "".
func (o object) str(key string) (string, error) {
	switch v := o.m[key].(type) {
	case nil:
		return "", nil
	case string:
		if err := noNUL(o.at(key), v); err != nil {
			return "", err
		}
		return v, nil
	default:
		return "", invalidf("%s: must be a string, got %s", o.at(key), kind(v))
	}
}

// obj returns an object member; ok is false when it is absent or null.
func (o object) obj(key string) (sub object, ok bool, err error) {
	switch v := o.m[key].(type) {
	case nil:
		return object{}, false, nil
	case map[string]any:
		return object{m: v, path: o.at(key)}, true, nil
	default:
		return object{}, false, invalidf("%s: must be an object, got %s", o.at(key), kind(v))
	}
}

// arr returns an array member; ok is false when it is absent or null.
func (o object) arr(key string) (a []any, ok bool, err error) {
	switch v := o.m[key].(type) {
	case nil:
		return nil, false, nil
	case []any:
		return v, true, nil
	default:
		return nil, false, invalidf("%s: must be an array, got %s", o.at(key), kind(v))
	}
}

// alertList returns the "alerts" array, which must be non-empty and within
// MaxAlerts, as objects.
func (o object) alertList() ([]object, error) {
	const key = "alerts"
	list, ok, err := o.arr(key)
	if err != nil {
		return nil, err
	}
	if !ok || len(list) == 0 {
		return nil, invalidf("%s: must be a non-empty array", o.at(key))
	}
	if len(list) > MaxAlerts {
		return nil, invalidf("%s: %d alerts, at most %d per payload", o.at(key), len(list), MaxAlerts)
	}
	out := make([]object, len(list))
	for i, v := range list {
		p := o.at(key) + "[" + strconv.Itoa(i) + "]"
		m, ok := v.(map[string]any)
		if !ok {
			return nil, invalidf("%s: must be an object, got %s", p, kind(v))
		}
		out[i] = object{m: m, path: p}
	}
	return out, nil
}

// time returns a timestamp member in UTC; absent, null, "" and Go's zero time
// (Alertmanager's "not set") are the zero Time.
func (o object) time(key string) (time.Time, error) {
	s, err := o.str(key)
	if err != nil || strings.TrimSpace(s) == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, invalidf("%s: must be an RFC 3339 time, got %q", o.at(key), short(s))
	}
	if t.IsZero() {
		return time.Time{}, nil
	}
	t = t.UTC()
	// An offset can push 0000-01-01 or 9999-12-31 out of the years JSON and
	// SQL timestamps can hold; no real alert is dated there.
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, invalidf("%s: time %q is out of range", o.at(key), short(s))
	}
	return t, nil
}

// noNUL refuses U+0000, which JSON allows but PostgreSQL text cannot store:
// accepting it here would turn a bad payload into a storage error later.
func noNUL(path, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return invalidf("%s: must not contain a NUL character", path)
	}
	return nil
}

// kind names a decoded JSON value's type the way a sender would.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// short keeps sender-controlled text quoted in error messages brief.
func short(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return truncateBytes(s, limit)
}

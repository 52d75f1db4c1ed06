package storage

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestStorableText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                  "",
		"plain é":           "plain é",
		"a\x00b":            "a\uFFFDb",
		"bad \xff\xfe byte": "bad \uFFFD byte",
		"\x00\xff":          "\uFFFD\uFFFD",
	} {
		if got := storableText(in); got != want {
			t.Errorf("storableText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStorableJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"a":"b"}`:                 `{"a":"b"}`,
		`{"a":"x\u0000y"}`:          `{"a":"x\ufffdy"}`,
		`{"a\u0000":1}`:             `{"a\ufffd":1}`,
		`{"a":"\\u0000"}`:           `{"a":"\\u0000"}`,  // a backslash, then the text u0000
		`{"a":"\\\u0000"}`:          `{"a":"\\\ufffd"}`, // a backslash, then NUL
		`{"a":"\u00001"}`:           `{"a":"\ufffd1"}`,  // NUL then "1"
		`{"a":"\u0001 \"\u0000\""}`: `{"a":"\u0001 \"\ufffd\""}`,
		"{\"a\":\"\xff\"}":          "{\"a\":\"\uFFFD\"}",
		`\`:                         `\`,
	} {
		got := storableJSON(in)
		if got != want {
			t.Errorf("storableJSON(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzStorableJSON: whatever JSON text goes in, what comes out decodes to
// the same value but with NUL as U+FFFD, and holds no \u0000 escape.
func FuzzStorableJSON(f *testing.F) {
	for _, s := range []string{`{"a":"x\u0000"}`, `["\\u0000","\\\u0000"]`, `"\u0000\u0000"`, `{"k":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var before any
		if !utf8.ValidString(s) || json.Unmarshal([]byte(s), &before) != nil {
			return
		}
		out := storableJSON(s)
		var after any
		if err := json.Unmarshal([]byte(out), &after); err != nil {
			t.Fatalf("storableJSON(%q) = %q: no longer JSON: %v", s, out, err)
		}
		want, _ := json.Marshal(replaceNUL(before))
		got, _ := json.Marshal(after)
		if string(got) != string(want) {
			t.Fatalf("storableJSON(%q) decodes to %s, want %s", s, got, want)
		}
		if containsNULEscape(out) {
			t.Fatalf("storableJSON(%q) = %q still holds \\u0000", s, out)
		}
	})
}

func replaceNUL(v any) any {
	switch v := v.(type) {
	case string:
		return storableText(v)
	case []any:
		for i := range v {
			v[i] = replaceNUL(v[i])
		}
	case map[string]any:
		m := map[string]any{}
		for k, x := range v {
			m[storableText(k)] = replaceNUL(x)
		}
		return m
	}
	return v
}

// containsNULEscape reports an unescaped \u0000 in JSON text.
func containsNULEscape(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\\' {
			if s[i+1] == 'u' && len(s) >= i+6 && s[i+2:i+6] == "0000" {
				return true
			}
			i++
		}
	}
	return false
}

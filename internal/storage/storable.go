package storage

import (
	"strings"
	"unicode/utf8"
)

// PostgreSQL's text holds neither U+0000 nor invalid UTF-8, and its jsonb
// refuses the JSON escape \u0000 (it could not turn it back into text).
// What investigations and chat store comes from outside — a container's
// logs hold whatever its program wrote, NUL bytes and broken UTF-8
// included, and a model's answer quotes them — so one such byte made the
// step (or report, or chat frame) fail to store on PostgreSQL, and the
// investigation with it. Those writes pass through these, on both backends
// alike: each such character is shown as U+FFFD, the replacement character,
// which is what a reader sees for bytes that are not text anyway.

// IsText reports whether PostgreSQL text can hold s: no NUL, valid UTF-8.
// Input from users is refused where this is false (a 4xx naming it);
// outside text Aurora stores of its own passes through storableText.
func IsText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// storableText is s with NUL and invalid UTF-8 replaced by U+FFFD.
func storableText(s string) string {
	if IsText(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// storableJSON is the JSON text s with every \u0000 escape written as
// \ufffd, and NUL or invalid UTF-8 outside escapes as in storableText.
// Other escapes are kept as they are (a "\\u0000" is a backslash and the
// text u0000, not a NUL).
func storableJSON(s string) string {
	s = storableText(s)
	if !strings.Contains(s, `\u0000`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if s[i+1] == 'u' && strings.HasPrefix(s[i+2:], "0000") {
			b.WriteString(`\ufffd`)
			i += 5
			continue
		}
		b.WriteByte(c) // an escape of another character: both bytes as they are
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

package embed

import (
	"strings"
	"unicode"
)

// SplitIdentifiers is Tokens plus, for every identifier written in
// CamelCase or with digits inside ("KubePodCrashLooping", "HTTP5xxHigh"),
// its parts: alert names are how the investigator asks, and their parts
// are how runbooks speak ("kube pod crash looping"). The whole identifier
// is kept too, so a runbook that quotes it matches it exactly.
func SplitIdentifiers(text string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		out = append(out, strings.ToLower(f))
		// Most words have no capital after their first letter: skip the
		// split (and its allocations) for them.
		if !strings.ContainsFunc(f[1:], unicode.IsUpper) {
			continue
		}
		parts := camelParts(f)
		if len(parts) > 1 {
			for _, p := range parts {
				out = append(out, strings.ToLower(p))
			}
		}
	}
	return out
}

// camelParts splits "KubePodCrashLooping" into Kube Pod Crash Looping,
// "HTTPServerErrors" into HTTP Server Errors and "OOMKilled" into OOM
// Killed. Digits stay with the letters before them ("Http5xx" → Http5xx).
func camelParts(s string) []string {
	rs := []rune(s)
	var parts []string
	start := 0
	for i := 1; i < len(rs); i++ {
		prev, cur := rs[i-1], rs[i]
		next := rune(0)
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		// aB: a new word starts at B; ABc: a new word starts at B.
		if unicode.IsUpper(cur) && (unicode.IsLower(prev) || unicode.IsDigit(prev) || unicode.IsUpper(prev) && unicode.IsLower(next)) {
			parts = append(parts, string(rs[start:i]))
			start = i
		}
	}
	return append(parts, string(rs[start:]))
}

// Stem reduces an English word to a crude stem by stripping plural and
// -ed/-ing endings and a final e (Porter's step 1, without its special
// cases), so that
// "crashing", "crashed" and "crashes" share one bag dimension as they
// share one entry in SQLite's and PostgreSQL's stemmed full-text indexes.
// It is consistent, not correct: query and passage go through the same
// function.
func Stem(w string) string {
	if len(w) <= 3 || !isASCIILetters(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ies"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
	case strings.HasSuffix(w, "s"):
		w = w[:len(w)-1]
	}
	for _, suf := range []string{"ing", "ed"} {
		if stem, ok := strings.CutSuffix(w, suf); ok && len(stem) >= 3 && strings.ContainsAny(stem, "aeiouy") {
			w = stem
			// "stopped" → "stopp" → "stop"
			if n := len(w); n >= 2 && w[n-1] == w[n-2] && !strings.ContainsRune("lsz", rune(w[n-1])) {
				w = w[:n-1]
			}
			break
		}
	}
	// "expire"/"expired" → "expir". (Porter's y → i was measured and
	// dropped: hybrid MRR 0.881 against 0.891 on testdata/kb.)
	return strings.TrimSuffix(w, "e")
}

func isASCIILetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

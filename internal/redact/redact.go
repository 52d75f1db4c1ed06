// Package redact removes secrets from text before it leaves Aurora for a
// language model: API keys and tokens of well-known formats, passwords in
// URLs, key=value pairs, JSON and YAML, connection strings and PEM private
// keys. Each secret becomes a stable marker such as "[REDACTED:password]"
// and everything around it is kept, because the rest of the text is the
// evidence an investigation cites.
//
// Redaction is idempotent — Redact(Redact(s)) == Redact(s) — so text may
// pass through it more than once (tool output, then the prompt).
package redact

import (
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
)

// Marker kinds.
const (
	KindPassword   = "password"
	KindSecret     = "secret"
	KindToken      = "token"
	KindAPIKey     = "api_key"
	KindPrivateKey = "private_key"
	KindJWT        = "jwt"
	KindAWSKey     = "aws_access_key_id"
	KindCookie     = "cookie"
)

// Marker is the text that replaces a secret of kind.
func Marker(kind string) string { return "[REDACTED:" + kind + "]" }

const markerPrefix = "[REDACTED"

// rule finds secrets with re. Groups named "s" hold the secret (the first
// that matched is replaced); the rest of the match is kept. need lists
// substrings of which one must occur (in lower case when fold is set) for
// the rule to run at all: a cheap filter that keeps clean text fast.
type rule struct {
	kind string
	re   *regexp.Regexp
	// multiline rules match across lines and run on the whole text.
	multiline bool
	need      []string
	fold      bool
	// kindOf picks the kind from the match (nil: kind).
	kindOf func(s string, m []int) string
	// keep reports whether a candidate secret is not one after all.
	keep func(secret string) bool
	// secretGroups are the indexes of the groups named "s".
	secretGroups []int
	// find, when set, replaces re.FindAllStringSubmatchIndex with a
	// faster search giving the same groups.
	find func(s string) [][]int
}

// keyWordRe finds the key words alone: cheap, and each hit marks where a
// setting's name may be.
var keyWordRe = regexp.MustCompile(`(?i)` + keyWords)

// keyWordHits returns, in order, the offsets in s where a key word may
// start: the stems of keyNeeds found in lower case (a superset; the
// anchored pattern decides), or the key words' own matches when lowering
// changes the text's length (non-ASCII case mappings).
func keyWordHits(s string) []int {
	lower := strings.ToLower(s)
	var hits []int
	if len(lower) != len(s) {
		for _, l := range keyWordRe.FindAllStringIndex(s, -1) {
			hits = append(hits, l[0])
		}
		return hits
	}
	for _, stem := range keyNeeds {
		for i := 0; ; {
			j := strings.Index(lower[i:], stem)
			if j < 0 {
				break
			}
			hits = append(hits, i+j)
			i += j + len(stem)
		}
	}
	slices.Sort(hits)
	return hits
}

// kvWindow bounds the text tried for one setting (name, separator, value).
const kvWindow = 256

func isIdent(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// anchoredFinder finds the matches of a "name followed by value" pattern
// by locating key words, backing up to the start of the name around each,
// and trying the pattern anchored there: the same matches as searching
// from every position, which the regexp package does slowly for patterns
// that open with a repeated class.
func anchoredFinder(anchored *regexp.Regexp) func(string) [][]int {
	return func(s string) [][]int {
		var out [][]int
		next := 0
		for _, at := range keyWordHits(s) {
			start := at
			for start > 0 && isIdent(s[start-1]) {
				start--
			}
			if start < next {
				continue
			}
			// A window first: the matcher's cost grows with the text it
			// is given, not with the match. No match, or one reaching the
			// window's end, may be cut by the window (a long quoted value),
			// so it is tried again on the whole rest.
			w := min(len(s), start+kvWindow)
			m := anchored.FindStringSubmatchIndex(s[start:w])
			if (m == nil || m[1] == w-start) && w < len(s) {
				m = anchored.FindStringSubmatchIndex(s[start:])
			}
			if m == nil {
				continue
			}
			for i := range m {
				if m[i] >= 0 {
					m[i] += start
				}
			}
			out = append(out, m)
			next = m[1]
		}
		return out
	}
}

func newRule(r rule) *rule {
	for i, name := range r.re.SubexpNames() {
		if name == "s" {
			r.secretGroups = append(r.secretGroups, i)
		}
	}
	if len(r.secretGroups) == 0 {
		panic("redact: rule without a secret group: " + r.re.String())
	}
	return &r
}

// keyWords are the parts of a setting's name that make its value secret.
const keyWords = `password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|auth[_-]?key|signing[_-]?key|encryption[_-]?key|session[_-]?key|client[_-]?key`

// keyName is a setting name containing a key word, as written in env files,
// YAML, JSON and logfmt: DB_PASSWORD, client_secret, apiKey, x-api-token.
const keyName = `[A-Za-z0-9_.\-]*(?i:` + keyWords + `)[A-Za-z0-9_.\-]*`

// notSecretKey matches names that contain a key word but hold no secret:
// references to secrets, counts and limits, file paths, types.
var notSecretKey = regexp.MustCompile(`(?i)(name|names|ref|keyref|file|path|dir|type|kind|tokens|count|length|len|size|limit|ttl|expiry|expires|expiration|expires_at|expires_in|seconds|secs|minutes|hours|duration|timeout|interval|period|url|uri|endpoint|header|enabled|required|policy|mode|version|id_token_hint|max_.*)$`)

// notSecretValue matches values that are placeholders or references, not
// secrets: kubectl's "<set to the key 'password' in secret 'db'>", template
// expressions, environment references, booleans, masks.
var notSecretValue = regexp.MustCompile(`(?i)^(<.*|\$\{.*|\$\(.*|\{\{.*|%\(.*|\*+|x+|true|false|yes|no|on|off|null|nil|none|undefined|required|optional|changeme-not-set|\[REDACTED.*|REDACTED.*|\*\*\*.*|password|passwd|secret|token|api[_-]?key|key)$`)

func keepValue(v string) bool {
	v = strings.TrimSpace(v)
	return v == "" || notSecretValue.MatchString(v) || blockIndicator.MatchString(v)
}

// blockIndicator is YAML's block scalar header ("|", ">-", "|2"): the
// value is on the lines below, which yamlBlock redacts.
var blockIndicator = regexp.MustCompile(`^[|>][+-]?[1-9]?[+-]?$`)

// blockHeader is a YAML key with a block scalar value:
// "  credentials.json: |".
var blockHeader = regexp.MustCompile(`^([ \t]*)(?:-[ \t]+)?["']?(` + keyName + `)["']?[ \t]*:[ \t]*[|>][+-]?[1-9]?[+-]?[ \t]*(?:#.*)?\r?\n?$`)

// yamlBlock redacts the lines of a block scalar whose key says secret:
// every line indented deeper than the key, blank lines included.
type yamlBlock struct {
	indent int // of the key; -1 (or 0 value before start) when outside
	kind   string
	active bool
}

// start notes whether line opens a secret block scalar.
func (y *yamlBlock) start(line string) {
	m := blockHeader.FindStringSubmatch(line)
	if m == nil || notSecretKey.MatchString(m[2]) {
		return
	}
	y.active, y.indent, y.kind = true, len(m[1]), kindFromKey(m[2])
}

// line returns the redacted line and true while inside a block.
func (y *yamlBlock) line(line string) (string, bool) {
	if !y.active {
		return line, false
	}
	body := strings.TrimRight(line, "\r\n")
	trimmed := strings.TrimLeft(body, " \t")
	if trimmed == "" {
		return line, true
	}
	indent := len(body) - len(trimmed)
	if indent <= y.indent {
		y.active = false
		return line, false
	}
	return body[:indent] + Marker(y.kind) + line[len(body):], true
}

// kindFromKey names the marker after the setting: password-like names give
// "password", token names "token", key names "api_key", others "secret".
func kindFromKey(key string) string {
	k := strings.ToLower(key)
	switch {
	case strings.Contains(k, "pass") || strings.Contains(k, "pwd"):
		return KindPassword
	case strings.Contains(k, "token"):
		return KindToken
	case strings.Contains(k, "private"):
		return KindPrivateKey
	case strings.Contains(k, "key"):
		return KindAPIKey
	}
	return KindSecret
}

// keyKind picks the kind from group "k" (the setting's name), and
// refuses names that only look secret.
func keyKind(re *regexp.Regexp) func(s string, m []int) string {
	k := re.SubexpIndex("k")
	return func(s string, m []int) string {
		if m[2*k] < 0 {
			return KindSecret
		}
		name := s[m[2*k]:m[2*k+1]]
		if notSecretKey.MatchString(strings.Trim(name, `"' `)) {
			return ""
		}
		return kindFromKey(name)
	}
}

var rules = buildRules()

func buildRules() []*rule {
	var rs []*rule
	add := func(r rule) { rs = append(rs, newRule(r)) }

	// PEM private keys, whole block; JSON-escaped newlines too.
	add(rule{kind: KindPrivateKey, need: []string{"PRIVATE KEY-----"}, multiline: true,
		re: regexp.MustCompile(`(?s)(?P<s>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----)`)})
	// A block cut off before its END line (truncated output).
	add(rule{kind: KindPrivateKey, need: []string{"PRIVATE KEY-----"}, multiline: true,
		re: regexp.MustCompile(`(?P<s>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[A-Za-z0-9+/=\r\n\t ]|\\[nrt])*)`)})
	// Base64 of a PEM private key ("LS0tLS1CRUdJTi…" in ConfigMaps, Helm
	// values); checked by decoding.
	add(rule{kind: KindPrivateKey, need: []string{"LS0tLS1CRUdJTi"},
		re:   regexp.MustCompile(`(?P<s>LS0tLS1CRUdJTi[A-Za-z0-9+/]+={0,2})`),
		keep: func(v string) bool { return !base64PrivateKey(v) }})

	// Credentials in URLs: scheme://user:password@host keeps the user.
	add(rule{kind: KindPassword, need: []string{"://"},
		re:   regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'"<>]*:(?P<s>[^\s@/'"<>]+)@`),
		keep: func(v string) bool { return strings.HasPrefix(v, markerPrefix) }})
	// Go MySQL DSN: user:password@tcp(host:3306)/db.
	add(rule{kind: KindPassword, need: []string{"@tcp(", "@unix("},
		re:   regexp.MustCompile(`[A-Za-z0-9_.\-]+:(?P<s>[^\s@/:'"]+)@(?:tcp|unix)\(`),
		keep: func(v string) bool { return strings.HasPrefix(v, markerPrefix) }})

	// Authorization headers keep their scheme.
	add(rule{kind: KindToken, need: []string{"bearer", "basic", "token ", "apikey", "authorization"}, fold: true,
		re:   regexp.MustCompile(`(?i)\b(?:proxy-)?authorization(?:["']?[ \t]*[:=][ \t]*["']?|[ \t]+)(?:bearer|basic|token|bot|apikey|digest|negotiate|aws4-hmac-sha256)?[ \t]*(?P<s>[^\s"',;]{6,})`),
		keep: keepValue})
	add(rule{kind: KindToken, need: []string{"bearer"}, fold: true,
		re: regexp.MustCompile(`(?i)\bbearer[ \t]+(?P<s>[A-Za-z0-9\-._~+/]{8,}=*)`)})
	add(rule{kind: KindToken, need: []string{"basic"}, fold: true,
		re: regexp.MustCompile(`(?i)\bbasic[ \t]+(?P<s>[A-Za-z0-9+/]{8,}={0,2})(?:[^A-Za-z0-9+/=]|$)`)})
	add(rule{kind: KindCookie, need: []string{"cookie"}, fold: true,
		re:   regexp.MustCompile(`(?i)\b(?:set-)?cookie["']?\s*:\s*["']?(?P<s>[^\r\n"']+)`),
		keep: keepValue})

	// Well-known token formats, wherever they appear.
	for _, t := range []struct {
		kind, need, re string
	}{
		{KindAPIKey, "sk-ant-", `\b(?P<s>sk-ant-[A-Za-z0-9_\-]{20,})`},
		{KindAPIKey, "sk-", `(?:^|[^A-Za-z0-9_\-])(?P<s>sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,})`},
		{KindAPIKey, "sk_live_|rk_live_", `\b(?P<s>[rs]k_live_[A-Za-z0-9]{16,})`},
		{KindAPIKey, "sk_test_|rk_test_", `\b(?P<s>[rs]k_test_[A-Za-z0-9]{16,})`},
		{KindSecret, "whsec_", `\b(?P<s>whsec_[A-Za-z0-9+/=]{16,})`},
		{KindToken, "ghp_|gho_|ghu_|ghs_|ghr_", `\b(?P<s>gh[pousr]_[A-Za-z0-9]{36,})`},
		{KindToken, "github_pat_", `\b(?P<s>github_pat_[A-Za-z0-9_]{22,})`},
		{KindToken, "glpat-", `\b(?P<s>glpat-[A-Za-z0-9_\-]{20,})`},
		{KindToken, "xox", `\b(?P<s>xox[abposre]-[A-Za-z0-9\-]{10,})`},
		{KindToken, "hooks.slack.com/", `hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9/_\-]{20,})`},
		{KindAPIKey, "AIza", `\b(?P<s>AIza[0-9A-Za-z_\-]{35,})`},
		{KindAWSKey, "AKIA|ASIA|ABIA|ACCA", `\b(?P<s>(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})\b`},
		{KindToken, "npm_", `\b(?P<s>npm_[A-Za-z0-9]{36})\b`},
		{KindToken, "hf_", `\b(?P<s>hf_[A-Za-z0-9]{34,})\b`},
		{KindAPIKey, "SG.", `\b(?P<s>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})`},
		{KindToken, "aur_|aurwh_", `\b(?P<s>aur(?:wh)?_[A-Za-z0-9_\-]{20,})`},
		{KindToken, "hvs.|hvb.|hvr.", `\b(?P<s>hv[sbr]\.[A-Za-z0-9_\-]{20,})`},
		{KindJWT, "eyJ", `\b(?P<s>eyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{10,})`},
	} {
		add(rule{kind: t.kind, need: strings.Split(t.need, "|"), re: regexp.MustCompile(t.re)})
	}

	// Settings whose name says secret. JSON: "db_password": "value".
	jsonRe := regexp.MustCompile(`"(?P<k>` + keyName + `)"\s*:\s*"(?P<s>(?:[^"\\]|\\.)*)"`)
	add(rule{kind: KindSecret, need: keyNeeds, fold: true, re: jsonRe, kindOf: keyKind(jsonRe), keep: keepValue})
	// Escaped JSON inside a string: \"password\": \"value\".
	escRe := regexp.MustCompile(`\\"(?P<k>` + keyName + `)\\"\s*:\s*\\"(?P<s>(?:[^"\\]|\\[^"])*)\\"`)
	add(rule{kind: KindSecret, need: keyNeeds, fold: true, re: escRe, kindOf: keyKind(escRe), keep: keepValue})
	// key=value, key: value (env, YAML, logfmt, query strings, libpq and
	// ADO.NET connection strings), quoted or not; --flag=value.
	kv := `(?P<k>` + keyName + `)["']?[ \t]*(?:=|:[ \t])[ \t]*(?:"(?P<s>[^"\r\n]*)"|'(?P<s>[^'\r\n]*)'|(?P<s>[^\s"',;&}\]\)<>]+))`
	kvRe := regexp.MustCompile(`\b` + kv)
	add(rule{kind: KindSecret, need: keyNeeds, fold: true, re: kvRe, kindOf: keyKind(kvRe), keep: keepValue,
		find: anchoredFinder(regexp.MustCompile(`^` + kv))})
	// curl -u user:password keeps the user.
	add(rule{kind: KindPassword, need: []string{"-u ", "--user "},
		re:   regexp.MustCompile(`(?:^|\s)(?:-u|--user)[ \t]+['"]?[^\s:'"]+:(?P<s>[^\s'"]+)`),
		keep: keepValue})
	// Command-line flags with a space: --password hunter2, -p is too vague.
	flagRe := regexp.MustCompile(`(?i)(?:^|\s)--(?P<k>password|passwd|token|secret|api-key|apikey|access-key|secret-key|client-secret|auth-token)[ \t]+(?P<s>[^\s-][^\s]*)`)
	add(rule{kind: KindSecret, need: []string{"--"}, re: flagRe, kindOf: keyKind(flagRe), keep: keepValue})
	return rs
}

// keyNeeds are the lower-case stems of keyWords for the quick filter.
var keyNeeds = []string{"pass", "pwd", "secret", "token", "key", "credential"}

func base64PrivateKey(s string) bool {
	// Decode the prefix only: enough to see the BEGIN line.
	n := min(len(s), 64) &^ 3
	b, err := base64.StdEncoding.DecodeString(s[:n])
	if err != nil {
		return false
	}
	return strings.Contains(string(b), "PRIVATE KEY")
}

// Redactor redacts the built-in patterns plus literal secrets it was
// given (configured API keys, passwords), wherever they appear.
type Redactor struct {
	literals []string
}

// minLiteral is the shortest literal secret replaced: shorter strings
// would wipe ordinary words out of the evidence.
const minLiteral = 8

// New returns a Redactor that also replaces each literal of at least 8
// characters.
func New(literals ...string) *Redactor {
	r := &Redactor{}
	for _, l := range literals {
		if len(l) >= minLiteral && !slices.Contains(r.literals, l) {
			r.literals = append(r.literals, l)
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	slices.SortFunc(r.literals, func(a, b string) int { return len(b) - len(a) })
	return r
}

var defaultRedactor = New()

// Redact replaces the secrets in s with markers (built-in patterns only).
func Redact(s string) string { return defaultRedactor.Redact(s) }

// Redact replaces the secrets in s with markers.
func (r *Redactor) Redact(s string) string {
	if r == nil {
		r = defaultRedactor
	}
	for _, l := range r.literals {
		if strings.Contains(s, l) {
			s = strings.ReplaceAll(s, l, Marker(KindSecret))
		}
	}
	// Multi-line rules (PEM blocks) run over the whole text; the others
	// run line by line, and only on lines holding one of their needles:
	// most text has no secret, and regular expressions on short lines are
	// far cheaper than on a whole document.
	for _, rl := range rules {
		if rl.multiline && rl.applies(s, strings.ToLower) {
			s, _ = rl.apply(s)
		}
	}
	var cand []*rule
	lower := strings.ToLower(s)
	for _, rl := range rules {
		hay := s
		if rl.fold {
			hay = lower
		}
		if !rl.multiline && rl.applies(hay, nil) {
			cand = append(cand, rl)
		}
	}
	if len(cand) == 0 {
		return s
	}
	var b strings.Builder
	changed := false
	var block yamlBlock
	for line := range strings.Lines(s) {
		if out, inBlock := block.line(line); inBlock {
			b.WriteString(out)
			changed = changed || out != line
			continue
		}
		block.start(line)
		var ll string // line in lower case, when a rule needs it
		for _, rl := range cand {
			hay := line
			if rl.fold {
				if ll == "" {
					ll = strings.ToLower(line)
				}
				hay = ll
			}
			if !rl.applies(hay, nil) {
				continue
			}
			if out, ok := rl.apply(line); ok {
				line, ll, changed = out, "", true
			}
		}
		b.WriteString(line)
	}
	if !changed {
		return s
	}
	return b.String()
}

// applies reports whether hay holds one of the rule's needles; fold, when
// given, lowers hay first for case-insensitive rules.
func (rl *rule) applies(hay string, fold func(string) string) bool {
	if rl.fold && fold != nil {
		hay = fold(hay)
	}
	for _, n := range rl.need {
		if strings.Contains(hay, n) {
			return true
		}
	}
	return false
}

func (rl *rule) apply(s string) (string, bool) {
	var matches [][]int
	if rl.find != nil {
		matches = rl.find(s)
	} else {
		matches = rl.re.FindAllStringSubmatchIndex(s, -1)
	}
	if matches == nil {
		return s, false
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		start, end := -1, -1
		for _, g := range rl.secretGroups {
			if m[2*g] >= 0 {
				start, end = m[2*g], m[2*g+1]
				break
			}
		}
		if start < 0 || start < last {
			continue
		}
		secret := s[start:end]
		if strings.HasPrefix(secret, markerPrefix) || overlapsMarker(s, start, end) || (rl.keep != nil && rl.keep(secret)) {
			continue
		}
		kind := rl.kind
		if rl.kindOf != nil {
			if kind = rl.kindOf(s, m); kind == "" {
				continue
			}
		}
		b.WriteString(s[last:start])
		b.WriteString(Marker(kind))
		last = end
	}
	if last == 0 {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// overlapsMarker reports whether s[start:end] touches a marker already in
// s: a rule must not redact part of an earlier redaction, or a second pass
// would change the text again.
func overlapsMarker(s string, start, end int) bool {
	// A marker overlapping the span begins before its end and ends after
	// its start; markers are short, so look back only that far.
	from := max(0, start-len("[REDACTED:aws_access_key_id]"))
	limit := min(len(s), end+len(markerPrefix))
	for i := from; i < end; {
		j := strings.Index(s[i:limit], markerPrefix)
		if j < 0 || i+j >= end {
			break
		}
		ms := i + j
		me := strings.IndexByte(s[ms:], ']')
		if me < 0 {
			return false
		}
		if ms+me+1 > start {
			return true
		}
		i = ms + len(markerPrefix)
	}
	return false
}

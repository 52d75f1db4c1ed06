package analyze

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// LogAnalyzers returns the analyzers that read container logs
// (kubernetes.logs evidence).
func LogAnalyzers() []Analyzer { return []Analyzer{logsAnalyzer{}} }

// logsAnalyzer recognises failure signatures in container logs: missing
// environment variables, commands not found, refused or timed out
// connections, DNS lookup failures, certificate and authentication errors,
// configuration/SQL syntax errors, permission denied, full disks, exhausted
// connection slots, and panics/stack traces (Go, Java, Python, Node).
type logsAnalyzer struct{}

func (logsAnalyzer) Name() string { return "logs" }

func (a logsAnalyzer) Analyze(in *Input) []Finding {
	if in == nil {
		return nil
	}
	var out []Finding
	for _, it := range in.Items {
		if it.Tool != "kubernetes.logs" || strings.TrimSpace(it.Output) == "" {
			continue
		}
		out = append(out, logsAnalyzeItem(a.Name(), it)...)
	}
	// A log often names a dependency by IP (the address it dialled): the
	// rest of the evidence may show whose IP it is (a Service's cluster IP
	// or endpoint, a Pod's IP).
	var idx *netModel
	for i := range out {
		f := &out[i]
		if len(f.Related) > 0 || f.Culprit == "" {
			continue
		}
		if ip := netAddrIP(f.Culprit); !logsIPv4.MatchString(ip) && !strings.HasPrefix(f.Culprit, "[") {
			continue
		}
		if idx == nil {
			idx = netBuild(in)
		}
		f.Related = idx.resolve(strings.Trim(f.Culprit, "[]"))
	}
	logsSortFindings(out)
	return out
}

// logsLine is one log line, reduced to its message text and level.
type logsLine struct {
	text  string
	level string // debug, info, warn, error, fatal or "" (unknown)
	// hosts are the addresses a structured record names in fields such as
	// addr or host (a JSON record's message text does not show them).
	hosts []string
}

// logsHit accumulates the occurrences of one (signature, culprit) in an item.
type logsHit struct {
	sig      *logsSig
	culprit  string
	related  []string
	where    string // file:line of the code that failed, when a trace shows it
	count    int
	last     int // index of the last occurrence
	line     string
	infoOnly bool // every occurrence was at info level
	levelErr bool // the last occurrence was at error/fatal/unknown level
	specific bool // some occurrence was a specific match
}

// logsSig is one failure signature.
type logsSig struct {
	id       string
	category string
	// keys are lower-case words one of which a line must contain before
	// match runs (a cheap filter: logs may have many thousands of lines).
	keys []string
	// specific signatures name their cause outright (a missing variable, a
	// refused password, a full disk); they may be Direct.
	specific bool
	// match returns the culprits the line i shows (usually one).
	match func(c *logsCtx, i int) []logsMatch
	// say phrases the problem, e.g. `environment variable "X" is not set`.
	say func(m logsMatch) string
}

type logsMatch struct {
	culprit string
	related []string
	detail  string // extra words for the summary (kind of failure)
	// specific marks this match as naming its cause outright even when
	// its signature is not always specific (a name that does not exist,
	// unlike a DNS server that timed out).
	specific bool
}

type logsCtx struct {
	lines []logsLine
	ns    string
}

func logsHasAny(lower string, keys []string) bool {
	for _, k := range keys {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}

func (c *logsCtx) text(i int) string { return c.lines[i].text }

// ---- line splitting and levels ----

var (
	logsLevelKV    = regexp.MustCompile(`(?i)\b(?:level|lvl|severity|loglevel)\s*[=:]\s*"?([a-z]+)`)
	logsLevelKlog  = regexp.MustCompile(`^([IWEF])\d{4} \d\d:\d\d:\d\d`)
	logsLevelWord  = regexp.MustCompile(`(?:^|[\s\[|(:])(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|SEVERE|EMERG|ALERT)(?:$|[\s\]|):])`)
	logsLevelBrack = regexp.MustCompile(`\[(trace|debug|info|notice|warn|warning|error|crit|alert|emerg|fatal)\]`)
)

func logsNormLevel(s string) string {
	switch strings.ToLower(s) {
	case "trace", "debug", "dbg", "verbose":
		return "debug"
	case "info", "information", "notice", "i":
		return "info"
	case "warn", "warning", "w":
		return "warn"
	case "error", "err", "severe", "e":
		return "error"
	case "fatal", "critical", "crit", "panic", "emerg", "emergency", "alert", "dpanic", "f":
		return "fatal"
	}
	return ""
}

func logsTextLevel(s string) string {
	if len(s) > 5 && strings.IndexByte("IWEF", s[0]) >= 0 && s[1] >= '0' && s[1] <= '9' {
		if m := logsLevelKlog.FindStringSubmatch(s); m != nil {
			return logsNormLevel(m[1])
		}
	}
	if i := strings.IndexAny(s, "=:"); i >= 0 && logsHasAny(strings.ToLower(s), []string{"level", "lvl", "severity"}) {
		if m := logsLevelKV.FindStringSubmatch(s); m != nil {
			if l := logsNormLevel(m[1]); l != "" {
				return l
			}
		}
	}
	head := s
	if len(head) > 64 {
		head = head[:64]
	}
	if m := logsLevelBrack.FindStringSubmatch(head); m != nil {
		return logsNormLevel(m[1])
	}
	if m := logsLevelWord.FindStringSubmatch(head); m != nil {
		return logsNormLevel(m[1])
	}
	return ""
}

// logsHostKeys are the fields of structured records that name the address
// of a peer.
var logsHostKeys = []string{"addr", "address", "host", "hostname", "server", "upstream", "target", "endpoint", "url", "uri", "peer", "remote"}

// logsJSONRecord is logsJSONText that also returns the peer addresses the
// record's host fields name.
func logsJSONRecord(rec map[string]any) (level string, lines, hosts []string) {
	for _, k := range logsHostKeys {
		if v, ok := rec[k].(string); ok && v != "" {
			hosts = append(hosts, v)
		}
	}
	level, lines = logsJSONText(rec)
	return level, lines, hosts
}

// logsJSONText extracts the message of a JSON log record and any multi-line
// fields (stack traces) as extra lines.
func logsJSONText(rec map[string]any) (level string, lines []string) {
	for _, k := range []string{"level", "severity", "lvl", "log.level", "levelname", "loglevel"} {
		if v, ok := rec[k].(string); ok {
			level = logsNormLevel(v)
			break
		}
	}
	var parts, extra []string
	add := func(v any) {
		switch v := v.(type) {
		case string:
			if v == "" {
				return
			}
			first, rest, multi := strings.Cut(v, "\n")
			parts = append(parts, first)
			if multi {
				extra = append(extra, strings.Split(rest, "\n")...)
			}
		case map[string]any:
			for _, k := range []string{"message", "msg", "type", "stack", "stacktrace"} {
				if s, ok := v[k].(string); ok && s != "" {
					first, rest, multi := strings.Cut(s, "\n")
					parts = append(parts, first)
					if multi {
						extra = append(extra, strings.Split(rest, "\n")...)
					}
				}
			}
		}
	}
	for _, k := range []string{"msg", "message", "MESSAGE", "log", "error", "err", "exception", "exc_info", "reason", "error.message"} {
		add(rec[k])
	}
	for _, k := range []string{"stacktrace", "stack", "stack_trace", "error.stack_trace", "traceback"} {
		if s, ok := rec[k].(string); ok && s != "" {
			extra = append(extra, strings.Split(s, "\n")...)
		}
	}
	return level, append([]string{strings.Join(parts, ": ")}, extra...)
}

func logsSplit(out string) []logsLine {
	raw := strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n")
	lines := make([]logsLine, 0, len(raw))
	for _, r := range raw {
		t := strings.TrimSpace(r)
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			var rec map[string]any
			if json.Unmarshal([]byte(t), &rec) == nil {
				level, texts, hosts := logsJSONRecord(rec)
				if level == "" {
					level = logsTextLevel(texts[0])
				}
				for _, s := range texts {
					lines = append(lines, logsLine{text: strings.TrimRight(s, " \t"), level: level, hosts: hosts})
				}
				continue
			}
		}
		lines = append(lines, logsLine{text: strings.TrimRight(r, " \t\r"), level: logsTextLevel(r)})
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1].text) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// ---- shared extraction helpers ----

const logsAddrPat = `(\[[0-9a-fA-F:.]+\]:\d{1,5}|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?:\d{1,5})`

var (
	logsAddrAny  = regexp.MustCompile(`(?:^|[\s"'(=/@,\[<])` + logsAddrPat + `(?:$|[\s"'),/.;:>\]])`)
	logsDateHost = regexp.MustCompile(`^\d{4}-\d\d-\d\d[T ]?\d*$`)
	logsIPv4     = regexp.MustCompile(`^\d{1,3}(?:\.\d{1,3}){3}$`)
	logsURL      = regexp.MustCompile(`\bhttps?://([A-Za-z0-9.-]+(?::\d+)?)(/[^\s"'),]*)?`)
	logsDNSLabel = regexp.MustCompile(`^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$`)
)

// logsFindAddr returns the first host:port in s that is not a time of day.
func logsFindAddr(s string) string {
	for _, m := range logsAddrAny.FindAllStringSubmatchIndex(s, -1) {
		a := s[m[2]:m[3]]
		if rest := s[m[3]:]; len(rest) > 1 && rest[0] == ':' && rest[1] >= '0' && rest[1] <= '9' {
			continue // a time of day (06:01:02), not host:port
		}
		host, port := logsSplitAddr(a)
		if logsDateHost.MatchString(host) {
			continue
		}
		if p, err := strconv.Atoi(port); err != nil || p == 0 || p > 65535 {
			continue
		}
		if strings.HasPrefix(host, "[") || logsIPv4.MatchString(host) {
			return a
		}
		if strings.IndexFunc(host, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }) >= 0 {
			return a
		}
	}
	return ""
}

func logsSplitAddr(a string) (host, port string) {
	i := strings.LastIndex(a, ":")
	if i < 0 {
		return a, ""
	}
	return a[:i], a[i+1:]
}

var logsPublicTLD = map[string]bool{
	"com": true, "net": true, "org": true, "io": true, "dev": true, "co": true, "ai": true, "app": true,
	"cloud": true, "info": true, "biz": true, "us": true, "uk": true, "de": true, "fr": true, "eu": true,
	"local": true, "internal": true, "amazonaws": true, "localdomain": true,
}

// logsServiceRef returns "service/<ns>/<name>" when host looks like a
// Kubernetes Service DNS name (x, x.ns, x.ns.svc, x.ns.svc.cluster.local).
func logsServiceRef(host, ns string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || host == "localhost" || logsIPv4.MatchString(host) || strings.HasPrefix(host, "[") {
		return ""
	}
	parts := strings.Split(host, ".")
	for _, p := range parts {
		if !logsDNSLabel.MatchString(p) {
			return ""
		}
	}
	switch {
	case len(parts) == 1:
		if ns == "" {
			return ""
		}
		return "service/" + ns + "/" + parts[0]
	case len(parts) == 2:
		if logsPublicTLD[parts[1]] {
			return ""
		}
		return "service/" + parts[1] + "/" + parts[0]
	case len(parts) == 3 && parts[2] == "svc",
		len(parts) == 5 && parts[2] == "svc" && parts[3] == "cluster" && parts[4] == "local":
		return "service/" + parts[1] + "/" + parts[0]
	}
	return ""
}

func logsRelatedAddr(addr, ns string) []string {
	host, _ := logsSplitAddr(addr)
	if !strings.Contains(addr, ":") {
		host = addr
	}
	if r := logsServiceRef(host, ns); r != "" {
		return []string{r}
	}
	return nil
}

var logsHostField = regexp.MustCompile(`\b(?:addr|address|host|hostname|server|upstream|target|endpoint|url|uri|peer)="?([^\s",]+)`)

// logsRelatedLine names the service a line's dependency is, from addr in
// the text or else from the address fields of the record (a log may print
// the resolved IP in the error and the service name in a field).
func logsRelatedLine(c *logsCtx, i int, addr string) []string {
	if r := logsRelatedAddr(addr, c.ns); r != nil {
		return r
	}
	hosts := c.lines[i].hosts
	for _, m := range logsHostField.FindAllStringSubmatch(c.text(i), -1) {
		hosts = append(hosts, m[1])
	}
	_, port := logsSplitAddr(addr)
	for _, h := range hosts {
		if u := logsURL.FindStringSubmatch(h); u != nil {
			h = u[1]
		}
		host, hp := logsSplitAddr(h)
		if !strings.Contains(h, ":") {
			host, hp = h, ""
		}
		if port != "" && hp != "" && hp != port {
			continue // another peer than the one that failed
		}
		if r := logsServiceRef(host, c.ns); r != "" {
			return []string{r}
		}
	}
	return nil
}

func logsFirst(res []*regexp.Regexp, s string) []string {
	for _, re := range res {
		if m := re.FindStringSubmatch(s); m != nil {
			return m
		}
	}
	return nil
}

// ---- signatures ----

var (
	logsEnvRE = []*regexp.Regexp{
		regexp.MustCompile(`\brequired key ([A-Za-z_][A-Za-z0-9_]*) missing value`),
		regexp.MustCompile(`(?i)\benv(?:ironment)?(?:[ _-]var(?:iable)?)?\s+["'\x60$]?([A-Za-z_][A-Za-z0-9_]*)["'\x60]?\s+(?:is\s+)?(?:not\s+set|not\s+defined|undefined|unset|missing|required|empty|should\s+not\s+be\s+empty|must\s+be\s+(?:set|provided|defined))\b`),
		regexp.MustCompile(`(?i)\bmissing\s+(?:required\s+)?env(?:ironment)?(?:[ _-]var(?:iable)?s?)?\s*[:=]?\s*["'\x60$]?([A-Za-z_][A-Za-z0-9_]*)`),
		regexp.MustCompile(`(?:^|[\s"'\x60:(])\$?([A-Z][A-Z0-9]*_[A-Z0-9_]+)["'\x60]? (?:must be (?:set|provided|defined)|is not (?:set|defined)|is unset|is required|not set|is undefined|is empty)\b`),
		regexp.MustCompile(`(?:^|[\s"'\x60:(])\$?([A-Z][A-Z0-9]{2,})["'\x60]? (?:must be (?:set|provided|defined)|is not set|is unset)\b`),
	}
	logsKeyErrorRE = regexp.MustCompile(`\bKeyError: '([A-Za-z_][A-Za-z0-9_]*)'`)

	logsCmdRE = []*regexp.Regexp{
		regexp.MustCompile(`exec: "([^"]+)": executable file not found in \$PATH`),
		regexp.MustCompile(`exec: "([^"]+)": stat [^:]+: no such file or directory`),
		regexp.MustCompile(`\bexec (/\S+): no such file or directory`),
		regexp.MustCompile(`(?:^|[\s:])(?:/(?:usr/)?bin/)?(?:ba|da|z|a)?sh: (?:\d+: )?(?:line \d+: )?(?:exec: )?([^\s:]+): (?:command )?not found`),
		regexp.MustCompile(`(?:^|\s)([^\s:]+): command not found`),
	}

	logsDialRE    = regexp.MustCompile(`\bdial (?:tcp|udp)[46]? ` + logsAddrPat + `: (?:connect: )?(connection refused|i/o timeout|connection timed out|no route to host|connection reset by peer|operation timed out|network is unreachable)`)
	logsNodeErrRE = regexp.MustCompile(`\b(ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ECONNRESET|ENETUNREACH) ` + logsAddrPat)
	logsPgAtRE    = regexp.MustCompile(`(?i)connection to server at "([^"]+)"(?: \([^)]*\))?, port (\d+) failed`)
	logsPgOnRE    = regexp.MustCompile(`(?i)on host "([^"]+)"(?: \([^)]*\))? and accepting\s+TCP/IP connections on port (\d+)`)
	logsConnWords = regexp.MustCompile(`(?i)connection refused|econnrefused|i/o timeout|timed out|etimedout|deadline exceeded|no route to host|ehostunreach|connection reset|econnreset|network is unreachable|refused`)

	logsLookupRE = []*regexp.Regexp{
		regexp.MustCompile(`\blookup ([A-Za-z0-9._-]+)(?: on ` + logsAddrPat + `)?: (no such host|server misbehaving|i/o timeout|Temporary failure in name resolution|no answer from DNS server|read udp [^:]+:\d+->[^:]+:\d+: i/o timeout)`),
		regexp.MustCompile(`\bgetaddrinfo (?:ENOTFOUND|EAI_AGAIN) ([A-Za-z0-9._-]+)`),
		regexp.MustCompile(`could not translate host name "([^"]+)" to address`),
		regexp.MustCompile(`UnknownHostException: ([A-Za-z0-9._-]+)`),
		regexp.MustCompile(`Failed to resolve '([^']+)'`),
		regexp.MustCompile(`(?i)(?:connecting to|host) "?([A-Za-z0-9._-]+?)"?(?::\d+)?[.:,]? (?:\[Errno -[23]\] )?(?:Name or service not known|Temporary failure in name resolution|nodename nor servname provided)`),
	}

	logsDNSNoName    = regexp.MustCompile(`(?i)no such host|\bENOTFOUND\b|Name or service not known|UnknownHostException|\bNXDOMAIN\b|nodename nor servname provided`)
	logsDNSTransient = regexp.MustCompile(`(?i)temporary failure|\bEAI_AGAIN\b|server misbehaving|i/o timeout|\bSERVFAIL\b|no answer from DNS|timed out`)

	logsCertWords = regexp.MustCompile(`(?i)x509: |certificate has expired|certificate verify failed|CERTIFICATE_VERIFY_FAILED|CERT_HAS_EXPIRED|self[- ]signed certificate|unable to verify the first certificate|UNABLE_TO_VERIFY_LEAF_SIGNATURE|PKIX path building failed|tls: failed to verify certificate|certificate signed by unknown authority|does not match certificate's altnames`)
	logsCertHost  = []*regexp.Regexp{
		regexp.MustCompile(`x509: certificate is valid for .+?, not ([A-Za-z0-9.*-]+)`),
		regexp.MustCompile(`Host: ([A-Za-z0-9.-]+)\. is not in the cert's altnames`),
		regexp.MustCompile(`\bdial tcp ` + logsAddrPat),
		regexp.MustCompile(`(?i)\b(?:host|hostname|server|servername|connecting to|connect to|for)[ =:]+"?((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?::\d+)?)`),
	}

	logsAuthUser = []*regexp.Regexp{
		regexp.MustCompile(`password authentication failed for user "([^"]+)"`),
		regexp.MustCompile(`Access denied for user '([^']+)'`),
		regexp.MustCompile(`(?i)authentication failed for (?:user )?["']?([\w.@-]+)["']?`),
		regexp.MustCompile(`(?i)\buser(?:name)?[= :]+["']([\w.@-]+)["']`),
		regexp.MustCompile(`(?i)\buser(?:name)?=([\w.@-]+)`),
	}
	logsAuthWords = regexp.MustCompile(`password authentication failed|Access denied for user|\b401 Unauthorized\b|(?i:invalid credentials|bad credentials|invalid username or password|authentication failed|NOAUTH Authentication required|WRONGPASS|SASL authentication failed|invalid api key|InvalidAccessKeyId|SignatureDoesNotMatch|security token included in the request is invalid)`)

	logsSyntaxYAML   = regexp.MustCompile(`\b(yaml|toml): line (\d+):`)
	logsFileName     = regexp.MustCompile(`([\w./-]+\.(?:ya?ml|json|toml|conf|cfg|ini|properties|xml))`)
	logsPyYAMLErr    = regexp.MustCompile(`\byaml\.\w+\.\w+Error: `)
	logsPyYAMLPos    = regexp.MustCompile(`in "([^"]+)", line (\d+)`)
	logsSyntaxErr    = regexp.MustCompile(`\bSyntaxError: (.*)`)
	logsPyFrame      = regexp.MustCompile(`File "([^"]+)", line (\d+)`)
	logsJSFileLine   = regexp.MustCompile(`^\s*((?:/|file://)[^\s:()]+):(\d+)\s*$`)
	logsJSFrame      = regexp.MustCompile(`^\s*at (?:.*?\()?((?:/|file://|[A-Za-z]:\\)[^\s():]+):(\d+):\d+\)?\s*$`)
	logsSQLSyntax    = regexp.MustCompile(`syntax error at or near "([^"]*)"`)
	logsMySQLSyntax  = regexp.MustCompile(`error in your SQL syntax;.*? near '(.*?)' at line (\d+)`)
	logsNginxEmerg   = regexp.MustCompile(`\[emerg\] (?:\d+#\d+: )?(.+?) in (\S+:\d+)`)
	logsPermWords    = regexp.MustCompile(`(?i)permission denied|\bEACCES\b`)
	logsPermPG       = regexp.MustCompile(`permission denied for (table|relation|schema|database|sequence|function|view) "?([\w.]+)"?`)
	logsPathOp       = regexp.MustCompile(`\b(?:open|openat|mkdir|mkdirall|stat|lstat|create|creat|remove|unlink|rename|chmod|chown|write|read|access|scandir|opendir|touch|sync|extend file|write to file|copy)\(?\)? ["']?((?:/|\.\./|\./|[\w.-]+/)[^\s'":,]*)`)
	logsPathQuoted   = regexp.MustCompile(`["']((?:/|[\w.-]+/)[^"']*)["']`)
	logsPathBare     = regexp.MustCompile(`(?:^|[\s=(])(/[\w.@-]+(?:/[\w.@-]+)+)`)
	logsListenEACCES = regexp.MustCompile(`listen EACCES: permission denied ` + logsAddrPat)
	logsDiskWords    = regexp.MustCompile(`(?i)no space left on device|\bENOSPC\b|disk quota exceeded|\bEDQUOT\b`)
	logsROFSWords    = regexp.MustCompile(`(?i)read-only file system|\bEROFS\b`)
	logsExecFormat   = []*regexp.Regexp{
		regexp.MustCompile(`\bexec:? "?(/[^\s":]+)"?: exec format error`),
		regexp.MustCompile(`(?i)\[Errno 8\] Exec format error: '([^']+)'`),
		regexp.MustCompile(`(?i)exec user process caused:? "?(exec format error)`),
		regexp.MustCompile(`(?i)(exec format error)`),
	}
	logsConnsWords = regexp.MustCompile(`(?i)sorry, too many clients already|too many connections|remaining connection slots are reserved|max number of clients reached`)
	logsFDWords    = regexp.MustCompile(`(?i)too many open files|\bEMFILE\b`)
	logsPoolWords  = regexp.MustCompile(`(?i)Connection is not available, request timed out after \d+ ?ms|connection pool (?:is )?exhausted|\bpool exhausted|QueuePool limit of size \d+ overflow \d+ reached|timeout (?:exceeded )?(?:while )?acquiring (?:a )?connection|timed out (?:waiting|trying) to acquire (?:a )?connection|Timeout waiting for idle object|Unable to acquire JDBC Connection`)
	logsPoolName   = regexp.MustCompile(`\b(HikariPool-\d+|[\w-]+Pool-\d+)\b`)
	logsHostKV     = regexp.MustCompile(`(?i)\bhost=([A-Za-z0-9._-]+)`)
	logsConnsHost  = []*regexp.Regexp{
		logsPgAtRE,
		regexp.MustCompile(`\bdial tcp ` + logsAddrPat),
		regexp.MustCompile(`(?i)\bhost=([A-Za-z0-9._-]+)`),
	}
)

func logsPathIn(s string) string {
	if m := logsPathOp.FindStringSubmatch(s); m != nil {
		return strings.TrimRight(m[1], ".")
	}
	if m := logsPathQuoted.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	if m := logsPathBare.FindStringSubmatch(s); m != nil {
		return strings.TrimRight(m[1], ".")
	}
	return ""
}

var logsSigs []*logsSig

func init() {
	logsSigs = []*logsSig{
		{
			id: "missing_env", keys: []string{"env", "required key", "keyerror", "must be", "not set", "is required", "is unset", "is undefined", "is empty", "not defined"},
			category: CategoryMissingConfig, specific: true,
			match: func(c *logsCtx, i int) []logsMatch {
				s := c.text(i)
				if m := logsFirst(logsEnvRE, s); m != nil {
					if strings.Contains(strings.ToLower(s), "default") {
						return nil // "X not set, using default"
					}
					if !strings.ContainsAny(m[1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") {
						return nil // "env file missing": not a variable name
					}
					return []logsMatch{{culprit: m[1]}}
				}
				if m := logsKeyErrorRE.FindStringSubmatch(s); m != nil {
					for j := i; j >= 0 && j >= i-15; j-- {
						if t := c.text(j); strings.Contains(t, "environ") || strings.Contains(t, "getenv") {
							return []logsMatch{{culprit: m[1]}}
						}
					}
				}
				return nil
			},
			say: func(m logsMatch) string {
				return fmt.Sprintf("required environment variable %q is not set", m.culprit)
			},
		},
		{
			id: "command_not_found", keys: []string{"not found", "no such file"},
			category: CategoryApplicationErr, specific: true,
			match: func(c *logsCtx, i int) []logsMatch {
				if m := logsFirst(logsCmdRE, c.text(i)); m != nil {
					return []logsMatch{{culprit: m[1]}}
				}
				return nil
			},
			say: func(m logsMatch) string {
				return fmt.Sprintf("command %q was not found in the container image", m.culprit)
			},
		},
		{
			id: "dns_lookup", keys: []string{"lookup ", "getaddrinfo", "translate host", "unknownhost", "failed to resolve", "name or service", "name resolution", "nodename"},
			category: CategoryDNS,
			match: func(c *logsCtx, i int) []logsMatch {
				m := logsFirst(logsLookupRE, c.text(i))
				if m == nil {
					return nil
				}
				host := strings.TrimSuffix(m[1], ".")
				s := c.text(i)
				detail := "no such host"
				if len(m) > 3 && m[3] != "" {
					detail = m[3]
				} else if logsDNSTransient.MatchString(s) {
					detail = "temporary failure in name resolution"
				}
				// The resolver answered that the name does not exist: the
				// log names the cause outright. A timed-out or failing DNS
				// server is not that sure.
				nx := logsDNSNoName.MatchString(s) && !logsDNSTransient.MatchString(s)
				return []logsMatch{{culprit: host, related: logsRelatedAddr(host, c.ns), detail: detail, specific: nx}}
			},
			say: func(m logsMatch) string {
				return fmt.Sprintf("DNS lookup of %q failed (%s)", m.culprit, m.detail)
			},
		},
		{
			id: "connection", keys: []string{"refused", "timeout", "timed out", "deadline exceeded", "no route", "unreachable", "reset"},
			category: CategoryDependency,
			match: func(c *logsCtx, i int) []logsMatch {
				s := c.text(i)
				if !logsConnWords.MatchString(s) || logsFirst(logsLookupRE, s) != nil {
					return nil
				}
				kind := "connection refused"
				ls := strings.ToLower(s)
				switch {
				case strings.Contains(ls, "refused"):
				case strings.Contains(ls, "reset"):
					kind = "connection reset"
				case strings.Contains(ls, "no route to host"), strings.Contains(ls, "unreachable"):
					kind = "host unreachable"
				default:
					kind = "connection timed out"
				}
				addr := ""
				if m := logsDialRE.FindStringSubmatch(s); m != nil {
					addr = m[1]
				} else if m := logsNodeErrRE.FindStringSubmatch(s); m != nil {
					addr = m[2]
				} else if m := logsPgAtRE.FindStringSubmatch(s); m != nil {
					addr = m[1] + ":" + m[2]
				} else if m := logsPgOnRE.FindStringSubmatch(s); m != nil {
					addr = m[1] + ":" + m[2]
				} else {
					addr = logsFindAddr(s)
				}
				if addr == "" {
					// libpq splits the address over the next lines.
					for j := i + 1; j < len(c.lines) && j <= i+2; j++ {
						if m := logsPgOnRE.FindStringSubmatch(c.text(j) + " " + logsNext(c, j)); m != nil {
							addr = m[1] + ":" + m[2]
							break
						}
					}
				}
				if addr == "" {
					return nil
				}
				return []logsMatch{{culprit: addr, related: logsRelatedLine(c, i, addr), detail: kind}}
			},
			say: func(m logsMatch) string {
				return fmt.Sprintf("%s to dependency %q", m.detail, m.culprit)
			},
		},
		{
			id: "certificate", keys: []string{"x509", "certificate", "cert_", "pkix", "altnames"},
			category: CategoryCertificate, specific: true,
			match: func(c *logsCtx, i int) []logsMatch {
				s := c.text(i)
				if !logsCertWords.MatchString(s) {
					return nil
				}
				ls := strings.ToLower(s)
				detail := "certificate verification failed"
				switch {
				case strings.Contains(ls, "expired") || strings.Contains(ls, "not yet valid"):
					detail = "certificate has expired or is not yet valid"
				case strings.Contains(ls, "unknown authority") || strings.Contains(ls, "self signed") || strings.Contains(ls, "self-signed") || strings.Contains(ls, "pkix") || strings.Contains(ls, "unable to verify") || strings.Contains(ls, "unable_to_verify"):
					detail = "certificate signed by an unknown authority"
				case strings.Contains(ls, "valid for") || strings.Contains(ls, "altnames"):
					detail = "certificate does not match the host name"
				case strings.Contains(s, "x509: ") && !strings.Contains(ls, "certificate"):
					return nil
				}
				host := ""
				if m := logsURL.FindStringSubmatch(s); m != nil {
					host = m[1]
				} else if m := logsFirst(logsCertHost, s); m != nil {
					host = m[1]
				}
				m := logsMatch{culprit: host, detail: detail}
				if host != "" {
					m.related = logsRelatedAddr(host, c.ns)
				}
				if m.culprit == "" {
					m.culprit = detail
				}
				return []logsMatch{m}
			},
			say: func(m logsMatch) string {
				if m.culprit == m.detail {
					return "TLS " + m.detail
				}
				return fmt.Sprintf("TLS to %q failed: %s", m.culprit, m.detail)
			},
		},
		{
			id: "auth", keys: []string{"authentication", "access denied", "401", "credentials", "noauth", "wrongpass", "api key", "invalidaccesskeyid", "signaturedoesnotmatch", "security token", "username or password"},
			category: CategoryAuth, specific: true,
			match: func(c *logsCtx, i int) []logsMatch {
				s := c.text(i)
				w := logsAuthWords.FindString(s)
				if w == "" || (strings.HasPrefix(w, "401") && strings.Contains(s, "HTTP/1.")) {
					return nil // an access log of requests this server refused
				}
				m := logsMatch{detail: w}
				if u := logsFirst(logsAuthUser, s); u != nil {
					m.culprit = "user " + strconv.Quote(u[1])
				} else if u := logsURL.FindStringSubmatch(s); u != nil {
					m.culprit = strings.TrimRight(u[0], ".:")
				} else if a := logsFindAddr(s); a != "" {
					m.culprit = a
					m.related = logsRelatedAddr(a, c.ns)
				} else {
					m.culprit = w
				}
				if a := logsFindAddr(s); a != "" && m.related == nil {
					m.related = logsRelatedAddr(a, c.ns)
				} else if h := logsHostKV.FindStringSubmatch(s); h != nil && m.related == nil {
					m.related = logsRelatedAddr(h[1], c.ns)
				}
				return []logsMatch{m}
			},
			say: func(m logsMatch) string {
				if m.culprit == m.detail {
					return "authentication failed: " + m.detail
				}
				return fmt.Sprintf("authentication failed for %s (%s)", m.culprit, m.detail)
			},
		},
		{
			id: "syntax", keys: []string{"yaml", "toml", "syntaxerror", "syntax error", "[emerg]", "sql syntax"},
			category: CategoryApplicationErr,
			match: func(c *logsCtx, i int) []logsMatch {
				s := c.text(i)
				if m := logsSyntaxYAML.FindStringSubmatch(s); m != nil {
					where := m[1] + ": line " + m[2]
					if f := logsFileName.FindStringSubmatch(strings.Replace(s, m[0], "", 1)); f != nil {
						where = f[1] + ": line " + m[2]
					}
					return []logsMatch{{culprit: where, detail: "configuration parse error"}}
				}
				if logsPyYAMLErr.MatchString(s) {
					for j := i; j < len(c.lines) && j <= i+5; j++ {
						if p := logsPyYAMLPos.FindStringSubmatch(c.text(j)); p != nil {
							return []logsMatch{{culprit: p[1] + ": line " + p[2], detail: "configuration parse error"}}
						}
					}
					return []logsMatch{{culprit: strings.TrimSpace(s), detail: "configuration parse error"}}
				}
				if m := logsNginxEmerg.FindStringSubmatch(s); m != nil {
					return []logsMatch{{culprit: m[2], detail: "configuration error: " + m[1]}}
				}
				if m := logsSQLSyntax.FindStringSubmatch(s); m != nil {
					return []logsMatch{{culprit: m[0], detail: "SQL syntax error"}}
				}
				if m := logsMySQLSyntax.FindStringSubmatch(s); m != nil {
					return []logsMatch{{culprit: fmt.Sprintf("near '%s' at line %s", m[1], m[2]), detail: "SQL syntax error"}}
				}
				if m := logsSyntaxErr.FindStringSubmatch(s); m != nil {
					where := ""
					for j := i - 1; j >= 0 && j >= i-6 && where == ""; j-- {
						if p := logsPyFrame.FindStringSubmatch(c.text(j)); p != nil {
							where = p[1] + ":" + p[2]
						} else if p := logsJSFileLine.FindStringSubmatch(c.text(j)); p != nil {
							where = p[1] + ":" + p[2]
						}
					}
					for j := i + 1; j < len(c.lines) && j <= i+3 && where == ""; j++ {
						if p := logsJSFrame.FindStringSubmatch(c.text(j)); p != nil {
							where = p[1] + ":" + p[2]
						}
					}
					msg := "SyntaxError: " + strings.TrimSpace(m[1])
					if where == "" {
						return []logsMatch{{culprit: msg, detail: "syntax error"}}
					}
					return []logsMatch{{culprit: where, detail: msg}}
				}
				return nil
			},
			say: func(m logsMatch) string {
				switch {
				case m.detail == "SQL syntax error":
					return "SQL " + m.culprit
				case m.culprit == m.detail || strings.HasPrefix(m.culprit, "SyntaxError"):
					return "syntax error: " + m.culprit
				}
				return fmt.Sprintf("%s at %q", m.detail, m.culprit)
			},
		},
		{
			id: "permission", keys: []string{"permission denied", "eacces"},
			category: CategoryApplicationErr,
			match: func(c *logsCtx, i int) []logsMatch {
				s := c.text(i)
				if !logsPermWords.MatchString(s) || strings.Contains(s, "forbidden: User") {
					return nil
				}
				if m := logsPermPG.FindStringSubmatch(s); m != nil {
					return []logsMatch{{culprit: m[1] + " " + m[2]}}
				}
				if m := logsListenEACCES.FindStringSubmatch(s); m != nil {
					return []logsMatch{{culprit: m[1]}}
				}
				if p := logsPathIn(s); p != "" {
					return []logsMatch{{culprit: p}}
				}
				return nil
			},
			say: func(m logsMatch) string {
				return fmt.Sprintf("permission denied on %q", m.culprit)
			},
		},
		{
			id: "disk_full", keys: []string{"no space", "enospc", "quota exceeded", "edquot"},
			category: CategorySaturation, specific: true,
			match: func(c *logsCtx, i int) []logsMatch {
				s := c.text(i)
				w := logsDiskWords.FindString(s)
				if w == "" {
					return nil
				}
				if p := logsPathIn(s); p != "" {
					return []logsMatch{{culprit: p, detail: w}}
				}
				return []logsMatch{{culprit: "no space left on device", detail: w}}
			},
			say: func(m logsMatch) string {
				if m.culprit == "no space left on device" {
					return "the disk is full (no space left on device)"
				}
				return fmt.Sprintf("the disk holding %q is full (%s)", m.culprit, m.detail)
			},
		},
		{
			// A binary built for another CPU architecture (an arm64 image on
			// amd64 nodes) or OS: the kernel refuses to execute it.
			id: "exec_format", keys: []string{"exec format error"},
			category: CategoryApplicationErr, specific: true,
			match: func(c *logsCtx, i int) []logsMatch {
				if m := logsFirst(logsExecFormat, c.text(i)); m != nil {
					return []logsMatch{{culprit: m[1]}}
				}
				return nil
			},
			say: func(m logsMatch) string {
				why := "exec format error: the image was built for another CPU architecture or OS than the node's"
				if strings.EqualFold(m.culprit, "exec format error") {
					return "the container's binary cannot be executed (" + why + ")"
				}
				return fmt.Sprintf("%q cannot be executed (%s)", m.culprit, why)
			},
		},
		{
			// Writes refused because the filesystem is mounted read-only
			// (readOnlyRootFilesystem, a read-only volume mount).
			id: "read_only_fs", keys: []string{"read-only file system", "erofs"},
			category: CategoryApplicationErr, specific: true,
			match: func(c *logsCtx, i int) []logsMatch {
				s := c.text(i)
				if !logsROFSWords.MatchString(s) {
					return nil
				}
				if p := logsPathIn(s); p != "" {
					return []logsMatch{{culprit: p}}
				}
				return []logsMatch{{culprit: "read-only file system"}}
			},
			say: func(m logsMatch) string {
				const why = "read-only file system: the container's root filesystem (readOnlyRootFilesystem) or the volume is mounted read-only"
				if m.culprit == "read-only file system" {
					return "a write failed: " + why
				}
				return fmt.Sprintf("it cannot write %q (%s)", m.culprit, why)
			},
		},
		{
			// File descriptors exhausted (ulimit -n): every socket and file
			// the process opens fails until descriptors are released.
			id: "too_many_open_files", keys: []string{"too many open files", "emfile"},
			category: CategorySaturation, specific: true,
			match: func(c *logsCtx, i int) []logsMatch {
				if !logsFDWords.MatchString(c.text(i)) {
					return nil
				}
				return []logsMatch{{culprit: "too many open files"}}
			},
			say: func(logsMatch) string {
				return "the process ran out of file descriptors (too many open files: its open-files limit is exhausted, typically by leaked connections or files)"
			},
		},
		{
			// The application's own connection pool (to a database, a
			// cache) has no free connection: requests queue and time out.
			// Not specific: a slow dependency holding connections looks the
			// same.
			id: "pool_exhausted", keys: []string{"connection is not available", "pool exhausted", "queuepool limit", "acquiring connection", "acquiring a connection", "acquire connection", "acquire a connection", "idle object", "jdbc connection"},
			category: CategorySaturation,
			match: func(c *logsCtx, i int) []logsMatch {
				s := c.text(i)
				w := logsPoolWords.FindString(s)
				if w == "" {
					return nil
				}
				m := logsMatch{culprit: "connection pool", detail: w}
				if p := logsPoolName.FindString(s); p != "" {
					m.culprit = p
				}
				return []logsMatch{m}
			},
			say: func(m logsMatch) string {
				return fmt.Sprintf("its connection pool %q is exhausted (%s): every connection is in use, so requests wait and time out", m.culprit, m.detail)
			},
		},
		{
			id: "too_many_connections", keys: []string{"too many", "remaining connection slots", "max number of clients"},
			category: CategorySaturation,
			match: func(c *logsCtx, i int) []logsMatch {
				s := c.text(i)
				w := logsConnsWords.FindString(s)
				if w == "" {
					return nil
				}
				m := logsMatch{culprit: w, detail: w}
				if h := logsFirst(logsConnsHost, s); h != nil {
					host := h[1]
					if len(h) > 2 && h[2] != "" {
						host += ":" + h[2]
					}
					m.culprit = host
					m.related = logsRelatedAddr(host, c.ns)
				}
				return []logsMatch{m}
			},
			say: func(m logsMatch) string {
				if m.culprit == m.detail {
					return "connection limit reached: " + m.detail
				}
				return fmt.Sprintf("connection limit reached on %q (%s)", m.culprit, m.detail)
			},
		},
	}
}

func logsNext(c *logsCtx, j int) string {
	if j+1 < len(c.lines) {
		return c.lines[j+1].text
	}
	return ""
}

// ---- stack traces ----

var logsTraceSig = &logsSig{
	id: "stack_trace", category: CategoryApplicationErr,
	say: func(m logsMatch) string { return "the application raised a " + m.detail + ": " + m.culprit },
}

type logsTrace struct {
	exc   int    // index of the line with the exception message
	msg   string // the exception message
	where string // file:line of the first application frame
	lang  string
}

var (
	logsGoPanic     = regexp.MustCompile(`(?:^|\s)((?:panic|fatal error): .+?)(?: \[recovered\])?\s*$`)
	logsGoroutine   = regexp.MustCompile(`^\s*goroutine \d+ \[`)
	logsGoFile      = regexp.MustCompile(`^\s*(\S+\.go):(\d+)(?: \+0x[0-9a-f]+)?\s*$`)
	logsJavaExc     = regexp.MustCompile(`^\s*(?:Caused by: )?((?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable|Failure)(?::\s*.*)?)$`)
	logsJavaThread  = regexp.MustCompile(`Exception in thread "[^"]*" ((?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*.*)$`)
	logsJavaFrame   = regexp.MustCompile(`^\s*at ([\w$.<>/]+)\(([\w$]+\.(?:java|kt|scala|groovy|clj)):(\d+)\)`)
	logsJavaMore    = regexp.MustCompile(`^\s*(?:\.\.\. \d+ (?:more|common frames omitted)|Suppressed: |at )`)
	logsPyTraceback = regexp.MustCompile(`Traceback \(most recent call last\):`)
	logsJSErr       = regexp.MustCompile(`^\s*(?:Uncaught )?((?:[A-Z]\w*)?(?:Error|Exception)(?: \[\w+\])?: .+)$`)
	logsJSUnhandled = regexp.MustCompile(`UnhandledPromiseRejection(?:Warning)?:? (.+)`)
	logsJSReason    = regexp.MustCompile(`reason "(.+?)"\.?\]?`)
)

var logsTraceKeys = []string{"panic: ", "fatal error: ", "Traceback", "Exception", "Error", "Throwable", "Failure", "UnhandledPromiseRejection"}

func logsGoLibrary(file, fn string) bool {
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "panic(") ||
		strings.Contains(file, "/usr/local/go/src/") || strings.Contains(file, "/usr/lib/go") ||
		strings.Contains(file, "/src/runtime/") || strings.Contains(file, "/go/pkg/mod/") ||
		strings.Contains(file, "/vendor/")
}

func logsPyLibrary(file string) bool {
	return strings.Contains(file, "site-packages") || strings.Contains(file, "dist-packages") ||
		strings.Contains(file, "/lib/python") || strings.HasPrefix(file, "<")
}

func logsJavaLibrary(fn string) bool {
	for _, p := range []string{"java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "scala.", "org.springframework.", "org.apache.", "io.netty.", "org.hibernate.", "com.zaxxer."} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// logsTraces finds panics and stack traces (Go, Java, Python, Node).
func logsTraces(lines []logsLine) []logsTrace {
	var out []logsTrace
	n := len(lines)
	for i := 0; i < n; i++ {
		s := lines[i].text
		if !logsHasAny(s, logsTraceKeys) {
			continue
		}
		// Go panic / fatal error, with the goroutine trace when present.
		if m := logsGoPanic.FindStringSubmatch(s); m != nil && !strings.Contains(s, "Traceback") {
			t := logsTrace{exc: i, msg: m[1], lang: "Go panic"}
			if strings.HasPrefix(m[1], "fatal error") {
				t.lang = "Go fatal error"
			}
			j := i + 1
			for ; j < n && j <= i+6; j++ {
				if logsGoroutine.MatchString(lines[j].text) {
					break
				}
			}
			if j < n && j <= i+6 {
				first := ""
				for k := j + 1; k < n && k < j+200; k++ {
					fm := logsGoFile.FindStringSubmatch(lines[k].text)
					if fm == nil {
						if strings.TrimSpace(lines[k].text) == "" || logsGoroutine.MatchString(lines[k].text) {
							break
						}
						continue
					}
					fn := strings.TrimSpace(lines[k-1].text)
					loc := fm[1] + ":" + fm[2]
					if first == "" && !strings.HasPrefix(fn, "runtime.") && !strings.HasPrefix(fn, "panic(") {
						first = loc
					}
					if !logsGoLibrary(fm[1], fn) {
						t.where = loc
						break
					}
				}
				if t.where == "" {
					t.where = first
				}
				i = j
			}
			out = append(out, t)
			continue
		}
		// Python traceback: frames, then the exception line.
		if logsPyTraceback.MatchString(s) {
			var frames []string
			j := i + 1
			for ; j < n; j++ {
				t := lines[j].text
				if p := logsPyFrame.FindStringSubmatch(t); p != nil {
					if !logsPyLibrary(p[1]) || len(frames) == 0 {
						frames = append(frames, p[1]+":"+p[2])
					} else {
						frames = append(frames, "lib:"+p[1]+":"+p[2])
					}
					continue
				}
				if t == "" || strings.HasPrefix(t, " ") || strings.HasPrefix(t, "\t") {
					continue
				}
				break
			}
			if j >= n {
				continue
			}
			t := logsTrace{exc: j, msg: strings.TrimSpace(lines[j].text), lang: "Python exception"}
			for k := len(frames) - 1; k >= 0; k-- {
				if !strings.HasPrefix(frames[k], "lib:") {
					t.where = frames[k]
					break
				}
			}
			if t.where == "" && len(frames) > 0 {
				t.where = strings.TrimPrefix(frames[len(frames)-1], "lib:")
			}
			out = append(out, t)
			i = j
			continue
		}
		// Java: "Exception in thread" or an exception line followed by frames;
		// the root cause is the last "Caused by:".
		jm := logsJavaThread.FindStringSubmatch(s)
		if jm == nil && i+1 < n && logsJavaFrame.MatchString(lines[i+1].text) {
			if m := logsJavaExc.FindStringSubmatch(s); m != nil {
				jm = m
			}
		}
		if jm != nil {
			t := logsTrace{exc: i, msg: strings.TrimSpace(jm[1]), lang: "Java exception"}
			j := i + 1
			for ; j < n; j++ {
				tl := lines[j].text
				if strings.HasPrefix(strings.TrimSpace(tl), "Caused by: ") {
					t.exc, t.msg, t.where = j, strings.TrimPrefix(strings.TrimSpace(tl), "Caused by: "), ""
					continue
				}
				if f := logsJavaFrame.FindStringSubmatch(tl); f != nil {
					if t.where == "" && !logsJavaLibrary(f[1]) {
						t.where = f[2] + ":" + f[3]
					}
					continue
				}
				if logsJavaMore.MatchString(tl) {
					continue
				}
				break
			}
			out = append(out, t)
			i = j - 1
			continue
		}
		// Node: unhandled rejections and uncaught errors with "at" frames.
		if m := logsJSUnhandled.FindStringSubmatch(s); m != nil {
			msg := strings.TrimSpace(m[1])
			if r := logsJSReason.FindStringSubmatch(s); r != nil {
				msg = r[1]
			}
			out = append(out, logsTrace{exc: i, msg: "UnhandledPromiseRejection: " + msg, lang: "Node.js unhandled rejection"})
			continue
		}
		if m := logsJSErr.FindStringSubmatch(s); m != nil {
			t := logsTrace{exc: i, msg: strings.TrimSpace(m[1]), lang: "Node.js error"}
			frames := false
			for j := i + 1; j < n && j <= i+8; j++ {
				f := logsJSFrame.FindStringSubmatch(lines[j].text)
				if f == nil {
					continue
				}
				frames = true
				if !strings.Contains(f[1], "node_modules") && !strings.HasPrefix(f[1], "node:") {
					t.where = f[1] + ":" + f[2]
					break
				}
			}
			// Node prints "file:line" of the throw above the error.
			for j := i - 1; j >= 0 && j >= i-5; j-- {
				if f := logsJSFileLine.FindStringSubmatch(lines[j].text); f != nil && !strings.Contains(f[1], "node_modules") {
					t.where = f[1] + ":" + f[2]
					frames = true
					break
				}
			}
			if frames {
				out = append(out, t)
			}
		}
	}
	return out
}

// ---- crash detection and scoring ----

var logsCrashRE = regexp.MustCompile(`(?i)\bpanic: |fatal error: |Traceback \(most recent call last\)|Exception in thread|exit(?:ed|ing)? (?:with )?(?:status|code) [1-9]|exit status [1-9]|\bexiting\b|shutting down|npm ERR!|Unhandled(?:Promise)?Rejection|process exited|failed to start|startup failed|Application run failed|Segmentation fault|core dumped|^\s*at \S|^\s+\S+\.go:\d+ \+0x`)

func logsPrevious(it Item) bool {
	switch v := it.Args["previous"].(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(v)
		return b
	}
	return false
}

func logsCrashed(lines []logsLine) bool {
	seen := 0
	for i := len(lines) - 1; i >= 0 && seen < 20; i-- {
		if strings.TrimSpace(lines[i].text) == "" {
			continue
		}
		seen++
		if lines[i].level == "fatal" || logsCrashRE.MatchString(lines[i].text) {
			return true
		}
	}
	return false
}

func logsAnalyzeItem(analyzer string, it Item) []Finding {
	ns := it.Arg("namespace")
	pod := it.Arg("pod")
	if pod == "" {
		pod = it.Arg("name")
	}
	lines := logsSplit(it.Output)
	if len(lines) == 0 {
		return nil
	}
	c := &logsCtx{lines: lines, ns: ns}
	hits := map[string]*logsHit{}
	var order []string
	byLine := map[int]*logsHit{} // first specific hit on a line, for traces
	record := func(sig *logsSig, m logsMatch, i int) *logsHit {
		key := sig.id + "\x00" + m.culprit
		h := hits[key]
		if h == nil {
			h = &logsHit{sig: sig, culprit: m.culprit, related: m.related, infoOnly: true}
			hits[key] = h
			order = append(order, key)
		}
		h.count++
		h.specific = h.specific || sig.specific || m.specific
		h.last = i
		h.line = strings.TrimSpace(lines[i].text)
		lvl := lines[i].level
		if lvl != "info" {
			h.infoOnly = false
		}
		h.levelErr = lvl != "info" && lvl != "warn" && lvl != "debug"
		return h
	}
	details := map[*logsHit]logsMatch{}
	for i, l := range lines {
		if l.level == "debug" || strings.TrimSpace(l.text) == "" {
			continue
		}
		lower := strings.ToLower(l.text)
		for _, sig := range logsSigs {
			if !logsHasAny(lower, sig.keys) {
				continue
			}
			for _, m := range sig.match(c, i) {
				h := record(sig, m, i)
				details[h] = m
				if _, ok := byLine[i]; !ok {
					byLine[i] = h
				}
			}
		}
	}
	for _, t := range logsTraces(lines) {
		if h, ok := byLine[t.exc]; ok {
			// The exception line already names a more specific cause.
			if h.where == "" {
				h.where = t.where
			}
			continue
		}
		culprit := t.msg
		if t.where != "" {
			culprit += " at " + t.where
		}
		m := logsMatch{culprit: culprit, detail: t.lang}
		h := record(logsTraceSig, m, t.exc)
		h.where = t.where
		h.levelErr = true
		h.infoOnly = false
		details[h] = m
	}
	if len(order) == 0 {
		return nil
	}

	n := len(lines)
	previous := logsPrevious(it)
	crashed := previous || logsCrashed(lines)
	lastNonEmpty := n - 1
	tail3 := lastNonEmpty
	for k, i := 0, lastNonEmpty; i >= 0 && k < 3; i-- {
		if strings.TrimSpace(lines[i].text) != "" {
			tail3 = i
			k++
		}
	}
	near := func(h *logsHit) bool {
		return (crashed && h.last >= n-50) || (h.last >= tail3 && h.levelErr)
	}
	latest := -1
	for _, k := range order {
		if h := hits[k]; near(h) && h.last > latest {
			latest = h.last
		}
	}

	obj := "pod/" + ns + "/" + pod
	if ns == "" {
		obj = "pod/" + pod
	}
	where := fmt.Sprintf("pod %s/%s", ns, pod)
	if c := it.Arg("container"); c != "" {
		where = fmt.Sprintf("container %q of pod %s/%s", c, ns, pod)
	}
	if previous {
		where += " (previous run)"
	}
	var out []Finding
	for _, k := range order {
		h := hits[k]
		isNear := near(h)
		// A stack trace right where the container died shows the cause of
		// that exit as directly as a specific signature does.
		direct := (h.specific && (isNear || (previous && h.count >= 2))) || (h.sig.id == "stack_trace" && isNear && previous)
		var score float64
		switch {
		case isNear && h.specific:
			score = 0.85
		case isNear:
			score = 0.75
		case h.count >= 3 && h.specific:
			score = 0.6
		case h.count >= 3:
			score = 0.55
		case h.count == 2:
			score = 0.45
		default:
			score = 0.4
		}
		if isNear {
			score += 0.05 * float64(h.last+1) / float64(n)
			if h.last == latest {
				score += 0.05
			}
		}
		if h.infoOnly {
			score -= 0.1
		}
		score = math.Round(math.Max(0, math.Min(1, score))*1000) / 1000

		m := details[h]
		summary := fmt.Sprintf("Logs of %s: %s", where, h.sig.say(m))
		if h.where != "" && !strings.Contains(h.culprit, h.where) {
			summary += " (at " + h.where + ")"
		}
		times := "once"
		if h.count > 1 {
			times = fmt.Sprintf("%d times", h.count)
		}
		switch {
		case isNear && previous:
			// Only the previous container's log is known to end where it
			// stopped; a stack trace in a running pod's log may be caught.
			times += ", last just before the container stopped"
		case isNear:
			times += ", at the end of the log"
		case h.count == 1:
			times += ", amid otherwise healthy output"
		}
		summary += fmt.Sprintf("; seen %s: %q", times, logsClip(h.line, 240))
		out = append(out, Finding{
			Analyzer: analyzer,
			Category: h.sig.category,
			Object:   obj,
			Summary:  summary,
			Culprit:  h.culprit,
			Evidence: []int{it.ID},
			Direct:   direct,
			Score:    score,
			Related:  h.related,
		})
	}
	return out
}

func logsClip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// logsSortFindings orders findings by Score (desc), Object, Culprit.
func logsSortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Score != fs[j].Score {
			return fs[i].Score > fs[j].Score
		}
		if fs[i].Object != fs[j].Object {
			return fs[i].Object < fs[j].Object
		}
		if fs[i].Culprit != fs[j].Culprit {
			return fs[i].Culprit < fs[j].Culprit
		}
		return fs[i].Category < fs[j].Category
	})
}

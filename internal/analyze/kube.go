package analyze

// Shared parsing of what kubectl prints: `kubectl describe` text, tables
// (`kubectl get`, `kubectl get events`, the Events: block of describe) and
// `-o json` objects. The parsers are tolerant: they never fail, they return
// what they could read.

import (
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Tool names of the Kubernetes toolset.
const (
	toolKubeDescribe = "kubernetes.describe"
	toolKubeGet      = "kubernetes.get"
	toolKubeEvents   = "kubernetes.events"
)

var kindAliases = map[string]string{
	"po": "pod", "pods": "pod",
	"deploy": "deployment", "deployments": "deployment",
	"rs": "replicaset", "replicasets": "replicaset",
	"sts": "statefulset", "statefulsets": "statefulset",
	"ds": "daemonset", "daemonsets": "daemonset",
	"jobs": "job", "cj": "cronjob", "cronjobs": "cronjob",
	"hpa": "horizontalpodautoscaler", "horizontalpodautoscalers": "horizontalpodautoscaler",
	"pvc": "persistentvolumeclaim", "persistentvolumeclaims": "persistentvolumeclaim",
	"pv": "persistentvolume", "persistentvolumes": "persistentvolume",
	"sc": "storageclass", "storageclasses": "storageclass",
	"no": "node", "nodes": "node",
	"ns": "namespace", "namespaces": "namespace",
	"svc": "service", "services": "service",
	"cm": "configmap", "configmaps": "configmap",
	"secrets": "secret", "ev": "event", "events": "event",
	"ing": "ingress", "ingresses": "ingress",
	"quota": "resourcequota", "resourcequotas": "resourcequota",
	"ep": "endpoints", "endpointslices": "endpointslice",
	"netpol": "networkpolicy", "networkpolicies": "networkpolicy",
}

var clusterScoped = map[string]bool{
	"node": true, "namespace": true, "persistentvolume": true, "storageclass": true,
}

// KubeKind normalises a kind as users, kubectl and the API spell it
// ("Deployment", "deploy", "deployments.apps", "HPA") to the lower-case
// singular form used in Finding.Object ("deployment").
func KubeKind(kind string) string {
	k := strings.ToLower(strings.TrimSpace(kind))
	if i := strings.IndexByte(k, '.'); i > 0 { // deployments.apps
		k = k[:i]
	}
	if a, ok := kindAliases[k]; ok {
		return a
	}
	return k
}

// ObjectRef renders kind/namespace/name (kind/name for cluster-scoped kinds
// or when the namespace is unknown), the form of Finding.Object.
func ObjectRef(kind, namespace, name string) string {
	k := KubeKind(kind)
	if namespace == "" || clusterScoped[k] {
		return k + "/" + name
	}
	return k + "/" + namespace + "/" + name
}

// ---------------------------------------------------------------------------
// Tables

var multiSpace = regexp.MustCompile(`\S+(?: \S+)*`)

// ParseTable reads a column-aligned table as kubectl prints it: a header of
// upper/mixed-case column names separated by two or more spaces ("LAST
// SEEN", "Type"), an optional "----" rule, then rows cut at the header's
// column offsets. Keys are the header names as printed. Lines that do not
// start in the first column (continuations of a multi-line last cell) are
// appended to the previous row's last cell.
func ParseTable(text string) []map[string]string {
	lines := strings.Split(strings.ReplaceAll(text, "\t", "    "), "\n")
	h := -1
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			h = i
			break
		}
	}
	if h < 0 {
		return nil
	}
	header := lines[h]
	locs := multiSpace.FindAllStringIndex(header, -1)
	if len(locs) == 0 {
		return nil
	}
	names := make([]string, len(locs))
	starts := make([]int, len(locs))
	for i, loc := range locs {
		names[i] = header[loc[0]:loc[1]]
		starts[i] = loc[0]
	}
	var rows []map[string]string
	for _, l := range lines[h+1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if isRule(l) {
			continue
		}
		lead := len(l) - len(strings.TrimLeft(l, " "))
		if lead > starts[0] && len(rows) > 0 && len(names) > 1 {
			last := names[len(names)-1]
			rows[len(rows)-1][last] = strings.TrimSpace(rows[len(rows)-1][last] + " " + strings.TrimSpace(l))
			continue
		}
		rows = append(rows, cutRow(l, names, starts))
	}
	return rows
}

func isRule(l string) bool {
	t := strings.TrimSpace(l)
	return t != "" && strings.Trim(t, "- ") == ""
}

// cutRow splits a row at the header offsets; when a cut falls inside a word
// (the row is not aligned) it moves to the next blank.
func cutRow(l string, names []string, starts []int) map[string]string {
	row := make(map[string]string, len(names))
	pos := 0
	for i := range names {
		if pos > len(l) {
			pos = len(l)
		}
		end := len(l)
		if i+1 < len(names) {
			end = starts[i+1]
			if end < pos {
				end = pos
			}
			if end > len(l) {
				end = len(l)
			}
			for end < len(l) && end > 0 && l[end-1] != ' ' && l[end] != ' ' {
				end++
			}
		}
		row[names[i]] = strings.TrimSpace(l[pos:end])
		pos = end
	}
	return row
}

// ---------------------------------------------------------------------------
// kubectl describe

// DescribeNode is one "Key:  value" line of describe output with the lines
// indented below it. Lines without a key (table rows, label continuations,
// mounts) are nodes with an empty Key and the line as Value.
type DescribeNode struct {
	Key, Value string
	Children   []*DescribeNode
	// Lines holds the raw lines below this one (tables keep their layout).
	Lines  []string
	indent int
}

// Child returns the first direct child with the key (case-insensitive), or nil.
func (n *DescribeNode) Child(key string) *DescribeNode {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if strings.EqualFold(c.Key, key) {
			return c
		}
	}
	return nil
}

// Get follows a path of keys and returns the node's value ("" when absent).
func (n *DescribeNode) Get(path ...string) string {
	for _, p := range path {
		n = n.Child(p)
	}
	if n == nil {
		return ""
	}
	return n.Value
}

// Table parses the lines below the node as a table (Conditions:, Events:).
func (n *DescribeNode) Table() []map[string]string {
	if n == nil || len(n.Lines) == 0 {
		return nil
	}
	return ParseTable(strings.Join(n.Lines, "\n"))
}

// DescribeDoc is one object of `kubectl describe` output.
type DescribeDoc struct {
	Root *DescribeNode
}

// Name, Namespace and Get read top-level fields.
func (d *DescribeDoc) Name() string      { return d.Root.Get("Name") }
func (d *DescribeDoc) Namespace() string { return d.Root.Get("Namespace") }

// Get follows a path of keys from the top level.
func (d *DescribeDoc) Get(path ...string) string { return d.Root.Get(path...) }

// Node returns the node at a path of keys, or nil.
func (d *DescribeDoc) Node(path ...string) *DescribeNode {
	n := d.Root
	for _, p := range path {
		n = n.Child(p)
	}
	return n
}

// describeKV splits a describe line "Key:  value" (or "Key:") as the
// pattern ^([A-Za-z0-9][^:]*?):(?:\s+(.*))?$ would, both parts trimmed,
// without a regexp: it runs on every line of every description, and the
// backtracking matcher cost a fifth of a large bundle's analysis.
func describeKV(body string) (key, value string, ok bool) {
	if body == "" || !isAlnumByte(body[0]) {
		return "", "", false
	}
	i := strings.IndexByte(body, ':')
	if i < 0 {
		return "", "", false
	}
	rest := body[i+1:]
	if rest != "" && !isSpaceByte(rest[0]) {
		return "", "", false // "http://…": the first colon is not a key's
	}
	return strings.TrimSpace(body[:i]), strings.TrimSpace(rest), true
}

func isAlnumByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isSpaceByte is regexp's \s: [\t\n\f\r ].
func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// ParseDescribe splits `kubectl describe` output into objects (each starts
// with "Name:" in the first column) and parses each into a tree by
// indentation.
func ParseDescribe(text string) []*DescribeDoc {
	var docs []*DescribeDoc
	var stack []*DescribeNode
	text = strings.ReplaceAll(text, "\t", "    ")
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimRight(raw, " \r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		body := strings.TrimSpace(line)
		if indent == 0 && strings.HasPrefix(body, "Name:") || len(docs) == 0 {
			if indent != 0 || !strings.HasPrefix(body, "Name:") {
				continue // preamble (warnings) before the first object
			}
			root := &DescribeNode{indent: -1}
			docs = append(docs, &DescribeDoc{Root: root})
			stack = []*DescribeNode{root}
		}
		for len(stack) > 1 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		n := &DescribeNode{indent: indent, Value: body}
		if k, v, ok := describeKV(body); ok {
			n.Key, n.Value = k, v
		}
		for _, a := range stack[1:] {
			a.Lines = append(a.Lines, line)
		}
		parent := stack[len(stack)-1]
		parent.Children = append(parent.Children, n)
		stack = append(stack, n)
	}
	return docs
}

// ---------------------------------------------------------------------------
// Events

// KubeEvent is one Kubernetes event as any of the tools printed it.
type KubeEvent struct {
	Type   string // Normal | Warning
	Reason string
	// Kind, Namespace and Name are those of the involved object (Kind as
	// KubeKind returns it); Namespace may be "" when the output did not say.
	Kind, Namespace, Name string
	Message               string
	Count                 int    // 1 when not shown
	Age                   string // as printed ("2m", "2m (x45 over 10m)")
	Item                  int    // the evidence ID
}

// Object is the event's involved object as ObjectRef renders it.
func (e KubeEvent) Object() string { return ObjectRef(e.Kind, e.Namespace, e.Name) }

var ageCount = regexp.MustCompile(`\(x(\d+) over`)

// ParseEvents returns the events an item shows: the table or JSON of
// kubernetes.events (or kubernetes.get kind=events), or the Events: blocks
// of kubernetes.describe output (attributed to the described object).
func ParseEvents(it Item) []KubeEvent {
	out := strings.TrimSpace(it.Output)
	switch {
	case it.Tool == toolKubeDescribe:
		var evs []KubeEvent
		for _, d := range ParseDescribe(it.Output) {
			evs = append(evs, describeEvents(d, describeKind(it, d), it.ID)...)
		}
		return evs
	case it.Tool == toolKubeEvents || it.Tool == toolKubeGet && KubeKind(it.Arg("kind")) == "event":
		if js, ok := structuredJSON(out); ok {
			return jsonEvents(js, it)
		}
		return tableEvents(out, it)
	}
	return nil
}

func describeEvents(d *DescribeDoc, kind string, id int) []KubeEvent {
	n := d.Node("Events")
	if n == nil {
		return nil
	}
	var evs []KubeEvent
	for _, r := range n.Table() {
		t := r["Type"]
		if t != "Normal" && t != "Warning" {
			continue
		}
		e := KubeEvent{Type: t, Reason: r["Reason"], Kind: kind, Namespace: d.Namespace(),
			Name: d.Name(), Message: r["Message"], Age: r["Age"], Count: 1, Item: id}
		if m := ageCount.FindStringSubmatch(e.Age); m != nil {
			e.Count, _ = strconv.Atoi(m[1])
		}
		evs = append(evs, e)
	}
	return evs
}

func tableEvents(out string, it Item) []KubeEvent {
	var evs []KubeEvent
	for _, r := range ParseTable(out) {
		t := r["TYPE"]
		if t != "Normal" && t != "Warning" {
			continue
		}
		e := KubeEvent{Type: t, Reason: r["REASON"], Message: r["MESSAGE"], Age: r["LAST SEEN"],
			Namespace: r["NAMESPACE"], Count: 1, Item: it.ID}
		if e.Namespace == "" {
			e.Namespace = it.Arg("namespace")
		}
		if c, err := strconv.Atoi(r["COUNT"]); err == nil && c > 0 {
			e.Count = c
		} else if m := ageCount.FindStringSubmatch(e.Age); m != nil {
			// Newer kubectl folds the count into LAST SEEN: "84s (x120 over 30m)".
			e.Count, _ = strconv.Atoi(m[1])
		}
		obj := r["OBJECT"]
		if k, n, ok := strings.Cut(obj, "/"); ok {
			e.Kind, e.Name = KubeKind(k), n
		} else {
			e.Kind, e.Name = KubeKind(it.Arg("kind")), obj
		}
		evs = append(evs, e)
	}
	return evs
}

type kubeEventJSON struct {
	Type, Reason, Message, Note string
	Count                       int
	InvolvedObject              struct{ Kind, Namespace, Name string }
	Regarding                   struct{ Kind, Namespace, Name string }
	Series                      struct{ Count int }
	DeprecatedCount             int
}

func jsonEvents(out string, it Item) []KubeEvent {
	var list struct {
		Kind  string
		Items []kubeEventJSON
	}
	if json.Unmarshal([]byte(out), &list) != nil {
		return nil
	}
	if !strings.HasSuffix(list.Kind, "List") {
		var one kubeEventJSON
		if json.Unmarshal([]byte(out), &one) != nil {
			return nil
		}
		list.Items = []kubeEventJSON{one}
	}
	var evs []KubeEvent
	for _, j := range list.Items {
		e := KubeEvent{Type: j.Type, Reason: j.Reason, Message: j.Message, Count: j.Count, Item: it.ID,
			Kind: KubeKind(j.InvolvedObject.Kind), Namespace: j.InvolvedObject.Namespace, Name: j.InvolvedObject.Name}
		if e.Name == "" { // events.k8s.io/v1
			e.Kind, e.Namespace, e.Name = KubeKind(j.Regarding.Kind), j.Regarding.Namespace, j.Regarding.Name
		}
		if e.Message == "" {
			e.Message = j.Note
		}
		if e.Count == 0 {
			e.Count = max(j.Series.Count, j.DeprecatedCount, 1)
		}
		if e.Reason == "" && e.Message == "" {
			continue
		}
		evs = append(evs, e)
	}
	return evs
}

// describeKind is the kind of a described object: the tool's kind argument,
// else guessed from the fields only some kinds print.
func describeKind(it Item, d *DescribeDoc) string {
	if k := KubeKind(it.Arg("kind")); k != "" {
		return k
	}
	switch {
	case d.Node("Containers") != nil && d.Get("Node") != "":
		return "pod"
	case d.Get("StrategyType") != "":
		return "deployment"
	case d.Get("Reference") != "" && d.Get("Max replicas") != "":
		return "horizontalpodautoscaler"
	case d.Get("Pods Statuses") != "" && d.Get("Completions") != "":
		return "job"
	case d.Get("Pods Status") != "" && d.Get("Controlled By") != "":
		return "replicaset"
	}
	return ""
}

// ---------------------------------------------------------------------------
// JSON objects (kubectl get -o json)

// kubeObject is the part of any object the analyzers read; Spec and Status
// are decoded by the kind's analyzer.
type kubeObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name            string `json:"name"`
		Namespace       string `json:"namespace"`
		OwnerReferences []struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"ownerReferences"`
	} `json:"metadata"`
	Spec   json.RawMessage `json:"spec"`
	Status json.RawMessage `json:"status"`
	Items  []json.RawMessage
}

type kubeCondition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// kubeObjects decodes a JSON or YAML object or List (`-o json`, `-o yaml`);
// nil when out is neither.
func kubeObjects(out string) []kubeObject {
	out, ok := structuredJSON(out)
	if !ok {
		return nil
	}
	var o kubeObject
	if json.Unmarshal([]byte(out), &o) != nil {
		return nil
	}
	if !strings.HasSuffix(o.Kind, "List") {
		return []kubeObject{o}
	}
	var objs []kubeObject
	for _, raw := range o.Items {
		var it kubeObject
		if json.Unmarshal(raw, &it) == nil {
			objs = append(objs, it)
		}
	}
	return objs
}

// ---------------------------------------------------------------------------
// Helpers shared by the kube analyzers

// conditionsFromTable reads a describe Conditions: table.
func conditionsFromTable(n *DescribeNode) []kubeCondition {
	var cs []kubeCondition
	for _, r := range n.Table() {
		cs = append(cs, kubeCondition{Type: r["Type"], Status: r["Status"], Reason: r["Reason"], Message: r["Message"]})
	}
	return cs
}

func findCondition(cs []kubeCondition, typ string) *kubeCondition {
	for i := range cs {
		if strings.EqualFold(cs[i].Type, typ) {
			return &cs[i]
		}
	}
	return nil
}

// quoted returns the first "double-quoted" string in s after prefix (prefix
// may be ""), e.g. quoted(`configmap "app" not found`, `configmap `) = app.
func quoted(s, prefix string) string {
	i := strings.Index(s, prefix+`"`)
	if i < 0 {
		return ""
	}
	rest := s[i+len(prefix)+1:]
	rest = strings.ReplaceAll(rest, `\"`, `"`)
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}

func containsAny(s string, subs ...string) bool {
	ls := strings.ToLower(s)
	for _, x := range subs {
		if strings.Contains(ls, strings.ToLower(x)) {
			return true
		}
	}
	return false
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func addID(ids []int, more ...int) []int {
	for _, m := range more {
		found := false
		for _, x := range ids {
			if x == m {
				found = true
				break
			}
		}
		if !found {
			ids = append(ids, m)
		}
	}
	return ids
}

// finishFindings merges findings on the same (category, object, culprit),
// keeping the strongest, and sorts by Score desc then Object.
func finishFindings(fs []Finding) []Finding {
	var out []Finding
	idx := map[string]int{}
	for _, f := range fs {
		sort.Ints(f.Evidence)
		k := f.Category + "\x00" + f.Object + "\x00" + f.Culprit
		if i, ok := idx[k]; ok {
			g := &out[i]
			ev := addID(g.Evidence, f.Evidence...)
			rel := g.Related
			for _, r := range f.Related {
				if !containsStr(rel, r) {
					rel = append(rel, r)
				}
			}
			if f.Score > g.Score || f.Direct && !g.Direct {
				*g = f
			}
			sort.Ints(ev)
			g.Evidence, g.Related = ev, rel
			continue
		}
		idx[k] = len(out)
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		if out[i].Object != out[j].Object {
			return out[i].Object < out[j].Object
		}
		return out[i].Culprit < out[j].Culprit
	})
	return out
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// YAML (kubectl get -o yaml)

// isStructured is true when out is an object as `-o json` or `-o yaml`
// prints it rather than a table.
func isStructured(out string) bool {
	_, ok := structuredJSON(out)
	return ok
}

// structuredJSON returns out as JSON text: out itself when it is JSON, the
// conversion of a YAML object (`kubectl get -o yaml`) otherwise; false when
// out is neither (a table, describe text).
func structuredJSON(out string) (string, bool) {
	out = strings.TrimSpace(out)
	if strings.HasPrefix(out, "{") {
		return out, true
	}
	if !looksLikeKubeYAML(out) {
		return "", false
	}
	v, ok := parseYAML(out)
	if !ok {
		return "", false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// looksLikeKubeYAML is true when out is a Kubernetes object in YAML: an
// unindented "kind:" and "apiVersion:" line.
func looksLikeKubeYAML(out string) bool {
	kind, api := false, false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "kind:"):
			kind = true
		case strings.HasPrefix(l, "apiVersion:"):
			api = true
		}
	}
	return kind && api
}

type yamlLine struct {
	indent int
	text   string
}

type yamlParser struct {
	lines []yamlLine
	i     int
}

// parseYAML reads the block-style YAML kubectl prints (mappings, sequences,
// plain, quoted and block scalars, empty flow collections) into
// map[string]any / []any / scalars. It is tolerant: what it cannot read it
// skips. Only the first document is read.
func parseYAML(text string) (any, bool) {
	var lines []yamlLine
	started := false
	for _, raw := range strings.Split(strings.ReplaceAll(text, "\t", "    "), "\n") {
		l := strings.TrimRight(raw, " \r")
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if t == "---" || strings.HasPrefix(t, "--- ") {
			if started {
				break
			}
			continue
		}
		started = true
		lines = append(lines, yamlLine{indent: len(l) - len(strings.TrimLeft(l, " ")), text: t})
	}
	if len(lines) == 0 {
		return nil, false
	}
	p := &yamlParser{lines: lines}
	v := p.block(lines[0].indent)
	_, isMap := v.(map[string]any)
	return v, isMap
}

func isSeqItem(t string) bool { return t == "-" || strings.HasPrefix(t, "- ") }

// yamlKey splits "key: value" (the key may be quoted); ok is false when t
// is not a mapping entry.
func yamlKey(t string) (key, rest string, ok bool) {
	if t != "" && (t[0] == '"' || t[0] == '\'') {
		end := strings.IndexByte(t[1:], t[0])
		if end < 0 {
			return "", "", false
		}
		after := t[end+2:]
		if after == ":" || strings.HasPrefix(after, ": ") {
			return yamlScalar(t[:end+2]).(string), strings.TrimSpace(strings.TrimPrefix(after, ":")), true
		}
		return "", "", false
	}
	if i := strings.Index(t, ": "); i > 0 {
		return t[:i], strings.TrimSpace(t[i+2:]), true
	}
	if strings.HasSuffix(t, ":") && len(t) > 1 {
		return t[:len(t)-1], "", true
	}
	return "", "", false
}

func (p *yamlParser) block(indent int) any {
	if p.i >= len(p.lines) {
		return nil
	}
	if isSeqItem(p.lines[p.i].text) {
		return p.seq(indent)
	}
	return p.mapping(indent)
}

func (p *yamlParser) mapping(indent int) map[string]any {
	m := map[string]any{}
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent < indent || l.indent == indent && isSeqItem(l.text) {
			break
		}
		if l.indent > indent { // stray deeper line
			p.i++
			continue
		}
		key, rest, ok := yamlKey(l.text)
		p.i++
		if !ok {
			continue
		}
		m[key] = p.value(rest, indent)
	}
	return m
}

func (p *yamlParser) seq(indent int) []any {
	out := []any{}
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent != indent || !isSeqItem(l.text) {
			break
		}
		rest := strings.TrimSpace(strings.TrimPrefix(l.text, "-"))
		if _, _, ok := yamlKey(rest); ok && rest != "" {
			// "- key: value": a mapping whose first key is on the dash line.
			p.lines[p.i] = yamlLine{indent: indent + len(l.text) - len(rest), text: rest}
			out = append(out, p.block(p.lines[p.i].indent))
			continue
		}
		p.i++
		out = append(out, p.value(rest, indent))
	}
	return out
}

// value reads the value of a key (or sequence item) at indent whose inline
// part is rest.
func (p *yamlParser) value(rest string, indent int) any {
	if rest == "" {
		if p.i < len(p.lines) {
			n := p.lines[p.i]
			if n.indent > indent || n.indent == indent && isSeqItem(n.text) {
				return p.block(n.indent)
			}
		}
		return nil
	}
	var cont []string
	for p.i < len(p.lines) && p.lines[p.i].indent > indent {
		cont = append(cont, p.lines[p.i].text)
		p.i++
	}
	if rest[0] == '|' || rest[0] == '>' {
		sep := "\n"
		if rest[0] == '>' {
			sep = " "
		}
		return strings.Join(cont, sep)
	}
	if len(cont) > 0 {
		rest += " " + strings.Join(cont, " ")
	}
	return yamlScalar(rest)
}

var yamlNumber = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$`)

func yamlScalar(s string) any {
	switch {
	case s == "":
		return ""
	case len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"':
		var v string
		if json.Unmarshal([]byte(s), &v) == nil {
			return v
		}
		return s[1 : len(s)-1]
	case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'':
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	case s == "null" || s == "~" || s == "Null" || s == "NULL":
		return nil
	case s == "true" || s == "True" || s == "TRUE":
		return true
	case s == "false" || s == "False" || s == "FALSE":
		return false
	case yamlNumber.MatchString(s):
		return json.Number(s)
	case s == "{}":
		return map[string]any{}
	case s == "[]":
		return []any{}
	case s[0] == '{' || s[0] == '[':
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			return v
		}
	}
	return s
}

// parseKubeAge reads an age as kubectl prints it ("48s", "3m2s", "2d3h",
// "5y"; for events "48s (x42 over 47m)" reads the first); ok is false when
// it cannot.
func parseKubeAge(s string) (d time.Duration, ok bool) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, false
	}
	s = f[0]
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour,
		'd': 24 * time.Hour, 'y': 365 * 24 * time.Hour}
	n := 0
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
			digits = true
		case units[c] != 0 && digits:
			d += time.Duration(n) * units[c]
			n, digits = 0, false
		default:
			return 0, false
		}
	}
	if digits {
		return 0, false
	}
	return d, true
}

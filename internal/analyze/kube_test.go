package analyze

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func kubeFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "kube", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// kubeItem builds an item from a fixture; args alternate key, value.
func kubeItem(t *testing.T, id int, tool, fixture string, args ...string) Item {
	t.Helper()
	it := Item{ID: id, Tool: tool, Args: map[string]any{}, Output: kubeFixture(t, fixture)}
	for i := 0; i+1 < len(args); i += 2 {
		it.Args[args[i]] = args[i+1]
	}
	return it
}

// wantFinding is what tests check of a finding.
type wantFinding struct {
	Category, Object, Culprit string
	Direct                    bool
	Evidence                  []int
}

func runKube(a Analyzer, items ...Item) []Finding {
	return a.Analyze(&Input{Items: items})
}

func checkFindings(t *testing.T, got []Finding, want []wantFinding) {
	t.Helper()
	var g []wantFinding
	for _, f := range got {
		if len(f.Evidence) == 0 {
			t.Errorf("finding without evidence: %+v", f)
		}
		if f.Summary == "" || f.Score <= 0 || f.Score > 1 || f.Analyzer == "" {
			t.Errorf("incomplete finding: %+v", f)
		}
		g = append(g, wantFinding{f.Category, f.Object, f.Culprit, f.Direct, f.Evidence})
	}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("findings:\n got %+v\nwant %+v", g, want)
		for _, f := range got {
			t.Logf("  %s [%s] %s score=%.2f: %s", f.Analyzer, f.Category, f.Object, f.Score, f.Summary)
		}
	}
}

func TestKubeKindAndObjectRef(t *testing.T) {
	for in, want := range map[string]string{
		"Pod": "pod", "pods": "pod", "deploy": "deployment", "deployments.apps": "deployment",
		"HPA": "horizontalpodautoscaler", "HorizontalPodAutoscaler": "horizontalpodautoscaler",
		"pvc": "persistentvolumeclaim", "rs": "replicaset", "Job": "job", "no": "node",
	} {
		if got := KubeKind(in); got != want {
			t.Errorf("KubeKind(%q) = %q, want %q", in, got, want)
		}
	}
	if got := ObjectRef("Pod", "shop", "cart-1"); got != "pod/shop/cart-1" {
		t.Errorf("ObjectRef pod = %q", got)
	}
	if got := ObjectRef("nodes", "shop", "worker-3"); got != "node/worker-3" {
		t.Errorf("ObjectRef node = %q", got)
	}
}

func TestKubeParseTable(t *testing.T) {
	rows := ParseTable(kubeFixture(t, "pods.txt"))
	if len(rows) != 4 {
		t.Fatalf("rows = %d", len(rows))
	}
	if r := rows[1]; r["NAME"] != "cart-7d9f-x2" || r["STATUS"] != "CrashLoopBackOff" || r["RESTARTS"] != "12 (84s ago)" || r["AGE"] != "31m" {
		t.Errorf("row 1 = %v", r)
	}
	ev := ParseTable(kubeFixture(t, "events-all.txt"))
	if len(ev) != 4 || ev[0]["LAST SEEN"] != "84s" || ev[0]["OBJECT"] != "pod/cart-7d9f-x2" ||
		!strings.HasPrefix(ev[0]["MESSAGE"], "Back-off restarting failed container api") {
		t.Errorf("events = %v", ev)
	}
	// A misaligned row still splits at blanks.
	rows = ParseTable("NAME   STATUS   AGE\nlong-name-here Running 3d\n")
	if rows[0]["NAME"] != "long-name-here" || rows[0]["STATUS"] != "Running" || rows[0]["AGE"] != "3d" {
		t.Errorf("misaligned = %v", rows[0])
	}
	if ParseTable("  \n") != nil {
		t.Error("blank table")
	}
}

func TestKubeParseDescribe(t *testing.T) {
	docs := ParseDescribe("Warning: some preamble\n" + kubeFixture(t, "pod-oom.describe.txt") + "\n\n" + kubeFixture(t, "pod-healthy.describe.txt"))
	if len(docs) != 2 {
		t.Fatalf("docs = %d", len(docs))
	}
	d := docs[0]
	if d.Name() != "cart-7d9f-x2" || d.Namespace() != "shop" || d.Get("Node") != "worker-3/10.0.1.23" {
		t.Errorf("header: %q %q %q", d.Name(), d.Namespace(), d.Get("Node"))
	}
	if got := d.Get("Start Time"); got != "Mon, 03 Jun 2024 10:12:01 +0000" {
		t.Errorf("Start Time = %q", got)
	}
	api := d.Node("Containers", "api")
	if api == nil {
		t.Fatal("no container api")
	}
	for path, want := range map[string]string{
		"State": "Waiting", "State/Reason": "CrashLoopBackOff", "Last State/Reason": "OOMKilled",
		"Last State/Exit Code": "137", "Restart Count": "12", "Limits/memory": "256Mi",
		"Liveness": "http-get http://:8080/healthz delay=10s timeout=1s period=10s #success=1 #failure=3",
	} {
		if got := api.Get(strings.Split(path, "/")...); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	conds := conditionsFromTable(d.Node("Conditions"))
	if c := findCondition(conds, "Ready"); c == nil || c.Status != "False" {
		t.Errorf("conditions = %+v", conds)
	}
	evs := describeEvents(d, "pod", 7)
	if len(evs) != 5 {
		t.Fatalf("events = %+v", evs)
	}
	last := evs[4]
	if last.Type != "Warning" || last.Reason != "BackOff" || last.Count != 120 || last.Age != "84s (x120 over 30m)" ||
		last.Object() != "pod/shop/cart-7d9f-x2" || last.Item != 7 || !strings.HasPrefix(last.Message, "Back-off restarting") {
		t.Errorf("last event = %+v", last)
	}
	if ParseDescribe("") != nil || ParseDescribe("garbage\nmore") != nil {
		t.Error("docs from nothing")
	}
}

func TestKubeParseEvents(t *testing.T) {
	evs := ParseEvents(kubeItem(t, 3, toolKubeEvents, "events-all.txt"))
	if len(evs) != 4 {
		t.Fatalf("events = %+v", evs)
	}
	if e := evs[1]; e.Object() != "replicaset/shop/cart-9f8e7d" || e.Reason != "FailedCreate" || e.Item != 3 {
		t.Errorf("event 1 = %+v", e)
	}
	// Without a NAMESPACE column the tool's namespace argument applies.
	evs = ParseEvents(kubeItem(t, 4, toolKubeEvents, "events-pvc.txt", "namespace", "db"))
	if len(evs) != 2 || evs[1].Object() != "persistentvolumeclaim/db/data-postgres-0" {
		t.Errorf("pvc events = %+v", evs)
	}
	js := `{"apiVersion":"v1","kind":"EventList","items":[
	  {"type":"Warning","reason":"FailedScheduling","message":"0/3 nodes are available: 3 Insufficient memory.","count":4,
	   "involvedObject":{"kind":"Pod","namespace":"shop","name":"cart-1"}},
	  {"type":"Warning","reason":"BackOff","note":"Back-off restarting failed container api","series":{"count":9},
	   "regarding":{"kind":"Pod","namespace":"shop","name":"cart-2"}}]}`
	evs = ParseEvents(Item{ID: 5, Tool: toolKubeEvents, Output: js})
	if len(evs) != 2 || evs[0].Object() != "pod/shop/cart-1" || evs[0].Count != 4 ||
		evs[1].Object() != "pod/shop/cart-2" || evs[1].Count != 9 || evs[1].Message == "" {
		t.Errorf("json events = %+v", evs)
	}
	if evs := ParseEvents(kubeItem(t, 6, toolKubeDescribe, "job-backoff.describe.txt", "kind", "job")); len(evs) != 3 ||
		evs[2].Object() != "job/shop/db-migrate-20240603" {
		t.Errorf("describe events = %+v", evs)
	}
	if ParseEvents(Item{Tool: "kubernetes.logs", Output: "x"}) != nil {
		t.Error("events from logs")
	}
}

func TestKubeDescribeKindGuess(t *testing.T) {
	for fixture, want := range map[string]string{
		"pod-oom.describe.txt": "pod", "deploy-stuck.describe.txt": "deployment",
		"hpa-max.describe.txt": "horizontalpodautoscaler", "job-backoff.describe.txt": "job",
		"rs-quota.describe.txt": "replicaset",
	} {
		it := kubeItem(t, 1, toolKubeDescribe, fixture)
		if got := describeKind(it, ParseDescribe(it.Output)[0]); got != want {
			t.Errorf("%s: kind %q, want %q", fixture, got, want)
		}
	}
}

func TestKubeFindingsOrderAndMerge(t *testing.T) {
	fs := finishFindings([]Finding{
		{Category: "a", Object: "pod/x/b", Culprit: "c", Evidence: []int{3}, Score: 0.5},
		{Category: "a", Object: "pod/x/a", Culprit: "c", Evidence: []int{2}, Score: 0.5},
		{Category: "a", Object: "pod/x/b", Culprit: "c", Evidence: []int{1, 3}, Score: 0.9, Direct: true, Related: []string{"node/n"}},
	})
	if len(fs) != 2 || fs[0].Object != "pod/x/b" || !slices.Equal(fs[0].Evidence, []int{1, 3}) || !fs[0].Direct ||
		fs[1].Object != "pod/x/a" {
		t.Errorf("merged = %+v", fs)
	}
}

// Truncated or mislabelled outputs never panic and never yield a finding
// without evidence.
func TestKubeAnalyzersTolerateTruncation(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "kube"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		out := kubeFixture(t, e.Name())
		for _, cut := range []int{0, len(out) / 3, len(out) / 2, len(out) - 1} {
			for _, tool := range []string{toolKubeDescribe, toolKubeGet, toolKubeEvents} {
				it := Item{ID: 1, Tool: tool, Args: map[string]any{"kind": "pod"}, Output: out[:cut]}
				for _, a := range KubeAnalyzers() {
					for _, f := range a.Analyze(&Input{Items: []Item{it}}) {
						if len(f.Evidence) == 0 || f.Object == "" {
							t.Errorf("%s %s[:%d] via %s: bad finding %+v", a.Name(), e.Name(), cut, tool, f)
						}
					}
				}
			}
		}
	}
}

func TestKubeParseYAML(t *testing.T) {
	out := `apiVersion: v1
kind: Pod
metadata:
  name: "web-0"
  namespace: shop
  labels: {}
spec:
  containers:
  - name: web
    image: example.com/web:1.0
    args:
    - --port=8080
    - '--name=it''s'
    livenessProbe:
      httpGet:
        path: /healthz
        port: 8080
  nodeSelector:
    disktype: ssd
status:
  phase: Pending
  conditions:
  - type: PodScheduled
    status: "False"
    message: '0/3 nodes are available: 3 node(s) didn''t match Pod''s node affinity/selector.
      preemption: 0/3 nodes are available'
  startTime: null
  script: |
    line one
    line two
`
	js, ok := structuredJSON(out)
	if !ok {
		t.Fatal("not read as YAML")
	}
	var v struct {
		Kind     string
		Metadata struct{ Name, Namespace string }
		Spec     struct {
			Containers []struct {
				Name, Image   string
				Args          []string
				LivenessProbe struct{ HTTPGet struct{ Port int } }
			}
			NodeSelector map[string]string
		}
		Status struct {
			Phase      string
			Conditions []kubeCondition
			Script     string
		}
	}
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatalf("%v: %s", err, js)
	}
	c := v.Spec.Containers
	if v.Kind != "Pod" || v.Metadata.Name != "web-0" || v.Metadata.Namespace != "shop" || len(c) != 1 ||
		c[0].Image != "example.com/web:1.0" || !reflect.DeepEqual(c[0].Args, []string{"--port=8080", "--name=it's"}) ||
		c[0].LivenessProbe.HTTPGet.Port != 8080 || v.Spec.NodeSelector["disktype"] != "ssd" || v.Status.Phase != "Pending" ||
		v.Status.Script != "line one\nline two" {
		t.Errorf("parsed %s", js)
	}
	if len(v.Status.Conditions) != 1 || v.Status.Conditions[0].Status != "False" ||
		v.Status.Conditions[0].Message != "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available" {
		t.Errorf("conditions %+v", v.Status.Conditions)
	}
	objs := kubeObjects(out)
	if len(objs) != 1 || objs[0].Metadata.Name != "web-0" {
		t.Errorf("kubeObjects = %+v", objs)
	}
	for _, notYAML := range []string{"NAME   READY   STATUS\nweb-0  0/1     Pending", "Name:  web-0\nNamespace:  shop", ""} {
		if isStructured(notYAML) {
			t.Errorf("%q read as structured", notYAML)
		}
	}
}

func TestKubeParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"48s": 48 * time.Second, "3m2s": 3*time.Minute + 2*time.Second, "47m": 47 * time.Minute,
		"2d3h": 51 * time.Hour, "48s (x42 over 47m)": 48 * time.Second, "5y": 5 * 365 * 24 * time.Hour,
	} {
		if got, ok := parseKubeAge(in); !ok || got != want {
			t.Errorf("parseKubeAge(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "<unknown>", "12", "m5"} {
		if _, ok := parseKubeAge(bad); ok {
			t.Errorf("parseKubeAge(%q) ok", bad)
		}
	}
}

// The YAML reader never panics, whatever it is given.
func FuzzKubeParseYAML(f *testing.F) {
	f.Add("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n")
	f.Add("apiVersion: v1\nkind: List\nitems:\n- - a: b\n  -\n- 'x\n  y'\n  z: |\n")
	f.Add("kind:\napiVersion:\n\"k\": v\n'q': \"\\u00\"\n  - : \n-\n")
	f.Fuzz(func(t *testing.T, s string) {
		structuredJSON(s)
		parseKubeAge(s)
	})
}

func TestEventCountInLastSeen(t *testing.T) {
	t.Parallel()
	out := "LAST SEEN            TYPE      REASON      OBJECT                 MESSAGE\n" +
		"84s (x120 over 30m)  Warning   BackOff     pod/api-7d9f-x2        Back-off restarting failed container api\n" +
		"2m                   Normal    Pulled      pod/api-7d9f-x2        Container image already present\n"
	evs := ParseEvents(Item{ID: 3, Tool: "kubernetes.events", Args: map[string]any{"namespace": "shop"}, Output: out})
	if len(evs) != 2 {
		t.Fatalf("events: %+v", evs)
	}
	if evs[0].Count != 120 || evs[0].Reason != "BackOff" || evs[1].Count != 1 {
		t.Fatalf("counts: %d %q %d", evs[0].Count, evs[0].Reason, evs[1].Count)
	}
}

// describeKV must split lines exactly as the regexp it replaced.
func TestDescribeKVMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(`^([A-Za-z0-9][^:]*?):(?:\s+(.*))?$`)
	for _, l := range []string{"Name:         cart", "Name:", "Labels:       app=cart", "http://x:80", "Image:  r.io/a:1.2",
		"Port:  8080/TCP", "  indented: x", ":x", "", "a:b", "Key:\tvalue", "Key:   ", "Node:  worker-1/10.0.0.1", "x", "1/1 Running",
		"Reason:  Error: something: bad", "Ready:  True", "Über: x", "Warning  BackOff  3m  kubelet  Back-off: x"} {
		k, v, ok := describeKV(l)
		m := re.FindStringSubmatch(l)
		if ok != (m != nil) || ok && (k != strings.TrimSpace(m[1]) || v != strings.TrimSpace(m[2])) {
			t.Errorf("%q: describeKV = %q %q %v, regexp %q", l, k, v, ok, m)
		}
	}
}

// FuzzDescribeKV checks describeKV against the regexp it replaced on any
// line.
func FuzzDescribeKV(f *testing.F) {
	re := regexp.MustCompile(`^([A-Za-z0-9][^:]*?):(?:\s+(.*))?$`)
	for _, s := range []string{"Name:  x", "http://a:b", "Key:\tv", "a:", ":", "Ä: x", "Events:  <none>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, l string) {
		if strings.ContainsAny(l, "\n") {
			return // describe lines never hold one
		}
		k, v, ok := describeKV(l)
		m := re.FindStringSubmatch(l)
		if ok != (m != nil) || ok && (k != strings.TrimSpace(m[1]) || v != strings.TrimSpace(m[2])) {
			t.Errorf("%q: describeKV = %q %q %v, regexp %q", l, k, v, ok, m)
		}
	})
}

package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/aurora-oss/aurora/internal/toolset"
)

// Caller runs a tool by name; *toolset.Registry is one.
type Caller interface {
	Call(ctx context.Context, name string, args map[string]any) (toolset.Result, error)
}

// SnapshotTarget is what a snapshot covers: one object (Kind and Name) in
// Namespace, or, without Kind, the whole namespace.
type SnapshotTarget struct {
	Namespace string
	Kind      string
	Name      string
}

// Bounds of a snapshot, so one of a big namespace stays a readable bundle.
const (
	snapshotMaxPods  = 10 // pods described, with their logs
	snapshotMaxNodes = 3  // nodes those pods run on, described
	snapshotMaxObjs  = 5  // unhealthy deployments / pending claims described
)

// SnapshotResult says what a snapshot wrote.
type SnapshotResult struct {
	// Files are the evidence files written, in order.
	Files []string
	// Failed lists the calls that gave no output (tool and why); a bundle
	// records only answers.
	Failed []string
}

// Snapshot gathers, with the Kubernetes tools (the same calls, arguments
// and output an investigation uses), evidence about t and writes it into
// dir as an evidence bundle (docs/bundles.md): question.txt and
// evidence/NNN-….txt, each starting with its JSON header line. dir must
// not hold a bundle already. Secret values are never written: the tools
// redact them and the snapshot does not list Secrets.
func Snapshot(ctx context.Context, c Caller, t SnapshotTarget, dir string) (SnapshotResult, error) {
	var res SnapshotResult
	if t.Namespace == "" {
		t.Namespace = "default"
	}
	kind := strings.ToLower(strings.TrimSpace(t.Kind))
	if kind != "" && t.Name == "" {
		return res, errors.New("snapshot: a kind needs a name (KIND/NAME)")
	}
	if _, err := os.Stat(filepath.Join(dir, "evidence")); err == nil {
		return res, fmt.Errorf("snapshot: %s already holds a bundle (evidence/)", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "evidence"), 0o755); err != nil {
		return res, fmt.Errorf("snapshot: %w", err)
	}
	s := &snapshotter{c: c, dir: dir, res: &res, seen: map[string]bool{}}
	ns := t.Namespace
	question := fmt.Sprintf("what is wrong in namespace %s?", ns)
	if kind != "" {
		question = fmt.Sprintf("what is wrong with %s/%s in namespace %s?", kind, t.Name, ns)
		if kind == "node" || kind == "nodes" || kind == "no" {
			question = fmt.Sprintf("what is wrong with node %s?", t.Name)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "question.txt"), []byte(question+"\n"), 0o644); err != nil {
		return res, fmt.Errorf("snapshot: %w", err)
	}
	// alert.json: a generic alert naming the object, so an investigation
	// of the bundle focuses on it as it would on a real alert's labels.
	labels := map[string]string{}
	if kind != "node" && kind != "nodes" && kind != "no" {
		labels["namespace"] = ns
	}
	if kind != "" {
		labels[focusLabel(kind)] = t.Name
	}
	title := "aurora snapshot: " + strings.TrimSuffix(strings.TrimPrefix(question, "what is wrong "), "?")
	al, _ := json.MarshalIndent(map[string]any{"source": "generic", "payload": map[string]any{
		"title": title, "severity": "info", "labels": labels,
		"annotations": map[string]string{"description": "Written by aurora snapshot: no alert fired; the labels name what was snapshotted."}}}, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "alert.json"), append(al, '\n'), 0o644); err != nil {
		return res, fmt.Errorf("snapshot: %w", err)
	}

	var pods []podInfo
	switch kind {
	case "":
		s.call(ctx, "kubernetes.get", map[string]any{"kind": "pods", "namespace": ns, "output": "wide"})
		s.call(ctx, "kubernetes.events", map[string]any{"namespace": ns})
		for _, k := range []string{"deployments", "statefulsets", "services", "persistentvolumeclaims", "horizontalpodautoscalers"} {
			s.call(ctx, "kubernetes.get", map[string]any{"kind": k, "namespace": ns})
		}
		pods = unhealthyFirst(s.pods(ctx, ns, ""), true)
		for _, d := range s.objects(ctx, "deployments", ns) {
			if d.unavailable() && len(s.res.Files) < 200 {
				s.call(ctx, "kubernetes.describe", map[string]any{"kind": "deployment", "name": d.Metadata.Name, "namespace": ns})
			}
		}
		n := 0
		for _, p := range s.objects(ctx, "persistentvolumeclaims", ns) {
			if p.Status.Phase == "Pending" && n < snapshotMaxObjs {
				n++
				s.call(ctx, "kubernetes.describe", map[string]any{"kind": "persistentvolumeclaim", "name": p.Metadata.Name, "namespace": ns})
			}
		}
	case "node", "nodes", "no":
		s.call(ctx, "kubernetes.describe", map[string]any{"kind": "node", "name": t.Name})
		s.call(ctx, "kubernetes.events", map[string]any{"kind": "Node", "name": t.Name})
	default:
		s.call(ctx, "kubernetes.describe", map[string]any{"kind": kind, "name": t.Name, "namespace": ns})
		s.call(ctx, "kubernetes.get", map[string]any{"kind": kind, "name": t.Name, "namespace": ns, "output": "yaml"})
		s.call(ctx, "kubernetes.events", map[string]any{"namespace": ns})
		s.call(ctx, "kubernetes.get", map[string]any{"kind": "pods", "namespace": ns, "output": "wide"})
		switch kind {
		case "pod", "pods", "po":
			pods = s.pods(ctx, ns, "name="+t.Name)
			s.call(ctx, "kubernetes.rollout_history", map[string]any{"kind": "pod", "name": t.Name, "namespace": ns})
		default:
			obj := s.object(ctx, kind, t.Name, ns)
			if obj == nil {
				break
			}
			if sel := obj.selector(); sel != "" {
				pods = unhealthyFirst(s.pods(ctx, ns, sel), false)
			}
			if canon, ok := workloadKinds[kind]; ok && canon == "deployment" {
				s.call(ctx, "kubernetes.rollout_history", map[string]any{"kind": "deployment", "name": t.Name, "namespace": ns})
			}
			if ref := obj.Spec.ScaleTargetRef; ref.Kind != "" && ref.Name != "" { // an HPA: its target too
				s.call(ctx, "kubernetes.describe", map[string]any{"kind": strings.ToLower(ref.Kind), "name": ref.Name, "namespace": ns})
			}
		}
	}
	nodes := map[string]bool{}
	for i, p := range pods {
		if i == snapshotMaxPods {
			break
		}
		if !(kind == "pod" || kind == "pods" || kind == "po") { // the pod itself is described above
			s.call(ctx, "kubernetes.describe", map[string]any{"kind": "pod", "name": p.name, "namespace": ns})
		}
		for _, c := range p.containers {
			args := map[string]any{"pod": p.name, "namespace": ns}
			if len(p.containers) > 1 {
				args["container"] = c
			}
			s.call(ctx, "kubernetes.logs", args)
			if p.restarted {
				prev := map[string]any{"pod": p.name, "namespace": ns, "previous": true}
				if len(p.containers) > 1 {
					prev["container"] = c
				}
				s.call(ctx, "kubernetes.logs", prev)
			}
		}
		if p.node != "" && !nodes[p.node] && len(nodes) < snapshotMaxNodes {
			nodes[p.node] = true
			s.call(ctx, "kubernetes.describe", map[string]any{"kind": "node", "name": p.node})
		}
	}
	if len(res.Files) == 0 {
		return res, fmt.Errorf("snapshot: no tool gave any output: %s", strings.Join(res.Failed, "; "))
	}
	return res, nil
}

type snapshotter struct {
	c    Caller
	dir  string
	res  *SnapshotResult
	seen map[string]bool
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// call runs a tool and writes its output as the next evidence file.
func (s *snapshotter) call(ctx context.Context, tool string, args map[string]any) (string, bool) {
	key, _ := json.Marshal([]any{tool, args})
	if s.seen[string(key)] {
		return "", false
	}
	s.seen[string(key)] = true
	out, err := s.c.Call(ctx, tool, args)
	if err != nil {
		s.res.Failed = append(s.res.Failed, fmt.Sprintf("%s %s: %v", tool, argString(args), err))
		return "", false
	}
	header, _ := json.Marshal(map[string]any{"tool": tool, "args": args})
	parts := []string{strings.TrimPrefix(tool, "kubernetes.")}
	for _, k := range []string{"kind", "name", "pod", "namespace", "container"} {
		if v, ok := args[k].(string); ok && v != "" {
			parts = append(parts, v)
		}
	}
	if args["previous"] == true {
		parts = append(parts, "previous")
	}
	name := fmt.Sprintf("%03d-%s.txt", len(s.res.Files)+1, strings.Trim(unsafeName.ReplaceAllString(strings.Join(parts, "-"), "_"), "_"))
	if err := os.WriteFile(filepath.Join(s.dir, "evidence", name), append(append(header, '\n'), out.Output...), 0o644); err != nil {
		s.res.Failed = append(s.res.Failed, fmt.Sprintf("write %s: %v", name, err))
		return "", false
	}
	s.res.Files = append(s.res.Files, name)
	return out.Output, true
}

func argString(args map[string]any) string {
	b, _ := json.Marshal(args)
	return string(b)
}

// snapObject is the part of an object a snapshot reads to follow links.
type snapObject struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Replicas *int `json:"replicas"`
		Selector json.RawMessage
		// ScaleTargetRef is an HPA's target.
		ScaleTargetRef struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"scaleTargetRef"`
	} `json:"spec"`
	Status struct {
		Phase               string `json:"phase"`
		UnavailableReplicas int    `json:"unavailableReplicas"`
		AvailableReplicas   int    `json:"availableReplicas"`
	} `json:"status"`
}

func (o *snapObject) unavailable() bool {
	want := 1
	if o.Spec.Replicas != nil {
		want = *o.Spec.Replicas
	}
	return o.Status.UnavailableReplicas > 0 || o.Status.AvailableReplicas < want
}

// selector returns the object's pod selector as a label selector string:
// a workload's spec.selector.matchLabels, or a Service's spec.selector.
func (o *snapObject) selector() string {
	var m map[string]any
	if json.Unmarshal(o.Spec.Selector, &m) != nil {
		return ""
	}
	if ml, ok := m["matchLabels"].(map[string]any); ok {
		m = ml
	} else if _, hasExpr := m["matchExpressions"]; hasExpr {
		return ""
	}
	var parts []string
	for k, v := range m {
		if s, ok := v.(string); ok {
			parts = append(parts, k+"="+s)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// object reads one object as JSON through kubernetes.get (not written: the
// YAML of it already is).
func (s *snapshotter) object(ctx context.Context, kind, name, ns string) *snapObject {
	out, err := s.c.Call(ctx, "kubernetes.get", map[string]any{"kind": kind, "name": name, "namespace": ns, "output": "json"})
	if err != nil {
		return nil
	}
	var o snapObject
	if json.Unmarshal([]byte(out.Output), &o) != nil {
		return nil
	}
	return &o
}

// objects lists a kind in ns as JSON through kubernetes.get.
func (s *snapshotter) objects(ctx context.Context, kind, ns string) []snapObject {
	out, err := s.c.Call(ctx, "kubernetes.get", map[string]any{"kind": kind, "namespace": ns, "output": "json"})
	if err != nil {
		return nil
	}
	var l struct{ Items []snapObject }
	_ = json.Unmarshal([]byte(out.Output), &l)
	return l.Items
}

// podInfo is what a snapshot needs of a pod.
type podInfo struct {
	name, node string
	containers []string
	restarted  bool
	healthy    bool
}

// pods lists pods in ns matching sel ("name=X" for one pod by name).
func (s *snapshotter) pods(ctx context.Context, ns, sel string) []podInfo {
	args := map[string]any{"kind": "pods", "namespace": ns, "output": "json"}
	if name, ok := strings.CutPrefix(sel, "name="); ok {
		args["name"] = name
	} else if sel != "" {
		args["label_selector"] = sel
	}
	out, err := s.c.Call(ctx, "kubernetes.get", args)
	if err != nil {
		return nil
	}
	type pod struct {
		Metadata struct{ Name string }
		Spec     struct {
			NodeName   string `json:"nodeName"`
			Containers []struct{ Name string }
		}
		Status struct {
			Phase             string
			ContainerStatuses []struct {
				Ready        bool
				RestartCount int `json:"restartCount"`
			} `json:"containerStatuses"`
		}
	}
	var list struct {
		Kind  string
		Items []pod
	}
	if err := json.Unmarshal([]byte(out.Output), &list); err != nil {
		return nil
	}
	if list.Kind == "Pod" { // one pod by name
		var p pod
		_ = json.Unmarshal([]byte(out.Output), &p)
		list.Items = []pod{p}
	}
	var ps []podInfo
	for _, p := range list.Items {
		pi := podInfo{name: p.Metadata.Name, node: p.Spec.NodeName, healthy: p.Status.Phase == "Running" || p.Status.Phase == "Succeeded"}
		for _, c := range p.Spec.Containers {
			pi.containers = append(pi.containers, c.Name)
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.RestartCount > 0 {
				pi.restarted = true
			}
			if !cs.Ready && p.Status.Phase != "Succeeded" {
				pi.healthy = false
			}
		}
		if pi.restarted {
			pi.healthy = false
		}
		ps = append(ps, pi)
	}
	return ps
}

// unhealthyFirst orders pods not ready or restarting first; onlyUnhealthy
// drops the healthy ones (a namespace snapshot describes only pods with a
// problem).
func unhealthyFirst(ps []podInfo, onlyUnhealthy bool) []podInfo {
	sort.SliceStable(ps, func(i, j int) bool { return !ps[i].healthy && ps[j].healthy })
	if onlyUnhealthy {
		n := 0
		for _, p := range ps {
			if !p.healthy {
				ps[n] = p
				n++
			}
		}
		ps = ps[:n]
	}
	return ps
}

// focusLabel is the alert label that names an object of kind, as alerts
// from kube-state-metrics carry them.
func focusLabel(kind string) string {
	if canon, ok := workloadKinds[kind]; ok {
		return canon
	}
	switch kind {
	case "pod", "pods", "po":
		return "pod"
	case "job", "jobs", "job.batch":
		return "job_name"
	case "cronjob", "cronjobs", "cj":
		return "cronjob"
	case "hpa", "horizontalpodautoscaler", "horizontalpodautoscalers":
		return "horizontalpodautoscaler"
	case "pvc", "persistentvolumeclaim", "persistentvolumeclaims":
		return "persistentvolumeclaim"
	case "ing", "ingress", "ingresses":
		return "ingress"
	case "svc", "service", "services":
		return "service"
	case "node", "nodes", "no":
		return "node"
	}
	return kind
}

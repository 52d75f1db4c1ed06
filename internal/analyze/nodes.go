package analyze

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// NodeAnalyzers returns the analyzers of node health: NotReady, memory /
// disk / PID pressure, and nodes full of pods.
func NodeAnalyzers() []Analyzer { return []Analyzer{nodesAnalyzer{}} }

// nodesAnalyzer reads kubernetes.describe {kind: node} (text or JSON),
// kubernetes.get {kind: nodes} (tables or JSON), and FailedScheduling
// "Too many pods" events.
type nodesAnalyzer struct{}

func (nodesAnalyzer) Name() string { return "nodes" }

type nodeCond struct {
	typ, status, reason, message string
	id                           int
}

type nodeState struct {
	name          string
	conds         map[string]*nodeCond
	tableStatus   string // STATUS column of kubectl get nodes
	tableID       int
	unschedulable bool
	taints        []string
	podsCap       int // allocatable (else capacity) pods; 0 unknown
	podsRunning   int // non-terminated pods; -1 unknown
	podsID        int
	ids           []int
}

type nodeModel struct {
	nodes   map[string]*nodeState
	tooMany []nodeTooMany
}

type nodeTooMany struct {
	object, line string
	id           int
}

func (m *nodeModel) node(name string, id int) *nodeState {
	n := m.nodes[name]
	if n == nil {
		n = &nodeState{name: name, conds: map[string]*nodeCond{}, podsRunning: -1}
		m.nodes[name] = n
	}
	n.ids = netAddID(n.ids, id)
	return n
}

func (n *nodeState) setCond(c nodeCond) {
	old := n.conds[c.typ]
	// Keep the most informative report of a condition.
	if old == nil || (old.reason == "" && c.reason != "") || (old.status == c.status && c.message != "") || old.status != c.status {
		n.conds[c.typ] = &c
	}
}

func nodeIsKind(kind string) bool {
	switch strings.ToLower(kind) {
	case "node", "nodes", "no":
		return true
	}
	return false
}

func (a nodesAnalyzer) Analyze(in *Input) []Finding {
	if in == nil {
		return nil
	}
	m := &nodeModel{nodes: map[string]*nodeState{}}
	for _, it := range in.Items {
		out := strings.TrimSpace(it.Output)
		if out == "" || it.Tool == "kubernetes.logs" {
			continue
		}
		if strings.Contains(out, "Too many pods") {
			m.readTooMany(it)
		}
		if it.Tool != "kubernetes.describe" && it.Tool != "kubernetes.get" {
			continue
		}
		switch {
		case strings.HasPrefix(out, "{"):
			m.readJSON(it, out)
		case !nodeIsKind(it.Arg("kind")) && it.Arg("kind") != "":
		case it.Tool == "kubernetes.describe":
			m.readDescribe(it, out)
		default:
			for _, r := range netTableRows(out) {
				if r["STATUS"] == "" || r["NAME"] == "" {
					continue
				}
				name := strings.TrimPrefix(r["NAME"], "node/")
				n := m.node(name, it.ID)
				n.tableStatus, n.tableID = r["STATUS"], it.ID
				if strings.Contains(r["STATUS"], "SchedulingDisabled") {
					n.unschedulable = true
				}
			}
		}
	}
	fs := m.findings()
	for i := range fs {
		fs[i].Analyzer = a.Name()
	}
	logsSortFindings(fs)
	return fs
}

var (
	nodeSplitCols = regexp.MustCompile(`\s{2,}`)
	nodePodsTotal = regexp.MustCompile(`^Non-terminated Pods:\s+\((\d+) in total\)`)
	nodePodsLine  = regexp.MustCompile(`^\s+pods:\s+(\d+)\s*$`)
	nodeCondTypes = map[string]bool{"Ready": true, "MemoryPressure": true, "DiskPressure": true, "PIDPressure": true, "NetworkUnavailable": true}
)

func (m *nodeModel) readDescribe(it Item, out string) {
	var n *nodeState
	section := ""
	capPods, allocPods := 0, 0
	flush := func() {
		if n != nil {
			if allocPods > 0 {
				n.podsCap = allocPods
			} else if capPods > 0 {
				n.podsCap = capPods
			}
		}
		capPods, allocPods = 0, 0
	}
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(l, "Name:") {
			flush()
			n = m.node(strings.TrimSpace(strings.TrimPrefix(l, "Name:")), it.ID)
			section = ""
			continue
		}
		if n == nil {
			continue
		}
		if l != "" && l[0] != ' ' && l[0] != '\t' {
			key, val, _ := strings.Cut(l, ":")
			section = key
			val = strings.TrimSpace(val)
			switch key {
			case "Unschedulable":
				n.unschedulable = val == "true"
			case "Taints":
				if val != "" && val != "<none>" {
					n.taints = append(n.taints, val)
				}
			}
			if pm := nodePodsTotal.FindStringSubmatch(l); pm != nil {
				n.podsRunning, _ = strconv.Atoi(pm[1])
				n.podsID = it.ID
			}
			continue
		}
		switch section {
		case "Taints":
			if t := strings.TrimSpace(l); t != "" {
				n.taints = append(n.taints, t)
			}
		case "Conditions":
			f := nodeSplitCols.Split(strings.TrimSpace(l), -1)
			if len(f) < 2 || !nodeCondTypes[f[0]] {
				continue
			}
			c := nodeCond{typ: f[0], status: f[1], id: it.ID}
			switch {
			case len(f) >= 6:
				c.reason, c.message = f[4], strings.Join(f[5:], "  ")
			case len(f) == 5:
				c.reason = f[4]
			}
			n.setCond(c)
		case "Capacity", "Allocatable":
			if pm := nodePodsLine.FindStringSubmatch(l); pm != nil {
				v, _ := strconv.Atoi(pm[1])
				if section == "Capacity" {
					capPods = v
				} else {
					allocPods = v
				}
			}
		}
	}
	flush()
}

type nodeJSON struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Unschedulable bool `json:"unschedulable"`
		Taints        []struct {
			Key    string `json:"key"`
			Effect string `json:"effect"`
		} `json:"taints"`
	} `json:"spec"`
	Status struct {
		Capacity    map[string]string `json:"capacity"`
		Allocatable map[string]string `json:"allocatable"`
		Conditions  []struct {
			Type    string `json:"type"`
			Status  string `json:"status"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"conditions"`
	} `json:"status"`
	Items []nodeJSON `json:"items"`
}

func (m *nodeModel) readJSON(it Item, out string) {
	var o nodeJSON
	if json.Unmarshal([]byte(out), &o) != nil {
		return
	}
	objs := []nodeJSON{o}
	if len(o.Items) > 0 {
		objs = o.Items
	}
	for _, x := range objs {
		if x.Kind != "Node" && !(x.Kind == "" && nodeIsKind(it.Arg("kind"))) {
			continue
		}
		n := m.node(x.Metadata.Name, it.ID)
		n.unschedulable = n.unschedulable || x.Spec.Unschedulable
		for _, t := range x.Spec.Taints {
			n.taints = append(n.taints, t.Key+":"+t.Effect)
		}
		for _, c := range x.Status.Conditions {
			if nodeCondTypes[c.Type] {
				n.setCond(nodeCond{typ: c.Type, status: c.Status, reason: c.Reason, message: c.Message, id: it.ID})
			}
		}
		p := x.Status.Allocatable["pods"]
		if p == "" {
			p = x.Status.Capacity["pods"]
		}
		if v, err := strconv.Atoi(p); err == nil {
			n.podsCap = v
		}
	}
}

func (m *nodeModel) readTooMany(it Item) {
	obj := ""
	if k, name := KubeKind(it.Arg("kind")), it.Arg("name"); k != "" && name != "" && !nodeIsKind(k) {
		obj = k + "/" + it.Arg("namespace") + "/" + name
		if it.Arg("namespace") == "" {
			obj = k + "/" + name
		}
	}
	for _, l := range strings.Split(it.Output, "\n") {
		if !strings.Contains(l, "Too many pods") {
			continue
		}
		o := obj
		if o == "" {
			// An event list names the object: "pod/x" in a column.
			for _, f := range strings.Fields(l) {
				if strings.HasPrefix(f, "pod/") {
					o = "pod/" + it.Arg("namespace") + "/" + strings.TrimPrefix(f, "pod/")
					break
				}
			}
		}
		if o == "" {
			o = "namespace/" + it.Arg("namespace")
		}
		m.tooMany = append(m.tooMany, nodeTooMany{object: o, line: strings.TrimSpace(l), id: it.ID})
	}
}

func (m *nodeModel) findings() []Finding {
	var fs []Finding
	names := slices.Sorted(maps.Keys(m.nodes))
	var full []string
	var fullIDs []int
	for _, name := range names {
		n := m.nodes[name]
		obj := "node/" + name
		before := len(fs)
		taints := ""
		if len(n.taints) > 0 {
			taints = "; taints: " + strings.Join(n.taints, ", ")
		}
		reported := false
		if c := n.conds["Ready"]; c != nil && c.status != "True" {
			why := ""
			if c.reason != "" {
				why = " (" + c.reason
				if c.message != "" {
					why += ": " + c.message
				}
				why += ")"
			}
			score := 0.85
			if c.message != "" {
				score = 0.9
			}
			fs = append(fs, Finding{
				Category: CategoryNode, Object: obj,
				Summary: fmt.Sprintf("Node %s is NotReady: condition Ready=%s%s%s", name, c.status, why, taints),
				Culprit: "Ready=" + c.status, Evidence: []int{c.id}, Direct: true, Score: score,
			})
			reported = true
		}
		if !reported && n.tableStatus != "" && !strings.HasPrefix(n.tableStatus, "Ready") {
			fs = append(fs, Finding{
				Category: CategoryNode, Object: obj,
				Summary: fmt.Sprintf("Node %s is %s (kubectl get nodes STATUS %q)%s", name, n.tableStatus, n.tableStatus, taints),
				Culprit: "STATUS=" + n.tableStatus, Evidence: []int{n.tableID}, Direct: true, Score: 0.75,
			})
		}
		for _, typ := range []string{"MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"} {
			c := n.conds[typ]
			if c == nil || c.status != "True" {
				continue
			}
			why := ""
			if c.reason != "" {
				why = " (" + c.reason
				if c.message != "" {
					why += ": " + c.message
				}
				why += ")"
			}
			fs = append(fs, Finding{
				Category: CategoryNode, Object: obj,
				Summary: fmt.Sprintf("Node %s reports %s=True%s%s", name, typ, why, taints),
				Culprit: typ + "=True", Evidence: []int{c.id}, Direct: true, Score: 0.8,
			})
		}
		if n.podsCap > 0 && n.podsRunning >= n.podsCap {
			ids := netSortedIDs(n.ids)
			fs = append(fs, Finding{
				Category: CategoryNode, Object: obj,
				Summary: fmt.Sprintf("Node %s is full of pods: %d non-terminated pods for a capacity of %d; new pods cannot be scheduled there", name, n.podsRunning, n.podsCap),
				Culprit: fmt.Sprintf("pods %d/%d", n.podsRunning, n.podsCap), Evidence: ids, Direct: true, Score: 0.75,
			})
			full = append(full, obj)
			for _, id := range ids {
				fullIDs = netAddID(fullIDs, id)
			}
		}
		if n.unschedulable && len(fs) == before {
			fs = append(fs, Finding{
				Category: CategoryNode, Object: obj,
				Summary: fmt.Sprintf("Node %s is cordoned (SchedulingDisabled): no new pods are placed on it", name),
				Culprit: "SchedulingDisabled", Evidence: netSortedIDs(n.ids), Score: 0.4,
			})
		}
	}
	seen := map[string]bool{}
	for _, t := range m.tooMany {
		if seen[t.object] {
			continue
		}
		seen[t.object] = true
		ids := []int{t.id}
		for _, id := range fullIDs {
			ids = netAddID(ids, id)
		}
		fs = append(fs, Finding{
			Category: CategoryNode, Object: t.object,
			Summary: fmt.Sprintf("The scheduler cannot place %s: nodes are at their pod limit (\"Too many pods\"): %q", t.object, logsClip(t.line, 200)),
			Culprit: "Too many pods", Evidence: netSortedIDs(ids), Direct: true, Score: 0.7, Related: full,
		})
	}
	return fs
}

package analyze

// Pods that cannot attach or mount their volumes (Multi-Attach of a
// ReadWriteOnce volume, attach/mount failures of the storage driver), and
// pods the kubelet evicted (ephemeral-storage limits, node pressure).

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// ---------------------------------------------------------------------------
// Volume attach and mount failures

type volumeAnalyzer struct{}

func (volumeAnalyzer) Name() string { return "kube-volume" }

var (
	// The attach/detach controller's messages (FailedAttachVolume).
	multiAttach = regexp.MustCompile(`Multi-Attach error for volume "([^"]+)"\s*(Volume is already (?:used by pod\(s\) ([^.]+?)\s*$|used by \d+ pod\(s\) in different namespaces|exclusively attached to one node and can't be attached to another))`)
	attachFail  = regexp.MustCompile(`AttachVolume\.Attach failed for volume "([^"]+)"\s*:\s*(.*)$`)
	// The kubelet's (FailedMount, FailedMapVolume).
	mountFail = regexp.MustCompile(`(?:MountVolume\.(?:SetUp|MountDevice|WaitForAttach|NewMounter initialization)|MapVolume\.\w+) failed for volume "([^"]+)"\s*:\s*(.*)$`)
	// The kubelet's summary when volumes stay unmounted: a symptom.
	mountTimeout = regexp.MustCompile(`Unable to (?:attach or )?mount volumes: unmounted volumes=\[([^\]]*)\]`)
)

type pvcInfo struct{ name, volume, access string }

// claimsByVolume maps PersistentVolume names to the claims bound to them,
// from the PersistentVolumeClaims the evidence describes.
func claimsByVolume(in *Input) map[string]pvcInfo {
	out := map[string]pvcInfo{}
	for _, o := range objectsOf(in, "persistentvolumeclaim") {
		var v pvcInfo
		v.name = o.name
		switch {
		case o.doc != nil:
			v.volume, v.access = o.doc.Get("Volume"), o.doc.Get("Access Modes")
		case o.obj != nil:
			var spec struct {
				VolumeName  string   `json:"volumeName"`
				AccessModes []string `json:"accessModes"`
			}
			_ = json.Unmarshal(o.obj.Spec, &spec)
			v.volume, v.access = spec.VolumeName, strings.Join(spec.AccessModes, ",")
		case o.row != nil:
			v.volume, v.access = o.row["VOLUME"], o.row["ACCESS MODES"]
		}
		if v.volume != "" {
			out[v.volume] = v
		}
	}
	return out
}

func (a volumeAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	var claims map[string]pvcInfo
	for _, p := range collectPods(in) {
		evs := p.warnings("FailedAttachVolume", "FailedMount", "FailedMapVolume")
		if len(evs) == 0 || p.healthy() || strings.EqualFold(p.Phase, "Succeeded") || strings.EqualFold(p.Phase, "Failed") {
			continue // mounted since (or done): failures are history
		}
		if p.stateKnown() && !p.waitingToStart() {
			continue
		}
		if claims == nil {
			claims = claimsByVolume(in)
		}
		// The most specific event wins: a Multi-Attach error, then a
		// driver's attach or mount error, then the kubelet's timeout.
		var best *Finding
		rank := 0
		configMissing := false
		for _, e := range evs {
			if _, _, _, ok := missingConfig(e.Message, p.Namespace); ok {
				configMissing = true
				continue // a missing ConfigMap or Secret (kube-config)
			}
			f := Finding{Analyzer: a.Name(), Category: CategoryStorage, Object: p.ref(), Direct: true, Score: 0.9,
				Evidence: addID(append([]int(nil), p.IDs...), e.Item), Related: p.related()}
			r := 0
			switch {
			case multiAttach.MatchString(e.Message):
				m := multiAttach.FindStringSubmatch(e.Message)
				r = 3
				vol := volumeText(m[1], claims)
				f.Culprit = volumeCulprit(m[1], claims)
				f.Summary = fmt.Sprintf("pod %s cannot start: %s is still attached to another node (Multi-Attach error: a ReadWriteOnce volume can be attached to one node at a time)", p.path(), vol)
				if m[3] != "" {
					users := strings.Split(m[3], ", ")
					f.Summary += fmt.Sprintf("; it is in use by pod %s, which must stop (or the workload use strategy Recreate or a ReadWriteMany volume) before this pod can mount it", strings.Join(users, ", "))
					for _, u := range users {
						if u = strings.TrimSpace(u); u != "" && u != p.Name {
							f.Related = append(f.Related, ObjectRef("pod", p.Namespace, u))
						}
					}
				}
				f.Summary += fmt.Sprintf(" (%s: %q)", e.Reason, clip(e.Message, 200))
			case attachFail.MatchString(e.Message):
				m := attachFail.FindStringSubmatch(e.Message)
				r, f.Score = 2, 0.85
				f.Culprit = volumeCulprit(m[1], claims)
				f.Summary = fmt.Sprintf("pod %s cannot start: %s cannot be attached to its node (%s: %q)", p.path(), volumeText(m[1], claims), e.Reason, clip(m[2], 200))
			case mountFail.MatchString(e.Message):
				m := mountFail.FindStringSubmatch(e.Message)
				r, f.Score = 2, 0.85
				f.Culprit = volumeCulprit(m[1], claims)
				detail := m[2]
				if i := strings.LastIndex(detail, "Output: "); i >= 0 {
					// mount(8)'s own words say why; the command line does not.
					head := detail[:i]
					if j := strings.Index(head, "Mounting command"); j >= 0 {
						head = head[:j]
					}
					detail = strings.TrimSpace(head) + " … " + detail[i:]
				}
				f.Summary = fmt.Sprintf("pod %s cannot start: %s cannot be mounted (%s: %q)", p.path(), volumeText(m[1], claims), e.Reason, clip(detail, 200))
			case mountTimeout.MatchString(e.Message):
				m := mountTimeout.FindStringSubmatch(e.Message)
				r, f.Score, f.Direct = 1, 0.6, false
				f.Culprit = "volume " + m[1]
				f.Summary = fmt.Sprintf("pod %s cannot start: volume %s stays unmounted (%s: %q); the evidence does not say why", p.path(), m[1], e.Reason, clip(e.Message, 200))
			default:
				continue
			}
			if !p.stateKnown() {
				f.Score -= 0.1 // events only: the pod may have started since
				f.Direct = f.Direct && r == 3
			}
			if r > rank {
				rank = r
				ff := f
				best = &ff
			} else if best != nil {
				best.Evidence = addID(best.Evidence, e.Item)
			}
		}
		if best != nil && rank == 1 && configMissing {
			best = nil // the timeout is the missing ConfigMap's or Secret's
		}
		if best != nil {
			// The kubelet's own timeout is the same story: cite it too.
			for _, e := range evs {
				if mountTimeout.MatchString(e.Message) {
					best.Evidence = addID(best.Evidence, e.Item)
				}
			}
			fs = append(fs, *best)
		}
	}
	return finishFindings(fs)
}

// waitingToStart is true when the pod is scheduled but its containers have
// not started: Pending, or containers waiting in ContainerCreating or
// PodInitializing.
func (p *podInfo) waitingToStart() bool {
	if strings.EqualFold(p.Phase, "Pending") || p.TableStatus == "ContainerCreating" || strings.HasPrefix(p.TableStatus, "Init:") {
		return true
	}
	for _, c := range p.Containers {
		if c.State.Reason == "ContainerCreating" || c.State.Reason == "PodInitializing" {
			return true
		}
	}
	return false
}

func volumeText(vol string, claims map[string]pvcInfo) string {
	if c, ok := claims[vol]; ok {
		s := fmt.Sprintf("volume %s (PersistentVolumeClaim %s", vol, c.name)
		if c.access != "" {
			s += ", access mode " + c.access
		}
		return s + ")"
	}
	return "volume " + vol
}

func volumeCulprit(vol string, claims map[string]pvcInfo) string {
	if c, ok := claims[vol]; ok {
		return "persistentvolumeclaim/" + c.name
	}
	return "volume " + vol
}

// ---------------------------------------------------------------------------
// Evictions

type evictionAnalyzer struct{}

func (evictionAnalyzer) Name() string { return "kube-eviction" }

// The kubelet's eviction messages (pkg/kubelet/eviction).
var (
	evictCtrEphemeral = regexp.MustCompile(`Container (\S+) exceeded its local ephemeral storage limit "([^"]+)"`)
	evictPodEphemeral = regexp.MustCompile(`Pod ephemeral local storage usage exceeds the total limit of containers (\S+?)\.?\s*$`)
	evictEmptyDir     = regexp.MustCompile(`Usage of EmptyDir volume "([^"]+)" exceeds the limit "([^"]+)"`)
	evictNodeLow      = regexp.MustCompile(`The node was low on resource: ([\w.-]+?)\.`)
	evictNodeCond     = regexp.MustCompile(`The node had condition: \[(\w+)\]`)
	evictUsage        = regexp.MustCompile(`Container (\S+) was using (\S+?),? (?:request is|which exceeds its request of) (\S+?)[,.]`)
)

// evictionRecent is how recent an Evicted event must be for the eviction
// to be taken as this incident's, not history.
const evictionRecent = time.Hour

func (a evictionAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	var nodes *schedNodes
	for _, p := range collectPods(in) {
		msg, ids := "", append([]int(nil), p.IDs...)
		if p.Reason == "Evicted" {
			msg = p.Message
		}
		recent, shown := false, false
		for _, e := range p.warnings("Evicted") {
			shown = true
			ids = addID(ids, e.Item)
			if msg == "" {
				msg = e.Message
			}
			if d, ok := parseKubeAge(e.Age); ok && d <= evictionRecent {
				recent = true
			}
		}
		msg = strings.TrimSpace(msg)
		if msg == "" || p.Reason != "Evicted" && !shown {
			continue // a table's "Evicted" alone does not say why
		}
		if p.stateKnown() && p.Reason != "Evicted" && p.TableStatus != "Evicted" && !strings.EqualFold(p.Phase, "Failed") {
			continue // the pod (or a namesake) runs: the event is history
		}
		// The pod's own status naming the reason is the cause itself; an
		// eviction the evidence cannot date may be old (evicted pods linger
		// for days): it stays a candidate, ahead of nothing more recent,
		// unless the alert points at the pod.
		score := 0.9
		if !recent {
			score = 0.65
		}
		f := Finding{Analyzer: a.Name(), Object: p.ref(), Evidence: ids, Direct: true, Score: score, Related: p.related()}
		q := fmt.Sprintf("%q", clip(msg, 240))
		switch {
		case evictCtrEphemeral.MatchString(msg):
			m := evictCtrEphemeral.FindStringSubmatch(msg)
			f.Category, f.Culprit = CategorySaturation, fmt.Sprintf("container %s ephemeral-storage limit %s", m[1], m[2])
			f.Summary = fmt.Sprintf("pod %s was Evicted: container %q exceeded its local ephemeral storage limit of %s (logs, writable layer and emptyDir on the node's disk): %s", p.path(), m[1], m[2], q)
		case evictPodEphemeral.MatchString(msg):
			m := evictPodEphemeral.FindStringSubmatch(msg)
			f.Category, f.Culprit = CategorySaturation, "pod ephemeral-storage limit "+m[1]
			f.Summary = fmt.Sprintf("pod %s was Evicted: its ephemeral storage use exceeded its containers' total ephemeral-storage limit of %s: %s", p.path(), m[1], q)
		case evictEmptyDir.MatchString(msg):
			m := evictEmptyDir.FindStringSubmatch(msg)
			f.Category, f.Culprit = CategorySaturation, fmt.Sprintf("emptyDir %s sizeLimit %s", m[1], m[2])
			f.Summary = fmt.Sprintf("pod %s was Evicted: its emptyDir volume %q exceeded its ephemeral storage sizeLimit of %s: %s", p.path(), m[1], m[2], q)
		case evictNodeLow.MatchString(msg) || evictNodeCond.MatchString(msg):
			// The node ran short: the node is the cause, this pod one of
			// its victims (the message names the heaviest users).
			res := ""
			if m := evictNodeLow.FindStringSubmatch(msg); m != nil {
				res = m[1]
			} else {
				res = evictNodeCond.FindStringSubmatch(msg)[1]
			}
			cond := pressureOf(res)
			f.Category, f.Culprit = CategoryNode, "node low on "+res
			f.Direct, f.Score = false, score-0.3
			f.Summary = fmt.Sprintf("pod %s was Evicted because its node", p.path())
			if p.Node != "" {
				f.Summary += " " + p.Node
			}
			f.Summary += fmt.Sprintf(" was low on %s (%s): %s", res, cond, q)
			if nodes == nil {
				nodes = collectSchedNodes(in)
			}
			// When the evidence shows the node itself, the node analyzer
			// reads its conditions; the eviction only leads there.
			if n := nodes.byName[p.Node]; p.Node != "" && (n == nil || len(n.conds) == 0 && n.tableStatus == "") {
				usage := ""
				if m := evictUsage.FindStringSubmatch(msg); m != nil {
					usage = fmt.Sprintf("; container %q of pod %s was using %s (request %s)", m[1], p.path(), m[2], m[3])
				}
				fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryNode, Object: ObjectRef("node", "", p.Node),
					Summary: fmt.Sprintf("node %s ran low on %s (%s) and the kubelet evicted pods (pod %s: %s)%s; the node's own conditions are not in the evidence", p.Node, res, cond, p.path(), q, usage),
					Culprit: res, Evidence: ids, Direct: true, Score: score - 0.05})
			}
		default:
			f.Category, f.Culprit = CategoryNode, clip(msg, 120)
			f.Direct, f.Score = false, 0.55
			f.Summary = fmt.Sprintf("pod %s was Evicted: %s", p.path(), q)
		}
		fs = append(fs, f)
	}
	return finishFindings(fs)
}

// pressureOf names the node condition an eviction signal's resource
// belongs to.
func pressureOf(res string) string {
	switch r := strings.ToLower(res); {
	case r == "memory":
		return "MemoryPressure"
	case r == "pids" || r == "pid":
		return "PIDPressure"
	case strings.Contains(r, "storage") || strings.Contains(r, "fs") || strings.Contains(r, "inodes"):
		return "DiskPressure"
	case strings.HasSuffix(r, "pressure"):
		return res
	}
	return res + " pressure"
}

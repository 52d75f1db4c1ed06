package analyze

// Workload analyzers: Deployment rollouts, ReplicaSet (and other
// controllers') pod creation failures, Jobs and HorizontalPodAutoscalers,
// from describe text, -o json, get tables and events.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// kubeObj is one object of some kind as one item showed it (describe doc,
// JSON object or table row), with the events the evidence holds about it.
type kubeObj struct {
	kind, ns, name string
	doc            *DescribeDoc
	obj            *kubeObject
	row            map[string]string
	events         []KubeEvent
	ids            []int
}

func (o *kubeObj) ref() string  { return ObjectRef(o.kind, o.ns, o.name) }
func (o *kubeObj) path() string { return strings.TrimPrefix(o.ref(), o.kind+"/") }

func (o *kubeObj) conditions() []kubeCondition {
	switch {
	case o.doc != nil:
		return conditionsFromTable(o.doc.Node("Conditions"))
	case o.obj != nil:
		var st struct {
			Conditions []kubeCondition `json:"conditions"`
		}
		_ = json.Unmarshal(o.obj.Status, &st)
		return st.Conditions
	}
	return nil
}

func (o *kubeObj) warnings(reasons ...string) []KubeEvent {
	var out []KubeEvent
	for _, e := range o.events {
		if e.Type == "Warning" && (len(reasons) == 0 || containsStr(reasons, e.Reason)) {
			out = append(out, e)
		}
	}
	return out
}

// objectsOf returns the objects of a kind the items show, in item order; an
// object that only events mention is returned with no doc, obj or row.
func objectsOf(in *Input, kind string) []*kubeObj {
	items := append([]Item(nil), in.Items...)
	sort.SliceStable(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	var objs []*kubeObj
	var evs []KubeEvent
	for _, it := range items {
		switch it.Tool {
		case toolKubeDescribe:
			for _, d := range ParseDescribe(it.Output) {
				if describeKind(it, d) == kind && d.Name() != "" {
					objs = append(objs, &kubeObj{kind: kind, ns: d.Namespace(), name: d.Name(), doc: d,
						events: describeEvents(d, kind, it.ID), ids: []int{it.ID}})
				}
			}
		case toolKubeGet:
			if isStructured(it.Output) {
				for _, o := range kubeObjects(it.Output) {
					if KubeKind(o.Kind) == kind && o.Metadata.Name != "" {
						o := o
						objs = append(objs, &kubeObj{kind: kind, ns: o.Metadata.Namespace, name: o.Metadata.Name,
							obj: &o, ids: []int{it.ID}})
					}
				}
				if KubeKind(it.Arg("kind")) == "event" {
					evs = append(evs, ParseEvents(it)...)
				}
				continue
			}
			if KubeKind(it.Arg("kind")) == "event" {
				evs = append(evs, ParseEvents(it)...)
				continue
			}
			for _, r := range ParseTable(it.Output) {
				name, rk := r["NAME"], KubeKind(it.Arg("kind"))
				if k, n, ok := strings.Cut(name, "/"); ok {
					name, rk = n, KubeKind(k)
				}
				if rk != kind || name == "" {
					continue
				}
				ns := r["NAMESPACE"]
				if ns == "" {
					ns = it.Arg("namespace")
				}
				objs = append(objs, &kubeObj{kind: kind, ns: ns, name: name, row: r, ids: []int{it.ID}})
			}
		case toolKubeEvents:
			evs = append(evs, ParseEvents(it)...)
		}
	}
	byRef := map[string][]*kubeObj{}
	for _, o := range objs {
		byRef[o.ref()] = append(byRef[o.ref()], o)
	}
	for _, e := range evs {
		if e.Kind != kind {
			continue
		}
		if e.Namespace == "" {
			for _, o := range objs {
				if o.name == e.Name {
					e.Namespace = o.ns
					break
				}
			}
		}
		os := byRef[e.Object()]
		if len(os) == 0 {
			o := &kubeObj{kind: kind, ns: e.Namespace, name: e.Name}
			objs = append(objs, o)
			os = []*kubeObj{o}
			byRef[e.Object()] = os
		}
		for _, o := range os {
			o.events = append(o.events, e)
		}
	}
	return objs
}

// ---------------------------------------------------------------------------
// Pod creation failures (FailedCreate): quota, LimitRange, missing service account

var (
	quotaRe   = regexp.MustCompile(`exceeded quota: ([^,\s]+)(?:, requested: ([^,]+))?`)
	limitRe   = regexp.MustCompile(`(maximum|minimum) (\S+) usage per (Container|Pod) is (\S+)(?:,? but (?:limit|request) is (\S+))?`)
	missingSA = regexp.MustCompile(`serviceaccount "([^"\\]+)\\?" not found`)
)

// failedCreate classifies a controller's "Error creating: …" message.
func failedCreate(o *kubeObj, kindWord, msg string, ids []int) Finding {
	f := Finding{Analyzer: "kube-failed-create", Object: o.ref(), Evidence: ids, Direct: true, Score: 0.9}
	q := fmt.Sprintf("%q", clip(msg, 240))
	switch {
	case quotaRe.MatchString(msg):
		m := quotaRe.FindStringSubmatch(msg)
		f.Category, f.Culprit = CategoryQuota, "resourcequota/"+m[1]
		f.Related = []string{ObjectRef("resourcequota", o.ns, m[1])}
		req := ""
		if m[2] != "" {
			req = " (requested " + strings.TrimSpace(m[2]) + ")"
		}
		f.Summary = fmt.Sprintf("%s %s cannot create pods: ResourceQuota %q is exceeded%s: %s", kindWord, o.path(), m[1], req, q)
	case limitRe.MatchString(msg):
		m := limitRe.FindStringSubmatch(msg)
		f.Category, f.Culprit = CategoryQuota, fmt.Sprintf("LimitRange %s %s per %s %s", m[1], m[2], m[3], m[4])
		f.Summary = fmt.Sprintf("%s %s cannot create pods: a LimitRange refuses them: %s", kindWord, o.path(), q)
	case missingSA.MatchString(msg):
		m := missingSA.FindStringSubmatch(msg)
		f.Category, f.Culprit = CategoryMissingConfig, "serviceaccount/"+m[1]
		f.Related = []string{ObjectRef("serviceaccount", o.ns, m[1])}
		f.Summary = fmt.Sprintf("%s %s cannot create pods: ServiceAccount %q is not found: %s", kindWord, o.path(), m[1], q)
	default:
		f.Category, f.Culprit, f.Score = CategoryRollout, clip(msg, 120), 0.8
		f.Summary = fmt.Sprintf("%s %s cannot create pods: %s", kindWord, o.path(), q)
	}
	return f
}

type replicaSetAnalyzer struct{}

func (replicaSetAnalyzer) Name() string { return "kube-failed-create" }

// Analyze reports controllers whose pods cannot be created: FailedCreate
// events (ReplicaSet, StatefulSet, DaemonSet, Job) and ReplicaFailure
// conditions (ReplicaSet, Deployment).
func (a replicaSetAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	for _, kind := range []string{"replicaset", "deployment", "statefulset", "daemonset", "job"} {
		for _, o := range objectsOf(in, kind) {
			if evs := o.warnings("FailedCreate"); len(evs) > 0 {
				e := evs[len(evs)-1]
				fs = append(fs, failedCreate(o, kind, e.Message, addID(append([]int(nil), o.ids...), eventIDs(evs)...)))
			}
			if c := findCondition(o.conditions(), "ReplicaFailure"); c != nil && c.Status == "True" && c.Message != "" {
				fs = append(fs, failedCreate(o, kind, c.Message, o.ids))
			}
		}
	}
	return finishFindings(fs)
}

// ---------------------------------------------------------------------------
// Deployment rollouts

type rolloutAnalyzer struct{}

func (rolloutAnalyzer) Name() string { return "kube-rollout" }

var (
	replicasLine = regexp.MustCompile(`(\d+) desired \| (\d+) updated \| (\d+) total \| (\d+) available \| (\d+) unavailable`)
	rsTimedOut   = regexp.MustCompile(`ReplicaSet "([^"]+)" has timed out progressing`)
)

type replicaCounts struct {
	desired, updated, total, available, unavailable int
	known                                           bool
}

func (o *kubeObj) deploymentCounts() replicaCounts {
	var c replicaCounts
	switch {
	case o.doc != nil:
		if m := replicasLine.FindStringSubmatch(o.doc.Get("Replicas")); m != nil {
			n := make([]int, 5)
			for i := range n {
				n[i], _ = strconv.Atoi(m[i+1])
			}
			c = replicaCounts{n[0], n[1], n[2], n[3], n[4], true}
		}
	case o.obj != nil:
		var spec struct {
			Replicas *int `json:"replicas"`
		}
		var st struct {
			Replicas            int `json:"replicas"`
			UpdatedReplicas     int `json:"updatedReplicas"`
			AvailableReplicas   int `json:"availableReplicas"`
			UnavailableReplicas int `json:"unavailableReplicas"`
		}
		_ = json.Unmarshal(o.obj.Spec, &spec)
		_ = json.Unmarshal(o.obj.Status, &st)
		c = replicaCounts{1, st.UpdatedReplicas, st.Replicas, st.AvailableReplicas, st.UnavailableReplicas, true}
		if spec.Replicas != nil {
			c.desired = *spec.Replicas
		}
	case o.row != nil: // READY 1/3, UP-TO-DATE, AVAILABLE
		rd, tot, ok := strings.Cut(o.row["READY"], "/")
		if !ok {
			return c
		}
		c.desired, _ = strconv.Atoi(tot)
		c.updated, _ = strconv.Atoi(o.row["UP-TO-DATE"])
		c.available, _ = strconv.Atoi(o.row["AVAILABLE"])
		ready, _ := strconv.Atoi(rd)
		c.unavailable = max(c.desired-min(ready, c.available), 0)
		c.total, c.known = c.desired, true
	}
	return c
}

func (a rolloutAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	for _, o := range objectsOf(in, "deployment") {
		c := o.deploymentCounts()
		conds := o.conditions()
		prog := findCondition(conds, "Progressing")
		stuck := prog != nil && prog.Status == "False" && prog.Reason == "ProgressDeadlineExceeded"
		ids := append([]int(nil), o.ids...)
		if evs := o.warnings(); stuck {
			ids = addID(ids, eventIDs(evs)...)
		}
		if len(o.ids) == 0 { // events only
			for _, e := range o.events {
				if rsTimedOut.MatchString(e.Message) {
					stuck = true
					ids = addID(ids, e.Item)
				}
			}
		}
		short := c.known && (c.unavailable > 0 || c.available < c.desired || c.updated < c.desired)
		if !stuck && !short {
			continue
		}
		newRS := ""
		if o.doc != nil {
			newRS = strings.Fields(o.doc.Get("NewReplicaSet") + " ")[0]
			if newRS == "<none>" {
				newRS = ""
			}
		}
		for _, s := range []string{prog.msg()} {
			if m := rsTimedOut.FindStringSubmatch(s); m != nil {
				newRS = m[1]
			}
		}
		for _, e := range o.events {
			if m := rsTimedOut.FindStringSubmatch(e.Message); m != nil && newRS == "" {
				newRS = m[1]
			}
		}
		f := Finding{Analyzer: a.Name(), Category: CategoryRollout, Object: o.ref(), Evidence: ids, Score: 0.5}
		if newRS != "" {
			f.Culprit = "replicaset/" + newRS
			f.Related = []string{ObjectRef("replicaset", o.ns, newRS)}
		}
		counts := ""
		if c.known {
			counts = fmt.Sprintf(" (%d desired, %d updated, %d available, %d unavailable)", c.desired, c.updated, c.available, c.unavailable)
		}
		if stuck {
			f.Score = 0.7
			f.Summary = fmt.Sprintf("the rollout of deployment %s is stuck: Progressing is False with ProgressDeadlineExceeded%s", o.path(), counts)
			if prog != nil && prog.Message != "" {
				f.Summary += fmt.Sprintf(": %q", clip(prog.Message, 160))
			}
		} else {
			f.Summary = fmt.Sprintf("deployment %s does not have all its replicas available%s", o.path(), counts)
		}
		if newRS != "" {
			f.Summary += fmt.Sprintf("; the new ReplicaSet is %q (its pods show why)", newRS)
		}
		fs = append(fs, f)
	}
	return finishFindings(fs)
}

func (c *kubeCondition) msg() string {
	if c == nil {
		return ""
	}
	return c.Message
}

// ---------------------------------------------------------------------------
// Jobs

type jobAnalyzer struct{}

func (jobAnalyzer) Name() string { return "kube-job" }

var jobFailedPods = regexp.MustCompile(`(\d+) Failed`)

var jobFailReasons = map[string]string{
	"BackoffLimitExceeded":      "it reached its backoff limit",
	"DeadlineExceeded":          "it ran longer than its active deadline",
	"PodFailurePolicy":          "a pod failure policy failed it",
	"MaxFailedIndexesExceeded":  "too many indexes failed",
	"FailedIndexes":             "some indexes failed",
	"BackoffLimitExceededIndex": "an index reached its backoff limit",
}

func (a jobAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	for _, o := range objectsOf(in, "job") {
		reason, msg := "", ""
		ids := append([]int(nil), o.ids...)
		// The Job's own Failed condition naming why shows the cause
		// directly; events alone (or a table's STATUS) do not.
		direct := false
		if c := findCondition(o.conditions(), "Failed"); c != nil && c.Status == "True" {
			reason, msg = c.Reason, c.Message
			_, direct = jobFailReasons[reason]
		}
		for _, e := range o.warnings() {
			if _, ok := jobFailReasons[e.Reason]; ok {
				if reason == "" {
					reason, msg = e.Reason, e.Message
				}
				ids = addID(ids, e.Item)
			}
		}
		if reason == "" && o.row != nil && o.row["STATUS"] == "Failed" {
			reason = "Failed"
		}
		if reason == "" {
			continue
		}
		failed, limit := -1, ""
		switch {
		case o.doc != nil:
			if m := jobFailedPods.FindStringSubmatch(o.doc.Get("Pods Statuses")); m != nil {
				failed, _ = strconv.Atoi(m[1])
			}
			limit = o.doc.Get("Backoff Limit")
		case o.obj != nil:
			var spec struct {
				BackoffLimit *int `json:"backoffLimit"`
			}
			var st struct {
				Failed int `json:"failed"`
			}
			_ = json.Unmarshal(o.obj.Spec, &spec)
			_ = json.Unmarshal(o.obj.Status, &st)
			failed = st.Failed
			if spec.BackoffLimit != nil {
				limit = strconv.Itoa(*spec.BackoffLimit)
			}
		}
		why := jobFailReasons[reason]
		if why == "" {
			why = "it failed"
		}
		sum := fmt.Sprintf("job %s failed: %s (%s", o.path(), why, reason)
		if msg != "" {
			sum += fmt.Sprintf(": %q", clip(msg, 160))
		}
		sum += ")"
		var extra []string
		if failed >= 0 {
			extra = append(extra, fmt.Sprintf("%d failed pods", failed))
		}
		if limit != "" {
			extra = append(extra, "backoffLimit "+limit)
		}
		if len(extra) > 0 {
			sum += ", " + strings.Join(extra, ", ")
		}
		score := 0.7
		if direct {
			score = 0.85
		}
		fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryJobFailure, Object: o.ref(),
			Summary: sum + "; its pods show why they fail", Culprit: reason, Evidence: ids, Direct: direct, Score: score})
	}
	return finishFindings(fs)
}

// ---------------------------------------------------------------------------
// HorizontalPodAutoscalers

type hpaAnalyzer struct{}

func (hpaAnalyzer) Name() string { return "kube-hpa" }

var (
	hpaMetricErrs = []*regexp.Regexp{
		regexp.MustCompile(`unable to (?:get|fetch) metrics?[^:]*`),
		regexp.MustCompile(`no metrics returned[^:]*`),
		regexp.MustCompile(`missing request for [^:]*`),
		regexp.MustCompile(`failed to get [^:]+`),
	}
	hpaPods      = regexp.MustCompile(`(\d+) current / (\d+) desired`)
	metricFailed = []string{"FailedGetResourceMetric", "FailedGetPodsMetric", "FailedGetObjectMetric",
		"FailedGetExternalMetric", "FailedGetContainerResourceMetric", "FailedComputeMetricsReplicas"}
)

type hpaCounts struct {
	min, max, current, desired int
	known                      bool
}

func (o *kubeObj) hpaCounts() hpaCounts {
	var c hpaCounts
	switch {
	case o.doc != nil:
		c.min, _ = strconv.Atoi(o.doc.Get("Min replicas"))
		c.max, _ = strconv.Atoi(o.doc.Get("Max replicas"))
		for _, n := range o.doc.Root.Children {
			if strings.HasSuffix(n.Key, " pods") {
				if m := hpaPods.FindStringSubmatch(n.Value); m != nil {
					c.current, _ = strconv.Atoi(m[1])
					c.desired, _ = strconv.Atoi(m[2])
				}
			}
		}
	case o.obj != nil:
		var spec struct {
			Min *int `json:"minReplicas"`
			Max int  `json:"maxReplicas"`
		}
		var st struct {
			Current int `json:"currentReplicas"`
			Desired int `json:"desiredReplicas"`
		}
		_ = json.Unmarshal(o.obj.Spec, &spec)
		_ = json.Unmarshal(o.obj.Status, &st)
		c.max, c.current, c.desired = spec.Max, st.Current, st.Desired
		if spec.Min != nil {
			c.min = *spec.Min
		}
	case o.row != nil:
		c.min, _ = strconv.Atoi(o.row["MINPODS"])
		c.max, _ = strconv.Atoi(o.row["MAXPODS"])
		c.current, _ = strconv.Atoi(o.row["REPLICAS"])
		c.desired = c.current
	}
	c.known = c.max > 0
	return c
}

func (a hpaAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	for _, o := range objectsOf(in, "horizontalpodautoscaler") {
		c := o.hpaCounts()
		conds := o.conditions()
		// Metrics cannot be read.
		msg, reason := "", ""
		ids := append([]int(nil), o.ids...)
		if sa := findCondition(conds, "ScalingActive"); sa != nil && sa.Status == "False" && sa.Reason != "ScalingDisabled" {
			msg, reason = sa.Message, sa.Reason
		}
		for _, e := range o.warnings(metricFailed...) {
			if msg == "" {
				msg, reason = e.Message, e.Reason
			}
			ids = addID(ids, e.Item)
		}
		// Events alone (the HPA's conditions are not shown) may be history:
		// a rescale after the last failure shows the metrics came back.
		eventsOnly := len(o.ids) == 0
		if eventsOnly && (msg != "" || reason != "") && hpaRecovered(o.events) {
			msg, reason = "", ""
		}
		if msg != "" || reason != "" {
			culprit := reason
			for _, re := range hpaMetricErrs {
				if m := re.FindString(msg); m != "" {
					culprit = strings.TrimSpace(m)
					break
				}
			}
			f := Finding{Analyzer: a.Name(), Category: CategoryAutoscaling, Object: o.ref(),
				Summary: fmt.Sprintf("HPA %s cannot scale: it cannot read its metrics (%s: %q)", o.path(), reason, clip(msg, 200)),
				Culprit: culprit, Evidence: ids, Direct: true, Score: 0.85}
			if eventsOnly {
				f.Summary += "; only events show it, not the HPA's current conditions"
				f.Direct, f.Score = false, 0.6
			}
			fs = append(fs, f)
		} else if o.row != nil && strings.Contains(o.row["TARGETS"], "<unknown>") {
			fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryAutoscaling, Object: o.ref(),
				Summary: fmt.Sprintf("HPA %s shows unknown metric values (TARGETS %q): it cannot read its metrics", o.path(), o.row["TARGETS"]),
				Culprit: "TARGETS " + o.row["TARGETS"], Evidence: o.ids, Score: 0.6})
		}
		// At its maximum.
		sl := findCondition(conds, "ScalingLimited")
		limited := sl != nil && sl.Status == "True" && sl.Reason == "TooManyReplicas"
		atMax := c.known && c.current >= c.max
		if !limited && !atMax {
			continue
		}
		sum := fmt.Sprintf("HPA %s is at its maximum of %d replicas (current %d)", o.path(), c.max, c.current)
		if !c.known {
			sum = fmt.Sprintf("HPA %s is limited by its maximum replica count", o.path())
		}
		if limited {
			sum += fmt.Sprintf(": ScalingLimited True TooManyReplicas %q", clip(sl.Message, 120))
		}
		culprit := "maxReplicas"
		if c.known {
			culprit = fmt.Sprintf("maxReplicas %d", c.max)
		}
		// The HPA's own ScalingLimited condition (TooManyReplicas) at its
		// maximum shows the cause directly; replica counts alone do not.
		score, direct := 0.55, false
		if limited {
			score = 0.65
			if atMax || !c.known {
				score, direct = 0.8, true
			}
		}
		fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryAutoscaling, Object: o.ref(),
			Summary: sum + "; it cannot add capacity", Culprit: culprit, Evidence: o.ids, Direct: direct, Score: score})
	}
	return finishFindings(fs)
}

// hpaRecovered is true when the HPA rescaled (a Normal SuccessfulRescale
// event) more recently than its last failure to read metrics.
func hpaRecovered(evs []KubeEvent) bool {
	failAge, rescaleAge := time.Duration(-1), time.Duration(-1)
	for _, e := range evs {
		d, ok := parseKubeAge(e.Age)
		if !ok {
			continue
		}
		switch {
		case e.Type == "Warning" && containsStr(metricFailed, e.Reason):
			if failAge < 0 || d < failAge {
				failAge = d
			}
		case e.Type == "Normal" && e.Reason == "SuccessfulRescale":
			if rescaleAge < 0 || d < rescaleAge {
				rescaleAge = d
			}
		}
	}
	return failAge >= 0 && rescaleAge >= 0 && rescaleAge < failAge
}

// ---------------------------------------------------------------------------
// ResourceQuotas

type quotaAnalyzer struct{}

func (quotaAnalyzer) Name() string { return "kube-quota" }

// quotaUsage is one resource of a ResourceQuota: used and hard as printed.
type quotaUsage struct{ resource, used, hard string }

// quotaUsages reads a quota's resources from describe ("Resource  Used
// Hard" table), -o json/yaml (status.used, status.hard) or `kubectl get
// resourcequota` ("REQUEST"/"LIMIT" columns of "res: used/hard").
func (o *kubeObj) quotaUsages() []quotaUsage {
	var out []quotaUsage
	switch {
	case o.doc != nil:
		var lines []string
		for _, n := range o.doc.Root.Children {
			if n.Key != "" {
				continue
			}
			if len(lines) == 0 && !(strings.HasPrefix(n.Value, "Resource") && strings.Contains(n.Value, "Hard")) {
				continue
			}
			lines = append(lines, n.Value)
		}
		for _, r := range ParseTable(strings.Join(lines, "\n")) {
			if r["Resource"] != "" && r["Hard"] != "" {
				out = append(out, quotaUsage{r["Resource"], r["Used"], r["Hard"]})
			}
		}
	case o.obj != nil:
		var st struct {
			Hard map[string]string `json:"hard"`
			Used map[string]string `json:"used"`
		}
		_ = json.Unmarshal(o.obj.Status, &st)
		for _, k := range sortedKeys(st.Hard) {
			out = append(out, quotaUsage{k, st.Used[k], st.Hard[k]})
		}
	case o.row != nil:
		for _, col := range []string{"REQUEST", "LIMIT"} {
			for _, part := range strings.Split(o.row[col], ", ") {
				k, v, ok := strings.Cut(part, ": ")
				used, hard, ok2 := strings.Cut(v, "/")
				if ok && ok2 {
					out = append(out, quotaUsage{strings.TrimSpace(k), used, hard})
				}
			}
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parseQuantity reads a Kubernetes quantity ("500m", "12Gi", "1.5", "2k").
func parseQuantity(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50},
		{"m", 1e-3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return v * mult, true
}

// Analyze reports ResourceQuotas whose use of a resource has reached the
// hard limit. A full quota is not by itself a failure (a namespace may be
// sized exactly), so it is only a candidate (LIKELY) unless what could not
// be created names it: those findings lead here.
func (a quotaAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	for _, o := range objectsOf(in, "resourcequota") {
		var full []string
		for _, u := range o.quotaUsages() {
			used, ok1 := parseQuantity(u.used)
			hard, ok2 := parseQuantity(u.hard)
			if ok1 && ok2 && used >= hard {
				full = append(full, fmt.Sprintf("%s %s of %s", u.resource, u.used, u.hard))
			}
		}
		if len(full) == 0 || len(o.ids) == 0 {
			continue
		}
		culprit := strings.Fields(full[0])[0]
		sum := fmt.Sprintf("ResourceQuota %s is exhausted: %s used; nothing more of it can be created in namespace %s until usage drops or the quota is raised",
			o.path(), strings.Join(full, ", "), o.ns)
		// The controllers it refuses, when their events are in evidence.
		ids := append([]int(nil), o.ids...)
		var blocked []string
		for _, kind := range []string{"replicaset", "statefulset", "daemonset", "job"} {
			for _, c := range objectsOf(in, kind) {
				for _, e := range c.warnings("FailedCreate") {
					if m := quotaRe.FindStringSubmatch(e.Message); m != nil && m[1] == o.name && c.ns == o.ns {
						if w := kind + " " + c.name; !containsStr(blocked, w) {
							blocked = append(blocked, w)
						}
						ids = addID(ids, e.Item)
					}
				}
			}
		}
		if len(blocked) > 0 {
			sum += "; it refuses the pods of " + strings.Join(blocked, ", ")
		}
		fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryQuota, Object: o.ref(),
			Summary: sum, Culprit: culprit, Evidence: ids, Direct: true, Score: 0.6})
	}
	return finishFindings(fs)
}

package investigate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/analyze"
)

// FocusOf is what an alert points at, for ranking findings. Labels that
// name a Kubernetes object (pod, deployment, node, …) are taken first; the
// looser service/job/app/container labels only when none does, and never
// when they name the exporter or scraper that produced the metric
// (kube-state-metrics, kubelet, node-exporter, …) rather than the workload.
func FocusOf(a *alert.Alert) analyze.Focus {
	if a == nil {
		return analyze.Focus{}
	}
	f := analyze.Focus{Namespace: a.Namespace}
	add := func(v string) {
		for _, n := range f.Names {
			if n == v {
				return
			}
		}
		f.Names = append(f.Names, v)
	}
	// Datadog's Kubernetes tags (pod_name, kube_deployment, …) name the
	// same objects as kube-state-metrics' labels.
	for _, k := range []string{"pod", "deployment", "statefulset", "daemonset", "replicaset", "job_name", "cronjob",
		"horizontalpodautoscaler", "persistentvolumeclaim", "ingress", "node", "resourcequota",
		"pod_name", "kube_deployment", "kube_stateful_set", "kube_daemon_set", "kube_replica_set", "kube_job", "kube_cronjob"} {
		if v := a.Labels[k]; v != "" && !scraperName(v) {
			add(v)
		}
	}
	if len(f.Names) > 0 {
		return f
	}
	for _, k := range []string{"service", "job", "app", "app_kubernetes_io_name", "container", "kube_container_name"} {
		if v := a.Labels[k]; v != "" && !scraperName(v) {
			add(v)
		}
	}
	if a.Service != "" && !scraperName(a.Service) {
		add(a.Service)
	}
	return f
}

// scraperName reports whether a label value names the exporter, scraper or
// sidecar that produced a metric, not the workload it is about.
func scraperName(v string) bool {
	v = strings.ToLower(v)
	switch v {
	case "kube-state-metrics", "kubelet", "cadvisor", "apiserver", "kube-apiserver", "node-exporter", "node_exporter",
		"prometheus", "prometheus-k8s", "kube-prometheus-stack-kubelet", "coredns-metrics":
		return true
	}
	return strings.HasSuffix(v, "-exporter") || strings.HasSuffix(v, "_exporter") ||
		strings.HasPrefix(v, "kube-rbac-proxy") || strings.HasSuffix(v, "kube-state-metrics")
}

// FromConclusion writes the report for ranked findings over evidence. Every
// finding cites the evidence items it rests on; the root cause is claimed
// only when the ranking found one, and CONFIRMED only on direct evidence.
func FromConclusion(a *alert.Alert, items []analyze.Item, c analyze.Conclusion) Report {
	rep := Report{Version: ReportVersion, Verdict: c.Verdict, Findings: []Finding{}, Evidence: []Citation{}, Timeline: []TimePoint{},
		RuledOut: []string{}, NotChecked: []NotChecked{}, NextSteps: []NextStep{}}
	byID := map[int]analyze.Item{}
	for _, it := range items {
		byID[it.ID] = it
	}
	cited := map[int]bool{}
	for _, f := range c.Findings {
		rep.Findings = append(rep.Findings, Finding{Text: f.Summary + cite(f.Evidence), Citations: f.Evidence})
		for _, id := range f.Evidence {
			cited[id] = true
		}
	}
	ids := make([]int, 0, len(cited))
	for id := range cited {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		it := byID[id]
		rep.Evidence = append(rep.Evidence, Citation{N: id, StepSeq: id, Tool: it.Tool, Summary: describeItem(it)})
	}
	if c.Root != nil {
		r := c.Root
		rep.RootCause = &RootCause{Category: r.Category, Object: r.Object, Summary: r.Summary}
		rep.Confidence = r.Score
		rep.Summary = r.Summary + cite(r.Evidence)
		if deeper, ok := c.Symptoms[r.Object]; ok {
			rep.Summary += " It leads on to " + deeper + "."
		}
		rep.NextSteps = nextSteps(r)
	} else {
		rep.Summary = "No cause is shown by the evidence gathered."
		if len(c.Findings) > 0 {
			rep.Summary = "Some findings, none strong enough to name a cause: see findings."
		}
	}
	if a != nil {
		rep.Timeline = append(rep.Timeline, TimePoint{At: a.StartsAt, Event: a.Title + " started firing (" + a.Source + ")"})
		if a.Service != "" {
			rep.Impact = "Service " + a.Service + " is alerting."
		}
	}
	// What was looked at and showed nothing wrong is ruled out.
	flagged := map[int]bool{}
	for _, f := range c.Findings {
		for _, id := range f.Evidence {
			flagged[id] = true
		}
	}
	for _, it := range items {
		if !flagged[it.ID] && len(rep.RuledOut) < 20 {
			rep.RuledOut = append(rep.RuledOut, fmt.Sprintf("%s showed nothing wrong [%d]", describeItem(it), it.ID))
		}
	}
	return rep
}

func cite(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, " [%d]", id)
	}
	return b.String()
}

func describeItem(it analyze.Item) string {
	var args []string
	for _, k := range []string{"kind", "name", "pod", "namespace", "container", "query"} {
		if v := it.Arg(k); v != "" {
			args = append(args, k+"="+v)
		}
	}
	if it.Args["previous"] == true {
		args = append(args, "previous")
	}
	if len(args) == 0 {
		return it.Tool
	}
	return it.Tool + " " + strings.Join(args, " ")
}

// nextSteps suggests the first actions for a root cause; read-only ones
// first. Commands are suggestions for a human; none is run.
func nextSteps(f *analyze.Finding) []NextStep {
	kind, ns, name := splitObject(f.Object)
	nsFlag := ""
	if ns != "" {
		nsFlag = " -n " + ns
	}
	steps := []NextStep{{Title: "Inspect " + f.Object, Command: "kubectl describe " + kind + " " + name + nsFlag, Risk: "safe"}}
	switch f.Category {
	case analyze.CategoryCrashloop, analyze.CategoryApplicationErr:
		if kind == "pod" {
			steps = append(steps, NextStep{Title: "Read the logs of the crashed container", Command: "kubectl logs " + name + nsFlag + " --previous", Risk: "safe"})
		}
	case analyze.CategoryOOM:
		steps = append(steps, NextStep{Title: "Raise the container's memory limit (or fix the leak) in its workload", Risk: "medium", Undo: "restore the previous limit"})
	case analyze.CategoryMissingConfig:
		if f.Culprit != "" {
			steps = append(steps, NextStep{Title: "Create or fix " + f.Culprit, Risk: "low", Undo: "delete what was created"})
		}
	case analyze.CategoryRollout:
		steps = append(steps, NextStep{Title: "Roll back the rollout", Command: "kubectl rollout undo " + kind + "/" + name + nsFlag, Risk: "medium", Undo: "kubectl rollout undo " + kind + "/" + name + nsFlag})
	case analyze.CategoryServiceRouting:
		steps = append(steps, NextStep{Title: "Compare the service selector and ports with the pods' labels and ports", Command: "kubectl get endpoints " + name + nsFlag, Risk: "safe"})
	case analyze.CategoryDependency, analyze.CategoryDNS:
		if f.Culprit != "" {
			steps = append(steps, NextStep{Title: "Check the dependency " + f.Culprit + " is up and reachable", Risk: "safe"})
		}
	case analyze.CategoryNode:
		steps = append(steps, NextStep{Title: "Check the node's conditions and kubelet", Command: "kubectl describe node " + name, Risk: "safe"})
	}
	return steps
}

func splitObject(o string) (kind, ns, name string) {
	parts := strings.Split(o, "/")
	switch len(parts) {
	case 3:
		return parts[0], parts[1], parts[2]
	case 2:
		return parts[0], "", parts[1]
	}
	return o, "", o
}

// Markdown renders a report for people.
func Markdown(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Root-cause analysis: %s\n\n", r.Verdict)
	if r.RootCause != nil {
		fmt.Fprintf(&b, "**Root cause** (%s, `%s`): %s\n\n", r.RootCause.Category, r.RootCause.Object, r.RootCause.Summary)
	}
	fmt.Fprintf(&b, "%s\n\n", r.Summary)
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(&b, "## %s\n\n", title)
		for _, l := range lines {
			fmt.Fprintf(&b, "- %s\n", l)
		}
		b.WriteString("\n")
	}
	var fs, ev, tl, ns, nc []string
	for _, f := range r.Findings {
		fs = append(fs, f.Text)
	}
	for _, e := range r.Evidence {
		ev = append(ev, fmt.Sprintf("[%d] %s", e.N, e.Summary))
	}
	for _, t := range r.Timeline {
		tl = append(tl, t.At.Format("2006-01-02 15:04:05Z07:00")+" — "+t.Event)
	}
	for _, s := range r.NextSteps {
		l := s.Title + " (risk: " + s.Risk + ")"
		if s.Command != "" {
			l += ": `" + s.Command + "`"
		}
		if s.Undo != "" {
			l += " — undo: " + s.Undo
		}
		ns = append(ns, l)
	}
	for _, n := range r.NotChecked {
		nc = append(nc, n.Source+": "+n.Reason)
	}
	section("Findings", fs)
	if r.Impact != "" {
		section("Impact", []string{r.Impact})
	}
	section("Timeline", tl)
	section("Next steps", ns)
	section("Ruled out", r.RuledOut)
	section("Not checked", nc)
	section("Evidence", ev)
	return b.String()
}

package investigate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/analyze"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// toolCall is one planned tool call.
type toolCall struct {
	tool string
	args map[string]any
}

// EvidenceOutput is what an evidence step stores: the tool's output, or why
// it gave none. A tool error is evidence too ("no data"), never a failure of
// the investigation.
type EvidenceOutput struct {
	Text      string `json:"text"`
	Error     string `json:"error,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
}

// evidencePlan decides which tool calls the alerts call for: for the
// Kubernetes objects their labels name, the object's description, its
// events and (for pods) current and previous logs; the node it runs on;
// and Prometheus's active alerts, and for an alert Prometheus fired its own
// expression's evidence (prometheus.alert_rule). With several Kubernetes
// clusters, an alert's calls go to the cluster its labels name, else to
// each configured one (bounded). Only configured tools are planned.
func evidencePlan(alerts []storage.Alert, tools *toolset.Registry) []toolCall {
	if tools == nil {
		return nil
	}
	has := func(name string) bool { _, ok := tools.Get(name); return ok }
	seen := map[string]bool{}
	var calls []toolCall
	addOne := func(tool string, args map[string]any) {
		key, _ := json.Marshal([]any{tool, args})
		if seen[string(key)] || len(calls) >= 40 {
			return
		}
		seen[string(key)] = true
		calls = append(calls, toolCall{tool: tool, args: args})
	}
	// clusters are the Kubernetes clusters the current alert's calls ask:
	// the one its labels name, else each configured one (nil: only one).
	var clusters []string
	add := func(tool string, args map[string]any) {
		if !has(tool) {
			return
		}
		if strings.HasPrefix(tool, "kubernetes.") && len(clusters) > 0 {
			for _, c := range clusters {
				withCluster := maps.Clone(args)
				withCluster["cluster"] = c
				addOne(tool, withCluster)
			}
			return
		}
		addOne(tool, args)
	}
	for _, a := range alerts {
		clusters = tools.ClustersFor("kubernetes.describe", a.Labels)
		ns := a.Namespace
		if ns == "" {
			ns = a.Labels["namespace"]
		}
		if pod := a.Labels["pod"]; pod != "" && ns != "" {
			add("kubernetes.describe", map[string]any{"kind": "pod", "name": pod, "namespace": ns})
			args := map[string]any{"pod": pod, "namespace": ns, "previous": true}
			if c := a.Labels["container"]; c != "" {
				args["container"] = c
			}
			add("kubernetes.logs", args)
			cur := map[string]any{"pod": pod, "namespace": ns}
			if c := a.Labels["container"]; c != "" {
				cur["container"] = c
			}
			add("kubernetes.logs", cur)
		}
		named := false
		for _, w := range workloadLabels {
			if name := a.Labels[w.label]; name != "" && ns != "" {
				add("kubernetes.describe", map[string]any{"kind": w.kind, "name": name, "namespace": ns})
				named = true
			}
		}
		if ns != "" && (a.Labels["pod"] != "" || named) {
			add("kubernetes.get", map[string]any{"kind": "pod", "namespace": ns, "output": "wide"})
			add("kubernetes.events", map[string]any{"namespace": ns})
		}
		if node := a.Labels["node"]; node != "" {
			add("kubernetes.describe", map[string]any{"kind": "node", "name": node})
		}
		// A Prometheus alert: its own expression, the series breaching it,
		// its rule's and its job's targets' health.
		links := make([]string, 0, len(a.Links))
		for _, l := range a.Links {
			links = append(links, l.URL)
		}
		if args, ok := toolset.AlertRuleArgs(a.Source, a.Name, a.Labels, links, a.StartsAt); ok {
			add("prometheus.alert_rule", args)
		}
		// The knowledge base: runbook passages for the alert (the document
		// its runbook_url annotation names first) and helpful past
		// incidents like it — evidence to read, never proof of the cause.
		if q := strings.TrimSpace(strings.Join([]string{a.Name, a.Service, a.Title}, " ")); q != "" {
			args := map[string]any{"query": q}
			if u := a.Annotations["runbook_url"]; u != "" {
				args["runbook_url"] = u
			}
			add("kb.search", args)
			add("kb.search", map[string]any{"query": q, "kind": "incident"})
		}
	}
	if len(alerts) > 0 {
		add("prometheus.alerts", map[string]any{})
	}
	return calls
}

// workloadLabels are the alert labels that name a Kubernetes workload, as
// kube-state-metrics writes them. A Job is named by job_name: "job" on a
// Prometheus alert is the scrape job (e.g. "kube-state-metrics").
var workloadLabels = []struct{ label, kind string }{
	{"deployment", "deployment"},
	{"statefulset", "statefulset"},
	{"daemonset", "daemonset"},
	{"job_name", "job"},
	{"cronjob", "cronjob"},
	{"horizontalpodautoscaler", "horizontalpodautoscaler"},
}

func (r *Runner) evidence(tools *toolset.Registry, call toolCall) func(ctx context.Context, st *state) (any, error) {
	return func(ctx context.Context, _ *state) (any, error) {
		res, err := tools.Call(ctx, call.tool, call.args)
		if err != nil {
			return EvidenceOutput{Error: err.Error()}, nil
		}
		return EvidenceOutput{Text: res.Output, Truncated: res.Truncated}, nil
	}
}

// evidenceReport runs the analyzers over the gathered evidence and writes
// the report from their ranked findings. ok is false when no evidence was
// planned (the alert-context report applies).
func (r *Runner) evidenceReport(st *state) (Report, bool) {
	var items []analyze.Item
	for i, p := range st.plan {
		if p.kind != "evidence" {
			continue
		}
		var out EvidenceOutput
		_ = json.Unmarshal(st.outputs[i+1], &out)
		if out.Text == "" {
			continue
		}
		items = append(items, analyze.Item{ID: i + 1, Tool: p.tool, Args: p.input, Output: out.Text})
	}
	if len(items) == 0 {
		return Report{}, false
	}
	var first *alert.Alert
	if len(st.alerts) > 0 {
		a := st.alerts[0]
		first = &alert.Alert{Source: a.Source, Name: a.Name, Title: a.Title, Service: a.Service, Namespace: a.Namespace, Labels: a.Labels, StartsAt: a.StartsAt}
	}
	c := analyze.Run(analyze.All(), &analyze.Input{Items: items}, FocusOf(first))
	rep := FromConclusion(first, items, c)
	citeKnowledge(&rep, items)
	// The alert context (step 1) is evidence for the timeline and impact.
	rep.Evidence = append([]Citation{{N: 1, StepSeq: 1, Tool: "aurora.alert_context", Summary: fmt.Sprintf("%d alert(s) of the incident", len(st.alerts))}}, rep.Evidence...)
	sort.SliceStable(rep.Evidence, func(i, j int) bool { return rep.Evidence[i].N < rep.Evidence[j].N })
	if st.notChecked != nil {
		rep.NotChecked = append(rep.NotChecked, withLLM(st.notChecked)...)
		return rep, true
	}
	configured := map[string]bool{}
	for _, p := range st.plan {
		if p.kind == "evidence" {
			if src, _, ok := strings.Cut(p.tool, "."); ok {
				configured[src] = true
			}
		}
	}
	for _, nc := range Sources {
		if !configured[nc.Source] && nc.Source != "logs" || (nc.Source == "logs" && !configured["kubernetes"]) {
			rep.NotChecked = append(rep.NotChecked, nc)
		}
	}
	return rep, true
}

// withLLM is an org's sources not checked plus the language model's entry
// of Sources, which no toolset setting covers.
func withLLM(nc []NotChecked) []NotChecked {
	out := slices.Clone(nc)
	for _, s := range Sources {
		if s.Source == "llm" && !slices.ContainsFunc(out, func(n NotChecked) bool { return n.Source == "llm" }) {
			out = append(out, s)
		}
	}
	return out
}

package toolset

import (
	"slices"
	"time"
)

// Clustered is a tool that can ask several clusters; its calls take a
// "cluster" argument naming one of Clusters (the first is the default).
type Clustered interface {
	Clusters() []string
}

// ClusterLabels are the alert labels that name a cluster, in the order
// they are consulted.
var ClusterLabels = []string{"cluster", "k8s_cluster", "kubernetes_cluster", "context"}

// MaxFanOutClusters bounds how many clusters an evidence plan asks about
// one alert when the alert does not say which cluster it came from.
const MaxFanOutClusters = 5

// Clusters returns the clusters the registry's tool called tool can ask
// (nil when it is not a Clustered tool or is not registered).
func (r *Registry) Clusters(tool string) []string {
	t, ok := r.Get(tool)
	if !ok {
		return nil
	}
	c, ok := t.(Clustered)
	if !ok {
		return nil
	}
	return c.Clusters()
}

// ClustersFor says which clusters an evidence plan should ask tool about
// for an alert with labels: nil when the tool has one cluster or none (the
// call needs no "cluster" argument); the cluster the first of ClusterLabels
// names when it is a configured one; else every configured cluster, at
// most MaxFanOutClusters, so a lookup by namespace and pod finds the object
// wherever it runs.
func (r *Registry) ClustersFor(tool string, labels map[string]string) []string {
	all := r.Clusters(tool)
	if len(all) < 2 {
		return nil
	}
	for _, k := range ClusterLabels {
		if v := labels[k]; v != "" && slices.Contains(all, v) {
			return []string{v}
		}
	}
	if len(all) > MaxFanOutClusters {
		all = all[:MaxFanOutClusters]
	}
	return all
}

// AlertRuleArgs returns the prometheus.alert_rule arguments that gather
// evidence about an alert Prometheus fired: its name, the generatorURL
// among linkURLs (the graph link holding g0.expr), its start and its
// scrape job. ok is false when nothing says the alert came from
// Prometheus (source alertmanager or prometheus, or a g0.expr link).
func AlertRuleArgs(source, name string, labels map[string]string, linkURLs []string, startsAt time.Time) (map[string]any, bool) {
	args := map[string]any{}
	for _, u := range linkURLs {
		if exprFromGeneratorURL(u) != "" {
			args["generator_url"] = u
			break
		}
	}
	if source != "alertmanager" && source != "prometheus" && args["generator_url"] == nil {
		return nil, false
	}
	if n := labels["alertname"]; n != "" {
		name = n
	}
	if name != "" {
		args["alertname"] = name
	}
	if args["alertname"] == nil && args["generator_url"] == nil {
		return nil, false
	}
	if !startsAt.IsZero() {
		args["starts_at"] = startsAt.UTC().Format(time.RFC3339)
	}
	if j := labels["job"]; j != "" {
		args["job"] = j
	}
	return args, true
}

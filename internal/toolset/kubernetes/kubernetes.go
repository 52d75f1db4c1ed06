// Package kubernetes holds Aurora's read-only Kubernetes tools
// (kubernetes.get, kubernetes.describe, kubernetes.events, kubernetes.logs,
// kubernetes.find, kubernetes.rollout_history). They talk to the API server
// with client-go and print what kubectl would (tables, `-o json`, describe
// text), because the analyzers (package analyze) parse kubectl's formats.
//
// The tools never change anything and never print a Secret's values: data
// and stringData values (and the last-applied-configuration annotation,
// which holds them too) are replaced by "<redacted>" in every output.
package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/aurora-oss/aurora/internal/toolset"
)

// Config says how to reach the cluster(s).
type Config struct {
	// Kubeconfig is a kubeconfig file's path; "" uses the usual rules
	// ($KUBECONFIG, then ~/.kube/config).
	Kubeconfig string
	// KubeconfigData is a kubeconfig's content (an org's stored setting);
	// it replaces Kubeconfig when set.
	KubeconfigData []byte
	// Context is the kubeconfig context to use ("" = its current context).
	// Kept for callers with one cluster; Contexts wins when both are set.
	Context string
	// Contexts are the kubeconfig contexts to investigate, each its own
	// cluster and client; tools take a "cluster" argument naming one, and
	// the first is the default. Empty: Context, else the current context.
	Contexts []string
	// InCluster uses the pod's service account (rest.InClusterConfig)
	// instead of a kubeconfig; Kubeconfig and Context(s) must then be empty.
	InCluster bool
	// Timeout bounds each tool call (default 30s).
	Timeout time.Duration
}

// DefaultTimeout is a tool call's timeout when the config has none.
const DefaultTimeout = 30 * time.Second

// InClusterName is the cluster name of the in-cluster configuration.
const InClusterName = "in-cluster"

// MaxClusters bounds how many contexts one configuration may name: each is
// a client with its own connections and discovery cache.
const MaxClusters = 20

// Defaults of the logs tool.
const (
	DefaultLogTail = 500
	maxLogTail     = 10000
)

// New connects to the clusters cfg names and returns the Kubernetes tools.
// It does not contact any API server; the first tool call does.
func New(cfg Config) ([]toolset.Tool, error) {
	cs, err := connect(cfg)
	if err != nil {
		return nil, err
	}
	return cs.tools(), nil
}

// Clusters returns the cluster (context) names cfg configures, in order,
// without connecting; it checks what New checks.
func Clusters(cfg Config) ([]string, error) {
	cs, err := connect(cfg)
	if err != nil {
		return nil, err
	}
	return cs.names, nil
}

func connect(cfg Config) (*clusterSet, error) {
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("kubernetes: Timeout %s is negative", cfg.Timeout)
	}
	if cfg.InCluster {
		if cfg.Kubeconfig != "" || len(cfg.KubeconfigData) > 0 || cfg.Context != "" || len(cfg.Contexts) > 0 {
			return nil, errors.New("kubernetes: set InCluster or a kubeconfig and contexts, not both")
		}
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("kubernetes: in-cluster config: %w", err)
		}
		k, err := newKube(rc, cfg.Timeout, "default")
		if err != nil {
			return nil, err
		}
		return newClusterSet(cfg.Timeout, []string{InClusterName}, []*kube{k}), nil
	}
	var raw *clientcmdapi.Config
	var err error
	if len(cfg.KubeconfigData) > 0 {
		if raw, err = clientcmd.Load(cfg.KubeconfigData); err == nil {
			err = checkSelfContained(raw)
		}
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		if cfg.Kubeconfig != "" {
			rules.ExplicitPath = cfg.Kubeconfig
		}
		raw, err = rules.Load()
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes: kubeconfig: %w", err)
	}
	contexts := cfg.Contexts
	if len(contexts) == 0 && cfg.Context != "" {
		contexts = []string{cfg.Context}
	}
	if len(contexts) == 0 {
		if raw.CurrentContext == "" {
			return nil, errors.New("kubernetes: kubeconfig: no current-context and no context named")
		}
		contexts = []string{raw.CurrentContext}
	}
	if len(contexts) > MaxClusters {
		return nil, fmt.Errorf("kubernetes: %d contexts named, at most %d", len(contexts), MaxClusters)
	}
	var names []string
	var kubes []*kube
	seen := map[string]bool{}
	for _, c := range contexts {
		c = strings.TrimSpace(c)
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		if _, ok := raw.Contexts[c]; !ok {
			return nil, fmt.Errorf("kubernetes: kubeconfig has no context %q (has: %s)", c,
				strings.Join(slices.Sorted(maps.Keys(raw.Contexts)), ", "))
		}
		cc := clientcmd.NewNonInteractiveClientConfig(*raw, c, &clientcmd.ConfigOverrides{}, nil)
		rc, err := cc.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("kubernetes: kubeconfig context %q: %w", c, err)
		}
		namespace := "default"
		if ns, _, err := cc.Namespace(); err == nil && ns != "" {
			namespace = ns
		}
		k, err := newKube(rc, cfg.Timeout, namespace)
		if err != nil {
			return nil, fmt.Errorf("kubernetes: context %q: %w", c, err)
		}
		names, kubes = append(names, c), append(kubes, k)
	}
	if len(kubes) == 0 {
		return nil, errors.New("kubernetes: no context named")
	}
	return newClusterSet(cfg.Timeout, names, kubes), nil
}

// checkSelfContained refuses what a kubeconfig given as content (an org's
// setting, sent through the API) must not do on the Aurora host: run a
// command (exec and auth-provider plugins) or read a local file
// (certificate, key and token paths). Its credentials must be inline:
// token, client-certificate-data/client-key-data, certificate-authority-data.
func checkSelfContained(c *clientcmdapi.Config) error {
	for name, u := range c.AuthInfos {
		switch {
		case u.Exec != nil:
			return fmt.Errorf("user %q: exec plugins would run a command on the Aurora host; use a service-account token or client certificate data", name)
		case u.AuthProvider != nil:
			return fmt.Errorf("user %q: auth-provider plugins are not accepted; use a service-account token or client certificate data", name)
		case u.ClientCertificate != "" || u.ClientKey != "" || u.TokenFile != "":
			return fmt.Errorf("user %q: file paths (client-certificate, client-key, tokenFile) would be read on the Aurora host; inline them (client-certificate-data, client-key-data, token)", name)
		}
	}
	for name, cl := range c.Clusters {
		if cl.CertificateAuthority != "" {
			return fmt.Errorf("cluster %q: certificate-authority is a file path on the Aurora host; use certificate-authority-data", name)
		}
	}
	return nil
}

// NewFromREST returns the Kubernetes tools for a ready REST config (tests,
// or callers that build their own). Calls time out after DefaultTimeout.
func NewFromREST(rc *rest.Config) ([]toolset.Tool, error) {
	return NewFromRESTClusters(map[string]*rest.Config{"default": rc}, "default")
}

// NewFromRESTClusters returns the tools for several ready REST configs by
// cluster name; order lists the names, the first being the default.
func NewFromRESTClusters(rcs map[string]*rest.Config, order ...string) ([]toolset.Tool, error) {
	if len(order) == 0 || len(order) != len(rcs) {
		return nil, errors.New("kubernetes: order must list every cluster once")
	}
	var kubes []*kube
	for _, name := range order {
		rc := rcs[name]
		if rc == nil {
			return nil, fmt.Errorf("kubernetes: nil rest.Config for cluster %q", name)
		}
		k, err := newKube(rc, 0, "default")
		if err != nil {
			return nil, err
		}
		kubes = append(kubes, k)
	}
	return newClusterSet(0, order, kubes).tools(), nil
}

// kube is the state the tools share for one cluster.
type kube struct {
	core      k8s.Interface
	dyn       dynamic.Interface
	mapper    meta.RESTMapper
	reset     func() // forgets cached discovery (after a kind was not found)
	namespace string // default namespace for a named object
	now       func() time.Time

	mu        sync.Mutex
	lastReset time.Time
}

func newKube(rc *rest.Config, timeout time.Duration, namespace string) (*kube, error) {
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	rc = rest.CopyConfig(rc)
	if rc.UserAgent == "" {
		rc.UserAgent = "aurora"
	}
	if rc.QPS == 0 {
		rc.QPS, rc.Burst = 20, 40
	}
	if rc.Timeout == 0 { // bounds discovery requests, which take no context
		rc.Timeout = timeout
	}
	if rc.Dial == nil {
		rc.Dial = toolset.SafeDialer()
	}
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %w", err)
	}
	core, err := k8s.NewForConfigAndClient(rc, hc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %w", err)
	}
	dyn, err := dynamic.NewForConfigAndClient(rc, hc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(rc, hc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	deferred := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	mapper := restmapper.NewShortcutExpander(deferred, cached, func(string) {})
	return &kube{core: core, dyn: dyn, mapper: mapper, reset: deferred.Reset, namespace: namespace, now: time.Now}, nil
}

// clusterSet is the configured clusters by name; the first is the default
// of a call without a "cluster" argument.
type clusterSet struct {
	timeout time.Duration
	names   []string
	byName  map[string]*kube
}

func newClusterSet(timeout time.Duration, names []string, kubes []*kube) *clusterSet {
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	cs := &clusterSet{timeout: timeout, names: names, byName: map[string]*kube{}}
	for i, n := range names {
		cs.byName[n] = kubes[i]
	}
	return cs
}

// pick returns the cluster a call names (the default when none).
func (cs *clusterSet) pick(a args) (*kube, error) {
	name, err := a.str("cluster", false)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return cs.byName[cs.names[0]], nil
	}
	k, ok := cs.byName[name]
	if !ok {
		return nil, a.errorf("cluster", "%q is not a configured cluster (configured: %s)", name, strings.Join(cs.names, ", "))
	}
	return k, nil
}

// clusterParam is the "cluster" argument every tool takes.
func (cs *clusterSet) clusterParam() string {
	d := "kubeconfig context of the cluster to ask (default: " + cs.names[0] + ")"
	if len(cs.names) > 1 {
		d += "; one of: " + strings.Join(cs.names, ", ")
	}
	b, _ := json.Marshal(map[string]any{"type": "string", "description": d})
	return string(b)
}

// withCluster adds the "cluster" property to a tool's schema.
func (cs *clusterSet) withCluster(params string) string {
	i := strings.Index(params, `"properties":{`)
	if i < 0 {
		return params
	}
	i += len(`"properties":{`)
	sep := ","
	if params[i] == '}' {
		sep = ""
	}
	return params[:i] + `"cluster":` + cs.clusterParam() + sep + params[i:]
}

func (cs *clusterSet) tools() []toolset.Tool {
	return append(cs.readTools(), cs.writeTools()...)
}

func (cs *clusterSet) readTools() []toolset.Tool {
	k, timeout := cs, cs.timeout
	return []toolset.Tool{
		newTool(k, timeout, "kubernetes.get",
			"Get Kubernetes objects of any kind (pods, deployments, nodes, services, events, pvc, hpa, …; "+
				"short names work) as `kubectl get` prints them: a table (default, or wide) or the objects as yaml/json. "+
				"Without a namespace, lists span all namespaces. Secret values are redacted.",
			`{"type":"object","properties":{`+
				`"kind":{"type":"string","description":"resource kind or short name, e.g. pods, deploy, svc, nodes, events, pvc, hpa"},`+
				`"name":{"type":"string","description":"object name (default: list all)"},`+
				`"namespace":{"type":"string","description":"namespace (default: all namespaces when listing)"},`+
				`"label_selector":{"type":"string","description":"label selector, e.g. app=cart,tier!=db"},`+
				`"output":{"type":"string","enum":["wide","yaml","json"],"description":"output format (default: table)"}},`+
				`"required":["kind"],"additionalProperties":false}`,
			(*kube).get),
		newTool(k, timeout, "kubernetes.describe",
			"Describe one Kubernetes object as `kubectl describe` does (pods, deployments, nodes, services in "+
				"kubectl's layout; other kinds as metadata and status), followed by its events.",
			`{"type":"object","properties":{`+
				`"kind":{"type":"string","description":"resource kind or short name"},`+
				`"name":{"type":"string","description":"object name"},`+
				`"namespace":{"type":"string","description":"namespace (default: the context's, usually default)"}},`+
				`"required":["kind","name"],"additionalProperties":false}`,
			(*kube).describe),
		newTool(k, timeout, "kubernetes.events",
			"List Kubernetes events as `kubectl get events` does (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE), "+
				"oldest first; optionally only those about one kind and/or name.",
			`{"type":"object","properties":{`+
				`"namespace":{"type":"string","description":"namespace (default: all namespaces)"},`+
				`"kind":{"type":"string","description":"only events about objects of this kind, e.g. Pod"},`+
				`"name":{"type":"string","description":"only events about objects with this name"}},`+
				`"additionalProperties":false}`,
			(*kube).events),
		newTool(k, timeout, "kubernetes.logs",
			"Print a pod container's logs (the last "+fmt.Sprint(DefaultLogTail)+" lines by default), "+
				"or the previous (crashed) instance's with previous=true.",
			`{"type":"object","properties":{`+
				`"pod":{"type":"string","description":"pod name"},`+
				`"namespace":{"type":"string","description":"the pod's namespace"},`+
				`"container":{"type":"string","description":"container name (needed when the pod has several)"},`+
				`"previous":{"type":"boolean","description":"logs of the previous, terminated instance"},`+
				`"tail":{"type":"integer","minimum":1,"maximum":`+fmt.Sprint(maxLogTail)+`,"description":"last lines to print (default `+fmt.Sprint(DefaultLogTail)+`)"},`+
				`"since":{"type":"string","description":"only lines newer than this Go duration, e.g. 15m"}},`+
				`"required":["pod","namespace"],"additionalProperties":false}`,
			(*kube).logs),
		newTool(k, timeout, "kubernetes.find",
			"Find objects by name (exact, or as a substring) across all namespaces; prints kind/namespace/name lines. "+
				"Searches pods, deployments, statefulsets, daemonsets, services and jobs unless kind is given.",
			`{"type":"object","properties":{`+
				`"name":{"type":"string","description":"name or part of a name"},`+
				`"kind":{"type":"string","description":"only this kind"}},`+
				`"required":["name"],"additionalProperties":false}`,
			(*kube).find),
		newTool(k, timeout, "kubernetes.rollout_history",
			"Show a workload's history: for a deployment its ReplicaSets (revision, images, replicas, created), "+
				"newest first; for a pod its owner chain and that deployment's ReplicaSets.",
			`{"type":"object","properties":{`+
				`"kind":{"type":"string","description":"deployment or pod (also replicaset)"},`+
				`"name":{"type":"string","description":"object name"},`+
				`"namespace":{"type":"string","description":"namespace"}},`+
				`"required":["kind","name","namespace"],"additionalProperties":false}`,
			(*kube).rolloutHistory),
	}
}

// tool is one of the Kubernetes tools: a toolset.Func that keeps its
// clusters at hand (tests adjust their clocks; the plan asks their names).
type tool struct {
	toolset.Func
	cs *clusterSet
}

// Clusters returns the names of the clusters the tool can ask, the default
// first (toolset.Clustered).
func (t *tool) Clusters() []string { return slices.Clone(t.cs.names) }

// newTool builds a tool whose function runs on the cluster its "cluster"
// argument names, reads its arguments through args, and whose errors name
// the tool.
func newTool(cs *clusterSet, timeout time.Duration, name, desc, params string, fn func(*kube, context.Context, args) (string, error)) *tool {
	return &tool{cs: cs, Func: toolset.Func{ToolName: name, Desc: desc, Params: cs.withCluster(params), Limit: timeout, Backend: "the Kubernetes API",
		Fn: func(ctx context.Context, raw map[string]any) (string, error) {
			a := args{tool: name, m: raw}
			k, err := cs.pick(a)
			if err != nil {
				return "", err
			}
			return fn(k, ctx, a)
		}}}
}

// args reads and validates tool arguments; every error names the argument.
type args struct {
	tool string
	m    map[string]any
}

func (a args) errorf(key, format string, v ...any) error {
	return fmt.Errorf("%s: argument %q: %s", a.tool, key, fmt.Sprintf(format, v...))
}

// str returns a string argument ("" when absent, null or blank).
func (a args) str(key string, required bool) (string, error) {
	v, ok := a.m[key]
	if !ok || v == nil {
		if required {
			return "", a.errorf(key, "is required")
		}
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", a.errorf(key, "must be a string, got %s", toolset.JSONType(v))
	}
	s = strings.TrimSpace(s)
	if s == "" && required {
		return "", a.errorf(key, "is required (got an empty string)")
	}
	return s, nil
}

// name reads a Kubernetes object name or namespace (a DNS-1123-ish token).
func (a args) name(key string, required bool) (string, error) {
	s, err := a.str(key, required)
	if err != nil || s == "" {
		return s, err
	}
	if len(s) > 253 || strings.ContainsAny(s, "/ \t\n?#%") {
		return "", a.errorf(key, "%q is not a valid Kubernetes name", s)
	}
	return s, nil
}

func (a args) boolean(key string) (bool, error) {
	v, ok := a.m[key]
	if !ok || v == nil {
		return false, nil
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
	}
	return false, a.errorf(key, "must be a boolean, got %s", toolset.JSONType(v))
}

// integer reads a whole number in [lo, hi]; def when absent.
func (a args) integer(key string, def, lo, hi int64) (int64, error) {
	v, ok := a.m[key]
	if !ok || v == nil {
		return def, nil
	}
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case int32:
		f = float64(n)
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, a.errorf(key, "%q is not a number", n)
		}
	default:
		return 0, a.errorf(key, "must be an integer, got %s", toolset.JSONType(v))
	}
	if f != float64(int64(f)) {
		return 0, a.errorf(key, "must be a whole number, got %v", f)
	}
	if int64(f) < lo || int64(f) > hi {
		return 0, a.errorf(key, "must be between %d and %d, got %v", lo, hi, f)
	}
	return int64(f), nil
}

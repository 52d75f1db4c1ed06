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

	"github.com/aurora-oss/aurora/internal/toolset"
)

// Config says how to reach the cluster.
type Config struct {
	// Kubeconfig is a kubeconfig file's path; "" uses the usual rules
	// ($KUBECONFIG, then ~/.kube/config).
	Kubeconfig string
	// Context is the kubeconfig context to use ("" = its current context).
	Context string
	// InCluster uses the pod's service account (rest.InClusterConfig)
	// instead of a kubeconfig; Kubeconfig and Context must then be empty.
	InCluster bool
	// Timeout bounds each tool call (default 30s).
	Timeout time.Duration
}

// DefaultTimeout is a tool call's timeout when the config has none.
const DefaultTimeout = 30 * time.Second

// Defaults of the logs tool.
const (
	DefaultLogTail = 500
	maxLogTail     = 10000
)

// New connects to the cluster cfg names and returns the Kubernetes tools.
// It does not contact the API server; the first tool call does.
func New(cfg Config) ([]toolset.Tool, error) {
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("kubernetes: Timeout %s is negative", cfg.Timeout)
	}
	var rc *rest.Config
	namespace := "default"
	if cfg.InCluster {
		if cfg.Kubeconfig != "" || cfg.Context != "" {
			return nil, errors.New("kubernetes: set InCluster or Kubeconfig/Context, not both")
		}
		var err error
		if rc, err = rest.InClusterConfig(); err != nil {
			return nil, fmt.Errorf("kubernetes: in-cluster config: %w", err)
		}
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		if cfg.Kubeconfig != "" {
			rules.ExplicitPath = cfg.Kubeconfig
		}
		cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
			&clientcmd.ConfigOverrides{CurrentContext: cfg.Context})
		var err error
		if rc, err = cc.ClientConfig(); err != nil {
			return nil, fmt.Errorf("kubernetes: kubeconfig: %w", err)
		}
		if ns, _, err := cc.Namespace(); err == nil && ns != "" {
			namespace = ns
		}
	}
	return newTools(rc, cfg.Timeout, namespace)
}

// NewFromREST returns the Kubernetes tools for a ready REST config (tests,
// or callers that build their own). Calls time out after DefaultTimeout.
func NewFromREST(rc *rest.Config) ([]toolset.Tool, error) {
	if rc == nil {
		return nil, errors.New("kubernetes: nil rest.Config")
	}
	return newTools(rc, 0, "default")
}

// kube is the state the tools share.
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

func newTools(rc *rest.Config, timeout time.Duration, namespace string) ([]toolset.Tool, error) {
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
	k := &kube{core: core, dyn: dyn, mapper: mapper, reset: deferred.Reset, namespace: namespace, now: time.Now}
	return k.tools(timeout), nil
}

func (k *kube) tools(timeout time.Duration) []toolset.Tool {
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
			k.get),
		newTool(k, timeout, "kubernetes.describe",
			"Describe one Kubernetes object as `kubectl describe` does (pods, deployments, nodes, services in "+
				"kubectl's layout; other kinds as metadata and status), followed by its events.",
			`{"type":"object","properties":{`+
				`"kind":{"type":"string","description":"resource kind or short name"},`+
				`"name":{"type":"string","description":"object name"},`+
				`"namespace":{"type":"string","description":"namespace (default: the context's, usually default)"}},`+
				`"required":["kind","name"],"additionalProperties":false}`,
			k.describe),
		newTool(k, timeout, "kubernetes.events",
			"List Kubernetes events as `kubectl get events` does (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE), "+
				"oldest first; optionally only those about one kind and/or name.",
			`{"type":"object","properties":{`+
				`"namespace":{"type":"string","description":"namespace (default: all namespaces)"},`+
				`"kind":{"type":"string","description":"only events about objects of this kind, e.g. Pod"},`+
				`"name":{"type":"string","description":"only events about objects with this name"}},`+
				`"additionalProperties":false}`,
			k.events),
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
			k.logs),
		newTool(k, timeout, "kubernetes.find",
			"Find objects by name (exact, or as a substring) across all namespaces; prints kind/namespace/name lines. "+
				"Searches pods, deployments, statefulsets, daemonsets, services and jobs unless kind is given.",
			`{"type":"object","properties":{`+
				`"name":{"type":"string","description":"name or part of a name"},`+
				`"kind":{"type":"string","description":"only this kind"}},`+
				`"required":["name"],"additionalProperties":false}`,
			k.find),
		newTool(k, timeout, "kubernetes.rollout_history",
			"Show a workload's history: for a deployment its ReplicaSets (revision, images, replicas, created), "+
				"newest first; for a pod its owner chain and that deployment's ReplicaSets.",
			`{"type":"object","properties":{`+
				`"kind":{"type":"string","description":"deployment or pod (also replicaset)"},`+
				`"name":{"type":"string","description":"object name"},`+
				`"namespace":{"type":"string","description":"namespace"}},`+
				`"required":["kind","name","namespace"],"additionalProperties":false}`,
			k.rolloutHistory),
	}
}

// tool is one of the Kubernetes tools: a toolset.Func that keeps its
// client at hand (tests adjust its clock).
type tool struct {
	toolset.Func
	kb *kube
}

// newTool builds a tool whose function reads its arguments through args,
// whose errors name the tool.
func newTool(k *kube, timeout time.Duration, name, desc, params string, fn func(context.Context, args) (string, error)) *tool {
	return &tool{kb: k, Func: toolset.Func{ToolName: name, Desc: desc, Params: params, Limit: timeout, Backend: "the Kubernetes API",
		Fn: func(ctx context.Context, raw map[string]any) (string, error) {
			return fn(ctx, args{tool: name, m: raw})
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

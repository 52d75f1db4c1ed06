package kubernetes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/dynamic"
)

// redacted replaces every Secret value the tools would otherwise print.
const redacted = "<redacted>"

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// resolve maps what a user calls a kind ("po", "pods", "Deployment",
// "deployments.apps", "hpa") to its REST mapping via discovery.
func (k *kube) resolve(a args, key, kind string) (*meta.RESTMapping, error) {
	arg := strings.ToLower(strings.TrimSpace(kind))
	if arg == "" || strings.ContainsAny(arg, "/ ,") {
		return nil, a.errorf(key, "%q is not a resource kind (e.g. pods, deploy, svc, nodes)", kind)
	}
	m, err := k.mapping(a, key, kind, arg)
	if meta.IsNoMatchError(err) || err != nil && strings.Contains(err.Error(), "doesn't have a resource type") {
		// Maybe a CRD installed since discovery was cached: look again,
		// at most once a minute.
		k.mu.Lock()
		stale := k.reset != nil && k.now().Sub(k.lastReset) > time.Minute
		if stale {
			k.lastReset = k.now()
			k.reset()
		}
		k.mu.Unlock()
		if stale {
			m, err = k.mapping(a, key, kind, arg)
		}
	}
	return m, err
}

func (k *kube) mapping(a args, key, kind, arg string) (*meta.RESTMapping, error) {
	var gvk schema.GroupVersionKind
	var err error
	if full, gr := schema.ParseResourceArg(arg); full != nil {
		if gvk, err = k.mapper.KindFor(*full); err != nil {
			gvk, err = k.mapper.KindFor(gr.WithVersion(""))
		}
	} else {
		gvk, err = k.mapper.KindFor(gr.WithVersion(""))
	}
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, a.errorf(key, "the server doesn't have a resource type %q", kind)
		}
		return nil, fmt.Errorf("%s: discovering resource types: %w", a.tool, err)
	}
	m, err := k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, a.errorf(key, "the server doesn't have a resource type %q", kind)
		}
		return nil, fmt.Errorf("%s: discovering resource types: %w", a.tool, err)
	}
	return m, nil
}

func namespaced(m *meta.RESTMapping) bool { return m.Scope.Name() == meta.RESTScopeNameNamespace }

// resource returns the dynamic client for m in ns ("" = all namespaces, or
// a cluster-scoped kind).
func (k *kube) resource(m *meta.RESTMapping, ns string) dynamic.ResourceInterface {
	r := k.dyn.Resource(m.Resource)
	if namespaced(m) && ns != "" {
		return r.Namespace(ns)
	}
	return r
}

// notFound renders an API NotFound error as kubectl does.
func notFound(err error) (string, bool) {
	if !apierrors.IsNotFound(err) {
		return "", false
	}
	return fmt.Sprintf("Error from server (NotFound): %s\n", err.Error()), true
}

// clean strips what kubectl hides by default (managedFields) and redacts
// Secret values, in place.
func clean(obj map[string]any) {
	if md, ok := obj["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	if kind, _ := obj["kind"].(string); kind == "Secret" {
		redactSecret(obj)
	}
}

// redactSecret replaces a Secret's values (data, stringData and the
// last-applied annotation, which repeats them) with "<redacted>".
func redactSecret(obj map[string]any) {
	for _, f := range []string{"data", "stringData"} {
		if m, ok := obj[f].(map[string]any); ok {
			for key := range m {
				m[key] = redacted
			}
		}
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		if ann, ok := md["annotations"].(map[string]any); ok {
			if _, has := ann[lastApplied]; has {
				ann[lastApplied] = redacted
			}
		}
	}
}

// toTyped converts an unstructured object to a typed API struct.
func toTyped(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}

// age renders how long ago t was as kubectl does ("84s", "31m", "5d3h").
func (k *kube) age(t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(k.now().Sub(t))
}

func (k *kube) ageOf(t metav1.Time) string { return k.age(t.Time) }

// stamp renders a time as kubectl describe does (RFC 1123 with offset).
func stamp(t metav1.Time) string {
	if t.IsZero() {
		return "<unset>"
	}
	return t.Time.Format(time.RFC1123Z)
}

// tabbed runs f on a tabwriter laid out as kubectl describe's.
func tabbed(f func(w *prefixWriter)) string {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	f(&prefixWriter{w: tw})
	_ = tw.Flush()
	return buf.String()
}

// table lays out rows as kubectl get does.
func table(header []string, rows [][]string) string {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		for i := range r {
			r[i] = strings.ReplaceAll(strings.ReplaceAll(r[i], "\t", " "), "\n", " ")
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
	return buf.String()
}

// prefixWriter writes describe lines at an indentation level (2 spaces each).
type prefixWriter struct{ w *tabwriter.Writer }

func (p *prefixWriter) line(level int, format string, v ...any) {
	fmt.Fprintf(p.w, strings.Repeat("  ", level)+format+"\n", v...)
}

// writeMap prints a Labels:/Annotations: style block (first entry on the
// key's line, the rest below it).
func (p *prefixWriter) writeMap(level int, title string, m map[string]string, skip ...string) {
	keys := make([]string, 0, len(m))
	for key := range m {
		if contains(skip, key) {
			continue
		}
		keys = append(keys, key)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		p.line(level, "%s:\t<none>", title)
		return
	}
	for i, key := range keys {
		v := m[key]
		sep := "="
		if title == "Annotations" {
			sep = ": "
			if len(v) > 200 {
				v = v[:200] + "…"
			}
			v = strings.ReplaceAll(v, "\n", " ")
		}
		if i == 0 {
			p.line(level, "%s:\t%s%s%s", title, key, sep, v)
		} else {
			p.line(level, "\t%s%s%s", key, sep, v)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// listAll lists m in ns ("" = all namespaces).
func (k *kube) listAll(ctx context.Context, m *meta.RESTMapping, ns string, opts metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	return k.resource(m, ns).List(ctx, opts)
}

// marshalJSON prints v as kubectl -o json does (4-space indent, newline),
// without escaping <, > and & (so "<redacted>" reads as such).
func marshalJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// kindRef is kind/name in lower case, as kubectl get events prints OBJECT.
func kindRef(kind, name string) string { return strings.ToLower(kind) + "/" + name }

// nsOrAll is how kubectl names the namespace a list came from.
func nsOrAll(ns string) string {
	if ns == "" {
		return "No resources found\n"
	}
	return fmt.Sprintf("No resources found in %s namespace.\n", ns)
}

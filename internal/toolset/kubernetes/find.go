package kubernetes

import (
	"context"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// findKinds are the kinds kubernetes.find searches by default.
var findKinds = []string{"pods", "deployments", "statefulsets", "daemonsets", "services", "jobs"}

const (
	maxFindResults = 200
	findPageSize   = 500
	maxFindPages   = 40 // 20,000 objects of a kind
)

func (k *kube) find(ctx context.Context, a args) (string, error) {
	name, err := a.name("name", true)
	if err != nil {
		return "", err
	}
	kind, err := a.str("kind", false)
	if err != nil {
		return "", err
	}
	kinds := findKinds
	if kind != "" {
		kinds = []string{kind}
	}
	var exact, partial []string
	var searched []string
	for _, kd := range kinds {
		m, err := k.resolve(a, "kind", kd)
		if err != nil {
			if kind != "" {
				return "", err
			}
			continue // the cluster does not serve it
		}
		searched = append(searched, m.Resource.Resource)
		lk := strings.ToLower(m.GroupVersionKind.Kind)
		var items []unstructured.Unstructured
		opts := metav1.ListOptions{Limit: findPageSize}
		for page := 0; page < maxFindPages; page++ {
			l, err := k.listAll(ctx, m, "", opts)
			if err != nil {
				return "", fmt.Errorf("%s: listing %s: %w", a.tool, m.Resource.Resource, err)
			}
			for _, o := range l.Items {
				if strings.Contains(o.GetName(), name) {
					items = append(items, o)
				}
			}
			if opts.Continue = l.GetContinue(); opts.Continue == "" {
				break
			}
		}
		for _, o := range items {
			ref := lk + "/" + o.GetName()
			if ns := o.GetNamespace(); ns != "" {
				ref = lk + "/" + ns + "/" + o.GetName()
			}
			switch {
			case o.GetName() == name:
				exact = append(exact, ref)
			case strings.Contains(o.GetName(), name):
				partial = append(partial, ref)
			}
		}
	}
	sort.Strings(exact)
	sort.Strings(partial)
	all := append(exact, partial...)
	if len(all) == 0 {
		return fmt.Sprintf("No objects named like %q found (searched %s in all namespaces).\n", name, strings.Join(searched, ", ")), nil
	}
	var b strings.Builder
	for i, r := range all {
		if i == maxFindResults {
			fmt.Fprintf(&b, "… [%d more]\n", len(all)-maxFindResults)
			break
		}
		b.WriteString(r + "\n")
	}
	return b.String(), nil
}

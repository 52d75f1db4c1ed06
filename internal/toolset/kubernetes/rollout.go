package kubernetes

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	revisionAnnotation    = "deployment.kubernetes.io/revision"
	changeCauseAnnotation = "kubernetes.io/change-cause"
)

func (k *kube) rolloutHistory(ctx context.Context, a args) (string, error) {
	kind, err := a.str("kind", true)
	if err != nil {
		return "", err
	}
	name, err := a.name("name", true)
	if err != nil {
		return "", err
	}
	ns, err := a.name("namespace", true)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	deploy := ""
	switch strings.ToLower(kind) {
	case "deployment", "deployments", "deploy", "deployments.apps":
		deploy = name
	case "pod", "pods", "po", "replicaset", "replicasets", "rs", "replicasets.apps":
		chain := []string{}
		kd, nm := "Pod", name
		if k := strings.ToLower(kind); k == "replicaset" || k == "replicasets" || k == "rs" || k == "replicasets.apps" {
			kd = "ReplicaSet"
		}
		for range 5 {
			chain = append(chain, strings.ToLower(kd)+"/"+ns+"/"+nm)
			owner, err := k.controllerOf(ctx, ns, kd, nm)
			if err != nil {
				if s, ok := notFound(err); ok && len(chain) == 1 {
					return s, nil
				}
				return "", fmt.Errorf("%s: %w", a.tool, err)
			}
			if owner == nil {
				break
			}
			kd, nm = owner.Kind, owner.Name
			if kd == "Deployment" {
				chain = append(chain, "deployment/"+ns+"/"+nm)
				deploy = nm
				break
			}
		}
		fmt.Fprintf(&b, "Owner chain: %s\n", strings.Join(chain, " -> "))
		if deploy == "" {
			b.WriteString("No Deployment owns it; no rollout history.\n")
			return b.String(), nil
		}
		b.WriteString("\n")
	default:
		return "", a.errorf("kind", "must be deployment, replicaset or pod; got %q", kind)
	}
	d, err := k.core.AppsV1().Deployments(ns).Get(ctx, deploy, metav1.GetOptions{})
	if err != nil {
		if s, ok := notFound(err); ok {
			return b.String() + s, nil
		}
		return "", fmt.Errorf("%s: %w", a.tool, err)
	}
	rss, err := k.ownedReplicaSets(ctx, d)
	if err != nil {
		return "", fmt.Errorf("%s: %w", a.tool, err)
	}
	fmt.Fprintf(&b, "deployment/%s/%s: revision %s, %s\n", ns, d.Name, orNone(d.Annotations[revisionAnnotation]), replicasLine(d))
	var images []string
	for _, c := range d.Spec.Template.Spec.Containers {
		images = append(images, c.Name+"="+c.Image)
	}
	fmt.Fprintf(&b, "Template images: %s\n\n", strings.Join(images, ","))
	if len(rss) == 0 {
		b.WriteString("No ReplicaSets found.\n")
		return b.String(), nil
	}
	rows := make([][]string, 0, len(rss))
	for _, rs := range rss {
		var imgs []string
		for _, c := range rs.Spec.Template.Spec.Containers {
			imgs = append(imgs, c.Image)
		}
		rev := orNone(rs.Annotations[revisionAnnotation])
		if rs.Annotations[revisionAnnotation] != "" && rs.Annotations[revisionAnnotation] == d.Annotations[revisionAnnotation] {
			rev += " (current)"
		}
		rows = append(rows, []string{rev, rs.Name, strconv.Itoa(int(replicas(rs.Spec.Replicas))),
			strconv.Itoa(int(rs.Status.Replicas)), strconv.Itoa(int(rs.Status.ReadyReplicas)),
			strings.Join(imgs, ","), rs.CreationTimestamp.UTC().Format("2006-01-02T15:04:05Z"),
			k.ageOf(rs.CreationTimestamp), orNone(rs.Annotations[changeCauseAnnotation])})
	}
	b.WriteString(table([]string{"REVISION", "REPLICASET", "DESIRED", "CURRENT", "READY", "IMAGES", "CREATED", "AGE", "CHANGE-CAUSE"}, rows))
	return b.String(), nil
}

// controllerOf returns the controller owner reference of a pod or
// replicaset (nil when none).
func (k *kube) controllerOf(ctx context.Context, ns, kind, name string) (*metav1.OwnerReference, error) {
	var obj metav1.Object
	switch kind {
	case "Pod":
		p, err := k.core.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		obj = p
	case "ReplicaSet":
		rs, err := k.core.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		obj = rs
	default:
		return nil, nil // StatefulSet, DaemonSet, Job, …: the chain ends here
	}
	return metav1.GetControllerOf(obj), nil
}

// ownedReplicaSets lists the ReplicaSets a deployment controls, newest
// revision first.
func (k *kube) ownedReplicaSets(ctx context.Context, d *appsv1.Deployment) ([]appsv1.ReplicaSet, error) {
	opts := metav1.ListOptions{}
	if d.Spec.Selector != nil {
		if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil && !sel.Empty() {
			opts.LabelSelector = sel.String()
		}
	}
	l, err := k.core.AppsV1().ReplicaSets(d.Namespace).List(ctx, opts)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []appsv1.ReplicaSet
	for _, rs := range l.Items {
		c := metav1.GetControllerOf(&rs)
		if c == nil || c.Kind != "Deployment" || c.Name != d.Name || d.UID != "" && c.UID != "" && c.UID != d.UID {
			continue
		}
		out = append(out, rs)
	}
	rev := func(rs *appsv1.ReplicaSet) int {
		n, _ := strconv.Atoi(rs.Annotations[revisionAnnotation])
		return n
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := rev(&out[i]), rev(&out[j]); ri != rj {
			return ri > rj
		}
		return out[i].CreationTimestamp.After(out[j].CreationTimestamp.Time)
	})
	return out, nil
}

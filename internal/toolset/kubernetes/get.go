package kubernetes

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

func (k *kube) get(ctx context.Context, a args) (string, error) {
	kind, err := a.str("kind", true)
	if err != nil {
		return "", err
	}
	name, err := a.name("name", false)
	if err != nil {
		return "", err
	}
	ns, err := a.name("namespace", false)
	if err != nil {
		return "", err
	}
	sel, err := a.str("label_selector", false)
	if err != nil {
		return "", err
	}
	if sel != "" {
		if name != "" {
			return "", a.errorf("label_selector", "cannot be combined with name")
		}
		if _, perr := labels.Parse(sel); perr != nil {
			return "", a.errorf("label_selector", "%q is not a label selector: %v", sel, perr)
		}
	}
	output, err := a.str("output", false)
	if err != nil {
		return "", err
	}
	switch output {
	case "", "wide", "yaml", "json":
	default:
		return "", a.errorf("output", "must be one of wide, yaml, json; got %q", output)
	}
	m, err := k.resolve(a, "kind", kind)
	if err != nil {
		return "", err
	}
	if !namespaced(m) {
		ns = ""
	} else if name != "" && ns == "" {
		ns = k.namespace
	}

	var objs []unstructured.Unstructured
	if name != "" {
		u, err := k.resource(m, ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if s, ok := notFound(err); ok {
				return s, nil
			}
			return "", fmt.Errorf("%s: %w", a.tool, err)
		}
		objs = []unstructured.Unstructured{*u}
	} else {
		l, err := k.listAll(ctx, m, ns, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return "", fmt.Errorf("%s: %w", a.tool, err)
		}
		objs = l.Items
		sortObjects(objs)
	}
	for i := range objs {
		clean(objs[i].Object)
	}

	switch output {
	case "json", "yaml":
		var v any
		if name != "" {
			v = objs[0].Object
		} else {
			items := make([]any, len(objs))
			for i := range objs {
				items[i] = objs[i].Object
			}
			v = map[string]any{"apiVersion": "v1", "kind": "List", "items": items,
				"metadata": map[string]any{"resourceVersion": ""}}
		}
		if output == "json" {
			return marshalJSON(v)
		}
		b, err := yaml.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("%s: %w", a.tool, err)
		}
		return string(b), nil
	}
	if len(objs) == 0 {
		if namespaced(m) {
			return nsOrAll(ns), nil
		}
		return nsOrAll(""), nil
	}
	allNS := namespaced(m) && ns == ""
	return k.printTable(m, objs, output == "wide", allNS), nil
}

// sortObjects orders objects by namespace then name, as kubectl lists them.
func sortObjects(objs []unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool {
		if objs[i].GetNamespace() != objs[j].GetNamespace() {
			return objs[i].GetNamespace() < objs[j].GetNamespace()
		}
		return objs[i].GetName() < objs[j].GetName()
	})
}

// printTable renders objects as kubectl get's table for their kind.
func (k *kube) printTable(m *meta.RESTMapping, objs []unstructured.Unstructured, wide, allNS bool) string {
	var header []string
	var row func(u *unstructured.Unstructured) []string
	switch m.GroupVersionKind.GroupKind().String() {
	case "Pod":
		header = []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}
		if wide {
			header = append(header, "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
		}
		row = func(u *unstructured.Unstructured) []string {
			var p corev1.Pod
			if toTyped(u, &p) != nil {
				return nil
			}
			return k.podRow(&p, wide)
		}
	case "Deployment.apps":
		header = []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}
		if wide {
			header = append(header, "CONTAINERS", "IMAGES", "SELECTOR")
		}
		row = func(u *unstructured.Unstructured) []string {
			var d appsv1.Deployment
			if toTyped(u, &d) != nil {
				return nil
			}
			r := []string{d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
				strconv.Itoa(int(d.Status.UpdatedReplicas)), strconv.Itoa(int(d.Status.AvailableReplicas)),
				k.ageOf(d.CreationTimestamp)}
			if wide {
				names, images := containerNames(d.Spec.Template.Spec.Containers)
				r = append(r, names, images, metav1.FormatLabelSelector(d.Spec.Selector))
			}
			return r
		}
	case "Node":
		header = []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION"}
		if wide {
			header = append(header, "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME")
		}
		row = func(u *unstructured.Unstructured) []string {
			var n corev1.Node
			if toTyped(u, &n) != nil {
				return nil
			}
			r := []string{n.Name, nodeStatus(&n), nodeRoles(&n), k.ageOf(n.CreationTimestamp), n.Status.NodeInfo.KubeletVersion}
			if wide {
				r = append(r, nodeAddress(&n, corev1.NodeInternalIP), nodeAddress(&n, corev1.NodeExternalIP),
					orNone(n.Status.NodeInfo.OSImage), orNone(n.Status.NodeInfo.KernelVersion),
					orNone(n.Status.NodeInfo.ContainerRuntimeVersion))
			}
			return r
		}
	case "Service":
		header = []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}
		if wide {
			header = append(header, "SELECTOR")
		}
		row = func(u *unstructured.Unstructured) []string {
			var s corev1.Service
			if toTyped(u, &s) != nil {
				return nil
			}
			r := []string{s.Name, string(s.Spec.Type), orNone(s.Spec.ClusterIP), serviceExternalIP(&s),
				servicePorts(&s), k.ageOf(s.CreationTimestamp)}
			if wide {
				r = append(r, selectorString(s.Spec.Selector))
			}
			return r
		}
	case "Event", "Event.events.k8s.io":
		evs := make([]corev1.Event, 0, len(objs))
		for i := range objs {
			var e corev1.Event
			if toTyped(&objs[i], &e) == nil {
				evs = append(evs, e)
			}
		}
		return k.eventTable(evs, allNS)
	default:
		header = []string{"NAME", "AGE"}
		row = func(u *unstructured.Unstructured) []string {
			return []string{u.GetName(), k.ageOf(u.GetCreationTimestamp())}
		}
	}
	if allNS {
		header = append([]string{"NAMESPACE"}, header...)
	}
	rows := make([][]string, 0, len(objs))
	for i := range objs {
		r := row(&objs[i])
		if r == nil { // not decodable as the kind's type: still list it
			r = []string{objs[i].GetName()}
			for len(r) < len(header)-1 {
				r = append(r, "<unknown>")
			}
			if allNS {
				r = r[:len(r)-1]
			}
		}
		if allNS {
			r = append([]string{objs[i].GetNamespace()}, r...)
		}
		rows = append(rows, r)
	}
	return table(header, rows)
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func containerNames(cs []corev1.Container) (string, string) {
	var names, images []string
	for _, c := range cs {
		names = append(names, c.Name)
		images = append(images, c.Image)
	}
	return strings.Join(names, ","), strings.Join(images, ",")
}

// podRow is kubectl's pod table row (printPod).
func (k *kube) podRow(pod *corev1.Pod, wide bool) []string {
	restarts := 0
	ready := 0
	var lastRestart time.Time
	reason := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	noteRestart := func(cs corev1.ContainerStatus) {
		restarts += int(cs.RestartCount)
		if t := cs.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(lastRestart) {
			lastRestart = t.FinishedAt.Time
		}
	}
	initializing := false
	for i, c := range pod.Status.InitContainerStatuses {
		noteRestart(c)
		switch {
		case c.State.Terminated != nil && c.State.Terminated.ExitCode == 0:
			continue
		case c.State.Terminated != nil:
			switch {
			case c.State.Terminated.Reason != "":
				reason = "Init:" + c.State.Terminated.Reason
			case c.State.Terminated.Signal != 0:
				reason = fmt.Sprintf("Init:Signal:%d", c.State.Terminated.Signal)
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", c.State.Terminated.ExitCode)
			}
		case c.State.Waiting != nil && c.State.Waiting.Reason != "" && c.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + c.State.Waiting.Reason
		case c.State.Running != nil && isSidecar(pod, c.Name):
			continue
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}
	if !initializing {
		restarts, lastRestart = 0, time.Time{}
		for _, c := range pod.Status.InitContainerStatuses {
			if isSidecar(pod, c.Name) {
				noteRestart(c)
			}
		}
		hasRunning := false
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			c := pod.Status.ContainerStatuses[i]
			noteRestart(c)
			switch {
			case c.State.Waiting != nil && c.State.Waiting.Reason != "":
				reason = c.State.Waiting.Reason
			case c.State.Terminated != nil && c.State.Terminated.Reason != "":
				reason = c.State.Terminated.Reason
			case c.State.Terminated != nil && c.State.Terminated.Signal != 0:
				reason = fmt.Sprintf("Signal:%d", c.State.Terminated.Signal)
			case c.State.Terminated != nil:
				reason = fmt.Sprintf("ExitCode:%d", c.State.Terminated.ExitCode)
			case c.Ready && c.State.Running != nil:
				hasRunning = true
				ready++
			}
		}
		if reason == "Completed" && hasRunning {
			reason = "NotReady"
			for _, cond := range pod.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
					reason = "Running"
				}
			}
		}
	}
	if pod.DeletionTimestamp != nil {
		if pod.Status.Reason == "NodeLost" {
			reason = "Unknown"
		} else {
			reason = "Terminating"
		}
	}
	rs := strconv.Itoa(restarts)
	if restarts != 0 && !lastRestart.IsZero() {
		rs = fmt.Sprintf("%d (%s ago)", restarts, k.age(lastRestart))
	}
	total := len(pod.Spec.Containers)
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			total++
			for _, s := range pod.Status.InitContainerStatuses {
				if s.Name == c.Name && s.Ready && s.State.Running != nil {
					ready++
				}
			}
		}
	}
	r := []string{pod.Name, fmt.Sprintf("%d/%d", ready, total), reason, rs, k.ageOf(pod.CreationTimestamp)}
	if wide {
		gates := "<none>"
		if n := len(pod.Spec.ReadinessGates); n > 0 {
			gates = fmt.Sprintf("0/%d", n)
		}
		r = append(r, orNone(pod.Status.PodIP), orNone(pod.Spec.NodeName), orNone(pod.Status.NominatedNodeName), gates)
	}
	return r
}

func isSidecar(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		}
	}
	return false
}

func nodeStatus(n *corev1.Node) string {
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				status = "Ready"
			} else {
				status = "NotReady"
			}
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

func nodeRoles(n *corev1.Node) string {
	var roles []string
	for key, v := range n.Labels {
		switch {
		case strings.HasPrefix(key, "node-role.kubernetes.io/"):
			if r := strings.TrimPrefix(key, "node-role.kubernetes.io/"); r != "" {
				roles = append(roles, r)
			}
		case key == "kubernetes.io/role" && v != "":
			roles = append(roles, v)
		}
	}
	if len(roles) == 0 {
		return "<none>"
	}
	sort.Strings(roles)
	return strings.Join(roles, ",")
}

func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

func serviceExternalIP(s *corev1.Service) string {
	switch s.Spec.Type {
	case corev1.ServiceTypeExternalName:
		return s.Spec.ExternalName
	case corev1.ServiceTypeLoadBalancer:
		var ips []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				ips = append(ips, in.IP)
			} else if in.Hostname != "" {
				ips = append(ips, in.Hostname)
			}
		}
		ips = append(ips, s.Spec.ExternalIPs...)
		if len(ips) == 0 {
			return "<pending>"
		}
		return strings.Join(ips, ",")
	}
	if len(s.Spec.ExternalIPs) > 0 {
		return strings.Join(s.Spec.ExternalIPs, ",")
	}
	return "<none>"
}

func servicePorts(s *corev1.Service) string {
	var ps []string
	for _, p := range s.Spec.Ports {
		if p.NodePort > 0 {
			ps = append(ps, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol))
		} else {
			ps = append(ps, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
		}
	}
	if len(ps) == 0 {
		return "<none>"
	}
	return strings.Join(ps, ",")
}

func selectorString(sel map[string]string) string {
	if len(sel) == 0 {
		return "<none>"
	}
	return labels.SelectorFromSet(sel).String()
}

package kubernetes

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func (k *kube) describe(ctx context.Context, a args) (string, error) {
	kind, err := a.str("kind", true)
	if err != nil {
		return "", err
	}
	name, err := a.name("name", true)
	if err != nil {
		return "", err
	}
	ns, err := a.name("namespace", false)
	if err != nil {
		return "", err
	}
	m, err := k.resolve(a, "kind", kind)
	if err != nil {
		return "", err
	}
	if !namespaced(m) {
		ns = ""
	} else if ns == "" {
		ns = k.namespace
	}
	u, err := k.resource(m, ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if s, ok := notFound(err); ok {
			return s, nil
		}
		return "", fmt.Errorf("%s: %w", a.tool, err)
	}
	clean(u.Object)
	gk := m.GroupVersionKind.GroupKind().String()
	var out string
	switch gk {
	case "Pod":
		var p corev1.Pod
		if err = toTyped(u, &p); err == nil {
			out = tabbed(func(w *prefixWriter) { k.describePod(ctx, w, &p) })
		}
	case "Deployment.apps":
		var d appsv1.Deployment
		if err = toTyped(u, &d); err == nil {
			out = tabbed(func(w *prefixWriter) { k.describeDeployment(ctx, w, &d) })
		}
	case "Node":
		var n corev1.Node
		if err = toTyped(u, &n); err == nil {
			out = tabbed(func(w *prefixWriter) { k.describeNode(ctx, w, &n) })
		}
	case "Service":
		var s corev1.Service
		if err = toTyped(u, &s); err == nil {
			out = tabbed(func(w *prefixWriter) { k.describeService(ctx, w, &s) })
		}
	}
	if out == "" {
		out, _ = k.describeMore(ctx, gk, u)
	}
	if out == "" { // other kinds, or an object the typed struct cannot hold
		out = tabbed(func(w *prefixWriter) { k.describeGeneric(ctx, w, u) })
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Pods

func (k *kube) describePod(ctx context.Context, w *prefixWriter, p *corev1.Pod) {
	w.line(0, "Name:\t%s", p.Name)
	w.line(0, "Namespace:\t%s", p.Namespace)
	if p.Spec.Priority != nil {
		w.line(0, "Priority:\t%d", *p.Spec.Priority)
	}
	if p.Spec.PriorityClassName != "" {
		w.line(0, "Priority Class Name:\t%s", p.Spec.PriorityClassName)
	}
	w.line(0, "Service Account:\t%s", p.Spec.ServiceAccountName)
	if p.Spec.NodeName == "" {
		w.line(0, "Node:\t<none>")
	} else {
		w.line(0, "Node:\t%s/%s", p.Spec.NodeName, p.Status.HostIP)
	}
	if p.Status.StartTime != nil {
		w.line(0, "Start Time:\t%s", stamp(*p.Status.StartTime))
	}
	w.writeMap(0, "Labels", p.Labels)
	w.writeMap(0, "Annotations", p.Annotations)
	if p.DeletionTimestamp != nil {
		w.line(0, "Status:\tTerminating (lasts %s)", k.age(p.DeletionTimestamp.Time))
	} else {
		w.line(0, "Status:\t%s", p.Status.Phase)
	}
	if p.Status.Reason != "" {
		w.line(0, "Reason:\t%s", p.Status.Reason)
	}
	if p.Status.Message != "" {
		w.line(0, "Message:\t%s", strings.Join(strings.Fields(p.Status.Message), " "))
	}
	w.line(0, "IP:\t%s", p.Status.PodIP)
	w.line(0, "IPs:")
	if len(p.Status.PodIPs) == 0 {
		w.line(1, "<none>")
	}
	for _, ip := range p.Status.PodIPs {
		w.line(1, "IP:\t%s", ip.IP)
	}
	if c := metav1.GetControllerOf(p); c != nil {
		w.line(0, "Controlled By:\t%s/%s", c.Kind, c.Name)
	}
	if p.Status.NominatedNodeName != "" {
		w.line(0, "NominatedNodeName:\t%s", p.Status.NominatedNodeName)
	}
	if len(p.Spec.InitContainers) > 0 {
		w.line(0, "Init Containers:")
		k.writeContainers(w, 1, p.Spec.InitContainers, p.Status.InitContainerStatuses, true)
	}
	w.line(0, "Containers:")
	k.writeContainers(w, 1, p.Spec.Containers, p.Status.ContainerStatuses, true)
	if len(p.Status.Conditions) > 0 {
		w.line(0, "Conditions:")
		w.line(1, "Type\tStatus")
		for _, c := range p.Status.Conditions {
			w.line(1, "%v \t%v ", c.Type, c.Status)
		}
	}
	writeVolumes(w, p.Spec.Volumes)
	if p.Status.QOSClass != "" {
		w.line(0, "QoS Class:\t%s", p.Status.QOSClass)
	}
	writeList(w, "Node-Selectors", selectorLines(p.Spec.NodeSelector))
	var tols []string
	for _, t := range p.Spec.Tolerations {
		tols = append(tols, tolerationString(t))
	}
	writeList(w, "Tolerations", tols)
	k.describeEvents(ctx, w, p.Namespace, "Pod", p.Name)
}

// writeContainers prints Containers: entries; statuses may be nil (pod
// templates).
func (k *kube) writeContainers(w *prefixWriter, level int, cs []corev1.Container, statuses []corev1.ContainerStatus, withStatus bool) {
	for _, c := range cs {
		var st *corev1.ContainerStatus
		for i := range statuses {
			if statuses[i].Name == c.Name {
				st = &statuses[i]
			}
		}
		w.line(level, "%s:", c.Name)
		l := level + 1
		if st != nil && st.ContainerID != "" {
			w.line(l, "Container ID:\t%s", st.ContainerID)
		}
		w.line(l, "Image:\t%s", c.Image)
		if st != nil && st.ImageID != "" {
			w.line(l, "Image ID:\t%s", st.ImageID)
		}
		ports, hostPorts := portStrings(c.Ports)
		if len(ports) == 0 {
			w.line(l, "Port:\t<none>")
			w.line(l, "Host Port:\t<none>")
		} else {
			label := "Port"
			if len(ports) > 1 {
				label = "Ports"
			}
			w.line(l, "%s:\t%s", label, strings.Join(ports, ", "))
			w.line(l, "Host %s:\t%s", label, strings.Join(hostPorts, ", "))
		}
		writeArgs(w, l, "Command", c.Command)
		writeArgs(w, l, "Args", c.Args)
		if st != nil {
			k.writeState(w, l, "State", st.State)
			if st.LastTerminationState.Terminated != nil {
				k.writeState(w, l, "Last State", st.LastTerminationState)
			}
			w.line(l, "Ready:\t%s", boolString(st.Ready))
			w.line(l, "Restart Count:\t%d", st.RestartCount)
		} else if withStatus {
			w.line(l, "State:\tWaiting")
			w.line(l+1, "Reason:\tPodInitializing")
			w.line(l, "Ready:\tFalse")
			w.line(l, "Restart Count:\t0")
		}
		writeResources(w, l, "Limits", c.Resources.Limits)
		writeResources(w, l, "Requests", c.Resources.Requests)
		for _, pr := range []struct {
			name  string
			probe *corev1.Probe
		}{{"Liveness", c.LivenessProbe}, {"Readiness", c.ReadinessProbe}, {"Startup", c.StartupProbe}} {
			if pr.probe != nil {
				w.line(l, "%s:\t%s", pr.name, probeString(pr.probe))
			}
		}
		if len(c.EnvFrom) > 0 {
			w.line(l, "Environment Variables from:")
			for _, f := range c.EnvFrom {
				switch {
				case f.ConfigMapRef != nil:
					w.line(l+1, "%s\tConfigMap\tPrefix: %s\tOptional: %t", f.ConfigMapRef.Name, f.Prefix, optional(f.ConfigMapRef.Optional))
				case f.SecretRef != nil:
					w.line(l+1, "%s\tSecret\tPrefix: %s\tOptional: %t", f.SecretRef.Name, f.Prefix, optional(f.SecretRef.Optional))
				}
			}
		}
		if len(c.Env) == 0 {
			w.line(l, "Environment:\t<none>")
		} else {
			w.line(l, "Environment:")
			for _, e := range c.Env {
				w.line(l+1, "%s:\t%s", e.Name, envValue(e))
			}
		}
		if len(c.VolumeMounts) == 0 {
			w.line(l, "Mounts:\t<none>")
		} else {
			w.line(l, "Mounts:")
			for _, vm := range c.VolumeMounts {
				flags := []string{"rw"}
				if vm.ReadOnly {
					flags[0] = "ro"
				}
				if vm.SubPath != "" {
					flags = append(flags, "path=\""+vm.SubPath+"\"")
				}
				w.line(l+1, "%s from %s (%s)", vm.MountPath, vm.Name, strings.Join(flags, ","))
			}
		}
	}
}

func envValue(e corev1.EnvVar) string {
	vf := e.ValueFrom
	switch {
	case vf == nil:
		return e.Value
	case vf.SecretKeyRef != nil:
		return fmt.Sprintf("<set to the key '%s' in secret '%s'>\tOptional: %t", vf.SecretKeyRef.Key, vf.SecretKeyRef.Name, optional(vf.SecretKeyRef.Optional))
	case vf.ConfigMapKeyRef != nil:
		return fmt.Sprintf("<set to the key '%s' of config map '%s'>\tOptional: %t", vf.ConfigMapKeyRef.Key, vf.ConfigMapKeyRef.Name, optional(vf.ConfigMapKeyRef.Optional))
	case vf.FieldRef != nil:
		return fmt.Sprintf(" (%s:%s)", vf.FieldRef.APIVersion, vf.FieldRef.FieldPath)
	case vf.ResourceFieldRef != nil:
		return fmt.Sprintf("%s (%s)", vf.ResourceFieldRef.Resource, vf.ResourceFieldRef.ContainerName)
	}
	return "<unknown source>"
}

func optional(b *bool) bool { return b != nil && *b }

func (k *kube) writeState(w *prefixWriter, l int, label string, s corev1.ContainerState) {
	switch {
	case s.Running != nil:
		w.line(l, "%s:\tRunning", label)
		w.line(l+1, "Started:\t%s", stamp(s.Running.StartedAt))
	case s.Waiting != nil:
		w.line(l, "%s:\tWaiting", label)
		if s.Waiting.Reason != "" {
			w.line(l+1, "Reason:\t%s", s.Waiting.Reason)
		}
		if s.Waiting.Message != "" {
			w.line(l+1, "Message:\t%s", strings.Join(strings.Fields(s.Waiting.Message), " "))
		}
	case s.Terminated != nil:
		t := s.Terminated
		w.line(l, "%s:\tTerminated", label)
		if t.Reason != "" {
			w.line(l+1, "Reason:\t%s", t.Reason)
		}
		if t.Message != "" {
			w.line(l+1, "Message:\t%s", strings.Join(strings.Fields(t.Message), " "))
		}
		w.line(l+1, "Exit Code:\t%d", t.ExitCode)
		if t.Signal > 0 {
			w.line(l+1, "Signal:\t%d", t.Signal)
		}
		w.line(l+1, "Started:\t%s", stamp(t.StartedAt))
		w.line(l+1, "Finished:\t%s", stamp(t.FinishedAt))
	default:
		w.line(l, "%s:\tWaiting", label)
	}
}

func boolString(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func portStrings(ps []corev1.ContainerPort) (ports, hostPorts []string) {
	for _, p := range ps {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		port := fmt.Sprintf("%d/%s", p.ContainerPort, proto)
		if p.Name != "" {
			port += " (" + p.Name + ")"
		}
		ports = append(ports, port)
		hostPorts = append(hostPorts, fmt.Sprintf("%d/%s", p.HostPort, proto))
	}
	return ports, hostPorts
}

func writeArgs(w *prefixWriter, l int, label string, v []string) {
	if len(v) == 0 {
		return
	}
	w.line(l, "%s:", label)
	for _, s := range v {
		for _, line := range strings.Split(s, "\n") {
			w.line(l+1, "%s", line)
		}
	}
}

func writeResources(w *prefixWriter, l int, label string, rl corev1.ResourceList) {
	if len(rl) == 0 {
		return
	}
	names := make([]string, 0, len(rl))
	for n := range rl {
		names = append(names, string(n))
	}
	sort.Strings(names)
	w.line(l, "%s:", label)
	for _, n := range names {
		q := rl[corev1.ResourceName(n)]
		w.line(l+1, "%s:\t%s", n, q.String())
	}
}

// probeString renders a probe as kubectl describe does.
func probeString(p *corev1.Probe) string {
	attrs := fmt.Sprintf("delay=%s timeout=%s period=%s #success=%d #failure=%d",
		time.Duration(p.InitialDelaySeconds)*time.Second, time.Duration(p.TimeoutSeconds)*time.Second,
		time.Duration(p.PeriodSeconds)*time.Second, p.SuccessThreshold, p.FailureThreshold)
	switch {
	case p.Exec != nil:
		return fmt.Sprintf("exec %v %s", p.Exec.Command, attrs)
	case p.HTTPGet != nil:
		u := &url.URL{Scheme: strings.ToLower(string(p.HTTPGet.Scheme)), Path: p.HTTPGet.Path,
			Host: net.JoinHostPort(p.HTTPGet.Host, p.HTTPGet.Port.String())}
		if u.Scheme == "" {
			u.Scheme = "http"
		}
		return fmt.Sprintf("http-get %s %s", u.String(), attrs)
	case p.TCPSocket != nil:
		return fmt.Sprintf("tcp-socket %s:%s %s", p.TCPSocket.Host, p.TCPSocket.Port.String(), attrs)
	case p.GRPC != nil:
		svc := ""
		if p.GRPC.Service != nil {
			svc = *p.GRPC.Service
		}
		return fmt.Sprintf("grpc <pod>:%d %s %s", p.GRPC.Port, svc, attrs)
	}
	return "unknown " + attrs
}

func writeVolumes(w *prefixWriter, vs []corev1.Volume) {
	if len(vs) == 0 {
		w.line(0, "Volumes:\t<none>")
		return
	}
	w.line(0, "Volumes:")
	for _, v := range vs {
		w.line(1, "%s:", v.Name)
		s := v.VolumeSource
		switch {
		case s.PersistentVolumeClaim != nil:
			w.line(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)")
			w.line(2, "ClaimName:\t%s", s.PersistentVolumeClaim.ClaimName)
			w.line(2, "ReadOnly:\t%t", s.PersistentVolumeClaim.ReadOnly)
		case s.ConfigMap != nil:
			w.line(2, "Type:\tConfigMap (a volume populated by a ConfigMap)")
			w.line(2, "Name:\t%s", s.ConfigMap.Name)
			w.line(2, "Optional:\t%t", optional(s.ConfigMap.Optional))
		case s.Secret != nil:
			w.line(2, "Type:\tSecret (a volume populated by a Secret)")
			w.line(2, "SecretName:\t%s", s.Secret.SecretName)
			w.line(2, "Optional:\t%t", optional(s.Secret.Optional))
		case s.EmptyDir != nil:
			w.line(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)")
			w.line(2, "Medium:\t%s", s.EmptyDir.Medium)
		case s.HostPath != nil:
			w.line(2, "Type:\tHostPath (bare host directory volume)")
			w.line(2, "Path:\t%s", s.HostPath.Path)
		case s.Projected != nil:
			w.line(2, "Type:\tProjected (a volume that contains injected data from multiple sources)")
		default:
			w.line(2, "Type:\t<other>")
		}
	}
}

// writeList prints a key with one value per line (Node-Selectors:, Taints:).
func writeList(w *prefixWriter, title string, vs []string) {
	if len(vs) == 0 {
		w.line(0, "%s:\t<none>", title)
		return
	}
	for i, v := range vs {
		if i == 0 {
			w.line(0, "%s:\t%s", title, v)
		} else {
			w.line(0, "\t%s", v)
		}
	}
}

func selectorLines(m map[string]string) []string {
	var out []string
	for key, v := range m {
		out = append(out, key+"="+v)
	}
	sort.Strings(out)
	return out
}

func tolerationString(t corev1.Toleration) string {
	s := t.Key
	if t.Value != "" {
		s += "=" + t.Value
	}
	if t.Effect != "" {
		s += ":" + string(t.Effect)
	}
	if t.Operator == corev1.TolerationOpExists && t.Value == "" {
		if t.Key != "" || t.Effect != "" {
			s += " "
		}
		s += "op=Exists"
	}
	if t.TolerationSeconds != nil {
		s += fmt.Sprintf(" for %ds", *t.TolerationSeconds)
	}
	return s
}

// ---------------------------------------------------------------------------
// Deployments

func replicasLine(d *appsv1.Deployment) string {
	return fmt.Sprintf("%d desired | %d updated | %d total | %d available | %d unavailable",
		replicas(d.Spec.Replicas), d.Status.UpdatedReplicas, d.Status.Replicas, d.Status.AvailableReplicas,
		d.Status.UnavailableReplicas)
}

func (k *kube) describeDeployment(ctx context.Context, w *prefixWriter, d *appsv1.Deployment) {
	w.line(0, "Name:\t%s", d.Name)
	w.line(0, "Namespace:\t%s", d.Namespace)
	w.line(0, "CreationTimestamp:\t%s", stamp(d.CreationTimestamp))
	w.writeMap(0, "Labels", d.Labels)
	w.writeMap(0, "Annotations", d.Annotations)
	w.line(0, "Selector:\t%s", metav1.FormatLabelSelector(d.Spec.Selector))
	w.line(0, "Replicas:\t%s", replicasLine(d))
	w.line(0, "StrategyType:\t%s", d.Spec.Strategy.Type)
	w.line(0, "MinReadySeconds:\t%d", d.Spec.MinReadySeconds)
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		w.line(0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge", intOrString(ru.MaxUnavailable), intOrString(ru.MaxSurge))
	}
	w.line(0, "Pod Template:")
	w.writeMap(1, "Labels", d.Spec.Template.Labels)
	if len(d.Spec.Template.Annotations) > 0 {
		w.writeMap(1, "Annotations", d.Spec.Template.Annotations)
	}
	if sa := d.Spec.Template.Spec.ServiceAccountName; sa != "" {
		w.line(1, "Service Account:\t%s", sa)
	}
	if len(d.Spec.Template.Spec.InitContainers) > 0 {
		w.line(1, "Init Containers:")
		k.writeContainers(w, 2, d.Spec.Template.Spec.InitContainers, nil, false)
	}
	w.line(1, "Containers:")
	k.writeContainers(w, 2, d.Spec.Template.Spec.Containers, nil, false)
	if len(d.Status.Conditions) > 0 {
		w.line(0, "Conditions:")
		w.line(1, "Type\tStatus\tReason")
		w.line(1, "----\t------\t------")
		for _, c := range d.Status.Conditions {
			w.line(1, "%s \t%s\t%s", c.Type, c.Status, c.Reason)
		}
	}
	if rss, err := k.ownedReplicaSets(ctx, d); err == nil {
		cur := d.Annotations[revisionAnnotation]
		var old, newRS []string
		for _, rs := range rss {
			s := fmt.Sprintf("%s (%d/%d replicas created)", rs.Name, rs.Status.Replicas, replicas(rs.Spec.Replicas))
			if cur != "" && rs.Annotations[revisionAnnotation] == cur {
				newRS = append(newRS, s)
			} else if rs.Status.Replicas > 0 || replicas(rs.Spec.Replicas) > 0 {
				old = append(old, s)
			}
		}
		w.line(0, "OldReplicaSets:\t%s", orNone(strings.Join(old, ", ")))
		w.line(0, "NewReplicaSet:\t%s", orNone(strings.Join(newRS, ", ")))
	}
	k.describeEvents(ctx, w, d.Namespace, "Deployment", d.Name)
}

func intOrString(v *intstr.IntOrString) string {
	if v == nil {
		return "<unset>"
	}
	return v.String()
}

// ---------------------------------------------------------------------------
// Nodes

func (k *kube) describeNode(ctx context.Context, w *prefixWriter, n *corev1.Node) {
	w.line(0, "Name:\t%s", n.Name)
	w.line(0, "Roles:\t%s", nodeRoles(n))
	w.writeMap(0, "Labels", n.Labels)
	w.writeMap(0, "Annotations", n.Annotations)
	w.line(0, "CreationTimestamp:\t%s", stamp(n.CreationTimestamp))
	var taints []string
	for _, t := range n.Spec.Taints {
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		taints = append(taints, s+":"+string(t.Effect))
	}
	writeList(w, "Taints", taints)
	w.line(0, "Unschedulable:\t%t", n.Spec.Unschedulable)
	if len(n.Status.Conditions) > 0 {
		w.line(0, "Conditions:")
		w.line(1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage")
		w.line(1, "----\t------\t-----------------\t------------------\t------\t-------")
		for _, c := range n.Status.Conditions {
			w.line(1, "%v \t%v \t%s \t%s \t%v \t%v", c.Type, c.Status, stamp(c.LastHeartbeatTime),
				stamp(c.LastTransitionTime), c.Reason, strings.Join(strings.Fields(c.Message), " "))
		}
	}
	w.line(0, "Addresses:")
	for _, a := range n.Status.Addresses {
		w.line(1, "%s:\t%s", a.Type, a.Address)
	}
	writeResources(w, 0, "Capacity", n.Status.Capacity)
	writeResources(w, 0, "Allocatable", n.Status.Allocatable)
	ni := n.Status.NodeInfo
	w.line(0, "System Info:")
	w.line(1, "Machine ID:\t%s", ni.MachineID)
	w.line(1, "Kernel Version:\t%s", ni.KernelVersion)
	w.line(1, "OS Image:\t%s", ni.OSImage)
	w.line(1, "Operating System:\t%s", ni.OperatingSystem)
	w.line(1, "Architecture:\t%s", ni.Architecture)
	w.line(1, "Container Runtime Version:\t%s", ni.ContainerRuntimeVersion)
	w.line(1, "Kubelet Version:\t%s", ni.KubeletVersion)
	if n.Spec.PodCIDR != "" {
		w.line(0, "PodCIDR:\t%s", n.Spec.PodCIDR)
	}
	if n.Spec.ProviderID != "" {
		w.line(0, "ProviderID:\t%s", n.Spec.ProviderID)
	}
	k.describeEvents(ctx, w, "", "Node", n.Name)
}

// ---------------------------------------------------------------------------
// Services

func (k *kube) describeService(ctx context.Context, w *prefixWriter, s *corev1.Service) {
	w.line(0, "Name:\t%s", s.Name)
	w.line(0, "Namespace:\t%s", s.Namespace)
	w.writeMap(0, "Labels", s.Labels)
	w.writeMap(0, "Annotations", s.Annotations)
	w.line(0, "Selector:\t%s", selectorString(s.Spec.Selector))
	w.line(0, "Type:\t%s", s.Spec.Type)
	if s.Spec.IPFamilyPolicy != nil {
		w.line(0, "IP Family Policy:\t%s", *s.Spec.IPFamilyPolicy)
	}
	if len(s.Spec.IPFamilies) > 0 {
		var fs []string
		for _, f := range s.Spec.IPFamilies {
			fs = append(fs, string(f))
		}
		w.line(0, "IP Families:\t%s", strings.Join(fs, ","))
	}
	w.line(0, "IP:\t%s", orNone(s.Spec.ClusterIP))
	if len(s.Spec.ClusterIPs) > 0 {
		w.line(0, "IPs:\t%s", strings.Join(s.Spec.ClusterIPs, ","))
	}
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		w.line(0, "External Name:\t%s", s.Spec.ExternalName)
	}
	if len(s.Spec.ExternalIPs) > 0 {
		w.line(0, "External IPs:\t%s", strings.Join(s.Spec.ExternalIPs, ","))
	}
	if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
		w.line(0, "LoadBalancer Ingress:\t%s", serviceExternalIP(s))
	}
	ep, epErr := k.core.CoreV1().Endpoints(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	for _, p := range s.Spec.Ports {
		name := p.Name
		if name == "" {
			name = "<unset>"
		}
		w.line(0, "Port:\t%s\t%d/%s", name, p.Port, p.Protocol)
		if p.TargetPort.String() != "" && p.TargetPort.String() != "0" {
			w.line(0, "TargetPort:\t%s/%s", p.TargetPort.String(), p.Protocol)
		} else {
			w.line(0, "TargetPort:\t%d/%s", p.Port, p.Protocol)
		}
		if p.NodePort != 0 {
			w.line(0, "NodePort:\t%s\t%d/%s", name, p.NodePort, p.Protocol)
		}
		if epErr != nil {
			w.line(0, "Endpoints:\t<none>")
		} else {
			w.line(0, "Endpoints:\t%s", endpointsFor(ep, p.Name))
		}
	}
	if len(s.Spec.Ports) == 0 {
		w.line(0, "Endpoints:\t<none>")
	}
	w.line(0, "Session Affinity:\t%s", orNone(string(s.Spec.SessionAffinity)))
	k.describeEvents(ctx, w, s.Namespace, "Service", s.Name)
}

// endpointsFor lists the ready ip:port pairs of the named service port.
// kubectl describe still reads core/v1 Endpoints, which every API server
// serves; EndpointSlices would change what "Endpoints:" shows.
//
//lint:ignore SA1019 matches kubectl describe service
func endpointsFor(ep *corev1.Endpoints, portName string) string {
	var out []string
	for _, ss := range ep.Subsets {
		for _, p := range ss.Ports {
			if p.Name != portName && !(portName == "" && len(ss.Ports) == 1) {
				continue
			}
			for _, a := range ss.Addresses {
				out = append(out, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	if len(out) == 0 {
		return "<none>"
	}
	return strings.Join(out, ",")
}

// ---------------------------------------------------------------------------
// Any other kind

func (k *kube) describeGeneric(ctx context.Context, w *prefixWriter, u *unstructured.Unstructured) {
	w.line(0, "Name:\t%s", u.GetName())
	if ns := u.GetNamespace(); ns != "" {
		w.line(0, "Namespace:\t%s", ns)
	}
	w.writeMap(0, "Labels", u.GetLabels())
	w.writeMap(0, "Annotations", u.GetAnnotations())
	w.line(0, "API Version:\t%s", u.GetAPIVersion())
	w.line(0, "Kind:\t%s", u.GetKind())
	w.line(0, "CreationTimestamp:\t%s", stamp(u.GetCreationTimestamp()))
	for _, o := range u.GetOwnerReferences() {
		if o.Controller != nil && *o.Controller {
			w.line(0, "Controlled By:\t%s/%s", o.Kind, o.Name)
		}
	}
	if u.GetKind() == "Secret" {
		if t, ok := u.Object["type"].(string); ok {
			w.line(0, "Type:\t%s", t)
		}
		w.line(0, "Data:")
		data, _ := u.Object["data"].(map[string]any)
		keys := slices.Sorted(maps.Keys(data))
		for _, key := range keys {
			w.line(1, "%s:\t%s", key, redacted)
		}
	} else {
		keys := make([]string, 0, len(u.Object))
		for key := range u.Object {
			switch key {
			case "apiVersion", "kind", "metadata":
				continue
			}
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			writeValue(w, 0, key, u.Object[key])
		}
	}
	k.describeEvents(ctx, w, u.GetNamespace(), u.GetKind(), u.GetName())
}

// writeValue prints an unstructured field as kubectl's generic describer
// does: "Title Case Key:  value", nested maps indented.
func writeValue(w *prefixWriter, level int, key string, v any) {
	label := smartLabel(key)
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			return
		}
		w.line(level, "%s:", label)
		keys := slices.Sorted(maps.Keys(t))
		for _, k := range keys {
			writeValue(w, level+1, k, t[k])
		}
	case []any:
		if len(t) == 0 {
			return
		}
		w.line(level, "%s:", label)
		for _, item := range t {
			if m, ok := item.(map[string]any); ok {
				keys := slices.Sorted(maps.Keys(m))
				for _, k := range keys {
					writeValue(w, level+1, k, m[k])
				}
				continue
			}
			w.line(level+1, "%v", item)
		}
	default:
		w.line(level, "%s:\t%v", label, strings.Join(strings.Fields(fmt.Sprint(t)), " "))
	}
}

// smartLabel turns a JSON field name into describe's label:
// "readyReplicas" → "Ready Replicas".
func smartLabel(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if i == 0 {
			b.WriteRune(unicode.ToUpper(r))
			continue
		}
		if unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1])) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

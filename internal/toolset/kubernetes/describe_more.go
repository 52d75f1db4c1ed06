package kubernetes

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The describers below follow kubectl's (k8s.io/kubectl/pkg/describe)
// layout field for field where the analyzers read it: HPA, Job, CronJob,
// StatefulSet, DaemonSet, PersistentVolumeClaim, Ingress, NetworkPolicy.

// describeMore describes the kinds of this file; ok is false for others.
func (k *kube) describeMore(ctx context.Context, gk string, u *unstructured.Unstructured) (string, bool) {
	var err error
	var out string
	switch gk {
	case "HorizontalPodAutoscaler.autoscaling":
		var h autoscalingv2.HorizontalPodAutoscaler
		if err = toTyped(u, &h); err == nil && strings.HasSuffix(u.GetAPIVersion(), "/v2") {
			out = tabbed(func(w *prefixWriter) { k.describeHPA(ctx, w, &h) })
		}
	case "Job.batch":
		var j batchv1.Job
		if err = toTyped(u, &j); err == nil {
			out = tabbed(func(w *prefixWriter) { k.describeJob(ctx, w, &j) })
		}
	case "CronJob.batch":
		var c batchv1.CronJob
		if err = toTyped(u, &c); err == nil {
			out = tabbed(func(w *prefixWriter) { k.describeCronJob(ctx, w, &c) })
		}
	case "StatefulSet.apps":
		var s appsv1.StatefulSet
		if err = toTyped(u, &s); err == nil {
			out = tabbed(func(w *prefixWriter) { k.describeStatefulSet(ctx, w, &s) })
		}
	case "DaemonSet.apps":
		var d appsv1.DaemonSet
		if err = toTyped(u, &d); err == nil {
			out = tabbed(func(w *prefixWriter) { k.describeDaemonSet(ctx, w, &d) })
		}
	case "PersistentVolumeClaim":
		var p corev1.PersistentVolumeClaim
		if err = toTyped(u, &p); err == nil {
			out = tabbed(func(w *prefixWriter) { k.describePVC(ctx, w, &p) })
		}
	case "Ingress.networking.k8s.io":
		var i networkingv1.Ingress
		if err = toTyped(u, &i); err == nil {
			out = tabbed(func(w *prefixWriter) { k.describeIngress(ctx, w, &i) })
		}
	case "NetworkPolicy.networking.k8s.io":
		var n networkingv1.NetworkPolicy
		if err = toTyped(u, &n); err == nil {
			out = tabbed(func(w *prefixWriter) { k.describeNetworkPolicy(ctx, w, &n) })
		}
	}
	return out, err == nil && out != ""
}

// writePodTemplate prints a workload's "Pod Template:" block.
func (k *kube) writePodTemplate(w *prefixWriter, level int, t *corev1.PodTemplateSpec) {
	w.line(level-1, "Pod Template:")
	w.writeMap(level, "Labels", t.Labels)
	if len(t.Annotations) > 0 {
		w.writeMap(level, "Annotations", t.Annotations)
	}
	if sa := t.Spec.ServiceAccountName; sa != "" {
		w.line(level, "Service Account:\t%s", sa)
	}
	if len(t.Spec.InitContainers) > 0 {
		w.line(level, "Init Containers:")
		k.writeContainers(w, level+1, t.Spec.InitContainers, nil, false)
	}
	w.line(level, "Containers:")
	k.writeContainers(w, level+1, t.Spec.Containers, nil, false)
	if len(t.Spec.Volumes) == 0 {
		w.line(level, "Volumes:\t<none>")
	} else {
		w.line(level, "Volumes:")
		for _, v := range t.Spec.Volumes {
			w.line(level+1, "%s:", v.Name)
			switch {
			case v.ConfigMap != nil:
				w.line(level+2, "Type:\tConfigMap (a volume populated by a ConfigMap)")
				w.line(level+2, "Name:\t%s", v.ConfigMap.Name)
				w.line(level+2, "Optional:\t%v", optional(v.ConfigMap.Optional))
			case v.Secret != nil:
				w.line(level+2, "Type:\tSecret (a volume populated by a Secret)")
				w.line(level+2, "SecretName:\t%s", v.Secret.SecretName)
				w.line(level+2, "Optional:\t%v", optional(v.Secret.Optional))
			case v.PersistentVolumeClaim != nil:
				w.line(level+2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)")
				w.line(level+2, "ClaimName:\t%s", v.PersistentVolumeClaim.ClaimName)
				w.line(level+2, "ReadOnly:\t%v", v.PersistentVolumeClaim.ReadOnly)
			case v.EmptyDir != nil:
				w.line(level+2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)")
			default:
				w.line(level+2, "Type:\t<other>")
			}
		}
	}
	w.line(level, "Node-Selectors:\t%s", orNone(labelsString(t.Spec.NodeSelector)))
	var tols []string
	for _, tl := range t.Spec.Tolerations {
		tols = append(tols, tolerationString(tl))
	}
	w.line(level, "Tolerations:\t%s", orNone(strings.Join(tols, "\n")))
}

func labelsString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// podsStatus counts the pods a selector matches by phase, as kubectl's
// "Pods Status:" line: "3 Running / 0 Waiting / 0 Succeeded / 0 Failed".
func (k *kube) podsStatus(ctx context.Context, ns string, sel *metav1.LabelSelector) string {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return "0 Running / 0 Waiting / 0 Succeeded / 0 Failed"
	}
	l, err := k.core.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: s.String()})
	if err != nil {
		return "<unavailable: " + strings.Join(strings.Fields(err.Error()), " ") + ">"
	}
	var running, waiting, succeeded, failed int
	for _, p := range l.Items {
		switch p.Status.Phase {
		case corev1.PodRunning:
			running++
		case corev1.PodPending:
			waiting++
		case corev1.PodSucceeded:
			succeeded++
		case corev1.PodFailed:
			failed++
		}
	}
	return fmt.Sprintf("%d Running / %d Waiting / %d Succeeded / %d Failed", running, waiting, succeeded, failed)
}

func writeWorkloadConditions(w *prefixWriter, types, statuses, reasons, messages []string) {
	if len(types) == 0 {
		return
	}
	w.line(0, "Conditions:")
	w.line(1, "Type\tStatus\tReason\tMessage")
	w.line(1, "----\t------\t------\t-------")
	for i := range types {
		w.line(1, "%s \t%s\t%s\t%s", types[i], statuses[i], reasons[i], strings.Join(strings.Fields(messages[i]), " "))
	}
}

// ---------------------------------------------------------------------------
// HorizontalPodAutoscaler (autoscaling/v2)

func (k *kube) describeHPA(ctx context.Context, w *prefixWriter, h *autoscalingv2.HorizontalPodAutoscaler) {
	w.line(0, "Name:\t%s", h.Name)
	w.line(0, "Namespace:\t%s", h.Namespace)
	w.writeMap(0, "Labels", h.Labels)
	w.writeMap(0, "Annotations", h.Annotations)
	w.line(0, "CreationTimestamp:\t%s", stamp(h.CreationTimestamp))
	w.line(0, "Reference:\t%s/%s", h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
	w.line(0, "Metrics:\t( current / target )")
	for i, m := range h.Spec.Metrics {
		var cur *autoscalingv2.MetricStatus
		if i < len(h.Status.CurrentMetrics) {
			cur = &h.Status.CurrentMetrics[i]
		}
		label, value := hpaMetric(m, cur)
		w.line(1, "%s:\t%s", label, value)
	}
	minReplicas := int32(1)
	if h.Spec.MinReplicas != nil {
		minReplicas = *h.Spec.MinReplicas
	}
	w.line(0, "Min replicas:\t%d", minReplicas)
	w.line(0, "Max replicas:\t%d", h.Spec.MaxReplicas)
	w.line(0, "%s pods:\t%d current / %d desired", h.Spec.ScaleTargetRef.Kind, h.Status.CurrentReplicas, h.Status.DesiredReplicas)
	var ts, ss, rs, ms []string
	for _, c := range h.Status.Conditions {
		ts, ss, rs, ms = append(ts, string(c.Type)), append(ss, string(c.Status)), append(rs, c.Reason), append(ms, c.Message)
	}
	writeWorkloadConditions(w, ts, ss, rs, ms)
	k.describeEvents(ctx, w, h.Namespace, "HorizontalPodAutoscaler", h.Name)
}

// hpaMetric words one metric line as kubectl does, e.g.
// `resource cpu on pods  (as a percentage of request)` and `184% (552m) / 70%`.
func hpaMetric(m autoscalingv2.MetricSpec, cur *autoscalingv2.MetricStatus) (string, string) {
	unknown := "<unknown>"
	switch m.Type {
	case autoscalingv2.ResourceMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType:
		name, target := "", autoscalingv2.MetricTarget{}
		label := ""
		var cv *autoscalingv2.MetricValueStatus
		if m.Resource != nil {
			name, target = string(m.Resource.Name), m.Resource.Target
			label = "resource " + name + " on pods"
			if cur != nil && cur.Resource != nil {
				cv = &cur.Resource.Current
			}
		} else if m.ContainerResource != nil {
			name, target = string(m.ContainerResource.Name), m.ContainerResource.Target
			label = fmt.Sprintf("resource %s of container \"%s\" on pods", name, m.ContainerResource.Container)
			if cur != nil && cur.ContainerResource != nil {
				cv = &cur.ContainerResource.Current
			}
		}
		if target.AverageUtilization != nil {
			current := unknown
			if cv != nil && cv.AverageUtilization != nil {
				current = fmt.Sprintf("%d%%", *cv.AverageUtilization)
				if cv.AverageValue != nil {
					current += fmt.Sprintf(" (%s)", cv.AverageValue.String())
				}
			}
			return label + "  (as a percentage of request)", fmt.Sprintf("%s / %d%%", current, *target.AverageUtilization)
		}
		current := unknown
		if cv != nil && cv.AverageValue != nil {
			current = cv.AverageValue.String()
		}
		tv := unknown
		if target.AverageValue != nil {
			tv = target.AverageValue.String()
		}
		return label, current + " / " + tv
	case autoscalingv2.PodsMetricSourceType:
		if m.Pods == nil {
			break
		}
		current, tv := unknown, unknown
		if cur != nil && cur.Pods != nil && cur.Pods.Current.AverageValue != nil {
			current = cur.Pods.Current.AverageValue.String()
		}
		if m.Pods.Target.AverageValue != nil {
			tv = m.Pods.Target.AverageValue.String()
		}
		return fmt.Sprintf("\"%s\" on pods", m.Pods.Metric.Name), current + " / " + tv
	case autoscalingv2.ObjectMetricSourceType:
		if m.Object == nil {
			break
		}
		current, tv := unknown, unknown
		if cur != nil && cur.Object != nil {
			if v := cur.Object.Current.Value; v != nil {
				current = v.String()
			} else if v := cur.Object.Current.AverageValue; v != nil {
				current = v.String()
			}
		}
		if v := m.Object.Target.Value; v != nil {
			tv = v.String()
		} else if v := m.Object.Target.AverageValue; v != nil {
			tv = v.String() + " (avg)"
		}
		return fmt.Sprintf("\"%s\" on %s/%s", m.Object.Metric.Name, m.Object.DescribedObject.Kind, m.Object.DescribedObject.Name), current + " / " + tv
	case autoscalingv2.ExternalMetricSourceType:
		if m.External == nil {
			break
		}
		current, tv, kind := unknown, unknown, "target value"
		if v := m.External.Target.AverageValue; v != nil {
			tv, kind = v.String(), "target average value"
			if cur != nil && cur.External != nil && cur.External.Current.AverageValue != nil {
				current = cur.External.Current.AverageValue.String()
			}
		} else if v := m.External.Target.Value; v != nil {
			tv = v.String()
			if cur != nil && cur.External != nil && cur.External.Current.Value != nil {
				current = cur.External.Current.Value.String()
			}
		}
		return fmt.Sprintf("\"%s\" (%s)", m.External.Metric.Name, kind), current + " / " + tv
	}
	return "<unknown metric type " + string(m.Type) + ">", unknown
}

// ---------------------------------------------------------------------------
// Job and CronJob

func (k *kube) describeJob(ctx context.Context, w *prefixWriter, j *batchv1.Job) {
	w.line(0, "Name:\t%s", j.Name)
	w.line(0, "Namespace:\t%s", j.Namespace)
	w.line(0, "Selector:\t%s", metav1.FormatLabelSelector(j.Spec.Selector))
	w.writeMap(0, "Labels", j.Labels)
	w.writeMap(0, "Annotations", j.Annotations)
	if c := metav1.GetControllerOf(j); c != nil {
		w.line(0, "Controlled By:\t%s/%s", c.Kind, c.Name)
	}
	if j.Spec.Parallelism != nil {
		w.line(0, "Parallelism:\t%d", *j.Spec.Parallelism)
	}
	if j.Spec.Completions != nil {
		w.line(0, "Completions:\t%d", *j.Spec.Completions)
	} else {
		w.line(0, "Completions:\t<unset>")
	}
	if j.Spec.CompletionMode != nil {
		w.line(0, "Completion Mode:\t%s", *j.Spec.CompletionMode)
	}
	if j.Spec.Suspend != nil {
		w.line(0, "Suspend:\t%v", *j.Spec.Suspend)
	}
	if j.Spec.BackoffLimit != nil {
		w.line(0, "Backoff Limit:\t%d", *j.Spec.BackoffLimit)
	}
	if j.Spec.TTLSecondsAfterFinished != nil {
		w.line(0, "TTL Seconds After Finished:\t%d", *j.Spec.TTLSecondsAfterFinished)
	}
	if j.Status.StartTime != nil {
		w.line(0, "Start Time:\t%s", stamp(*j.Status.StartTime))
	}
	if j.Status.CompletionTime != nil {
		w.line(0, "Completed At:\t%s", stamp(*j.Status.CompletionTime))
		if j.Status.StartTime != nil {
			w.line(0, "Duration:\t%s", shortDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time)))
		}
	}
	if j.Spec.ActiveDeadlineSeconds != nil {
		w.line(0, "Active Deadline Seconds:\t%ds", *j.Spec.ActiveDeadlineSeconds)
	}
	ready := int32(0)
	if j.Status.Ready != nil {
		ready = *j.Status.Ready
	}
	w.line(0, "Pods Statuses:\t%d Active (%d Ready) / %d Succeeded / %d Failed", j.Status.Active, ready, j.Status.Succeeded, j.Status.Failed)
	k.writePodTemplate(w, 1, &j.Spec.Template)
	if len(j.Status.Conditions) > 0 {
		var ts, ss, rs, ms []string
		for _, c := range j.Status.Conditions {
			ts, ss, rs, ms = append(ts, string(c.Type)), append(ss, string(c.Status)), append(rs, c.Reason), append(ms, c.Message)
		}
		writeWorkloadConditions(w, ts, ss, rs, ms)
	}
	k.describeEvents(ctx, w, j.Namespace, "Job", j.Name)
}

// shortDuration prints a duration as kubectl's describe does ("5m12s").
func shortDuration(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(d.Round(time.Second).String(), "0s"), "0m")
}

func (k *kube) describeCronJob(ctx context.Context, w *prefixWriter, c *batchv1.CronJob) {
	w.line(0, "Name:\t%s", c.Name)
	w.line(0, "Namespace:\t%s", c.Namespace)
	w.writeMap(0, "Labels", c.Labels)
	w.writeMap(0, "Annotations", c.Annotations)
	w.line(0, "Schedule:\t%s", c.Spec.Schedule)
	if c.Spec.TimeZone != nil {
		w.line(0, "Time Zone:\t%s", *c.Spec.TimeZone)
	}
	w.line(0, "Concurrency Policy:\t%s", c.Spec.ConcurrencyPolicy)
	suspend := c.Spec.Suspend != nil && *c.Spec.Suspend
	w.line(0, "Suspend:\t%s", boolString(suspend))
	intOrUnset := func(p *int32) string {
		if p == nil {
			return "<unset>"
		}
		return fmt.Sprint(*p)
	}
	w.line(0, "Successful Job History Limit:\t%s", intOrUnset(c.Spec.SuccessfulJobsHistoryLimit))
	w.line(0, "Failed Job History Limit:\t%s", intOrUnset(c.Spec.FailedJobsHistoryLimit))
	if c.Spec.StartingDeadlineSeconds != nil {
		w.line(0, "Starting Deadline Seconds:\t%ds", *c.Spec.StartingDeadlineSeconds)
	} else {
		w.line(0, "Starting Deadline Seconds:\t<unset>")
	}
	js := c.Spec.JobTemplate.Spec
	if js.Selector != nil {
		w.line(0, "Selector:\t%s", metav1.FormatLabelSelector(js.Selector))
	} else {
		w.line(0, "Selector:\t<unset>")
	}
	w.line(0, "Parallelism:\t%s", intOrUnset(js.Parallelism))
	w.line(0, "Completions:\t%s", intOrUnset(js.Completions))
	if js.ActiveDeadlineSeconds != nil {
		w.line(0, "Active Deadline Seconds:\t%ds", *js.ActiveDeadlineSeconds)
	}
	k.writePodTemplate(w, 1, &js.Template)
	if c.Status.LastScheduleTime != nil {
		w.line(0, "Last Schedule Time:\t%s", stamp(*c.Status.LastScheduleTime))
	} else {
		w.line(0, "Last Schedule Time:\t<unset>")
	}
	if c.Status.LastSuccessfulTime != nil {
		w.line(0, "Last Successful Time:\t%s", stamp(*c.Status.LastSuccessfulTime))
	}
	var active []string
	for _, j := range c.Status.Active {
		active = append(active, j.Name)
	}
	w.line(0, "Active Jobs:\t%s", orNone(strings.Join(active, ", ")))
	k.describeEvents(ctx, w, c.Namespace, "CronJob", c.Name)
}

// ---------------------------------------------------------------------------
// StatefulSet and DaemonSet

func (k *kube) describeStatefulSet(ctx context.Context, w *prefixWriter, s *appsv1.StatefulSet) {
	w.line(0, "Name:\t%s", s.Name)
	w.line(0, "Namespace:\t%s", s.Namespace)
	w.line(0, "CreationTimestamp:\t%s", stamp(s.CreationTimestamp))
	w.line(0, "Selector:\t%s", metav1.FormatLabelSelector(s.Spec.Selector))
	w.writeMap(0, "Labels", s.Labels)
	w.writeMap(0, "Annotations", s.Annotations)
	w.line(0, "Replicas:\t%d desired | %d total", replicas(s.Spec.Replicas), s.Status.Replicas)
	w.line(0, "Update Strategy:\t%s", s.Spec.UpdateStrategy.Type)
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		w.line(1, "Partition:\t%d", *ru.Partition)
	}
	w.line(0, "Pods Status:\t%s", k.podsStatus(ctx, s.Namespace, s.Spec.Selector))
	k.writePodTemplate(w, 1, &s.Spec.Template)
	if len(s.Spec.VolumeClaimTemplates) == 0 {
		w.line(0, "Volume Claims:\t<none>")
	} else {
		w.line(0, "Volume Claims:")
		for _, p := range s.Spec.VolumeClaimTemplates {
			w.line(1, "Name:\t%s", p.Name)
			sc := ""
			if p.Spec.StorageClassName != nil {
				sc = *p.Spec.StorageClassName
			}
			w.line(1, "StorageClass:\t%s", sc)
			w.writeMap(1, "Labels", p.Labels)
			w.writeMap(1, "Annotations", p.Annotations)
			if q, ok := p.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
				w.line(1, "Capacity:\t%s", q.String())
			} else {
				w.line(1, "Capacity:\t<default>")
			}
			var modes []string
			for _, m := range p.Spec.AccessModes {
				modes = append(modes, string(m))
			}
			w.line(1, "Access Modes:\t[%s]", strings.Join(modes, " "))
		}
	}
	k.describeEvents(ctx, w, s.Namespace, "StatefulSet", s.Name)
}

func (k *kube) describeDaemonSet(ctx context.Context, w *prefixWriter, d *appsv1.DaemonSet) {
	w.line(0, "Name:\t%s", d.Name)
	w.line(0, "Namespace:\t%s", d.Namespace)
	w.line(0, "Selector:\t%s", metav1.FormatLabelSelector(d.Spec.Selector))
	w.line(0, "Node-Selector:\t%s", orNone(labelsString(d.Spec.Template.Spec.NodeSelector)))
	w.writeMap(0, "Labels", d.Labels)
	w.writeMap(0, "Annotations", d.Annotations)
	w.line(0, "Desired Number of Nodes Scheduled:\t%d", d.Status.DesiredNumberScheduled)
	w.line(0, "Current Number of Nodes Scheduled:\t%d", d.Status.CurrentNumberScheduled)
	w.line(0, "Number of Nodes Scheduled with Up-to-date Pods:\t%d", d.Status.UpdatedNumberScheduled)
	w.line(0, "Number of Nodes Scheduled with Available Pods:\t%d", d.Status.NumberAvailable)
	w.line(0, "Number of Nodes Misscheduled:\t%d", d.Status.NumberMisscheduled)
	w.line(0, "Pods Status:\t%s", k.podsStatus(ctx, d.Namespace, d.Spec.Selector))
	k.writePodTemplate(w, 1, &d.Spec.Template)
	k.describeEvents(ctx, w, d.Namespace, "DaemonSet", d.Name)
}

// ---------------------------------------------------------------------------
// PersistentVolumeClaim

func (k *kube) describePVC(ctx context.Context, w *prefixWriter, p *corev1.PersistentVolumeClaim) {
	w.line(0, "Name:\t%s", p.Name)
	w.line(0, "Namespace:\t%s", p.Namespace)
	sc := ""
	if p.Spec.StorageClassName != nil {
		sc = *p.Spec.StorageClassName
	}
	w.line(0, "StorageClass:\t%s", sc)
	if p.DeletionTimestamp != nil {
		w.line(0, "Status:\tTerminating (lasts %s)", k.age(p.DeletionTimestamp.Time))
	} else {
		w.line(0, "Status:\t%s", p.Status.Phase)
	}
	w.line(0, "Volume:\t%s", p.Spec.VolumeName)
	w.writeMap(0, "Labels", p.Labels)
	w.writeMap(0, "Annotations", p.Annotations)
	w.line(0, "Finalizers:\t[%s]", strings.Join(p.Finalizers, " "))
	capacity, modes := "", ""
	if p.Spec.VolumeName != "" {
		if q, ok := p.Status.Capacity[corev1.ResourceStorage]; ok {
			capacity = q.String()
		}
		var ms []string
		for _, m := range p.Status.AccessModes {
			ms = append(ms, accessModeShort(m))
		}
		modes = strings.Join(ms, ",")
	}
	w.line(0, "Capacity:\t%s", capacity)
	w.line(0, "Access Modes:\t%s", modes)
	if p.Spec.VolumeMode != nil {
		w.line(0, "VolumeMode:\t%s", *p.Spec.VolumeMode)
	}
	if ds := p.Spec.DataSource; ds != nil {
		w.line(0, "DataSource:")
		w.line(1, "Kind:\t%s", ds.Kind)
		w.line(1, "Name:\t%s", ds.Name)
	}
	w.line(0, "Used By:\t%s", orNone(strings.Join(k.pvcUsers(ctx, p), "\n")))
	k.describeEvents(ctx, w, p.Namespace, "PersistentVolumeClaim", p.Name)
}

func accessModeShort(m corev1.PersistentVolumeAccessMode) string {
	switch m {
	case corev1.ReadWriteOnce:
		return "RWO"
	case corev1.ReadOnlyMany:
		return "ROX"
	case corev1.ReadWriteMany:
		return "RWX"
	case corev1.ReadWriteOncePod:
		return "RWOP"
	}
	return string(m)
}

// pvcUsers lists the pods in the claim's namespace that mount it.
func (k *kube) pvcUsers(ctx context.Context, p *corev1.PersistentVolumeClaim) []string {
	l, err := k.core.CoreV1().Pods(p.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return []string{"<unavailable>"}
	}
	var out []string
	for _, pod := range l.Items {
		for _, v := range pod.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == p.Name {
				out = append(out, pod.Name)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------------------
// Ingress

func (k *kube) describeIngress(ctx context.Context, w *prefixWriter, ing *networkingv1.Ingress) {
	w.line(0, "Name:\t%s", ing.Name)
	w.writeMap(0, "Labels", ing.Labels)
	w.line(0, "Namespace:\t%s", ing.Namespace)
	var addrs []string
	for _, a := range ing.Status.LoadBalancer.Ingress {
		if a.IP != "" {
			addrs = append(addrs, a.IP)
		} else if a.Hostname != "" {
			addrs = append(addrs, a.Hostname)
		}
	}
	w.line(0, "Address:\t%s", strings.Join(addrs, ","))
	class := "<none>"
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	w.line(0, "Ingress Class:\t%s", class)
	if b := ing.Spec.DefaultBackend; b != nil {
		w.line(0, "Default backend:\t%s", k.ingressBackend(ctx, ing.Namespace, b))
	} else {
		w.line(0, "Default backend:\t<default>")
	}
	if len(ing.Spec.TLS) > 0 {
		w.line(0, "TLS:")
		for _, t := range ing.Spec.TLS {
			if t.SecretName == "" {
				w.line(1, "SNI routes %s", strings.Join(t.Hosts, ","))
			} else {
				w.line(1, "%s terminates %s", t.SecretName, strings.Join(t.Hosts, ","))
			}
		}
	}
	w.line(0, "Rules:")
	w.line(1, "Host\tPath\tBackends")
	w.line(1, "----\t----\t--------")
	if len(ing.Spec.Rules) == 0 && ing.Spec.DefaultBackend != nil {
		w.line(1, "*\t*\t%s", k.ingressBackend(ctx, ing.Namespace, ing.Spec.DefaultBackend))
	}
	for _, r := range ing.Spec.Rules {
		host := r.Host
		if host == "" {
			host = "*"
		}
		w.line(1, "%s\t", host)
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			w.line(1, "\t%s \t%s", p.Path, k.ingressBackend(ctx, ing.Namespace, &p.Backend))
		}
	}
	w.writeMap(0, "Annotations", ing.Annotations)
	k.describeEvents(ctx, w, ing.Namespace, "Ingress", ing.Name)
}

// ingressBackend prints "svc:port (endpoints)" as kubectl does, with the
// error kubectl prints when the Service has no Endpoints object.
func (k *kube) ingressBackend(ctx context.Context, ns string, b *networkingv1.IngressBackend) string {
	if b.Service == nil {
		if b.Resource != nil {
			return fmt.Sprintf("APIGroup: %v, Kind: %s, Name: %s", ptrString(b.Resource.APIGroup), b.Resource.Kind, b.Resource.Name)
		}
		return "<none>"
	}
	port := b.Service.Port.Name
	if port == "" {
		port = fmt.Sprint(b.Service.Port.Number)
	}
	svc := b.Service.Name + ":" + port
	ep, err := k.core.CoreV1().Endpoints(ns).Get(ctx, b.Service.Name, metav1.GetOptions{}) //nolint:staticcheck // kubectl reads Endpoints here too
	if err != nil {
		if _, ok := notFound(err); ok {
			return fmt.Sprintf("%s (<error: endpoints %q not found>)", svc, b.Service.Name)
		}
		return fmt.Sprintf("%s (<error: %s>)", svc, strings.Join(strings.Fields(err.Error()), " "))
	}
	var addrs []string
	for _, s := range ep.Subsets {
		for _, a := range s.Addresses {
			for _, p := range s.Ports {
				if b.Service.Port.Name != "" && p.Name != b.Service.Port.Name {
					continue
				}
				addrs = append(addrs, fmt.Sprintf("%s:%d", a.IP, p.Port))
			}
		}
	}
	if len(addrs) == 0 {
		return svc + " ()"
	}
	return svc + " (" + strings.Join(addrs, ",") + ")"
}

func ptrString(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// ---------------------------------------------------------------------------
// NetworkPolicy

func (k *kube) describeNetworkPolicy(ctx context.Context, w *prefixWriter, n *networkingv1.NetworkPolicy) {
	w.line(0, "Name:\t%s", n.Name)
	w.line(0, "Namespace:\t%s", n.Namespace)
	w.line(0, "Created on:\t%s", n.CreationTimestamp.UTC().Format("2006-01-02 15:04:05 -0700 MST"))
	w.writeMap(0, "Labels", n.Labels)
	w.writeMap(0, "Annotations", n.Annotations)
	w.line(0, "Spec:")
	if len(n.Spec.PodSelector.MatchLabels) == 0 && len(n.Spec.PodSelector.MatchExpressions) == 0 {
		w.line(1, "PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)")
	} else {
		w.line(1, "PodSelector:     %s", metav1.FormatLabelSelector(&n.Spec.PodSelector))
	}
	ingress, egress := false, false
	for _, t := range n.Spec.PolicyTypes {
		ingress = ingress || t == networkingv1.PolicyTypeIngress
		egress = egress || t == networkingv1.PolicyTypeEgress
	}
	if len(n.Spec.PolicyTypes) == 0 {
		ingress, egress = true, len(n.Spec.Egress) > 0
	}
	if ingress {
		w.line(1, "Allowing ingress traffic:")
		if len(n.Spec.Ingress) == 0 {
			w.line(2, "<none> (Selected pods are isolated for ingress connectivity)")
		}
		for i, r := range n.Spec.Ingress {
			if i > 0 {
				w.line(2, "----------")
			}
			writePolicyPorts(w, "To Port", r.Ports)
			writePolicyPeers(w, "From", r.From)
		}
	} else {
		w.line(1, "Not affecting ingress traffic")
	}
	if egress {
		w.line(1, "Allowing egress traffic:")
		if len(n.Spec.Egress) == 0 {
			w.line(2, "<none> (Selected pods are isolated for egress connectivity)")
		}
		for i, r := range n.Spec.Egress {
			if i > 0 {
				w.line(2, "----------")
			}
			writePolicyPorts(w, "To Port", r.Ports)
			writePolicyPeers(w, "To", r.To)
		}
	} else {
		w.line(1, "Not affecting egress traffic")
	}
	var types []string
	for _, t := range n.Spec.PolicyTypes {
		types = append(types, string(t))
	}
	if len(types) == 0 {
		types = []string{"Ingress"}
		if egress {
			types = append(types, "Egress")
		}
	}
	w.line(1, "Policy Types: %s", strings.Join(types, ", "))
}

func writePolicyPorts(w *prefixWriter, label string, ports []networkingv1.NetworkPolicyPort) {
	if len(ports) == 0 {
		w.line(2, "%s: <any> (traffic allowed to all ports)", label)
		return
	}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		port := "<any>"
		if p.Port != nil {
			port = p.Port.String()
		}
		if p.EndPort != nil {
			port += fmt.Sprintf("-%d", *p.EndPort)
		}
		w.line(2, "%s: %s/%s", label, port, proto)
	}
}

func writePolicyPeers(w *prefixWriter, label string, peers []networkingv1.NetworkPolicyPeer) {
	if len(peers) == 0 {
		src := "sources"
		if label == "To" {
			src = "destinations"
		}
		w.line(2, "%s: <any> (traffic not restricted by %s)", label, src)
		return
	}
	for _, p := range peers {
		w.line(2, "%s:", label)
		switch {
		case p.PodSelector != nil && p.NamespaceSelector != nil:
			w.line(3, "NamespaceSelector: %s", metav1.FormatLabelSelector(p.NamespaceSelector))
			w.line(3, "PodSelector: %s", metav1.FormatLabelSelector(p.PodSelector))
		case p.PodSelector != nil:
			w.line(3, "PodSelector: %s", metav1.FormatLabelSelector(p.PodSelector))
		case p.NamespaceSelector != nil:
			w.line(3, "NamespaceSelector: %s", metav1.FormatLabelSelector(p.NamespaceSelector))
		case p.IPBlock != nil:
			w.line(3, "IPBlock:")
			w.line(4, "CIDR: %s", p.IPBlock.CIDR)
			w.line(4, "Except: %s", strings.Join(p.IPBlock.Except, ", "))
		}
	}
}

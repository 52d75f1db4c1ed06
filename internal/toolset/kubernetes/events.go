package kubernetes

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

func (k *kube) events(ctx context.Context, a args) (string, error) {
	ns, err := a.name("namespace", false)
	if err != nil {
		return "", err
	}
	kind, err := a.str("kind", false)
	if err != nil {
		return "", err
	}
	name, err := a.name("name", false)
	if err != nil {
		return "", err
	}
	if kind != "" {
		// "po", "pods" → Pod; a kind the server does not know is matched as spelled.
		if m, rerr := k.resolve(a, "kind", kind); rerr == nil {
			kind = m.GroupVersionKind.Kind
		}
	}
	evs, err := k.listEvents(ctx, ns, kind, name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", a.tool, err)
	}
	if len(evs) == 0 {
		return nsOrAll(ns), nil
	}
	return k.eventTable(evs, ns == ""), nil
}

// listEvents lists core/v1 events in ns ("" = all) about objects of kind
// and name (either may be ""), oldest first.
func (k *kube) listEvents(ctx context.Context, ns, kind, name string) ([]corev1.Event, error) {
	sel := fields.Set{}
	if kind != "" {
		sel["involvedObject.kind"] = kind
	}
	if name != "" {
		sel["involvedObject.name"] = name
	}
	l, err := k.core.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: sel.AsSelector().String()})
	if err != nil {
		return nil, err
	}
	var out []corev1.Event
	for _, e := range l.Items { // the server filters too; this keeps fakes and proxies honest
		if kind != "" && !strings.EqualFold(e.InvolvedObject.Kind, kind) || name != "" && e.InvolvedObject.Name != name {
			continue
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return lastSeen(&out[i]).Before(lastSeen(&out[j])) })
	return out, nil
}

// lastSeen is when an event last happened, whichever field says it.
func lastSeen(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

func firstSeen(e *corev1.Event) time.Time {
	switch {
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return lastSeen(e)
}

func eventCount(e *corev1.Event) int32 {
	if e.Series != nil && e.Series.Count > 0 {
		return e.Series.Count
	}
	return e.Count
}

// eventAge is "84s", or "84s (x120 over 30m)" for a repeated event, as
// kubectl events and kubectl describe print it.
func (k *kube) eventAge(e *corev1.Event) string {
	last := k.age(lastSeen(e))
	if n := eventCount(e); n > 1 {
		return fmt.Sprintf("%s (x%d over %s)", last, n, k.age(firstSeen(e)))
	}
	return last
}

// eventTable is `kubectl events` / `kubectl get events`: LAST SEEN, TYPE,
// REASON, OBJECT, MESSAGE (NAMESPACE first across namespaces).
func (k *kube) eventTable(evs []corev1.Event, allNS bool) string {
	sort.SliceStable(evs, func(i, j int) bool { return lastSeen(&evs[i]).Before(lastSeen(&evs[j])) })
	header := []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}
	if allNS {
		header = append([]string{"NAMESPACE"}, header...)
	}
	rows := make([][]string, 0, len(evs))
	for i := range evs {
		e := &evs[i]
		r := []string{k.eventAge(e), e.Type, e.Reason, kindRef(e.InvolvedObject.Kind, e.InvolvedObject.Name),
			strings.TrimSpace(e.Message)}
		if allNS {
			r = append([]string{e.Namespace}, r...)
		}
		rows = append(rows, r)
	}
	return table(header, rows)
}

// writeEvents prints describe's Events: block.
func (k *kube) writeEvents(w *prefixWriter, evs []corev1.Event) {
	if len(evs) == 0 {
		w.line(0, "Events:\t<none>")
		return
	}
	w.line(0, "Events:")
	w.line(1, "Type\tReason\tAge\tFrom\tMessage")
	w.line(1, "----\t------\t----\t----\t-------")
	for i := range evs {
		e := &evs[i]
		from := e.Source.Component
		if from == "" {
			from = e.ReportingController
		}
		w.line(1, "%s\t%s\t%s\t%s\t%s", e.Type, e.Reason, k.eventAge(e), from,
			strings.Join(strings.Fields(e.Message), " "))
	}
}

// describeEvents prints the Events: block about one object (a note when
// they could not be listed).
func (k *kube) describeEvents(ctx context.Context, w *prefixWriter, ns, kind, name string) {
	evs, err := k.listEvents(ctx, ns, kind, name)
	if err != nil {
		w.line(0, "Events:\t<unavailable: %s>", strings.Join(strings.Fields(err.Error()), " "))
		return
	}
	k.writeEvents(w, evs)
}

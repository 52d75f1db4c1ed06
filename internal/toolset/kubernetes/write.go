package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/aurora-oss/aurora/internal/toolset"
)

// The writing tools change a workload the way kubectl does. They are
// toolset.Writers: ReadOnly is false, and Propose (which only reads) says
// what a call would do, its risk and how to undo it. Callers must have a
// human approve the proposal before Call; background investigations never
// call them.

// restartedAtAnnotation is the pod-template annotation `kubectl rollout
// restart` sets; changing the template makes the controller replace pods.
const restartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// Annotations a rollback keeps from the deployment rather than copying from
// the ReplicaSet (kubectl's annotationsToSkip).
var rollbackSkipAnnotations = map[string]bool{
	corev1.LastAppliedConfigAnnotation:          true,
	revisionAnnotation:                          true,
	"deployment.kubernetes.io/revision-history": true,
	"deployment.kubernetes.io/desired-replicas": true,
	"deployment.kubernetes.io/max-replicas":     true,
	"deprecated.deployment.rollback.to":         true,
}

// maxScaleReplicas bounds kubernetes.scale's replicas: a typo of 10000 for
// 10 should fail here, not at the scheduler.
const maxScaleReplicas = 1000

// writer is one writing tool.
type writer struct {
	name, desc, params string
	cs                 *clusterSet
	propose            func(k *kube, ctx context.Context, w workload, a args) (toolset.Proposal, error)
	call               func(k *kube, ctx context.Context, w workload, a args) (string, error)
	kinds              []string // the workload kinds the tool accepts
}

var _ toolset.Writer = (*writer)(nil)

func (w *writer) Name() string                { return w.name }
func (w *writer) Description() string         { return w.desc }
func (w *writer) Parameters() json.RawMessage { return json.RawMessage(w.cs.withCluster(w.params)) }
func (w *writer) ReadOnly() bool              { return false }
func (w *writer) Timeout() time.Duration      { return w.cs.timeout }

// Clusters implements toolset.Clustered.
func (w *writer) Clusters() []string { return append([]string(nil), w.cs.names...) }

// prepare checks the arguments and picks the cluster.
func (w *writer) prepare(raw map[string]any) (*kube, workload, args, error) {
	a := args{tool: w.name, m: raw}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	_ = json.Unmarshal(w.Parameters(), &schema)
	for key := range raw {
		if _, ok := schema.Properties[key]; !ok {
			return nil, workload{}, a, fmt.Errorf("%s: unknown argument %q", w.name, key)
		}
	}
	k, err := w.cs.pick(a)
	if err != nil {
		return nil, workload{}, a, err
	}
	wl, err := readWorkload(a, w.kinds)
	return k, wl, a, err
}

// Propose implements toolset.Writer: it reads the object's current state.
func (w *writer) Propose(ctx context.Context, raw map[string]any) (toolset.Proposal, error) {
	k, wl, a, err := w.prepare(raw)
	if err != nil {
		return toolset.Proposal{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.cs.timeout)
	defer cancel()
	p, err := w.propose(k, ctx, wl, a)
	if err != nil {
		return toolset.Proposal{}, fmt.Errorf("%s: %w", w.name, err)
	}
	return p, nil
}

// Call implements toolset.Tool: it changes the object.
func (w *writer) Call(ctx context.Context, raw map[string]any) (toolset.Result, error) {
	k, wl, a, err := w.prepare(raw)
	if err != nil {
		return toolset.Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.cs.timeout)
	defer cancel()
	out, err := w.call(k, ctx, wl, a)
	if err != nil {
		return toolset.Result{}, fmt.Errorf("%s: %w", w.name, err)
	}
	return toolset.Result{Output: out}, nil
}

// workload names the object a writing tool acts on.
type workload struct {
	kind      string // deployment, statefulset, daemonset or replicaset
	name, ns  string
	cluster   string
	reference string // kubectl's TYPE/NAME, e.g. deployment/cart
}

// kubectl prints the changed object as resource.group/name.
func (w workload) printed() string { return w.kind + ".apps/" + w.name }

// command is the kubectl command line of an action on the workload.
func (w workload) command(verb string, flags ...string) string {
	parts := []string{"kubectl"}
	if w.cluster != "" {
		parts = append(parts, "--context", w.cluster)
	}
	parts = append(parts, "-n", w.ns, verb, w.reference)
	return strings.Join(append(parts, flags...), " ")
}

var workloadKinds = map[string]string{
	"deployment": "deployment", "deployments": "deployment", "deploy": "deployment", "deployments.apps": "deployment",
	"statefulset": "statefulset", "statefulsets": "statefulset", "sts": "statefulset", "statefulsets.apps": "statefulset",
	"daemonset": "daemonset", "daemonsets": "daemonset", "ds": "daemonset", "daemonsets.apps": "daemonset",
	"replicaset": "replicaset", "replicasets": "replicaset", "rs": "replicaset", "replicasets.apps": "replicaset",
}

func readWorkload(a args, allowed []string) (workload, error) {
	kind, err := a.str("kind", true)
	if err != nil {
		return workload{}, err
	}
	norm, ok := workloadKinds[strings.ToLower(kind)]
	if !ok || !contains(allowed, norm) {
		return workload{}, a.errorf("kind", "%q is not supported: %s works on %s", kind, a.tool, strings.Join(allowed, ", "))
	}
	name, err := a.name("name", true)
	if err != nil {
		return workload{}, err
	}
	ns, err := a.name("namespace", true)
	if err != nil {
		return workload{}, err
	}
	cluster, _ := a.str("cluster", false)
	return workload{kind: norm, name: name, ns: ns, cluster: cluster, reference: norm + "/" + name}, nil
}

func (cs *clusterSet) writeTools() []toolset.Tool {
	target := `"kind":{"type":"string","description":"%s"},` +
		`"name":{"type":"string","description":"object name"},` +
		`"namespace":{"type":"string","description":"namespace"}`
	return []toolset.Tool{
		&writer{cs: cs, name: "kubernetes.rollout_restart", kinds: []string{"deployment", "statefulset", "daemonset"},
			desc: "WRITES: restart a workload's pods as `kubectl rollout restart` does (sets the pod template's " +
				restartedAtAnnotation + " annotation; the controller replaces pods by its update strategy). Risk low; needs approval.",
			params: `{"type":"object","properties":{` + fmt.Sprintf(target, "deployment, statefulset or daemonset") +
				`},"required":["kind","name","namespace"],"additionalProperties":false}`,
			propose: proposeRestart, call: restart},
		&writer{cs: cs, name: "kubernetes.scale", kinds: []string{"deployment", "statefulset", "replicaset"},
			desc: "WRITES: set a workload's replica count as `kubectl scale` does (the scale subresource). " +
				"Risk medium; undo scales back to the count read when proposing; needs approval.",
			params: `{"type":"object","properties":{` + fmt.Sprintf(target, "deployment, statefulset or replicaset") +
				`,"replicas":{"type":"integer","minimum":0,"maximum":` + strconv.Itoa(maxScaleReplicas) + `,"description":"new replica count"}` +
				`},"required":["kind","name","namespace","replicas"],"additionalProperties":false}`,
			propose: proposeScale, call: scale},
		&writer{cs: cs, name: "kubernetes.rollout_undo", kinds: []string{"deployment"},
			desc: "WRITES: roll a deployment back to an earlier revision as `kubectl rollout undo` does (its pod template " +
				"from that revision's ReplicaSet; default the previous revision). Risk medium; undo rolls forward to the " +
				"revision read when proposing; needs approval.",
			params: `{"type":"object","properties":{` + fmt.Sprintf(target, "deployment") +
				`,"to_revision":{"type":"integer","minimum":1,"description":"revision to roll back to (default: the previous one)"}` +
				`},"required":["kind","name","namespace"],"additionalProperties":false}`,
			propose: proposeUndo, call: undo},
	}
}

// ---------------------------------------------------------------------------
// rollout restart

// template reads the pod template (and paused flag) of a workload.
func (k *kube) podTemplate(ctx context.Context, w workload) (*corev1.PodTemplateSpec, bool, error) {
	switch w.kind {
	case "deployment":
		d, err := k.core.AppsV1().Deployments(w.ns).Get(ctx, w.name, metav1.GetOptions{})
		if err != nil {
			return nil, false, err
		}
		return &d.Spec.Template, d.Spec.Paused, nil
	case "statefulset":
		s, err := k.core.AppsV1().StatefulSets(w.ns).Get(ctx, w.name, metav1.GetOptions{})
		if err != nil {
			return nil, false, err
		}
		return &s.Spec.Template, false, nil
	case "daemonset":
		d, err := k.core.AppsV1().DaemonSets(w.ns).Get(ctx, w.name, metav1.GetOptions{})
		if err != nil {
			return nil, false, err
		}
		return &d.Spec.Template, false, nil
	}
	return nil, false, fmt.Errorf("%s cannot be restarted", w.kind)
}

func proposeRestart(k *kube, ctx context.Context, w workload, _ args) (toolset.Proposal, error) {
	if _, paused, err := k.podTemplate(ctx, w); err != nil {
		return toolset.Proposal{}, err
	} else if paused {
		return toolset.Proposal{}, fmt.Errorf("can't restart paused deployment (run rollout resume first)")
	}
	return toolset.Proposal{Command: w.command("rollout restart"), Risk: toolset.RiskLow,
		Undo: "none needed: the new pods run the same template; only the " + restartedAtAnnotation + " annotation changes"}, nil
}

func restart(k *kube, ctx context.Context, w workload, _ args) (string, error) {
	if _, paused, err := k.podTemplate(ctx, w); err != nil {
		return "", err
	} else if paused {
		return "", errors.New("can't restart paused deployment (run rollout resume first)")
	}
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{restartedAtAnnotation: k.now().Format(time.RFC3339)}}}}})
	opts := metav1.PatchOptions{FieldManager: "kubectl-rollout"}
	var err error
	switch w.kind {
	case "deployment":
		_, err = k.core.AppsV1().Deployments(w.ns).Patch(ctx, w.name, types.StrategicMergePatchType, patch, opts)
	case "statefulset":
		_, err = k.core.AppsV1().StatefulSets(w.ns).Patch(ctx, w.name, types.StrategicMergePatchType, patch, opts)
	case "daemonset":
		_, err = k.core.AppsV1().DaemonSets(w.ns).Patch(ctx, w.name, types.StrategicMergePatchType, patch, opts)
	}
	if err != nil {
		return "", err
	}
	return w.printed() + " restarted\n", nil
}

// ---------------------------------------------------------------------------
// scale

func (k *kube) currentScale(ctx context.Context, w workload) (int32, error) {
	var (
		s   *autoscalingv1.Scale
		err error
	)
	switch w.kind {
	case "deployment":
		s, err = k.core.AppsV1().Deployments(w.ns).GetScale(ctx, w.name, metav1.GetOptions{})
	case "statefulset":
		s, err = k.core.AppsV1().StatefulSets(w.ns).GetScale(ctx, w.name, metav1.GetOptions{})
	case "replicaset":
		s, err = k.core.AppsV1().ReplicaSets(w.ns).GetScale(ctx, w.name, metav1.GetOptions{})
	default:
		return 0, fmt.Errorf("%s cannot be scaled", w.kind)
	}
	if err != nil {
		return 0, err
	}
	return s.Spec.Replicas, nil
}

func replicasArg(a args) (int32, error) {
	if _, ok := a.m["replicas"]; !ok {
		return 0, a.errorf("replicas", "is required")
	}
	n, err := a.integer("replicas", 0, 0, maxScaleReplicas)
	return int32(n), err
}

func proposeScale(k *kube, ctx context.Context, w workload, a args) (toolset.Proposal, error) {
	n, err := replicasArg(a)
	if err != nil {
		return toolset.Proposal{}, err
	}
	cur, err := k.currentScale(ctx, w)
	if err != nil {
		return toolset.Proposal{}, err
	}
	return toolset.Proposal{Command: w.command("scale", "--replicas="+strconv.Itoa(int(n))), Risk: toolset.RiskMedium,
		Undo: w.command("scale", "--replicas="+strconv.Itoa(int(cur))) + fmt.Sprintf(" (the count read before the change: %d)", cur)}, nil
}

func scale(k *kube, ctx context.Context, w workload, a args) (string, error) {
	n, err := replicasArg(a)
	if err != nil {
		return "", err
	}
	// As kubectl scale without preconditions: a merge patch of the scale
	// subresource, so no read-modify-write race with the autoscaler.
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, n))
	opts := metav1.PatchOptions{}
	switch w.kind {
	case "deployment":
		_, err = k.core.AppsV1().Deployments(w.ns).Patch(ctx, w.name, types.MergePatchType, patch, opts, "scale")
	case "statefulset":
		_, err = k.core.AppsV1().StatefulSets(w.ns).Patch(ctx, w.name, types.MergePatchType, patch, opts, "scale")
	case "replicaset":
		_, err = k.core.AppsV1().ReplicaSets(w.ns).Patch(ctx, w.name, types.MergePatchType, patch, opts, "scale")
	}
	if err != nil {
		return "", err
	}
	return w.printed() + " scaled\n", nil
}

// ---------------------------------------------------------------------------
// rollout undo

// rollbackTarget finds the deployment and the ReplicaSet of the revision to
// roll back to (toRevision 0: the newest revision before the current one),
// as kubectl's DeploymentRollbacker does.
func (k *kube) rollbackTarget(ctx context.Context, w workload, toRevision int64) (*appsv1.Deployment, *appsv1.ReplicaSet, error) {
	d, err := k.core.AppsV1().Deployments(w.ns).Get(ctx, w.name, metav1.GetOptions{})
	if err != nil {
		return nil, nil, err
	}
	if d.Spec.Paused {
		return nil, nil, errors.New("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again")
	}
	rss, err := k.ownedReplicaSets(ctx, d)
	if err != nil {
		return nil, nil, err
	}
	current, _ := strconv.ParseInt(d.Annotations[revisionAnnotation], 10, 64)
	var best *appsv1.ReplicaSet
	var bestRev int64
	for i := range rss {
		rev, err := strconv.ParseInt(rss[i].Annotations[revisionAnnotation], 10, 64)
		if err != nil {
			continue
		}
		if toRevision > 0 {
			if rev == toRevision {
				return d, &rss[i], nil
			}
			continue
		}
		if rev < current && rev > bestRev {
			best, bestRev = &rss[i], rev
		}
	}
	if toRevision > 0 {
		return nil, nil, fmt.Errorf("unable to find specified revision %d in history", toRevision)
	}
	if best == nil {
		return nil, nil, fmt.Errorf("no rollout history found for deployment %q", w.name)
	}
	return d, best, nil
}

// templateMatches compares pod templates ignoring the pod-template-hash
// label, as kubectl does before a rollback.
func templateMatches(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(b.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return apiequality.Semantic.DeepEqual(a, b)
}

func proposeUndo(k *kube, ctx context.Context, w workload, a args) (toolset.Proposal, error) {
	to, err := a.integer("to_revision", 0, 1, 1<<31)
	if err != nil {
		return toolset.Proposal{}, err
	}
	d, rs, err := k.rollbackTarget(ctx, w, to)
	if err != nil {
		return toolset.Proposal{}, err
	}
	cur := d.Annotations[revisionAnnotation]
	flags := []string{}
	if to > 0 {
		flags = append(flags, "--to-revision="+strconv.FormatInt(to, 10))
	}
	p := toolset.Proposal{Command: w.command("rollout undo", flags...), Risk: toolset.RiskMedium}
	if cur != "" {
		p.Undo = w.command("rollout undo", "--to-revision="+cur) +
			fmt.Sprintf(" (roll forward to revision %s, current before the change; rolling back makes revision %s the newest)", cur, rs.Annotations[revisionAnnotation])
	} else {
		p.Undo = "the deployment records no current revision; roll forward by reapplying its manifest"
	}
	return p, nil
}

func undo(k *kube, ctx context.Context, w workload, a args) (string, error) {
	to, err := a.integer("to_revision", 0, 1, 1<<31)
	if err != nil {
		return "", err
	}
	d, rs, err := k.rollbackTarget(ctx, w, to)
	if err != nil {
		return "", err
	}
	if templateMatches(&rs.Spec.Template, &d.Spec.Template) {
		return fmt.Sprintf("%s skipped rollback (current template already matches revision %s)\n", w.printed(), rs.Annotations[revisionAnnotation]), nil
	}
	tmpl := rs.Spec.Template.DeepCopy()
	delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	annotations := map[string]string{}
	for key := range rollbackSkipAnnotations {
		if v, ok := d.Annotations[key]; ok {
			annotations[key] = v
		}
	}
	for key, v := range rs.Annotations {
		if !rollbackSkipAnnotations[key] {
			annotations[key] = v
		}
	}
	patch, err := json.Marshal([]any{
		map[string]any{"op": "replace", "path": "/spec/template", "value": tmpl},
		map[string]any{"op": "replace", "path": "/metadata/annotations", "value": annotations},
	})
	if err != nil {
		return "", err
	}
	if _, err := k.core.AppsV1().Deployments(w.ns).Patch(ctx, w.name, types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
		if apierrors.IsConflict(err) {
			return "", fmt.Errorf("the deployment changed while rolling back; read it again: %w", err)
		}
		return "", err
	}
	return w.printed() + " rolled back\n", nil
}

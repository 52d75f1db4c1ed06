package deploytest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// helmBin is helm built by scripts/test.sh into the CI cache (or
// AURORA_TEST_HELM, or helm on PATH).
func helmBin(t testing.TB) string {
	return tool(t, "AURORA_TEST_HELM", "~/.cache/aurora-ci/helm-*/helm", "helm")
}

// manifests is one rendering of the chart, by kind and name.
type manifests struct {
	raw         string
	deployments map[string]*appsv1.Deployment
	hpas        map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs        map[string]*policyv1.PodDisruptionBudget
	ingresses   map[string]*networkingv1.Ingress
	secrets     map[string]*corev1.Secret
	kinds       map[string][]string // kind → names, every object
	objects     map[string]map[string]any
}

// render runs `helm template` with values files (relative to the chart) and
// --set pairs, and decodes every object.
func render(t *testing.T, files []string, sets ...string) *manifests {
	t.Helper()
	chart := filepath.Join(root(t), "deploy", "helm", "aurora")
	args := []string{"template", "rel", chart, "--namespace", "aurora"}
	for _, f := range files {
		args = append(args, "-f", filepath.Join(chart, f))
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out := run(t, chart, helmBin(t), args...)
	m := &manifests{raw: out, deployments: map[string]*appsv1.Deployment{}, hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}, ingresses: map[string]*networkingv1.Ingress{}, secrets: map[string]*corev1.Secret{},
		kinds: map[string][]string{}, objects: map[string]map[string]any{}}
	for _, doc := range strings.Split(out, "\n---") {
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, doc)
		}
		if head.Kind == "" {
			continue
		}
		name := head.Metadata.Name
		m.kinds[head.Kind] = append(m.kinds[head.Kind], name)
		var obj map[string]any
		decode(t, doc, &obj)
		m.objects[head.Kind+"/"+name] = obj
		switch head.Kind {
		case "Deployment":
			var d appsv1.Deployment
			decode(t, doc, &d)
			m.deployments[name] = &d
		case "HorizontalPodAutoscaler":
			var h autoscalingv2.HorizontalPodAutoscaler
			decode(t, doc, &h)
			m.hpas[name] = &h
		case "PodDisruptionBudget":
			var p policyv1.PodDisruptionBudget
			decode(t, doc, &p)
			m.pdbs[name] = &p
		case "Ingress":
			var i networkingv1.Ingress
			decode(t, doc, &i)
			m.ingresses[name] = &i
		case "Secret":
			var s corev1.Secret
			decode(t, doc, &s)
			m.secrets[name] = &s
		}
	}
	return m
}

// decode is a strict YAML decode: an unknown field is a typo in a template.
func decode(t *testing.T, doc string, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
		t.Fatalf("decode %T: %v\n%s", into, err, doc)
	}
}

var roles = []string{"server", "worker", "chatbot", "scheduler"}

func TestHelmLint(t *testing.T) {
	t.Parallel()
	chart := filepath.Join(root(t), "deploy", "helm", "aurora")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"default", nil},
		{"scaled", []string{"-f", filepath.Join(chart, "values-scaled.yaml")}},
		{"alb", []string{"--set", "ingress.enabled=true,ingress.provider=alb"}},
		{"gce", []string{"--set", "ingress.enabled=true,ingress.provider=gce"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := run(t, chart, helmBin(t), append([]string{"lint", "--strict", chart}, tc.args...)...)
			if !strings.Contains(out, "0 chart(s) failed") {
				t.Fatalf("helm lint:\n%s", out)
			}
		})
	}
}

// checkPods checks what every role's Deployment must have whatever the
// values: probes on /health and /ready, a non-root read-only container,
// env names Aurora reads.
func checkPods(t *testing.T, m *manifests) {
	t.Helper()
	vars := configVars()
	for _, role := range roles {
		d := m.deployments["rel-aurora-"+role]
		if d == nil {
			t.Fatalf("no Deployment for role %s; have %v", role, m.kinds["Deployment"])
		}
		spec := d.Spec.Template.Spec
		if len(spec.Containers) != 1 {
			t.Fatalf("%s: %d containers", role, len(spec.Containers))
		}
		c := spec.Containers[0]
		if len(c.Args) != 1 || c.Args[0] != role {
			t.Errorf("%s: args %v, want [%s]", role, c.Args, role)
		}
		for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
			if p == nil || p.HTTPGet == nil {
				t.Errorf("%s: no HTTP %s probe", role, name)
				continue
			}
			want := map[string]string{"liveness": "/health", "readiness": "/ready", "startup": "/health"}[name]
			if p.HTTPGet.Path != want || p.HTTPGet.Port.String() != "http" {
				t.Errorf("%s: %s probe %s on %s, want %s on http", role, name, p.HTTPGet.Path, p.HTTPGet.Port.String(), want)
			}
		}
		if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
			t.Errorf("%s: ports %+v, want http 8080", role, c.Ports)
		}
		ps, cs := spec.SecurityContext, c.SecurityContext
		switch {
		case ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser == 0:
			t.Errorf("%s: pod security context must run as a non-root uid: %+v", role, ps)
		case cs == nil || cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem:
			t.Errorf("%s: root filesystem is not read-only", role)
		case cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation:
			t.Errorf("%s: privilege escalation allowed", role)
		case cs.Capabilities == nil || len(cs.Capabilities.Drop) != 1 || cs.Capabilities.Drop[0] != "ALL":
			t.Errorf("%s: capabilities not dropped: %+v", role, cs.Capabilities)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
			t.Errorf("%s: no CPU/memory requests (HPA utilisation needs them)", role)
		}
		seen := map[string]bool{}
		for _, e := range c.Env {
			if !vars[e.Name] {
				t.Errorf("%s: env %s is not a variable Aurora reads (docs/configuration.md)", role, e.Name)
			}
			if seen[e.Name] {
				t.Errorf("%s: env %s set twice", role, e.Name)
			}
			seen[e.Name] = true
		}
		for _, need := range []string{"AURORA_HTTP_ADDR", "POSTGRES_HOST", "POSTGRES_PASSWORD", "AURORA_SECRET_KEY"} {
			if !seen[need] {
				t.Errorf("%s: env lacks %s", role, need)
			}
		}
	}
}

func TestHelmDefault(t *testing.T) {
	t.Parallel()
	m := render(t, nil)
	checkPods(t, m)
	for _, role := range roles {
		if r := m.deployments["rel-aurora-"+role].Spec.Replicas; r == nil || *r != 1 {
			t.Errorf("%s: replicas %v, want 1", role, r)
		}
	}
	if len(m.pdbs) != 0 {
		t.Errorf("PDBs with one replica each would block node drains: %v", m.kinds["PodDisruptionBudget"])
	}
	if len(m.hpas) != 0 || len(m.ingresses) != 0 || len(m.kinds["VerticalPodAutoscaler"]) != 0 {
		t.Errorf("HPA/ingress/VPA rendered by default: %v", m.kinds)
	}
	// Bundled PostgreSQL and Redis by default; no Weaviate.
	for _, want := range []string{"StatefulSet/rel-aurora-postgresql", "Deployment/rel-aurora-redis", "Secret/rel-aurora-secrets", "Secret/rel-aurora-postgresql"} {
		if m.objects[want] == nil {
			t.Errorf("no %s", want)
		}
	}
	if m.objects["StatefulSet/rel-aurora-weaviate"] != nil {
		t.Error("Weaviate bundled by default")
	}
	if s := m.secrets["rel-aurora-secrets"]; s == nil || len(s.Data["AURORA_SECRET_KEY"]) != 44 {
		// base64 of the 32 generated characters: what AURORA_SECRET_KEY wants.
		t.Errorf("generated AURORA_SECRET_KEY: %v", s)
	}
}

func TestHelmScaled(t *testing.T) {
	t.Parallel()
	m := render(t, []string{"values-scaled.yaml"})
	checkPods(t, m)
	// Managed services: nothing bundled, secrets from existing Secrets.
	for _, k := range []string{"StatefulSet/rel-aurora-postgresql", "Deployment/rel-aurora-redis", "Secret/rel-aurora-secrets"} {
		if m.objects[k] != nil {
			t.Errorf("%s rendered although values-scaled uses managed services and existing Secrets", k)
		}
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range m.deployments["rel-aurora-server"].Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e
	}
	for name, secret := range map[string]string{"AURORA_SECRET_KEY": "aurora-secrets", "POSTGRES_PASSWORD": "aurora-postgres",
		"POSTGRES_DIRECT_URL": "aurora-postgres", "REDIS_URL": "aurora-redis", "OPENAI_API_KEY": "aurora-llm"} {
		e := env[name]
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != secret || e.Value != "" {
			t.Errorf("%s must come from Secret %s: %+v", name, secret, e)
		}
	}
	if env["POSTGRES_READ_REPLICA_HOST"].Value == "" || env["POSTGRES_PORT"].Value != "6432" {
		t.Errorf("read replicas / PgBouncer port not passed: %+v %+v", env["POSTGRES_READ_REPLICA_HOST"], env["POSTGRES_PORT"])
	}

	// HPAs for server, worker and chatbot (CPU and memory), the worker's on
	// the queue too; the Deployment leaves replicas to the HPA.
	for _, role := range []string{"server", "worker", "chatbot"} {
		h := m.hpas["rel-aurora-"+role]
		if h == nil {
			t.Fatalf("no HPA for %s", role)
		}
		if h.Spec.ScaleTargetRef.Name != "rel-aurora-"+role || h.Spec.ScaleTargetRef.Kind != "Deployment" {
			t.Errorf("%s HPA targets %+v", role, h.Spec.ScaleTargetRef)
		}
		if m.deployments["rel-aurora-"+role].Spec.Replicas != nil {
			t.Errorf("%s: Deployment sets replicas although an HPA owns them (each upgrade would reset the count)", role)
		}
		res := map[string]bool{}
		var ext *autoscalingv2.ExternalMetricSource
		for _, mt := range h.Spec.Metrics {
			switch mt.Type {
			case autoscalingv2.ResourceMetricSourceType:
				res[string(mt.Resource.Name)] = mt.Resource.Target.AverageUtilization != nil
			case autoscalingv2.ExternalMetricSourceType:
				ext = mt.External
			}
		}
		if !res["cpu"] || !res["memory"] {
			t.Errorf("%s HPA: want CPU and memory utilisation targets, got %v", role, res)
		}
		if role == "worker" {
			if ext == nil || ext.Metric.Name != "aurora_queue_jobs" || ext.Metric.Selector == nil ||
				ext.Metric.Selector.MatchLabels["state"] != "available" || ext.Target.Type != autoscalingv2.AverageValueMetricType {
				t.Errorf("worker HPA: want external aurora_queue_jobs{state=available} AverageValue, got %+v", ext)
			}
		} else if ext != nil {
			t.Errorf("%s HPA scales on the queue", role)
		}
	}
	if m.hpas["rel-aurora-scheduler"] != nil {
		t.Error("scheduler HPA: it does no load-dependent work")
	}
	// PDBs for every role above one replica, selecting that role's pods.
	for _, role := range roles {
		p := m.pdbs["rel-aurora-"+role]
		if p == nil {
			t.Errorf("no PDB for %s (2+ replicas)", role)
			continue
		}
		if p.Spec.Selector.MatchLabels["app.kubernetes.io/component"] != role || p.Spec.MaxUnavailable == nil {
			t.Errorf("%s PDB: %+v", role, p.Spec)
		}
		sel := m.deployments["rel-aurora-"+role].Spec.Selector.MatchLabels
		for k, v := range p.Spec.Selector.MatchLabels {
			if sel[k] != v {
				t.Errorf("%s PDB selects %s=%s, the Deployment's pods have %s", role, k, v, sel[k])
			}
		}
	}
	if len(m.kinds["VerticalPodAutoscaler"]) != 4 || len(m.kinds["ServiceMonitor"]) != 1 {
		t.Errorf("VPA example / ServiceMonitor: %v", m.kinds)
	}
	// nginx ingress: /ws to the chatbots with WebSocket-friendly timeouts.
	checkIngress(t, m, "nginx")
}

// TestHelmSchedulerReplicas: the scheduler is leader-elected, so the chart
// must not cap its replicas.
func TestHelmSchedulerReplicas(t *testing.T) {
	t.Parallel()
	m := render(t, nil, "replicaCounts.scheduler=5", "replicaCounts.worker=7")
	if r := m.deployments["rel-aurora-scheduler"].Spec.Replicas; r == nil || *r != 5 {
		t.Fatalf("scheduler replicas %v, want 5", r)
	}
	if r := m.deployments["rel-aurora-worker"].Spec.Replicas; r == nil || *r != 7 {
		t.Fatalf("worker replicas %v, want 7", r)
	}
	if m.pdbs["rel-aurora-scheduler"] == nil || m.pdbs["rel-aurora-worker"] == nil || m.pdbs["rel-aurora-server"] != nil {
		t.Fatalf("PDBs: %v, want scheduler and worker only", m.kinds["PodDisruptionBudget"])
	}
}

func TestHelmIngress(t *testing.T) {
	t.Parallel()
	for _, provider := range []string{"nginx", "alb", "gce"} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			m := render(t, nil, "ingress.enabled=true", "ingress.provider="+provider, "weaviate.bundled=true")
			checkIngress(t, m, provider)
			if m.objects["StatefulSet/rel-aurora-weaviate"] == nil {
				t.Error("weaviate.bundled=true rendered no Weaviate")
			}
		})
	}
	chart := filepath.Join(root(t), "deploy", "helm", "aurora")
	cmd := []string{"template", "rel", chart, "--set", "ingress.enabled=true,ingress.provider=traefik"}
	if out, err := execOut(chart, helmBin(t), cmd...); err == nil || !strings.Contains(out, "ingress.provider must be nginx, alb or gce") {
		t.Errorf("unknown provider: want a clear error, got %v\n%s", err, out)
	}
}

func checkIngress(t *testing.T, m *manifests, provider string) {
	t.Helper()
	ing := m.ingresses["rel-aurora"]
	if ing == nil {
		t.Fatalf("no Ingress: %v", m.kinds)
	}
	backend := map[string]string{}
	for _, r := range ing.Spec.Rules {
		for _, p := range r.HTTP.Paths {
			backend[p.Path] = p.Backend.Service.Name
		}
	}
	if backend["/ws"] != "rel-aurora-chatbot" || backend["/"] != "rel-aurora-server" {
		t.Errorf("ingress routes %v: want /ws → chatbot, / → server", backend)
	}
	a := ing.Annotations
	atLeastHour := func(s string) bool { n, err := strconv.Atoi(s); return err == nil && n >= 3600 }
	switch provider {
	case "nginx":
		if !atLeastHour(a["nginx.ingress.kubernetes.io/proxy-read-timeout"]) || !atLeastHour(a["nginx.ingress.kubernetes.io/proxy-send-timeout"]) {
			t.Errorf("nginx timeouts too short for WebSockets: %v", a)
		}
		if _, sticky := a["nginx.ingress.kubernetes.io/affinity"]; sticky {
			t.Error("sticky sessions configured: chat needs none")
		}
	case "alb":
		v, ok := strings.CutPrefix(a["alb.ingress.kubernetes.io/load-balancer-attributes"], "idle_timeout.timeout_seconds=")
		if !ok || !atLeastHour(v) {
			t.Errorf("ALB idle timeout: %v", a)
		}
	case "gce":
		bc := m.objects["BackendConfig/rel-aurora"]
		spec, _ := bc["spec"].(map[string]any)
		if spec == nil || fmt.Sprint(spec["timeoutSec"]) != "3600" {
			t.Errorf("GCE BackendConfig timeout: %v", bc)
		}
		if a["kubernetes.io/ingress.class"] != "gce" {
			t.Errorf("GCE ingress class: %v", a)
		}
	}
}

// TestHelmNoDependencies: bundled services are templates of the chart, so
// installing it downloads nothing.
func TestHelmNoDependencies(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root(t), "deploy", "helm", "aurora", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart map[string]any
	if err := yaml.Unmarshal(b, &chart); err != nil {
		t.Fatal(err)
	}
	if chart["dependencies"] != nil {
		t.Fatalf("Chart.yaml has dependencies: %v", chart["dependencies"])
	}
	if _, err := os.Stat(filepath.Join(root(t), "deploy", "helm", "aurora", "charts")); err == nil {
		t.Fatal("deploy/helm/aurora/charts exists: bundled services belong in templates/")
	}
}

package analyze

// Pod analyzers: they read pods from `kubectl describe pod` text, `kubectl
// get pod -o json` (a Pod or a List), `kubectl get pods` tables and events,
// merge what the items show about each pod, and name why it is unhealthy.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// KubeAnalyzers returns the analyzers of Kubernetes pods and workloads.
func KubeAnalyzers() []Analyzer {
	return []Analyzer{
		oomAnalyzer{},
		crashLoopAnalyzer{},
		imagePullAnalyzer{},
		configErrorAnalyzer{},
		createErrorAnalyzer{},
		schedulingAnalyzer{},
		probeAnalyzer{},
		rolloutAnalyzer{},
		replicaSetAnalyzer{},
		jobAnalyzer{},
		hpaAnalyzer{},
		volumeAnalyzer{},
		evictionAnalyzer{},
		quotaAnalyzer{},
	}
}

// ---------------------------------------------------------------------------
// The pod model

type ctrState struct {
	State    string // waiting | running | terminated ("" when unknown)
	Reason   string
	Message  string
	ExitCode int
	HasExit  bool
}

type containerInfo struct {
	Name, Image string
	Init        bool
	State, Last ctrState
	Ready       bool
	Restarts    int
	MemLimit    string
	// Probes as describe prints them: "http-get http://:8080/healthz".
	Liveness, Readiness, Startup string
	IDs                          []int
}

type podInfo struct {
	Namespace, Name, Node, Phase string
	// Reason and Message are the pod's status reason ("Evicted") and message.
	Reason, Message string
	// TableStatus/TableRestarts come from `kubectl get pods` (STATUS, RESTARTS).
	TableStatus   string
	TableRestarts int
	Conditions    []kubeCondition
	NodeSelector  string
	Claims        []string
	Containers    []*containerInfo
	Events        []KubeEvent
	IDs           []int // items that showed the pod's state
}

func (p *podInfo) ref() string  { return ObjectRef("pod", p.Namespace, p.Name) }
func (p *podInfo) path() string { return strings.TrimPrefix(p.ref(), "pod/") }

// stateKnown is true when some item showed the pod's current state (not only
// events about it).
func (p *podInfo) stateKnown() bool { return len(p.IDs) > 0 }

// healthy is true when the pod's state is known and it is Running with all
// its (non-init) containers ready.
func (p *podInfo) healthy() bool {
	if !p.stateKnown() || !strings.EqualFold(p.Phase, "Running") {
		return false
	}
	n := 0
	for _, c := range p.Containers {
		if c.Init {
			continue
		}
		n++
		if !c.Ready || c.State.State != "running" {
			return false
		}
	}
	if n == 0 { // table only: READY column folded into TableStatus
		return strings.EqualFold(p.TableStatus, "Running")
	}
	return true
}

func (p *podInfo) related() []string {
	if p.Node == "" {
		return nil
	}
	return []string{ObjectRef("node", "", p.Node)}
}

func (p *podInfo) container(name string) *containerInfo {
	for _, c := range p.Containers {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// warnings returns the pod's Warning events whose reason is one of reasons
// (all Warning events when none given).
func (p *podInfo) warnings(reasons ...string) []KubeEvent {
	var out []KubeEvent
	for _, e := range p.Events {
		if e.Type != "Warning" {
			continue
		}
		if len(reasons) == 0 || containsStr(reasons, e.Reason) {
			out = append(out, e)
		}
	}
	return out
}

func eventIDs(evs []KubeEvent) []int {
	var ids []int
	for _, e := range evs {
		ids = addID(ids, e.Item)
	}
	return ids
}

// collectPods reads every pod the items show, merged by namespace/name, in a
// stable order. Later items override the state earlier ones showed.
func collectPods(in *Input) []*podInfo {
	items := append([]Item(nil), in.Items...)
	sort.SliceStable(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	pods := map[string]*podInfo{}
	var order []string
	get := func(ns, name string) *podInfo {
		k := ns + "/" + name
		p, ok := pods[k]
		if !ok {
			p = &podInfo{Namespace: ns, Name: name}
			pods[k] = p
			order = append(order, k)
		}
		return p
	}
	var loose []KubeEvent // events whose pod had no namespace
	for _, it := range items {
		switch it.Tool {
		case toolKubeDescribe:
			for _, d := range ParseDescribe(it.Output) {
				if describeKind(it, d) != "pod" || d.Name() == "" {
					continue
				}
				mergePod(get(d.Namespace(), d.Name()), podFromDescribe(d, it.ID))
			}
		case toolKubeGet:
			kind := KubeKind(it.Arg("kind"))
			for _, o := range kubeObjects(it.Output) {
				if o.Kind == "Pod" && o.Metadata.Name != "" {
					mergePod(get(o.Metadata.Namespace, o.Metadata.Name), podFromJSON(o, it.ID))
				}
			}
			if kind == "pod" && !isStructured(it.Output) {
				for _, p := range podsFromTable(it) {
					mergePod(get(p.Namespace, p.Name), p)
				}
			}
			if kind == "event" {
				loose = append(loose, ParseEvents(it)...)
			}
		case toolKubeEvents:
			loose = append(loose, ParseEvents(it)...)
		}
	}
	for _, e := range loose {
		if e.Kind != "pod" || e.Name == "" {
			continue
		}
		ns := e.Namespace
		if ns == "" { // match a pod another item showed
			for _, k := range order {
				if pods[k].Name == e.Name {
					ns = pods[k].Namespace
					break
				}
			}
		}
		e.Namespace = ns
		p := get(ns, e.Name)
		p.Events = append(p.Events, e)
	}
	sort.Strings(order)
	out := make([]*podInfo, 0, len(order))
	for _, k := range order {
		out = append(out, pods[k])
	}
	return out
}

func mergePod(dst, src *podInfo) {
	dst.IDs = addID(dst.IDs, src.IDs...)
	if src.Node != "" {
		dst.Node = src.Node
	}
	if src.Phase != "" {
		dst.Phase = src.Phase
	}
	if src.Reason != "" {
		dst.Reason, dst.Message = src.Reason, src.Message
	}
	if src.TableStatus != "" {
		dst.TableStatus, dst.TableRestarts = src.TableStatus, src.TableRestarts
	}
	if len(src.Conditions) > 0 {
		dst.Conditions = src.Conditions
	}
	if src.NodeSelector != "" {
		dst.NodeSelector = src.NodeSelector
	}
	for _, c := range src.Claims {
		if !containsStr(dst.Claims, c) {
			dst.Claims = append(dst.Claims, c)
		}
	}
	for _, c := range src.Containers {
		d := dst.container(c.Name)
		if d == nil {
			dst.Containers = append(dst.Containers, c)
			continue
		}
		d.IDs = addID(d.IDs, c.IDs...)
		if c.State.State != "" {
			d.State = c.State
		}
		if c.Last.State != "" {
			d.Last = c.Last
		}
		d.Ready, d.Restarts = c.Ready, c.Restarts
		for _, f := range []struct{ dst, src *string }{
			{&d.Image, &c.Image}, {&d.MemLimit, &c.MemLimit}, {&d.Liveness, &c.Liveness},
			{&d.Readiness, &c.Readiness}, {&d.Startup, &c.Startup},
		} {
			if *f.src != "" {
				*f.dst = *f.src
			}
		}
	}
	dst.Events = append(dst.Events, src.Events...)
}

// podFromDescribe reads one `kubectl describe pod` object.
func podFromDescribe(d *DescribeDoc, id int) *podInfo {
	p := &podInfo{Namespace: d.Namespace(), Name: d.Name(), Phase: d.Get("Status"), IDs: []int{id},
		Reason: d.Get("Reason"), Message: d.Get("Message")}
	if n, _, _ := strings.Cut(d.Get("Node"), "/"); n != "<none>" {
		p.Node = n
	}
	for _, sec := range []string{"Init Containers", "Containers"} {
		for _, cn := range d.Node(sec).children() {
			if cn.Key == "" {
				continue
			}
			c := &containerInfo{Name: cn.Key, Init: sec == "Init Containers", IDs: []int{id},
				Image: cn.Get("Image"), Ready: strings.EqualFold(cn.Get("Ready"), "True"),
				Liveness: cn.Get("Liveness"), Readiness: cn.Get("Readiness"), Startup: cn.Get("Startup"),
				MemLimit: cn.Get("Limits", "memory")}
			c.Restarts, _ = strconv.Atoi(cn.Get("Restart Count"))
			c.State = describeState(cn.Child("State"))
			c.Last = describeState(cn.Child("Last State"))
			p.Containers = append(p.Containers, c)
		}
	}
	p.Conditions = conditionsFromTable(d.Node("Conditions"))
	if s := d.Get("Node-Selectors"); s != "<none>" {
		sel := []string{s}
		for _, c := range d.Node("Node-Selectors").children() {
			sel = append(sel, c.Value)
		}
		p.NodeSelector = strings.Join(sel, ",")
	}
	for _, v := range d.Node("Volumes").children() {
		if cl := v.Get("ClaimName"); cl != "" {
			p.Claims = append(p.Claims, cl)
		}
	}
	p.Events = describeEvents(d, "pod", id)
	return p
}

func (n *DescribeNode) children() []*DescribeNode {
	if n == nil {
		return nil
	}
	return n.Children
}

func describeState(n *DescribeNode) ctrState {
	if n == nil {
		return ctrState{}
	}
	s := ctrState{State: strings.ToLower(strings.Fields(n.Value + " x")[0]),
		Reason: n.Get("Reason"), Message: n.Get("Message")}
	if s.State == "x" {
		s.State = ""
	}
	if ec := n.Get("Exit Code"); ec != "" {
		s.ExitCode, _ = strconv.Atoi(ec)
		s.HasExit = true
	}
	return s
}

type podJSONSpec struct {
	NodeName     string            `json:"nodeName"`
	NodeSelector map[string]string `json:"nodeSelector"`
	Containers   []ctrJSONSpec     `json:"containers"`
	Init         []ctrJSONSpec     `json:"initContainers"`
	Volumes      []struct {
		PVC *struct {
			ClaimName string `json:"claimName"`
		} `json:"persistentVolumeClaim"`
	} `json:"volumes"`
}

type ctrJSONSpec struct {
	Name      string `json:"name"`
	Image     string `json:"image"`
	Resources struct {
		Limits map[string]string `json:"limits"`
	} `json:"resources"`
	Liveness  *probeJSON `json:"livenessProbe"`
	Readiness *probeJSON `json:"readinessProbe"`
	Startup   *probeJSON `json:"startupProbe"`
}

type probeJSON struct {
	HTTPGet *struct {
		Path   string `json:"path"`
		Port   any    `json:"port"`
		Host   string `json:"host"`
		Scheme string `json:"scheme"`
	} `json:"httpGet"`
	TCPSocket *struct {
		Port any `json:"port"`
	} `json:"tcpSocket"`
	Exec *struct {
		Command []string `json:"command"`
	} `json:"exec"`
	GRPC *struct {
		Port any `json:"port"`
	} `json:"grpc"`
}

// String renders a probe's action as describe does.
func (p *probeJSON) String() string {
	switch {
	case p == nil:
		return ""
	case p.HTTPGet != nil:
		scheme := strings.ToLower(p.HTTPGet.Scheme)
		if scheme == "" {
			scheme = "http"
		}
		return fmt.Sprintf("http-get %s://%s:%v%s", scheme, p.HTTPGet.Host, p.HTTPGet.Port, p.HTTPGet.Path)
	case p.TCPSocket != nil:
		return fmt.Sprintf("tcp-socket :%v", p.TCPSocket.Port)
	case p.GRPC != nil:
		return fmt.Sprintf("grpc <pod>:%v", p.GRPC.Port)
	case p.Exec != nil:
		return "exec [" + strings.Join(p.Exec.Command, " ") + "]"
	}
	return ""
}

type stateJSON struct {
	Waiting *struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"waiting"`
	Running    *struct{} `json:"running"`
	Terminated *struct {
		Reason   string `json:"reason"`
		Message  string `json:"message"`
		ExitCode int    `json:"exitCode"`
	} `json:"terminated"`
}

func (s stateJSON) state() ctrState {
	switch {
	case s.Waiting != nil:
		return ctrState{State: "waiting", Reason: s.Waiting.Reason, Message: s.Waiting.Message}
	case s.Running != nil:
		return ctrState{State: "running"}
	case s.Terminated != nil:
		return ctrState{State: "terminated", Reason: s.Terminated.Reason, Message: s.Terminated.Message,
			ExitCode: s.Terminated.ExitCode, HasExit: true}
	}
	return ctrState{}
}

type ctrJSONStatus struct {
	Name         string    `json:"name"`
	Image        string    `json:"image"`
	Ready        bool      `json:"ready"`
	RestartCount int       `json:"restartCount"`
	State        stateJSON `json:"state"`
	LastState    stateJSON `json:"lastState"`
}

type podJSONStatus struct {
	Phase      string          `json:"phase"`
	Reason     string          `json:"reason"`
	Message    string          `json:"message"`
	Conditions []kubeCondition `json:"conditions"`
	Statuses   []ctrJSONStatus `json:"containerStatuses"`
	Init       []ctrJSONStatus `json:"initContainerStatuses"`
}

// podFromJSON reads a Pod object of `kubectl get -o json`.
func podFromJSON(o kubeObject, id int) *podInfo {
	var spec podJSONSpec
	var st podJSONStatus
	_ = json.Unmarshal(o.Spec, &spec)
	_ = json.Unmarshal(o.Status, &st)
	p := &podInfo{Namespace: o.Metadata.Namespace, Name: o.Metadata.Name, Node: spec.NodeName,
		Phase: st.Phase, Reason: st.Reason, Message: st.Message, Conditions: st.Conditions, IDs: []int{id}}
	var sel []string
	for k, v := range spec.NodeSelector {
		sel = append(sel, k+"="+v)
	}
	sort.Strings(sel)
	p.NodeSelector = strings.Join(sel, ",")
	for _, v := range spec.Volumes {
		if v.PVC != nil {
			p.Claims = append(p.Claims, v.PVC.ClaimName)
		}
	}
	add := func(specs []ctrJSONSpec, stats []ctrJSONStatus, init bool) {
		for _, cs := range specs {
			c := &containerInfo{Name: cs.Name, Image: cs.Image, Init: init, IDs: []int{id},
				MemLimit: cs.Resources.Limits["memory"], Liveness: cs.Liveness.String(),
				Readiness: cs.Readiness.String(), Startup: cs.Startup.String()}
			for _, s := range stats {
				if s.Name == cs.Name {
					c.State, c.Last = s.State.state(), s.LastState.state()
					c.Ready, c.Restarts = s.Ready, s.RestartCount
				}
			}
			p.Containers = append(p.Containers, c)
		}
	}
	add(spec.Init, st.Init, true)
	add(spec.Containers, st.Statuses, false)
	return p
}

var restartsCol = regexp.MustCompile(`^\d+`)

// podsFromTable reads `kubectl get pods [-o wide]`.
func podsFromTable(it Item) []*podInfo {
	var out []*podInfo
	for _, r := range ParseTable(it.Output) {
		name := strings.TrimPrefix(r["NAME"], "pod/")
		if name == "" || r["STATUS"] == "" {
			continue
		}
		ns := r["NAMESPACE"]
		if ns == "" {
			ns = it.Arg("namespace")
		}
		p := &podInfo{Namespace: ns, Name: name, TableStatus: r["STATUS"], IDs: []int{it.ID}}
		p.TableRestarts, _ = strconv.Atoi(restartsCol.FindString(r["RESTARTS"]))
		if n := r["NODE"]; n != "" && n != "<none>" {
			p.Node = n
		}
		switch st := r["STATUS"]; {
		case st == "Running" || st == "Pending" || st == "Succeeded" || st == "Failed":
			p.Phase = st
			if st == "Running" {
				if rd, tot, ok := strings.Cut(r["READY"], "/"); ok && rd != tot {
					p.TableStatus = "NotReady"
				}
			}
		case st == "Completed":
			p.Phase = "Succeeded"
		}
		out = append(out, p)
	}
	return out
}

// tableReason is the container reason a `kubectl get pods` STATUS shows
// ("Init:CrashLoopBackOff" → "CrashLoopBackOff").
func (p *podInfo) tableReason() string {
	s := p.TableStatus
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// ---------------------------------------------------------------------------
// Exit codes

// exitMeaning explains a terminated state in plain words; direct is true
// when the code itself names the cause.
func exitMeaning(s ctrState) (meaning string, direct bool) {
	if s.Reason == "StartError" || s.Reason == "ContainerCannotRun" {
		if s.Message != "" {
			// The runtime wraps the reason in layers of context
			// ("failed to create containerd task: … unable to start
			// container process: exec: "/app": exec format error"): quote
			// the innermost.
			msg := s.Message
			for _, k := range []string{"unable to start container process: ", "error during container init: "} {
				if i := strings.LastIndex(msg, k); i >= 0 {
					msg = msg[i+len(k):]
				}
			}
			return fmt.Sprintf("it could not start (%s: %q)", s.Reason, clip(msg, 160)), true
		}
		return "it could not start (" + s.Reason + ")", false
	}
	if !s.HasExit {
		if s.Reason != "" {
			return "it last terminated with reason " + s.Reason, false
		}
		return "", false
	}
	code := s.ExitCode
	what := ""
	switch {
	case code == 0:
		what = "it exits successfully but is expected to keep running"
	case code == 1:
		what = "the application exits with an error"
	case code == 126:
		return fmt.Sprintf("its command cannot be executed (exit %d, permission denied or not executable)", code), true
	case code == 127:
		return fmt.Sprintf("its command was not found (exit %d)", code), true
	case code == 134:
		what = "it aborted (SIGABRT)"
	case code == 137:
		what = "it was killed by SIGKILL (not an OOM kill: e.g. a failed liveness probe or an external kill)"
	case code == 139:
		what = "it crashed with a segmentation fault (SIGSEGV)"
	case code == 143:
		what = "it was terminated by SIGTERM"
	case code > 128 && code < 160:
		what = fmt.Sprintf("it was killed by signal %d", code-128)
	default:
		what = "it exits with an error"
	}
	r := ""
	if s.Reason != "" {
		r = "reason " + s.Reason + ", "
	}
	return fmt.Sprintf("%s (%sexit code %d)", what, r, code), false
}

func restartsText(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return ", restarted once"
	}
	return fmt.Sprintf(", restarted %d times", n)
}

// ---------------------------------------------------------------------------
// OOM

type oomAnalyzer struct{}

func (oomAnalyzer) Name() string { return "kube-oom" }

func (a oomAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	for _, p := range collectPods(in) {
		for _, c := range p.Containers {
			s := c.Last
			now := false
			if c.State.Reason == "OOMKilled" {
				s, now = c.State, true
			}
			if s.Reason != "OOMKilled" {
				continue
			}
			limit, culprit := "", c.Name
			if c.MemLimit != "" {
				limit = " at its " + c.MemLimit + " memory limit"
				culprit = fmt.Sprintf("%s (memory limit %s)", c.Name, c.MemLimit)
			} else {
				limit = " (no memory limit is shown: the node may have run out of memory)"
			}
			code := ""
			if s.HasExit {
				code = fmt.Sprintf(" (exit %d)", s.ExitCode)
			}
			when := "was OOMKilled"
			if !now {
				when = "was last OOMKilled"
			}
			loop := ""
			if c.State.Reason == "CrashLoopBackOff" {
				loop = " and keeps crashing (CrashLoopBackOff)"
			}
			score := 0.9
			if c.State.State == "running" && c.Ready {
				score = 0.8 // an earlier kill; the container is up now
			}
			fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryOOM, Object: p.ref(),
				Summary: fmt.Sprintf("container %q of pod %s %s%s%s%s%s", c.Name, p.path(), when, code, limit, loop, restartsText(c.Restarts)),
				Culprit: culprit, Evidence: c.IDs, Direct: true, Score: score, Related: p.related()})
		}
		if len(p.Containers) == 0 && p.tableReason() == "OOMKilled" {
			fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryOOM, Object: p.ref(),
				Summary:  fmt.Sprintf("pod %s shows status OOMKilled%s", p.path(), restartsText(p.TableRestarts)),
				Evidence: p.IDs, Direct: true, Score: 0.8, Related: p.related()})
		}
	}
	return finishFindings(fs)
}

// ---------------------------------------------------------------------------
// CrashLoopBackOff

type crashLoopAnalyzer struct{}

func (crashLoopAnalyzer) Name() string { return "kube-crashloop" }

var backOffContainer = regexp.MustCompile(`Back-off restarting failed container (\S+)`)

func (a crashLoopAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	for _, p := range collectPods(in) {
		backoffs := p.warnings("BackOff", "CrashLoopBackOff")
		for _, c := range p.Containers {
			if c.State.Reason != "CrashLoopBackOff" || c.Last.Reason == "OOMKilled" {
				continue
			}
			ids := c.IDs
			for _, e := range backoffs {
				if m := backOffContainer.FindStringSubmatch(e.Message); m != nil && m[1] == c.Name {
					ids = addID(ids, e.Item)
				}
			}
			why, direct := exitMeaning(c.Last)
			score := 0.6
			switch {
			case direct:
				score = 0.9
			case why != "":
				score = 0.7
			}
			who := "container"
			loop := "CrashLoopBackOff"
			if c.Init {
				who, loop = "init container", "Init:CrashLoopBackOff; the pod's other containers cannot start"
			}
			sum := fmt.Sprintf("%s %q of pod %s keeps crashing (%s)", who, c.Name, p.path(), loop)
			if why != "" {
				sum += ": " + why
			}
			// The last thing the crashed run printed, when its log is in the
			// evidence: an error there is the program saying why it exits.
			if line, id, ok := lastRunLogLine(in, p, c); ok {
				sum += fmt.Sprintf("; its last log line: %q", clip(line, 200))
				ids = addID(ids, id)
				if !direct && logLineIsError(line) && c.Last.HasExit && c.Last.ExitCode != 0 && c.Last.ExitCode < 128 {
					direct, score = true, 0.85
				}
			}
			// A command that cannot be found or executed (exit 126/127, a
			// runtime StartError naming exec format or a missing file) is the
			// image's or the spec's fault, not a crash of the application:
			// the restart loop is only its consequence.
			cat := CategoryCrashloop
			if direct && cannotExec(c.Last) {
				cat = CategoryApplicationErr
			}
			fs = append(fs, Finding{Analyzer: a.Name(), Category: cat, Object: p.ref(),
				Summary: sum + restartsText(c.Restarts), Culprit: c.Name, Evidence: ids, Direct: direct,
				Score: score, Related: p.related()})
		}
		if len(p.Containers) > 0 {
			continue
		}
		switch {
		case p.tableReason() == "CrashLoopBackOff":
			fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryCrashloop, Object: p.ref(),
				Summary:  fmt.Sprintf("pod %s is in CrashLoopBackOff%s", p.path(), restartsText(p.TableRestarts)),
				Evidence: addID(p.IDs, eventIDs(backoffs)...), Score: 0.55, Related: p.related()})
		case !p.stateKnown() && len(backoffs) > 0:
			// Only events: the pod's current state is unknown.
			e := backoffs[len(backoffs)-1]
			culprit := ""
			if m := backOffContainer.FindStringSubmatch(e.Message); m != nil {
				culprit = m[1]
			}
			fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryCrashloop, Object: p.ref(),
				Summary: fmt.Sprintf("events of pod %s say %q (%d times, last %s); its current state is not shown",
					p.path(), clip(e.Message, 120), e.Count, e.Age),
				Culprit: culprit, Evidence: eventIDs(backoffs), Score: 0.5})
		}
	}
	return finishFindings(fs)
}

// cannotExec is true when a terminated state says the container's command
// could not be run at all.
func cannotExec(s ctrState) bool {
	if s.HasExit && (s.ExitCode == 126 || s.ExitCode == 127) && s.Reason != "StartError" {
		return true
	}
	return (s.Reason == "StartError" || s.Reason == "ContainerCannotRun") &&
		containsAny(s.Message, "exec format error", "executable file not found", "no such file or directory", "permission denied")
}

// lastRunLogLine returns the last non-empty line of the logs of container
// c's last run: `kubectl logs --previous`, or the current logs of a
// container waiting in CrashLoopBackOff (which are its last run's). The
// log item must name the container unless the pod has only one.
func lastRunLogLine(in *Input, p *podInfo, c *containerInfo) (line string, id int, ok bool) {
	single := len(p.Containers) == 1
	for _, it := range in.Items {
		if it.Tool != "kubernetes.logs" {
			continue
		}
		pod := it.Arg("pod")
		if pod == "" {
			pod = it.Arg("name")
		}
		if pod != p.Name || (it.Arg("namespace") != "" && p.Namespace != "" && it.Arg("namespace") != p.Namespace) {
			continue
		}
		if ctr := it.Arg("container"); ctr != c.Name && (ctr != "" || !single) {
			continue
		}
		if !logsPrevious(it) && c.State.Reason != "CrashLoopBackOff" {
			continue
		}
		lines := logsSplit(it.Output)
		for i := len(lines) - 1; i >= 0; i-- {
			if t := strings.TrimSpace(lines[i].text); t != "" {
				line, id, ok = t, it.ID, true
				break
			}
		}
	}
	return line, id, ok
}

var logErrorWord = regexp.MustCompile(`(?i)\b(?:error|fatal|panic|failed|failure|exception|cannot|can't|unable)\b`)

// logLineIsError is true when a log line reports an error (by its level or
// its words), as opposed to ordinary output.
func logLineIsError(line string) bool {
	if l := logsTextLevel(line); l == "error" || l == "fatal" {
		return true
	}
	return logErrorWord.MatchString(line)
}

// ---------------------------------------------------------------------------
// Image pull

type imagePullAnalyzer struct{}

func (imagePullAnalyzer) Name() string { return "kube-image-pull" }

var pullReasons = []string{"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"}

// pullCause classifies an image pull error message.
func pullCause(msg string) string {
	switch {
	case containsAny(msg, "no match for platform in manifest", "no matching manifest for"):
		// The image exists, but not for the node's OS/architecture.
		return "the image has no build for the node's platform (OS/architecture)"
	case containsAny(msg, "toomanyrequests", "429 Too Many Requests", "pull rate limit"):
		// Docker Hub's anonymous/free pull limit, or a registry's rate limit.
		return "the registry is rate-limiting pulls (429 Too Many Requests: pull rate limit reached)"
	case containsAny(msg, "dial tcp", "i/o timeout", "no such host", "connection refused", "network is unreachable", "TLS handshake timeout"):
		return "the registry is unreachable"
	case containsAny(msg, "pull access denied") && containsAny(msg, "repository does not exist"):
		return "the repository does not exist or needs credentials (pull access denied)"
	case containsAny(msg, "manifest unknown", "not found", "repository does not exist", "name unknown"):
		return "the image was not found"
	case containsAny(msg, "unauthorized", "authentication required", "pull access denied", "403 forbidden", "denied:"):
		return "the registry refused the credentials"
	case containsAny(msg, "invalid reference format", "InvalidImageName"):
		return "the image name is invalid"
	}
	return ""
}

// pullSnippet quotes the most telling part of a pull error.
func pullSnippet(msg string) string {
	for _, k := range []string{"no match for platform", "no matching manifest", "toomanyrequests", "manifest unknown", "not found", "repository does not exist", "pull access denied",
		"unauthorized", "authentication required", "no such host", "i/o timeout", "dial tcp", "connection refused", "denied"} {
		i := strings.Index(strings.ToLower(msg), k)
		if i < 0 {
			continue
		}
		// Quote the clause holding k and the one before it ("<image>: not found").
		start := 0
		if j := strings.LastIndex(msg[:i], ": "); j >= 0 {
			start = j + 2
			if j2 := strings.LastIndex(msg[:j], ": "); j2 >= 0 && len(msg)-j2 <= 140 {
				start = j2 + 2
			}
		}
		return clip(msg[start:], 140)
	}
	return clip(msg, 140)
}

func isPullEvent(e KubeEvent) bool {
	return e.Type == "Warning" && (containsStr(pullReasons, e.Reason) ||
		containsAny(e.Message, "failed to pull image", "back-off pulling image", "error: imagepullbackoff", "error: errimagepull"))
}

func (a imagePullAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	for _, p := range collectPods(in) {
		var pullEvs []KubeEvent
		for _, e := range p.Events {
			if isPullEvent(e) {
				pullEvs = append(pullEvs, e)
			}
		}
		report := func(ctr, image string, ids []int, msgs []string) {
			cause, snippet := "", ""
			for _, m := range msgs {
				if c := pullCause(m); c != "" {
					cause, snippet = c, pullSnippet(m)
					break
				}
			}
			who := ""
			if ctr != "" {
				who = fmt.Sprintf(" for container %q", ctr)
			}
			f := Finding{Analyzer: a.Name(), Category: CategoryImagePull, Object: p.ref(), Culprit: image,
				Evidence: ids, Score: 0.7, Related: p.related()}
			f.Summary = fmt.Sprintf("pod %s cannot pull image %q%s", p.path(), image, who)
			if cause != "" {
				f.Summary += fmt.Sprintf(": %s (%q)", cause, snippet)
				f.Direct, f.Score = true, 0.9
			}
			fs = append(fs, f)
		}
		matched := false
		for _, c := range p.Containers {
			if c.State.State != "waiting" || !containsStr(pullReasons, c.State.Reason) {
				continue
			}
			matched = true
			ids, msgs := c.IDs, []string{c.State.Message}
			for _, e := range pullEvs {
				if img := quoted(e.Message, "image "); img == "" || img == c.Image {
					ids = addID(ids, e.Item)
					msgs = append(msgs, e.Message)
				}
			}
			if c.State.Reason == "InvalidImageName" {
				msgs = append(msgs, "InvalidImageName")
			}
			report(c.Name, c.Image, ids, msgs)
		}
		if matched || len(pullEvs) == 0 {
			continue
		}
		if p.stateKnown() && !containsStr(pullReasons, p.tableReason()) {
			continue // the pod's containers are not waiting on a pull now
		}
		// Events (and maybe a table status) only: group by image.
		byImage := map[string][]KubeEvent{}
		var images []string
		for _, e := range pullEvs {
			img := quoted(e.Message, "image ")
			if img == "" {
				continue
			}
			if _, ok := byImage[img]; !ok {
				images = append(images, img)
			}
			byImage[img] = append(byImage[img], e)
		}
		sort.Strings(images)
		for _, img := range images {
			var msgs []string
			for _, e := range byImage[img] {
				msgs = append(msgs, e.Message)
			}
			report("", img, addID(append([]int(nil), p.IDs...), eventIDs(byImage[img])...), msgs)
		}
	}
	return finishFindings(fs)
}

// ---------------------------------------------------------------------------
// CreateContainerConfigError, missing ConfigMap/Secret mounts

type configErrorAnalyzer struct{}

func (configErrorAnalyzer) Name() string { return "kube-config" }

var (
	missingObj = regexp.MustCompile(`(configmap|secret)s? "([^"\\]+)\\?" not found`)
	missingKey = regexp.MustCompile(`couldn't find key (\S+) in (ConfigMap|Secret) ([^/\s]+)/([^\s"]+)`)
	// A volume's items name a key the object lacks (the kubelet does not
	// say which object: the volume's).
	missingVolKey = regexp.MustCompile(`(?:for volume "([^"]+)" : )?references non-existent (secret|config map) key: (\S+)`)
)

// withRelated prepends rel to related unless it is empty.
func withRelated(rel string, related []string) []string {
	if rel == "" {
		return related
	}
	return append([]string{rel}, related...)
}

// missingConfig finds the ConfigMap, Secret or key a message says is missing.
func missingConfig(msg, ns string) (culprit, related, what string, ok bool) {
	if m := missingKey.FindStringSubmatch(msg); m != nil {
		kind := strings.ToLower(m[2])
		return fmt.Sprintf("%s/%s key %s", kind, m[4], m[1]), ObjectRef(kind, m[3], m[4]),
			fmt.Sprintf("key %q is missing from %s %s/%s", m[1], m[2], m[3], m[4]), true
	}
	if m := missingVolKey.FindStringSubmatch(msg); m != nil {
		kind := strings.ReplaceAll(m[2], " ", "")
		what := fmt.Sprintf("key %q is missing from the %s of volume %q", m[3], m[2], m[1])
		if m[1] == "" {
			what = fmt.Sprintf("key %q is missing from a %s the pod mounts", m[3], m[2])
		}
		return fmt.Sprintf("%s key %s", kind, m[3]), "", what, true
	}
	if m := missingObj.FindStringSubmatch(msg); m != nil {
		kind := strings.ToLower(m[1])
		return kind + "/" + m[2], ObjectRef(kind, ns, m[2]), fmt.Sprintf("%s %q is not found", kind, m[2]), true
	}
	return "", "", "", false
}

func (a configErrorAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	for _, p := range collectPods(in) {
		var evs []KubeEvent // config errors the events show
		for _, e := range p.warnings("Failed", "FailedMount", "CreateContainerConfigError") {
			if _, _, _, ok := missingConfig(e.Message, p.Namespace); ok {
				evs = append(evs, e)
			}
		}
		stuck := false
		for _, c := range p.Containers {
			if c.State.Reason != "CreateContainerConfigError" {
				if c.State.Reason == "ContainerCreating" || c.State.Reason == "PodInitializing" {
					stuck = true
				}
				continue
			}
			ids, msgs := c.IDs, []string{c.State.Message}
			for _, e := range evs {
				ids = addID(ids, e.Item)
				msgs = append(msgs, e.Message)
			}
			found := false
			for _, m := range msgs {
				if cul, rel, what, ok := missingConfig(m, p.Namespace); ok {
					fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryMissingConfig, Object: p.ref(),
						Summary: fmt.Sprintf("container %q of pod %s cannot be created (CreateContainerConfigError): %s",
							c.Name, p.path(), what),
						Culprit: cul, Evidence: ids, Direct: true, Score: 0.9, Related: withRelated(rel, p.related())})
					found = true
					break
				}
			}
			if !found {
				// The kubelet refused the container's configuration for
				// another reason than a missing object: its Failed event
				// says which ("Error: container has runAsNonRoot and image
				// will run as root …").
				if f, ok := a.refusedConfig(p, c); ok {
					fs = append(fs, f)
					continue
				}
				fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryMissingConfig, Object: p.ref(),
					Summary: fmt.Sprintf("container %q of pod %s cannot be created (CreateContainerConfigError); the evidence does not say which ConfigMap, Secret or key is missing",
						c.Name, p.path()),
					Evidence: ids, Score: 0.6, Related: p.related()})
			}
		}
		// Volumes that cannot mount keep the pod in ContainerCreating; events
		// alone (pod state unknown) count too.
		if !stuck && p.stateKnown() && !strings.EqualFold(p.Phase, "Pending") && p.TableStatus != "ContainerCreating" {
			continue
		}
		for _, e := range evs {
			if e.Reason != "FailedMount" && p.stateKnown() {
				continue // handled with the container above
			}
			cul, rel, what, _ := missingConfig(e.Message, p.Namespace)
			direct, score := true, 0.9
			if !p.stateKnown() {
				direct, score = e.Reason == "FailedMount", 0.75
			}
			fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryMissingConfig, Object: p.ref(),
				Summary: fmt.Sprintf("pod %s cannot start: %s (%s: %q)", p.path(), what, e.Reason, clip(e.Message, 160)),
				Culprit: cul, Evidence: addID(append([]int(nil), p.IDs...), e.Item), Direct: direct, Score: score,
				Related: withRelated(rel, p.related())})
		}
	}
	return finishFindings(fs)
}

var (
	nonRootRoot    = regexp.MustCompile(`container has runAsNonRoot and image will run as root`)
	nonRootNonNum  = regexp.MustCompile(`container has runAsNonRoot and image has non-numeric user \(([^)]*)\)`)
	subPathErr     = regexp.MustCompile(`failed to prepare subPath for volumeMount "([^"]+)" of container "([^"]+)"`)
	eventContainer = regexp.MustCompile(`container: ([^\s)",]+)\)`)
)

// refusedConfig reads why the kubelet refused to create container c
// (CreateContainerConfigError) when no ConfigMap, Secret or key is missing:
// a securityContext the image cannot satisfy, a subPath that cannot be
// prepared, or whatever error its Failed events quote.
func (a configErrorAnalyzer) refusedConfig(p *podInfo, c *containerInfo) (Finding, bool) {
	var msg string
	ids := c.IDs
	msgs := []string{c.State.Message}
	for _, e := range p.warnings("Failed") {
		if !strings.HasPrefix(e.Message, "Error: ") || isPullEvent(e) || containsAny(e.Message, "ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError") {
			continue
		}
		if m := eventContainer.FindStringSubmatch(e.Message); m != nil && m[1] != c.Name {
			continue // another container's
		}
		msgs = append(msgs, strings.TrimPrefix(e.Message, "Error: "))
		ids = addID(ids, e.Item)
	}
	for _, m := range msgs {
		if m != "" {
			msg = m // the latest
		}
	}
	if msg == "" {
		return Finding{}, false
	}
	f := Finding{Analyzer: a.Name(), Category: CategoryMissingConfig, Object: p.ref(), Evidence: ids,
		Direct: true, Score: 0.9, Related: p.related()}
	head := fmt.Sprintf("container %q of pod %s cannot be created (CreateContainerConfigError): ", c.Name, p.path())
	img := ""
	if c.Image != "" {
		img = " " + strconv.Quote(c.Image)
	}
	switch {
	case nonRootRoot.MatchString(msg):
		f.Culprit = "runAsNonRoot"
		f.Summary = head + fmt.Sprintf("its securityContext sets runAsNonRoot but image%s will run as root (user 0); it needs a non-root runAsUser or an image with a non-root USER (%q)", img, clip(msg, 200))
	case nonRootNonNum.MatchString(msg):
		user := nonRootNonNum.FindStringSubmatch(msg)[1]
		f.Culprit = "runAsNonRoot"
		f.Summary = head + fmt.Sprintf("its securityContext sets runAsNonRoot but image%s names a non-numeric user %q the kubelet cannot verify is not root; it needs a numeric runAsUser (%q)", img, user, clip(msg, 200))
	case subPathErr.MatchString(msg):
		f.Culprit = "subPath of volumeMount " + subPathErr.FindStringSubmatch(msg)[1]
		f.Summary = head + fmt.Sprintf("the subPath of volumeMount %q cannot be prepared (%q)", subPathErr.FindStringSubmatch(msg)[1], clip(msg, 200))
	default:
		f.Culprit = clip(msg, 120)
		f.Summary = head + fmt.Sprintf("%q", clip(msg, 240))
		f.Direct, f.Score = false, 0.7
	}
	return f, true
}

// ---------------------------------------------------------------------------
// Scheduling and storage

type schedulingAnalyzer struct{}

func (schedulingAnalyzer) Name() string { return "kube-scheduling" }

var (
	schedCount   = regexp.MustCompile(`^(\d+)\s+(.*)$`)
	insufficient = regexp.MustCompile(`Insufficient (\S+)`)
	taintRe      = regexp.MustCompile(`taint(?:s)? (\{[^}]*\})`)
	scNotFound   = regexp.MustCompile(`storageclass(?:\.storage\.k8s\.io)? "([^"\\]+)\\?" not found`)
)

// splitSchedMessage splits "0/5 nodes are available: 2 Insufficient cpu, 3
// node(s) had untolerated taint {a: b}. preemption: …" into its reasons.
func splitSchedMessage(msg string) []string {
	if i := strings.Index(msg, " preemption:"); i >= 0 {
		msg = msg[:i]
	}
	if _, rest, ok := strings.Cut(msg, "nodes are available: "); ok {
		msg = rest
	}
	msg = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(msg), "."))
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(msg); i++ {
		switch msg[i] {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 && i+1 < len(msg) && msg[i+1] == ' ' {
				parts = append(parts, strings.TrimSpace(msg[start:i]))
				start = i + 1
			}
		}
	}
	return append(parts, strings.TrimSpace(msg[start:]))
}

type schedReason struct {
	count             int
	category, culprit string
	text              string
	related           []string
	selector          bool   // the pod's node selector/affinity matches no node
	taintKey          string // a system taint (node not ready, under pressure)
}

func (p *podInfo) schedReason(part string) schedReason {
	r := schedReason{count: -1, category: CategoryScheduling, text: part}
	if m := schedCount.FindStringSubmatch(part); m != nil {
		r.count, _ = strconv.Atoi(m[1])
	}
	switch {
	case insufficient.MatchString(part):
		r.culprit = insufficient.FindStringSubmatch(part)[1]
	case taintRe.MatchString(part):
		r.culprit = taintRe.FindStringSubmatch(part)[1]
		if k := taintKeyOf(r.culprit); systemTaint(k) {
			r.taintKey = k
		}
	case containsAny(part, "node affinity/selector", "didn't match node selector", "didn't match pod's node affinity"):
		r.selector = true
		r.culprit = p.NodeSelector
		if r.culprit == "" {
			r.culprit = "node affinity/selector"
		}
	case containsAny(part, "unbound immediate PersistentVolumeClaims", "didn't find available persistent volumes",
		"volume node affinity conflict", "persistentvolumeclaim"):
		r.category, r.count = CategoryStorage, 1<<30 // storage blocks every node
		r.culprit = strings.Join(p.Claims, ",")
		for _, c := range p.Claims {
			r.related = append(r.related, ObjectRef("persistentvolumeclaim", p.Namespace, c))
		}
		if r.culprit == "" {
			r.culprit = part
		}
	default:
		r.culprit = part
	}
	return r
}

func (a schedulingAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	pods := collectPods(in)
	nodes := collectSchedNodes(in)
	pvcs := collectPVCs(in)
	for _, p := range pods {
		cond := findCondition(p.Conditions, "PodScheduled")
		if p.stateKnown() && (p.Node != "" || cond != nil && cond.Status == "True" ||
			p.Phase != "" && !strings.EqualFold(p.Phase, "Pending")) {
			continue // scheduled: FailedScheduling events are history
		}
		msg, ids := "", append([]int(nil), p.IDs...)
		if evs := p.warnings("FailedScheduling"); len(evs) > 0 {
			msg = evs[len(evs)-1].Message
			ids = addID(ids, eventIDs(evs)...)
		}
		if cond != nil && cond.Status == "False" && cond.Message != "" {
			msg = cond.Message
		}
		if msg == "" {
			continue
		}
		var reasons []schedReason
		for _, part := range splitSchedMessage(msg) {
			reasons = append(reasons, p.schedReason(part))
		}
		sort.SliceStable(reasons, func(i, j int) bool { return reasons[i].count > reasons[j].count })
		top := reasons[0]
		if top.category == CategoryStorage && len(p.Claims) > 0 {
			// The claim is the broken object; the pod waits on it.
			for _, c := range p.Claims {
				ref := ObjectRef("persistentvolumeclaim", p.Namespace, c)
				v := pvcs.get(ref, p.Namespace, c)
				v.blocked = append(v.blocked, p)
				v.schedMsg, v.schedIDs = msg, addID(v.schedIDs, ids...)
			}
			continue
		}
		score := 0.9
		if len(reasons) > 1 {
			score = 0.85
		}
		sum := fmt.Sprintf("pod %s cannot be scheduled: %q", p.path(), clip(msg, 240))
		related := append([]string(nil), top.related...)
		for _, r := range reasons {
			if r.selector && p.NodeSelector != "" {
				sum += fmt.Sprintf("; its node selector is %s", p.NodeSelector)
				break
			}
		}
		// Nodes a system taint in the message points to (a node under
		// memory pressure, not ready, …): the chain may lead there.
		for _, r := range reasons {
			if r.taintKey == "" {
				continue
			}
			names, nids := nodes.withTaint(r.taintKey)
			how := "has the taint"
			if len(names) == 0 && strings.HasSuffix(r.taintKey, "-pressure") {
				names, nids = evictedFrom(pods, p.Namespace)
				how = "evicted pods of the namespace ran on"
			}
			if len(names) == 0 {
				continue
			}
			for _, n := range names {
				if ref := ObjectRef("node", "", n); !containsStr(related, ref) {
					related = append(related, ref)
				}
			}
			ids = addID(ids, nids...)
			if how == "has the taint" {
				verb := "node %s carries"
				if len(names) > 1 {
					verb = "nodes %s carry"
				}
				sum += fmt.Sprintf("; "+verb+" that taint (%s)", strings.Join(names, ", "), r.taintKey)
			} else {
				sum += fmt.Sprintf("; %s: %s", how, strings.Join(names, ", "))
			}
		}
		fs = append(fs, Finding{Analyzer: a.Name(), Category: top.category, Object: p.ref(),
			Summary: sum, Culprit: top.culprit, Evidence: ids, Direct: true, Score: score, Related: related})
	}
	fs = append(fs, pvcs.findings(a.Name())...)
	return finishFindings(fs)
}

// ---------------------------------------------------------------------------
// PersistentVolumeClaims

type pvcState struct {
	ns, name, ref  string
	status         string // Pending | Bound | Lost ("" when not shown)
	storageClass   string
	events         []KubeEvent
	ids            []int
	blocked        []*podInfo // pods the scheduler cannot place until it binds
	schedMsg       string
	schedIDs       []int
	usedBy         []string
	statusShownIDs []int
}

type pvcSet struct {
	byRef map[string]*pvcState
	order []string
}

func (s *pvcSet) get(ref, ns, name string) *pvcState {
	if v, ok := s.byRef[ref]; ok {
		return v
	}
	v := &pvcState{ns: ns, name: name, ref: ref}
	s.byRef[ref] = v
	s.order = append(s.order, ref)
	return v
}

// collectPVCs reads the PersistentVolumeClaims the items show (describe,
// -o json/yaml, tables) with their events, merged by namespace/name.
func collectPVCs(in *Input) *pvcSet {
	s := &pvcSet{byRef: map[string]*pvcState{}}
	for _, o := range objectsOf(in, "persistentvolumeclaim") {
		v := s.get(o.ref(), o.ns, o.name)
		st, sc := "", ""
		switch {
		case o.doc != nil:
			st, sc = o.doc.Get("Status"), o.doc.Get("StorageClass")
			if u := o.doc.Get("Used By"); u != "" && u != "<none>" {
				v.usedBy = append(v.usedBy, u)
			}
		case o.obj != nil:
			var spec struct {
				StorageClassName string `json:"storageClassName"`
			}
			var status struct {
				Phase string `json:"phase"`
			}
			_ = json.Unmarshal(o.obj.Spec, &spec)
			_ = json.Unmarshal(o.obj.Status, &status)
			st, sc = status.Phase, spec.StorageClassName
		case o.row != nil:
			st, sc = o.row["STATUS"], o.row["STORAGECLASS"]
		}
		if st != "" {
			v.status = st
			v.statusShownIDs = addID(v.statusShownIDs, o.ids...)
		}
		if sc != "" {
			v.storageClass = sc
		}
		v.ids = addID(v.ids, o.ids...)
		for _, e := range o.events {
			dup := false
			for _, x := range v.events {
				if x.Item == e.Item && x.Reason == e.Reason && x.Message == e.Message {
					dup = true
				}
			}
			if !dup {
				v.events = append(v.events, e)
			}
		}
	}
	return s
}

// The external-provisioner's ProvisioningFailed message and the gRPC code
// of the CSI driver's error.
var (
	provisionFailed = regexp.MustCompile(`failed to provision volume with StorageClass "([^"]+)"(?:: rpc error: code = (\w+))?`)
	provisionDesc   = regexp.MustCompile(`desc = `)
	provisionHint   = map[string]string{
		"ResourceExhausted": "a quota or capacity limit of the storage backend",
		"InvalidArgument":   "the backend refuses the StorageClass parameters or the claim's request",
		"PermissionDenied":  "the driver's credentials may not create volumes",
		"Unauthenticated":   "the driver's credentials are refused",
		"DeadlineExceeded":  "the storage backend does not answer in time",
		"Unavailable":       "the storage backend or driver is unreachable",
	}
)

// provisionCause is the innermost description of a provisioning error (after
// its last "desc = "), else the whole message.
func provisionCause(msg string) string {
	if loc := provisionDesc.FindAllStringIndex(msg, -1); len(loc) > 0 {
		return strings.TrimSpace(msg[loc[len(loc)-1][1]:])
	}
	return msg
}

// pvcFailure is the event that says why a claim is not bound: a missing
// StorageClass, a failed provisioning, no volume to bind.
func (v *pvcState) failure() (KubeEvent, bool) {
	var best KubeEvent
	found := false
	for _, e := range v.events {
		if e.Reason != "ProvisioningFailed" && e.Reason != "FailedBinding" && !scNotFound.MatchString(e.Message) {
			continue
		}
		// FailedBinding is a Normal event; ProvisioningFailed a Warning.
		if !found || scNotFound.MatchString(e.Message) && !scNotFound.MatchString(best.Message) {
			best, found = e, true
		} else if !scNotFound.MatchString(best.Message) {
			best = e // the latest
		}
	}
	return best, found
}

var externalProvisioner = regexp.MustCompile(`Waiting for a volume to be created,? either by (?:the )?external provisioner "?'?([^"' ]+)'?"? or manually`)

// waitingForProvisioner is the external provisioner the claim waits for
// (ExternalProvisioning) when no event shows that provisioner acting.
func (v *pvcState) waitingForProvisioner() (prov string, id int, ok bool) {
	for _, e := range v.events {
		if e.Reason == "Provisioning" || e.Reason == "ProvisioningFailed" || e.Reason == "ProvisioningSucceeded" {
			return "", 0, false
		}
		if m := externalProvisioner.FindStringSubmatch(e.Message); m != nil && e.Reason == "ExternalProvisioning" {
			prov, id, ok = m[1], e.Item, true
		}
	}
	return prov, id, ok
}

func (s *pvcSet) findings(analyzer string) []Finding {
	var fs []Finding
	for _, ref := range s.order {
		v := s.byRef[ref]
		if strings.EqualFold(v.status, "Bound") {
			continue // bound now: failures in events are history
		}
		e, failed := v.failure()
		if !failed && len(v.blocked) == 0 {
			continue
		}
		path := v.ns + "/" + v.name
		if v.ns == "" {
			path = v.name
		}
		f := Finding{Analyzer: analyzer, Category: CategoryStorage, Object: ref, Direct: true, Score: 0.9}
		f.Evidence = addID(append([]int(nil), v.schedIDs...), v.statusShownIDs...)
		pending := strings.EqualFold(v.status, "Pending")
		m := scNotFound.FindStringSubmatch(e.Message)
		switch {
		case failed && m != nil:
			f.Evidence = addID(f.Evidence, e.Item)
			f.Culprit = "storageclass/" + m[1]
			f.Related = []string{ObjectRef("storageclass", "", m[1])}
			f.Summary = fmt.Sprintf("PersistentVolumeClaim %s cannot be provisioned: StorageClass %q is not found (%s)", path, m[1], e.Reason)
		case failed && provisionFailed.MatchString(e.Message):
			// A dynamic provisioner (CSI driver) tried and failed: its gRPC
			// code and innermost description say why.
			pm := provisionFailed.FindStringSubmatch(e.Message)
			f.Evidence = addID(f.Evidence, e.Item)
			f.Culprit = "storageclass/" + pm[1]
			f.Related = []string{ObjectRef("storageclass", "", pm[1])}
			f.Summary = fmt.Sprintf("PersistentVolumeClaim %s cannot be provisioned: the provisioner of StorageClass %q fails", path, pm[1])
			if pm[2] != "" {
				f.Summary += " with " + pm[2]
				if hint := provisionHint[pm[2]]; hint != "" {
					f.Summary += " (" + hint + ")"
				}
			}
			f.Summary += fmt.Sprintf(": %q (%s)", clip(provisionCause(e.Message), 200), e.Reason)
			if !pending && len(v.blocked) == 0 {
				f.Score = 0.8 // events only
			}
		case failed:
			f.Evidence = addID(f.Evidence, e.Item)
			f.Culprit = clip(e.Message, 120)
			f.Summary = fmt.Sprintf("PersistentVolumeClaim %s is not bound: %s %q", path, e.Reason, clip(e.Message, 200))
			if !pending && len(v.blocked) == 0 {
				f.Score = 0.8 // events only
			}
		default:
			// Only the scheduler says the pod's claims are unbound.
			f.Culprit = "unbound PersistentVolumeClaim " + v.name
			f.Summary = fmt.Sprintf("PersistentVolumeClaim %s is not bound", path)
			if v.status != "" {
				f.Summary += fmt.Sprintf(" (status %s)", v.status)
			}
			f.Score = 0.85
			if prov, id, ok := v.waitingForProvisioner(); ok {
				// The controller handed the claim to an external provisioner
				// that never reported working on it: it is likely not running
				// or not registered.
				f.Evidence = addID(f.Evidence, id)
				f.Culprit = "external provisioner " + prov
				f.Summary += fmt.Sprintf(": it waits for the external provisioner %q, which shows no attempt to provision it (no Provisioning or ProvisioningFailed event): the provisioner (CSI controller) is likely not running or not registered", prov)
			}
			if !pending && len(v.blocked[0].Claims) > 1 {
				// Which of the pod's claims is unbound is not shown.
				f.Direct, f.Score = false, 0.6
			}
		}
		if v.storageClass == "" && v.status != "" && failed && m == nil && containsAny(e.Message, "no storage class") {
			f.Summary += "; it names no StorageClass"
		}
		if len(v.blocked) > 0 {
			var names []string
			for _, p := range v.blocked {
				names = append(names, p.path())
			}
			f.Summary += fmt.Sprintf("; pod %s cannot be scheduled until it is bound (%q)",
				strings.Join(names, ", "), clip(v.schedMsg, 160))
		} else if len(v.usedBy) > 0 {
			f.Summary += "; used by pod " + strings.Join(v.usedBy, ", ")
		}
		fs = append(fs, f)
	}
	return fs
}

// ---------------------------------------------------------------------------
// Nodes as the scheduler sees them (taints, conditions)

type schedNode struct {
	name        string
	taints      []string // taint keys
	conds       map[string]string
	tableStatus string
	// The items that showed each: taint key, condition type, table STATUS.
	taintIDs, condIDs map[string][]int
	tableIDs          []int
}

type schedNodes struct {
	byName map[string]*schedNode
	order  []string
}

// collectSchedNodes reads the nodes the items show: describe (Taints:,
// Conditions:), -o json/yaml (spec.taints, status.conditions) and `kubectl
// get nodes` (STATUS).
func collectSchedNodes(in *Input) *schedNodes {
	ns := &schedNodes{byName: map[string]*schedNode{}}
	get := func(name string) *schedNode {
		n, ok := ns.byName[name]
		if !ok {
			n = &schedNode{name: name, conds: map[string]string{}, taintIDs: map[string][]int{}, condIDs: map[string][]int{}}
			ns.byName[name] = n
			ns.order = append(ns.order, name)
		}
		return n
	}
	taint := func(n *schedNode, key string, id int) {
		if !containsStr(n.taints, key) {
			n.taints = append(n.taints, key)
		}
		n.taintIDs[key] = addID(n.taintIDs[key], id)
	}
	cond := func(n *schedNode, c kubeCondition, id int) {
		if c.Type == "" {
			return
		}
		if n.conds[c.Type] != c.Status {
			n.condIDs[c.Type] = nil // a later item shows a different status
		}
		n.conds[c.Type] = c.Status
		n.condIDs[c.Type] = addID(n.condIDs[c.Type], id)
	}
	for _, it := range in.Items {
		switch it.Tool {
		case toolKubeDescribe:
			if k := KubeKind(it.Arg("kind")); k != "" && k != "node" {
				continue
			}
			for _, d := range ParseDescribe(it.Output) {
				t := d.Node("Taints")
				if d.Name() == "" || t == nil || KubeKind(it.Arg("kind")) == "" && d.Get("Kubelet Version") == "" && d.Node("System Info") == nil {
					continue
				}
				n := get(d.Name())
				vals := []string{t.Value}
				for _, c := range t.Children {
					vals = append(vals, strings.TrimSpace(c.Key+":"+c.Value))
				}
				for _, v := range vals {
					if v == "" || v == "<none>" {
						continue
					}
					taint(n, taintKeyOf(v), it.ID)
				}
				for _, c := range conditionsFromTable(d.Node("Conditions")) {
					cond(n, c, it.ID)
				}
			}
		case toolKubeGet:
			if isStructured(it.Output) {
				for _, o := range kubeObjects(it.Output) {
					if o.Kind != "Node" || o.Metadata.Name == "" {
						continue
					}
					var spec struct {
						Taints []struct {
							Key string `json:"key"`
						} `json:"taints"`
					}
					var st struct {
						Conditions []kubeCondition `json:"conditions"`
					}
					_ = json.Unmarshal(o.Spec, &spec)
					_ = json.Unmarshal(o.Status, &st)
					n := get(o.Metadata.Name)
					for _, t := range spec.Taints {
						taint(n, t.Key, it.ID)
					}
					for _, c := range st.Conditions {
						cond(n, c, it.ID)
					}
				}
				continue
			}
			if KubeKind(it.Arg("kind")) != "node" {
				continue
			}
			for _, r := range ParseTable(it.Output) {
				if name := strings.TrimPrefix(r["NAME"], "node/"); name != "" && r["STATUS"] != "" {
					n := get(name)
					n.tableStatus, n.tableIDs = r["STATUS"], []int{it.ID}
				}
			}
		}
	}
	return ns
}

// taintKeyOf reads the key of a taint as describe prints it
// ("key=value:NoSchedule", "key:NoSchedule") or the scheduler quotes it
// ("{key: value}").
func taintKeyOf(t string) string {
	t = strings.Trim(strings.TrimSpace(t), "{}")
	if i := strings.IndexAny(t, "=:"); i >= 0 {
		t = t[:i]
	}
	return strings.TrimSpace(t)
}

// taintConditions maps the taints the node lifecycle controller and kubelet
// set to the condition (or `kubectl get nodes` STATUS word) that causes them.
var taintConditions = map[string]struct{ cond, status, table string }{
	"node.kubernetes.io/memory-pressure":     {"MemoryPressure", "True", ""},
	"node.kubernetes.io/disk-pressure":       {"DiskPressure", "True", ""},
	"node.kubernetes.io/pid-pressure":        {"PIDPressure", "True", ""},
	"node.kubernetes.io/network-unavailable": {"NetworkUnavailable", "True", ""},
	"node.kubernetes.io/not-ready":           {"Ready", "False", "NotReady"},
	"node.kubernetes.io/unreachable":         {"Ready", "Unknown", "NotReady"},
	"node.kubernetes.io/unschedulable":       {"", "", "SchedulingDisabled"},
}

// systemTaint is true for taints Kubernetes sets to say a node is unwell
// (as opposed to taints an operator sets to reserve nodes).
func systemTaint(key string) bool {
	return strings.HasPrefix(key, "node.kubernetes.io/") || strings.HasPrefix(key, "node.cloudprovider.kubernetes.io/")
}

// withTaint returns the nodes that carry a taint key or show the condition
// behind it, and the items that show it.
func (ns *schedNodes) withTaint(key string) (names []string, ids []int) {
	tc, hasCond := taintConditions[key]
	for _, name := range ns.order {
		n := ns.byName[name]
		var shown []int
		if containsStr(n.taints, key) {
			shown = n.taintIDs[key]
		}
		if hasCond && tc.cond != "" && strings.EqualFold(n.conds[tc.cond], tc.status) {
			shown = addID(shown, n.condIDs[tc.cond]...)
		}
		if hasCond && tc.table != "" && containsStr(strings.Split(n.tableStatus, ","), tc.table) {
			shown = addID(shown, n.tableIDs...)
		}
		if len(shown) > 0 {
			names = append(names, name)
			ids = addID(ids, shown...)
		}
	}
	return names, ids
}

// evictedFrom returns the nodes pods of a namespace were evicted from.
func evictedFrom(pods []*podInfo, namespace string) (names []string, ids []int) {
	for _, p := range pods {
		if p.Namespace != namespace || p.Node == "" {
			continue
		}
		if p.Reason != "Evicted" && p.TableStatus != "Evicted" && len(p.warnings("Evicted")) == 0 {
			continue
		}
		if !containsStr(names, p.Node) {
			names = append(names, p.Node)
		}
		ids = addID(ids, p.IDs...)
	}
	sort.Strings(names)
	return names, ids
}

// ---------------------------------------------------------------------------
// Probes

type probeAnalyzer struct{}

func (probeAnalyzer) Name() string { return "kube-probe" }

var (
	probeFailed  = regexp.MustCompile(`^(Liveness|Readiness|Startup) probe failed: ?(.*)$`)
	probeKilled  = regexp.MustCompile(`Container (\S+) failed (liveness|startup) probe`)
	probeURL     = regexp.MustCompile(`Get "?(https?://[^\s"]+)"?`)
	probeStatus  = regexp.MustCompile(`statuscode: (\d+)`)
	probeDialErr = regexp.MustCompile(`dial tcp (\S+): connect: (connection refused|no route to host)`)
)

func probeDetail(msg string) string {
	switch {
	case probeStatus.MatchString(msg):
		return "HTTP " + probeStatus.FindStringSubmatch(msg)[1]
	case probeDialErr.MatchString(msg):
		m := probeDialErr.FindStringSubmatch(msg)
		return m[2] + " on " + m[1]
	case containsAny(msg, "context deadline exceeded", "Client.Timeout", "timeout", "timed out"):
		return "timed out"
	case containsAny(msg, "connection refused"):
		return "connection refused"
	}
	return strings.TrimSpace(clip(msg, 120))
}

// probeRecent is how recent a probe failure must be to count while the pod
// looks healthy (a liveness probe that keeps restarting a container leaves
// it Running and Ready between kills); probeOld is the age past which a
// failure is history, not direct evidence of the cause.
const (
	probeRecent = 15 * time.Minute
	probeOld    = time.Hour
)

// probeAnswered is true when a probe failure message quotes what the
// endpoint answered: an HTTP status or a refused/unreachable connection.
func probeAnswered(msg string) bool {
	return probeStatus.MatchString(msg) || probeDialErr.MatchString(msg) || containsAny(msg, "connection refused")
}

func (a probeAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	for _, p := range collectPods(in) {
		healthy := p.healthy()
		type group struct {
			probe   string // liveness | readiness | startup
			evs     []KubeEvent
			count   int
			lastMsg string
			// age is the most recent failure's age (ageKnown false when no
			// event said).
			age      time.Duration
			ageKnown bool
			perItem  map[int]int
		}
		groups := map[string]*group{}
		killed := map[string]string{} // probe → container restarted for it
		var killIDs []int
		for _, e := range p.Events {
			if m := probeKilled.FindStringSubmatch(e.Message); m != nil {
				killed[m[2]] = m[1]
				killIDs = addID(killIDs, e.Item)
			}
			m := probeFailed.FindStringSubmatch(e.Message)
			if e.Type != "Warning" || m == nil {
				continue
			}
			k := strings.ToLower(m[1])
			g := groups[k]
			if g == nil {
				g = &group{probe: k}
				groups[k] = g
			}
			g.evs = append(g.evs, e)
			// The same failures show in describe and in the event list:
			// count per item and keep the largest.
			if g.perItem == nil {
				g.perItem = map[int]int{}
			}
			g.perItem[e.Item] += e.Count
			g.count = max(g.count, g.perItem[e.Item])
			if d, ok := parseKubeAge(e.Age); ok {
				if !g.ageKnown || d <= g.age {
					g.age, g.ageKnown, g.lastMsg = d, true, m[2]
				}
			} else if !g.ageKnown {
				g.lastMsg = m[2]
			}
		}
		for _, k := range []string{"liveness", "startup", "readiness"} {
			g := groups[k]
			if g == nil {
				continue
			}
			if healthy {
				// The pod is ready now: probe failures are history, unless
				// a liveness or startup probe keeps restarting a container
				// (it is Running and Ready between kills).
				_, restarting := killed[k]
				if k == "readiness" || !restarting || !g.ageKnown || g.age > probeRecent {
					continue
				}
			}
			var ctr *containerInfo
			if n, ok := killed[k]; ok {
				ctr = p.container(n)
			}
			if ctr == nil {
				var main []*containerInfo
				for _, c := range p.Containers {
					if !c.Init && c.probe(k) != "" {
						main = append(main, c)
					}
				}
				if len(main) == 1 {
					ctr = main[0]
				}
			}
			target := ""
			if ctr != nil {
				if f := strings.Fields(ctr.probe(k)); len(f) >= 2 {
					target = f[0] + " " + f[1]
				}
			}
			if target == "" {
				if m := probeURL.FindStringSubmatch(g.lastMsg); m != nil {
					target = "GET " + m[1]
				}
			}
			culprit := strings.TrimSpace(k + " probe " + target)
			ids := eventIDs(g.evs)
			who := "pod " + p.path()
			restarts := ""
			if ctr != nil {
				who = fmt.Sprintf("container %q of pod %s", ctr.Name, p.path())
				ids = addID(ids, ctr.IDs...)
				if k != "readiness" {
					restarts = restartsText(ctr.Restarts)
				}
			}
			score := 0.65
			if k != "readiness" {
				score = 0.75
				if _, ok := killed[k]; ok {
					ids = addID(ids, killIDs...)
				}
			}
			// Direct: the pod's containers are shown (not events or a
			// table row only), the
			// failures are not old, and the kubelet quotes what the
			// endpoint answered (an HTTP status, a refused connection).
			direct := len(p.Containers) > 0 && probeAnswered(g.lastMsg) && (!g.ageKnown || g.age <= probeOld)
			if direct {
				score = 0.8
				if k != "readiness" {
					score = 0.85
				}
			}
			fs = append(fs, Finding{Analyzer: a.Name(), Category: CategoryProbe, Object: p.ref(),
				Summary: fmt.Sprintf("the %s of %s fails: %s (%s, last: %q)%s",
					culprit, who, probeDetail(g.lastMsg), plural(g.count, "failure"), clip(g.lastMsg, 160), restarts),
				Culprit: culprit, Evidence: ids, Direct: direct, Score: score, Related: p.related()})
		}
	}
	return finishFindings(fs)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func (c *containerInfo) probe(kind string) string {
	switch kind {
	case "liveness":
		return c.Liveness
	case "readiness":
		return c.Readiness
	case "startup":
		return c.Startup
	}
	return ""
}

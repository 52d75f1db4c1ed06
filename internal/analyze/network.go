package analyze

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// NetworkAnalyzers returns the analyzers of Service routing, Ingress
// backends, NetworkPolicy isolation and DNS failures.
func NetworkAnalyzers() []Analyzer { return []Analyzer{netAnalyzer{}} }

// netAnalyzer reads kubernetes.describe / kubernetes.get outputs (text or
// JSON) for Services, Endpoints, EndpointSlices, Pods, Ingresses and
// NetworkPolicies, plus logs and events for timeouts and DNS failures.
type netAnalyzer struct{}

func (netAnalyzer) Name() string { return "network" }

type netSvcPort struct{ name, port, target string }

type netService struct {
	ns, name  string
	selector  map[string]string
	ports     []netSvcPort
	endpoints int // ready addresses; -1 when unknown
	notReady  int
	ids       []int
	ips       []string // cluster IPs
	addrs     []string // endpoint addresses: "ip:port", or "ip" when no port is shown
}

type netPodPort struct{ name, port string }

type netPod struct {
	ns, name string
	labels   map[string]string // nil when unknown
	ports    []netPodPort
	ready    int // 1 ready, 0 not ready, -1 unknown
	ip       string
	ids      []int
}

type netBackend struct {
	svc, port string
	state     string // "missing" (endpoints not found), "empty" (no endpoints), "" (ok/unknown)
	text      string
}

type netIngress struct {
	ns, name string
	backends []netBackend
	ids      []int
}

type netPolicy struct {
	ns, name     string
	selector     map[string]string // empty: all pods
	ingressTypes bool              // policyTypes include Ingress
	ingressRules int
	// The sources the ingress rules admit (ports are not read: a rule is
	// taken to admit its sources on every port, which only errs towards
	// not blaming the policy).
	peers      []netPeer
	ingressAny bool // a rule admits every source
	// Egress: whether the policy isolates its pods for egress, and the
	// rules that let traffic out.
	egressTypes bool
	egress      []netEgressRule
	ids         []int
}

// netEgressRule is one egress rule: the ports it opens ("" entries never;
// empty means every port) and the destinations (anyDest: every one).
type netEgressRule struct {
	ports   []string
	peers   []netPeer
	anyDest bool
}

// netPeer is one "from" entry of an ingress rule.
type netPeer struct {
	ns, pod       map[string]string
	hasNS, hasPod bool
	ipBlock       bool
	complex       bool // set-based selectors (matchExpressions, "in (…)")
}

type netTimeout struct {
	ns, pod, addr, line string
	id                  int
}

type netModel struct {
	services   map[string]*netService
	pods       map[string]*netPod
	ingresses  map[string]*netIngress
	policies   map[string]*netPolicy
	svcListed  map[string]bool // namespaces whose Service list is in evidence
	podsListed map[string]bool // namespaces whose Pod list (with labels) is in evidence
	timeouts   []netTimeout
	refused    []netTimeout // connections logs say were refused
	dns        map[string]*netDNS
	dnsOrder   []string
}

type netDNS struct {
	object, culprit, detail, line string
	ids                           []int
	count                         int
	direct                        bool
	related                       []string
}

func netKey(ns, name string) string { return ns + "/" + name }

func netAddID(ids []int, id int) []int {
	for _, x := range ids {
		if x == id {
			return ids
		}
	}
	return append(ids, id)
}

func (m *netModel) service(ns, name string, id int) *netService {
	k := netKey(ns, name)
	s := m.services[k]
	if s == nil {
		s = &netService{ns: ns, name: name, endpoints: -1}
		m.services[k] = s
	}
	s.ids = netAddID(s.ids, id)
	return s
}

func (m *netModel) pod(ns, name string, id int) *netPod {
	k := netKey(ns, name)
	p := m.pods[k]
	if p == nil {
		p = &netPod{ns: ns, name: name, ready: -1}
		m.pods[k] = p
	}
	p.ids = netAddID(p.ids, id)
	return p
}

func (netAnalyzer) Analyze(in *Input) []Finding {
	if in == nil {
		return nil
	}
	m := netBuild(in)
	var fs []Finding
	fs = append(fs, m.serviceFindings()...)
	fs = append(fs, m.ingressFindings()...)
	fs = append(fs, m.policyFindings()...)
	fs = append(fs, m.allowListFindings()...)
	fs = append(fs, m.egressFindings()...)
	// A service with a finding of its own is the cause, not a way through.
	found := map[string]bool{}
	for _, f := range fs {
		found[f.Object] = true
	}
	for _, l := range m.backendLinks() {
		if !found[l.Object] {
			fs = append(fs, l)
		}
	}
	fs = append(fs, m.dnsFindings()...)
	for i := range fs {
		fs[i].Analyzer = "network"
	}
	logsSortFindings(fs)
	return fs
}

// netBuild reads every item into the model of services, pods, ingresses
// and policies (and what logs and events say about connections and DNS).
func netBuild(in *Input) *netModel {
	m := &netModel{
		services: map[string]*netService{}, pods: map[string]*netPod{},
		ingresses: map[string]*netIngress{}, policies: map[string]*netPolicy{},
		svcListed: map[string]bool{}, podsListed: map[string]bool{}, dns: map[string]*netDNS{},
	}
	for _, it := range in.Items {
		out := strings.TrimSpace(it.Output)
		if out == "" {
			continue
		}
		switch it.Tool {
		case "kubernetes.logs":
			m.readLogs(it)
			continue
		case "kubernetes.describe", "kubernetes.get":
		default:
			m.readEventText(it)
			continue
		}
		if strings.HasPrefix(out, "{") {
			m.readJSON(it, out)
			m.readEventText(it)
			continue
		}
		kind := KubeKind(it.Arg("kind"))
		if it.Tool == "kubernetes.describe" {
			m.readDescribe(it, kind, out)
		} else {
			m.readTable(it, kind, out)
		}
		m.readEventText(it)
	}
	return m
}

// netSplitList splits "a,b,c" (or "<none>", or "a,b + 3 more...").
func netSplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if i := strings.Index(f, " + "); i >= 0 {
			f = f[:i]
		}
		if f == "" || f == "<none>" || f == "None" || strings.HasPrefix(f, "<") {
			continue
		}
		out = append(out, f)
	}
	return out
}

func netAddrIP(a string) string {
	if strings.HasPrefix(a, "[") {
		if i := strings.Index(a, "]"); i > 0 {
			return a[1:i]
		}
	}
	if strings.Count(a, ":") == 1 {
		return a[:strings.IndexByte(a, ':')]
	}
	return a
}

// resolve names the objects an address (ip or ip:port) belongs to, as
// far as the evidence shows: a Service whose endpoint or cluster IP it is,
// then a Pod whose IP it is.
// targetService names the service a timed-out (or refused) address is: by
// its DNS name, else by an IP the evidence shows is a service's. Empty
// when neither tells.
func (m *netModel) targetService(t netTimeout) (ns, name string) {
	host, _ := logsSplitAddr(t.addr)
	ref := logsServiceRef(host, t.ns)
	if ref == "" {
		for _, r := range m.resolve(t.addr) {
			if strings.HasPrefix(r, "service/") {
				ref = r
				break
			}
		}
	}
	parts := strings.Split(ref, "/")
	if len(parts) != 3 {
		return "", ""
	}
	return parts[1], parts[2]
}

func (m *netModel) resolve(addr string) []string {
	if addr == "" {
		return nil
	}
	ip := netAddrIP(addr)
	if !logsIPv4.MatchString(ip) && !strings.Contains(ip, ":") {
		return nil
	}
	keys := slices.Sorted(maps.Keys(m.services))
	var out []string
	for _, k := range keys {
		s := m.services[k]
		hit := netContains(s.ips, ip)
		for _, a := range s.addrs {
			if a == addr || a == ip || (addr == ip && netAddrIP(a) == ip) {
				hit = true
			}
		}
		if hit {
			out = append(out, "service/"+s.ns+"/"+s.name)
		}
	}
	pkeys := slices.Sorted(maps.Keys(m.pods))
	for _, k := range pkeys {
		if p := m.pods[k]; p.ip != "" && p.ip == ip {
			out = append(out, "pod/"+p.ns+"/"+p.name)
		}
	}
	return out
}

// ---- describe text ----

var (
	netDescribeKV         = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9 /()-]*):\s*(.*)$`)
	netLabelKV            = regexp.MustCompile(`^\s+([\w./-]+)=(\S*)\s*$`)
	netPodPortRE          = regexp.MustCompile(`^\s+Ports?:\s+(.+)$`)
	netReadyCond          = regexp.MustCompile(`^\s+Ready\s+(True|False)\b`)
	netEPAddr             = regexp.MustCompile(`^\s+(NotReadyAddresses|Addresses):\s+(.*)$`)
	netIngBackend         = regexp.MustCompile(`(?:^|\s)([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?):([\w-]+) \(([^)]*)\)`)
	netPolicyTypesIngress = regexp.MustCompile(`Policy Types:.*\bIngress\b`)
	netPolicyTypesEgress  = regexp.MustCompile(`Policy Types:.*\bEgress\b`)
	// A DNS lookup's error ("lookup db on 10.96.0.10:53: … i/o timeout")
	// names the DNS server, not the dependency ("price lookup failed" is
	// not one).
	netDNSLookupLine = regexp.MustCompile(`\blookup [A-Za-z0-9._-]+(?: on \S+)?: `)
	netIngEPErr      = regexp.MustCompile(`<error: endpoints? "([^"]+)" not found>`)
)

// netDescribeDocs splits describe output into documents (each starting with
// "Name:") of top-level key → values (repeated keys keep every value; label
// continuation lines are appended to Labels/Selector).
type netDescribeDoc struct {
	kv    map[string][]string
	lines []string
}

func (d netDescribeDoc) get(k string) string {
	if v := d.kv[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func netDescribeDocs(text string) []netDescribeDoc {
	var docs []netDescribeDoc
	var cur *netDescribeDoc
	last := ""
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(l, "Name:") || cur == nil {
			docs = append(docs, netDescribeDoc{kv: map[string][]string{}})
			cur = &docs[len(docs)-1]
		}
		cur.lines = append(cur.lines, l)
		if m := netDescribeKV.FindStringSubmatch(l); m != nil {
			last = m[1]
			cur.kv[last] = append(cur.kv[last], strings.TrimSpace(m[2]))
			continue
		}
		if (last == "Labels" || last == "Selector" || last == "Pod Selector") && netLabelKV.MatchString(l) {
			v := cur.kv[last]
			v[len(v)-1] += "," + strings.TrimSpace(l)
			continue
		}
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t") {
			last = ""
		}
	}
	return docs
}

// netLabels parses "a=b,c=d" (or "<none>") into a map.
func netLabels(s string) map[string]string {
	out := map[string]string{}
	s = strings.TrimSpace(s)
	if s == "" || s == "<none>" {
		return out
	}
	for _, p := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && k != "" {
			out[k] = v
		}
	}
	return out
}

func netSelectorString(sel map[string]string) string {
	keys := slices.Sorted(maps.Keys(sel))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + sel[k]
	}
	return strings.Join(parts, ",")
}

func netStripProto(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return s
}

func (m *netModel) readDescribe(it Item, kind string, out string) {
	for _, d := range netDescribeDocs(out) {
		name, ns := d.get("Name"), d.get("Namespace")
		if ns == "" {
			ns = it.Arg("namespace")
		}
		if name == "" {
			continue
		}
		k := kind
		if k == "" || k == "all" {
			switch {
			case d.kv["Selector"] != nil && d.kv["TargetPort"] != nil:
				k = "service"
			case d.kv["Containers"] != nil:
				k = "pod"
			case d.kv["Rules"] != nil && d.kv["Ingress Class"] != nil:
				k = "ingress"
			}
		}
		switch k {
		case "service":
			s := m.service(ns, name, it.ID)
			s.selector = netLabels(d.get("Selector"))
			ports := d.kv["Port"]
			targets := d.kv["TargetPort"]
			s.ports = nil
			for i, p := range ports {
				f := strings.Fields(p)
				sp := netSvcPort{}
				if len(f) == 2 {
					sp.name, sp.port = f[0], netStripProto(f[1])
				} else if len(f) == 1 {
					sp.port = netStripProto(f[0])
				}
				if i < len(targets) {
					sp.target = netStripProto(targets[i])
				}
				s.ports = append(s.ports, sp)
			}
			if eps, ok := d.kv["Endpoints"]; ok {
				s.endpoints = 0
				for _, e := range eps {
					if e != "" && e != "<none>" {
						s.endpoints += len(strings.Split(e, ","))
					}
					for _, a := range netSplitList(e) {
						s.addrs = netAddStr(s.addrs, a)
					}
				}
			}
			for _, k := range []string{"IP", "IPs"} {
				for _, v := range d.kv[k] {
					for _, ip := range netSplitList(v) {
						if ip != "None" {
							s.ips = netAddStr(s.ips, ip)
						}
					}
				}
			}
		case "endpoints":
			s := m.service(ns, name, it.ID)
			ready, notReady := 0, 0
			for _, l := range d.lines {
				if a := netEPAddr.FindStringSubmatch(l); a != nil && a[2] != "<none>" && a[2] != "" {
					for _, ip := range netSplitList(a[2]) {
						s.addrs = netAddStr(s.addrs, ip)
					}
					if a[1] == "Addresses" {
						ready += len(strings.Split(a[2], ","))
					} else {
						notReady += len(strings.Split(a[2], ","))
					}
				}
			}
			s.endpoints, s.notReady = ready, notReady
		case "pod":
			p := m.pod(ns, name, it.ID)
			p.labels = netLabels(d.get("Labels"))
			if ip := d.get("IP"); logsIPv4.MatchString(ip) || strings.Contains(ip, ":") {
				p.ip = ip
			}
			p.ports = nil
			for _, l := range d.lines {
				if pm := netPodPortRE.FindStringSubmatch(l); pm != nil {
					for _, x := range strings.Split(pm[1], ",") {
						if x = netStripProto(x); x != "" && x != "<none>" {
							p.ports = append(p.ports, netPodPort{port: x})
						}
					}
				}
				if r := netReadyCond.FindStringSubmatch(l); r != nil {
					p.ready = 0
					if r[1] == "True" {
						p.ready = 1
					}
				}
			}
		case "ingress":
			ing := &netIngress{ns: ns, name: name, ids: []int{it.ID}}
			for _, l := range d.lines {
				for _, b := range netIngBackend.FindAllStringSubmatch(l, -1) {
					nb := netBackend{svc: b[1], port: b[2], text: strings.TrimSpace(l)}
					switch inner := strings.TrimSpace(b[3]); {
					case netIngEPErr.MatchString(inner):
						nb.state = "missing"
					case inner == "" || inner == "<none>":
						nb.state = "empty"
					}
					ing.backends = append(ing.backends, nb)
				}
			}
			m.ingresses[netKey(ns, name)+"#"+strconv.Itoa(it.ID)] = ing
		case "networkpolicy":
			pol := &netPolicy{ns: ns, name: name, ids: []int{it.ID}}
			text := strings.Join(d.lines, "\n")
			sel := d.get("PodSelector")
			if sel == "" {
				for _, l := range d.lines {
					if t := strings.TrimSpace(l); strings.HasPrefix(t, "PodSelector:") {
						sel = strings.TrimSpace(strings.TrimPrefix(t, "PodSelector:"))
						break
					}
				}
			}
			if i := strings.Index(sel, " ("); i >= 0 {
				sel = sel[:i]
			}
			pol.selector = netLabels(sel)
			pol.ingressTypes = netPolicyTypesIngress.MatchString(text)
			if strings.Contains(text, "Allowing ingress traffic:") {
				after := text[strings.Index(text, "Allowing ingress traffic:"):]
				if !strings.Contains(after, "(Selected pods are isolated for ingress connectivity)") {
					pol.ingressRules = 1
				}
			}
			pol.peers, pol.ingressAny = netDescribePeers(d.lines)
			pol.egressTypes = netPolicyTypesEgress.MatchString(text)
			pol.egress = netDescribeEgress(d.lines)
			m.policies[netKey(ns, name)] = pol
		}
	}
}

// ---- tables ----

func netTableRows(out string) []map[string]string {
	lines := strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n")
	var header []string
	var rows []map[string]string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if header == nil {
			if f[0] != "NAME" && f[0] != "NAMESPACE" {
				return nil
			}
			header = f
			continue
		}
		if len(f) < len(header) {
			continue
		}
		row := map[string]string{}
		for i, h := range header {
			row[h] = f[i]
		}
		if len(f) > len(header) {
			row[header[len(header)-1]] = strings.Join(f[len(header)-1:], " ")
		}
		rows = append(rows, row)
	}
	return rows
}

func (m *netModel) readTable(it Item, kind, out string) {
	rows := netTableRows(out)
	for _, r := range rows {
		ns := r["NAMESPACE"]
		if ns == "" {
			ns = it.Arg("namespace")
		}
		name := r["NAME"]
		if i := strings.IndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
		switch kind {
		case "pod":
			p := m.pod(ns, name, it.ID)
			if l, ok := r["LABELS"]; ok {
				p.labels = netLabels(l)
				m.podsListed[ns] = true
			}
			if ip := r["IP"]; logsIPv4.MatchString(ip) {
				p.ip = ip
			}
			if rd := r["READY"]; rd != "" {
				a, b, _ := strings.Cut(rd, "/")
				p.ready = 0
				if a == b && a != "0" {
					p.ready = 1
				}
			}
		case "service":
			s := m.service(ns, name, it.ID)
			m.svcListed[ns] = true
			if sel, ok := r["SELECTOR"]; ok {
				s.selector = netLabels(sel)
			}
			for _, ip := range netSplitList(r["CLUSTER-IP"]) {
				s.ips = netAddStr(s.ips, ip)
			}
		case "endpoints":
			s := m.service(ns, name, it.ID)
			if e := r["ENDPOINTS"]; e == "<none>" {
				s.endpoints = 0
			} else if e != "" {
				s.endpoints = len(strings.Split(strings.Fields(e)[0], ","))
				for _, a := range netSplitList(strings.Fields(e)[0]) {
					s.addrs = netAddStr(s.addrs, a)
				}
			}
		}
	}
}

// ---- JSON ----

type netJSONObj struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec    json.RawMessage `json:"spec"`
	Status  json.RawMessage `json:"status"`
	Subsets []struct {
		Addresses         []json.RawMessage `json:"addresses"`
		NotReadyAddresses []json.RawMessage `json:"notReadyAddresses"`
	} `json:"subsets"`
	Endpoints []struct {
		Conditions struct {
			Ready *bool `json:"ready"`
		} `json:"conditions"`
	} `json:"endpoints"`
	Items []netJSONObj `json:"items"`
}

type netJSONBackend struct {
	Service *struct {
		Name string `json:"name"`
		Port struct {
			Number int    `json:"number"`
			Name   string `json:"name"`
		} `json:"port"`
	} `json:"service"`
}

func (m *netModel) readJSON(it Item, out string) {
	var o netJSONObj
	if json.Unmarshal([]byte(out), &o) != nil {
		return
	}
	if o.Kind == "List" || strings.HasSuffix(o.Kind, "List") {
		kind := KubeKind(it.Arg("kind"))
		ns := it.Arg("namespace")
		if ns != "" {
			switch kind {
			case "service":
				m.svcListed[ns] = true
			case "pod":
				m.podsListed[ns] = true
			}
		}
		for _, x := range o.Items {
			m.readJSONObj(it, x)
		}
		return
	}
	m.readJSONObj(it, o)
}

func (m *netModel) readJSONObj(it Item, o netJSONObj) {
	ns, name := o.Metadata.Namespace, o.Metadata.Name
	if ns == "" {
		ns = it.Arg("namespace")
	}
	switch o.Kind {
	case "Service":
		var spec struct {
			ClusterIP  string            `json:"clusterIP"`
			ClusterIPs []string          `json:"clusterIPs"`
			Selector   map[string]string `json:"selector"`
			Ports      []struct {
				Name       string `json:"name"`
				Port       int    `json:"port"`
				TargetPort any    `json:"targetPort"`
			} `json:"ports"`
		}
		_ = json.Unmarshal(o.Spec, &spec)
		s := m.service(ns, name, it.ID)
		for _, ip := range append([]string{spec.ClusterIP}, spec.ClusterIPs...) {
			if ip != "" && ip != "None" {
				s.ips = netAddStr(s.ips, ip)
			}
		}
		s.selector = spec.Selector
		if s.selector == nil {
			s.selector = map[string]string{}
		}
		s.ports = nil
		for _, p := range spec.Ports {
			sp := netSvcPort{name: p.Name, port: strconv.Itoa(p.Port), target: strconv.Itoa(p.Port)}
			switch t := p.TargetPort.(type) {
			case float64:
				sp.target = strconv.Itoa(int(t))
			case string:
				sp.target = t
			}
			s.ports = append(s.ports, sp)
		}
	case "Endpoints":
		s := m.service(ns, name, it.ID)
		s.endpoints, s.notReady = 0, 0
		for _, ss := range o.Subsets {
			s.endpoints += len(ss.Addresses)
			s.notReady += len(ss.NotReadyAddresses)
		}
	case "EndpointSlice":
		svc := o.Metadata.Labels["kubernetes.io/service-name"]
		if svc == "" {
			return
		}
		s := m.service(ns, svc, it.ID)
		if s.endpoints < 0 {
			s.endpoints = 0
		}
		for _, e := range o.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				s.endpoints++
			} else {
				s.notReady++
			}
		}
	case "Pod":
		var spec struct {
			Containers []struct {
				Ports []struct {
					Name          string `json:"name"`
					ContainerPort int    `json:"containerPort"`
				} `json:"ports"`
			} `json:"containers"`
		}
		var status struct {
			PodIP      string `json:"podIP"`
			Conditions []struct {
				Type   string `json:"type"`
				Status string `json:"status"`
			} `json:"conditions"`
		}
		_ = json.Unmarshal(o.Spec, &spec)
		_ = json.Unmarshal(o.Status, &status)
		p := m.pod(ns, name, it.ID)
		if status.PodIP != "" {
			p.ip = status.PodIP
		}
		p.labels = o.Metadata.Labels
		if p.labels == nil {
			p.labels = map[string]string{}
		}
		p.ports = nil
		for _, c := range spec.Containers {
			for _, cp := range c.Ports {
				p.ports = append(p.ports, netPodPort{name: cp.Name, port: strconv.Itoa(cp.ContainerPort)})
			}
		}
		for _, c := range status.Conditions {
			if c.Type == "Ready" {
				p.ready = 0
				if c.Status == "True" {
					p.ready = 1
				}
			}
		}
	case "Ingress":
		var spec struct {
			DefaultBackend *netJSONBackend `json:"defaultBackend"`
			Rules          []struct {
				HTTP *struct {
					Paths []struct {
						Backend netJSONBackend `json:"backend"`
					} `json:"paths"`
				} `json:"http"`
			} `json:"rules"`
		}
		_ = json.Unmarshal(o.Spec, &spec)
		ing := &netIngress{ns: ns, name: name, ids: []int{it.ID}}
		add := func(b *netJSONBackend) {
			if b == nil || b.Service == nil {
				return
			}
			port := b.Service.Port.Name
			if b.Service.Port.Number != 0 {
				port = strconv.Itoa(b.Service.Port.Number)
			}
			ing.backends = append(ing.backends, netBackend{svc: b.Service.Name, port: port})
		}
		add(spec.DefaultBackend)
		for _, r := range spec.Rules {
			if r.HTTP != nil {
				for _, p := range r.HTTP.Paths {
					add(&p.Backend)
				}
			}
		}
		m.ingresses[netKey(ns, name)+"#"+strconv.Itoa(it.ID)] = ing
	case "NetworkPolicy":
		var spec struct {
			PodSelector struct {
				MatchLabels      map[string]string `json:"matchLabels"`
				MatchExpressions []json.RawMessage `json:"matchExpressions"`
			} `json:"podSelector"`
			PolicyTypes []string          `json:"policyTypes"`
			Ingress     []json.RawMessage `json:"ingress"`
			Egress      []json.RawMessage `json:"egress"`
		}
		_ = json.Unmarshal(o.Spec, &spec)
		if len(spec.PodSelector.MatchExpressions) > 0 {
			return // too subtle for this analyzer
		}
		pol := &netPolicy{ns: ns, name: name, ids: []int{it.ID}, selector: spec.PodSelector.MatchLabels, ingressRules: len(spec.Ingress)}
		pol.peers, pol.ingressAny = netJSONPeers(spec.Ingress)
		pol.egress = netJSONEgress(spec.Egress)
		pol.egressTypes = len(spec.PolicyTypes) == 0 && len(spec.Egress) > 0
		for _, t := range spec.PolicyTypes {
			if t == "Egress" {
				pol.egressTypes = true
			}
		}
		if pol.selector == nil {
			pol.selector = map[string]string{}
		}
		pol.ingressTypes = len(spec.PolicyTypes) == 0
		for _, t := range spec.PolicyTypes {
			if t == "Ingress" {
				pol.ingressTypes = true
			}
		}
		m.policies[netKey(ns, name)] = pol
	}
}

// ---- logs and events: timeouts and DNS ----

var (
	netRefusedWords = regexp.MustCompile(`(?i)connection refused|econnrefused`)
	netTimeoutWords = regexp.MustCompile(`(?i)i/o timeout|connection timed out|operation timed out|deadline exceeded|etimedout`)
	netCoreDNSErr   = regexp.MustCompile(`\[ERROR\] plugin/errors: \d+ (\S+) (\w+): (.*)$`)
	netCoreDNSLoop  = regexp.MustCompile(`\[FATAL\] plugin/loop: (.*)$`)
	netUpstreamRE   = regexp.MustCompile(`->` + logsAddrPat + `: i/o timeout`)
	netDNSWords     = regexp.MustCompile(`no such host|SERVFAIL|server misbehaving|Temporary failure in name resolution|Name or service not known|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)`)
	netLookupHost   = regexp.MustCompile(`(?:lookup|resolve|resolving|ENOTFOUND|EAI_AGAIN) "?'?([A-Za-z0-9._-]+\.?)`)
)

func (m *netModel) addDNS(object, culprit, detail, line string, id int, direct bool, related []string) {
	k := object + "\x00" + culprit
	d := m.dns[k]
	if d == nil {
		d = &netDNS{object: object, culprit: culprit, detail: detail, related: related}
		m.dns[k] = d
		m.dnsOrder = append(m.dnsOrder, k)
	}
	d.count++
	d.line = line
	d.ids = netAddID(d.ids, id)
	d.direct = d.direct || direct
}

func (m *netModel) readLogs(it Item) {
	ns, pod := it.Arg("namespace"), it.Arg("pod")
	if pod == "" {
		pod = it.Arg("name")
	}
	coredns := strings.HasPrefix(pod, "coredns") || strings.HasPrefix(pod, "kube-dns")
	obj := "pod/" + ns + "/" + pod
	// Most logs name no refused or timed-out connection: skip them whole
	// (the per-line case-insensitive regexps cost a third of a large
	// bundle's analysis).
	if !coredns && !netRefusedOrTimeout(strings.ToLower(it.Output)) {
		return
	}
	for _, l := range strings.Split(it.Output, "\n") {
		l = strings.TrimSpace(l)
		if coredns {
			if mm := netCoreDNSLoop.FindStringSubmatch(l); mm != nil {
				m.addDNS(obj, "plugin/loop", "CoreDNS detected a forwarding loop (plugin/loop): "+mm[1], l, it.ID, true, nil)
				continue
			}
			if mm := netCoreDNSErr.FindStringSubmatch(l); mm != nil {
				if u := netUpstreamRE.FindStringSubmatch(mm[3]); u != nil {
					m.addDNS(obj, u[1], "CoreDNS cannot reach its upstream resolver "+strconv.Quote(u[1]), l, it.ID, false, nil)
				} else {
					name := strings.TrimSuffix(mm[1], ".")
					m.addDNS(obj, name, "CoreDNS fails to resolve "+strconv.Quote(name)+" ("+mm[2]+"): "+mm[3], l, it.ID, false, logsRelatedAddr(name, ""))
				}
			}
			continue
		}
		lower := strings.ToLower(l)
		if !netRefusedOrTimeout(lower) {
			continue
		}
		if netRefusedWords.MatchString(l) && !netDNSLookupLine.MatchString(l) {
			addr := ""
			if d := logsDialRE.FindStringSubmatch(l); d != nil {
				addr = d[1]
			} else {
				addr = logsFindAddr(l)
			}
			if addr != "" {
				m.refused = append(m.refused, netTimeout{ns: ns, pod: pod, addr: addr, line: l, id: it.ID})
			}
		}
		if netTimeoutWords.MatchString(l) && !netDNSLookupLine.MatchString(l) {
			addr := ""
			if d := logsDialRE.FindStringSubmatch(l); d != nil {
				addr = d[1]
			} else {
				addr = logsFindAddr(l)
			}
			if addr != "" {
				m.timeouts = append(m.timeouts, netTimeout{ns: ns, pod: pod, addr: addr, line: l, id: it.ID})
			}
		}
	}
}

// netMayHaveDNSWords is a cheap test before netDNSWords, which scans whole
// event lists: false when out holds none of its words.
func netMayHaveDNSWords(out string) bool {
	for _, w := range []string{"no such host", "SERVFAIL", "server misbehaving", "Temporary failure in name resolution",
		"Name or service not known", "getaddrinfo"} {
		if strings.Contains(out, w) {
			return true
		}
	}
	return false
}

// netRefusedOrTimeout says whether lower (lower-cased text) may match
// netRefusedWords or netTimeoutWords: it holds one of their words.
func netRefusedOrTimeout(lower string) bool {
	for _, w := range []string{"refused", "timeout", "timed out", "etimedout", "deadline exceeded"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// readEventText picks DNS failures out of events (describe Events sections,
// event lists).
func (m *netModel) readEventText(it Item) {
	out := it.Output
	if !netMayHaveDNSWords(out) || !netDNSWords.MatchString(out) {
		return
	}
	ns := it.Arg("namespace")
	obj := ""
	if k, n := KubeKind(it.Arg("kind")), it.Arg("name"); k != "" && k != "event" && n != "" {
		obj = k + "/" + ns + "/" + n
		if ns == "" {
			obj = k + "/" + n
		}
	}
	for _, l := range strings.Split(out, "\n") {
		w := netDNSWords.FindString(l)
		if w == "" {
			continue
		}
		h := netLookupHost.FindStringSubmatch(l)
		if h == nil {
			continue
		}
		host := strings.TrimSuffix(h[1], ".")
		o := obj
		if o == "" {
			o = "namespace/" + ns
			if ns == "" {
				o = "namespace/default"
			}
		}
		m.addDNS(o, host, "DNS lookup of "+strconv.Quote(host)+" failed ("+w+")", strings.TrimSpace(l), it.ID, false, logsRelatedAddr(host, ns))
	}
}

// ---- findings ----

func netMatches(sel, labels map[string]string) bool {
	if len(sel) == 0 || labels == nil {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func (m *netModel) podsIn(ns string) []*netPod {
	var ps []*netPod
	for _, p := range m.pods {
		if p.ns == ns && p.labels != nil {
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].name < ps[j].name })
	return ps
}

func (m *netModel) serviceFindings() []Finding {
	var fs []Finding
	keys := slices.Sorted(maps.Keys(m.services))
	for _, k := range keys {
		s := m.services[k]
		if len(s.selector) == 0 {
			continue // no selector: endpoints are managed by hand
		}
		obj := "service/" + s.ns + "/" + s.name
		sel := netSelectorString(s.selector)
		pods := m.podsIn(s.ns)
		var matching []*netPod
		for _, p := range pods {
			if netMatches(s.selector, p.labels) {
				matching = append(matching, p)
			}
		}
		ids := append([]int(nil), s.ids...)
		noEndpoints := s.endpoints == 0
		switch {
		case noEndpoints && len(pods) > 0 && len(matching) == 0:
			for _, p := range pods {
				ids = netAddID(ids, p.ids[0])
			}
			listed := m.podsListed[s.ns]
			score := 0.7
			if listed {
				score = 0.9
			}
			fs = append(fs, Finding{
				Category: CategoryServiceRouting, Object: obj,
				Summary: fmt.Sprintf("Service %s/%s has no endpoints: its selector %q matches none of the %d pod(s) in namespace %s (%s)",
					s.ns, s.name, sel, len(pods), s.ns, netNearest(s.selector, pods)),
				Culprit: sel, Evidence: netSortedIDs(ids), Direct: listed, Score: score,
			})
			continue
		case len(matching) > 0:
			if f, ok := m.targetPortFinding(s, obj, matching, noEndpoints); ok {
				fs = append(fs, f)
				continue
			}
			if noEndpoints {
				var notReady []string
				for _, p := range matching {
					ids = netAddID(ids, p.ids[0])
					if p.ready == 0 {
						notReady = append(notReady, "pod/"+p.ns+"/"+p.name)
					}
				}
				if len(notReady) > 0 {
					fs = append(fs, Finding{
						Category: CategoryServiceRouting, Object: obj,
						Summary: fmt.Sprintf("Service %s/%s has no ready endpoints: the %d pod(s) its selector %q selects are not Ready",
							s.ns, s.name, len(matching), sel),
						Culprit: sel, Evidence: netSortedIDs(ids), Score: 0.6, Related: notReady,
					})
				}
				continue
			}
		case noEndpoints:
			fs = append(fs, Finding{
				Category: CategoryServiceRouting, Object: obj,
				Summary: fmt.Sprintf("Service %s/%s has no endpoints (Endpoints: <none>); no pod in the evidence shows whether its selector %q matches anything",
					s.ns, s.name, sel),
				Culprit: sel, Evidence: netSortedIDs(ids), Score: 0.6,
			})
		}
	}
	return fs
}

// netNearest describes the pods' labels for the selector's keys.
func netNearest(sel map[string]string, pods []*netPod) string {
	seen := map[string]bool{}
	var have []string
	for _, p := range pods {
		for k := range sel {
			if v, ok := p.labels[k]; ok && !seen[k+"="+v] {
				seen[k+"="+v] = true
				have = append(have, k+"="+v)
			}
		}
	}
	sort.Strings(have)
	if len(have) == 0 {
		return "no pod has any of its label keys"
	}
	if len(have) > 5 {
		have = append(have[:5], "…")
	}
	return "pods have " + strings.Join(have, ", ")
}

func (m *netModel) targetPortFinding(s *netService, obj string, matching []*netPod, noEndpoints bool) (Finding, bool) {
	declared := false
	for _, p := range matching {
		if len(p.ports) > 0 {
			declared = true
		}
	}
	if !declared {
		return Finding{}, false
	}
	for _, sp := range s.ports {
		t := sp.target
		if t == "" {
			t = sp.port
		}
		_, numErr := strconv.Atoi(t)
		named := numErr != nil
		found := false
		var have []string
		for _, p := range matching {
			for _, pp := range p.ports {
				if (named && pp.name == t) || (!named && pp.port == t) {
					found = true
				}
				d := pp.port
				if pp.name != "" {
					d = pp.name + "=" + pp.port
				}
				have = append(have, d)
			}
		}
		if found {
			continue
		}
		if named {
			// Named ports are only known from JSON; describe shows numbers.
			anyNames := false
			for _, p := range matching {
				for _, pp := range p.ports {
					if pp.name != "" {
						anyNames = true
					}
				}
			}
			if !anyNames {
				continue
			}
		}
		ids := append([]int(nil), s.ids...)
		for _, p := range matching {
			ids = netAddID(ids, p.ids[0])
		}
		sort.Strings(have)
		have = netCompact(have)
		// Connections refused on the target port of the selected pods (or
		// of the service's endpoints) show nothing listens there.
		refused, refusedAt := m.refusedOn(s, sp, t, matching)
		for _, r := range refused {
			ids = netAddID(ids, r.id)
		}
		direct := named || noEndpoints || len(refused) > 0
		score := 0.55
		if direct {
			score = 0.85
		}
		what := "targetPort"
		summary := fmt.Sprintf("Service %s/%s sends port %s to %s %q, but its selected pods declare container port(s) %s",
			s.ns, s.name, sp.port, what, t, strings.Join(have, ", "))
		if len(refused) > 0 {
			summary += fmt.Sprintf("; connections to %s are refused (logged %d times)", strings.Join(refusedAt, ", "), len(refused))
		}
		return Finding{
			Category: CategoryServiceRouting, Object: obj,
			Summary: summary,
			Culprit: t, Evidence: netSortedIDs(ids), Direct: direct, Score: score,
		}, true
	}
	return Finding{}, false
}

func netCompact(ss []string) []string {
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func netSortedIDs(ids []int) []int {
	out := append([]int(nil), ids...)
	sort.Ints(out)
	return out
}

func (m *netModel) ingressFindings() []Finding {
	var fs []Finding
	keys := slices.Sorted(maps.Keys(m.ingresses))
	seen := map[string]bool{}
	for _, k := range keys {
		ing := m.ingresses[k]
		obj := "ingress/" + ing.ns + "/" + ing.name
		for _, b := range ing.backends {
			culprit := b.svc + ":" + b.port
			if seen[obj+culprit] {
				continue
			}
			related := []string{"service/" + ing.ns + "/" + b.svc}
			svc := m.services[netKey(ing.ns, b.svc)]
			var f *Finding
			switch {
			case b.state == "missing":
				f = &Finding{Summary: fmt.Sprintf("Ingress %s/%s routes to backend %s, but the service has no Endpoints object (%q): the Service %q does not exist",
					ing.ns, ing.name, culprit, netIngEPErr.FindString(b.text), b.svc), Direct: true, Score: 0.85}
			case svc == nil && m.svcListed[ing.ns]:
				f = &Finding{Summary: fmt.Sprintf("Ingress %s/%s routes to backend %s, but no Service %q exists in namespace %s",
					ing.ns, ing.name, culprit, b.svc, ing.ns), Direct: true, Score: 0.85}
			case svc != nil && len(svc.ports) > 0 && !netHasPort(svc.ports, b.port):
				f = &Finding{Summary: fmt.Sprintf("Ingress %s/%s routes to backend %s, but Service %s/%s has no port %q",
					ing.ns, ing.name, culprit, ing.ns, b.svc, b.port), Direct: true, Score: 0.8}
			case b.state == "empty" || (svc != nil && svc.endpoints == 0):
				f = &Finding{Summary: fmt.Sprintf("Ingress %s/%s routes to backend %s, which has no endpoints", ing.ns, ing.name, culprit), Score: 0.65}
			}
			if f == nil {
				continue
			}
			seen[obj+culprit] = true
			ids := append([]int(nil), ing.ids...)
			if svc != nil {
				ids = append(ids, svc.ids...)
			}
			f.Category, f.Object, f.Culprit, f.Evidence, f.Related = CategoryServiceRouting, obj, culprit, netSortedIDs(ids), related
			fs = append(fs, *f)
		}
	}
	return fs
}

func netHasPort(ports []netSvcPort, p string) bool {
	for _, sp := range ports {
		if sp.port == p || (sp.name != "" && sp.name == p) {
			return true
		}
	}
	return false
}

func (m *netModel) policyFindings() []Finding {
	var fs []Finding
	keys := slices.Sorted(maps.Keys(m.policies))
	for _, k := range keys {
		pol := m.policies[k]
		if !pol.ingressTypes || pol.ingressRules > 0 {
			continue
		}
		// Timeouts towards the isolated pods: to a service in the policy's
		// namespace (whose selector the policy's podSelector covers), or to
		// anything from a pod in that namespace.
		var hits []netTimeout
		var related []string
		for _, t := range m.timeouts {
			svcNS, svcName := m.targetService(t)
			inNS := false
			if svcNS != "" {
				if svcNS == pol.ns {
					inNS = true
					if len(pol.selector) > 0 {
						svc := m.services[netKey(svcNS, svcName)]
						inNS = svc == nil || netMatches(pol.selector, svc.selector)
					}
					if ref := "service/" + svcNS + "/" + svcName; inNS && !netContains(related, ref) {
						related = append(related, ref)
					}
				}
			} else if t.ns == pol.ns && len(pol.selector) == 0 {
				inNS = true
			}
			if inNS {
				hits = append(hits, t)
			}
		}
		if len(hits) == 0 {
			continue
		}
		allowOthers := false
		for _, o := range m.policies {
			if o.ns == pol.ns && o.ingressRules > 0 {
				allowOthers = true
			}
		}
		ids := append([]int(nil), pol.ids...)
		for _, h := range hits {
			ids = netAddID(ids, h.id)
		}
		score := 0.75
		if allowOthers {
			score = 0.5
		}
		scope := "every pod"
		if len(pol.selector) > 0 {
			scope = fmt.Sprintf("pods matching %q", netSelectorString(pol.selector))
		}
		sort.Strings(related)
		fs = append(fs, Finding{
			Category: CategoryNetworkPolicy, Object: "networkpolicy/" + pol.ns + "/" + pol.name,
			Summary: fmt.Sprintf("NetworkPolicy %q in namespace %s isolates %s for Ingress and allows no ingress traffic; connections to %s time out (%q)",
				pol.name, pol.ns, scope, hits[len(hits)-1].addr, logsClip(hits[len(hits)-1].line, 200)),
			Culprit: pol.name, Evidence: netSortedIDs(ids), Score: score, Related: related,
		})
	}
	return fs
}

func netContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (m *netModel) dnsFindings() []Finding {
	var fs []Finding
	for _, k := range m.dnsOrder {
		d := m.dns[k]
		score := 0.5
		switch {
		case d.direct:
			score = 0.85
		case d.count >= 3:
			score = 0.7
		case d.count == 2:
			score = 0.6
		}
		times := "once"
		if d.count > 1 {
			times = fmt.Sprintf("%d times", d.count)
		}
		fs = append(fs, Finding{
			Category: CategoryDNS, Object: d.object,
			Summary: fmt.Sprintf("%s; seen %s: %q", d.detail, times, logsClip(d.line, 200)),
			Culprit: d.culprit, Evidence: netSortedIDs(d.ids), Direct: d.direct, Score: score, Related: d.related,
		})
	}
	return fs
}

func netAddStr(ss []string, s string) []string {
	if netContains(ss, s) {
		return ss
	}
	return append(ss, s)
}

// refusedOn returns the logged refused connections to the service's
// target port t on its selected pods or endpoints (or to its cluster IP on
// the service port), and the addresses they name.
func (m *netModel) refusedOn(s *netService, sp netSvcPort, t string, pods []*netPod) ([]netTimeout, []string) {
	want := map[string]bool{}
	for _, p := range pods {
		if p.ip != "" {
			want[p.ip+":"+t] = true
		}
	}
	for _, a := range s.addrs {
		if _, port := logsSplitAddr(a); port == t {
			want[a] = true
		}
	}
	for _, ip := range s.ips {
		want[ip+":"+sp.port] = true
	}
	var out []netTimeout
	var at []string
	for _, r := range m.refused {
		if want[r.addr] {
			out = append(out, r)
			at = netAddStr(at, r.addr)
		}
	}
	sort.Strings(at)
	return out, at
}

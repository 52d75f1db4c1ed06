package analyze

// NetworkPolicies that admit ingress only from some sources (an allow
// list), and a client the evidence shows is not one of them timing out on
// the pods they isolate: the policy drops the client's packets, which the
// client sees as a connection that times out.

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// netSelector parses a selector as describe prints it ("a=b,c=d",
// "<none>"); complex is true for set-based selectors it cannot evaluate.
func netSelector(s string) (sel map[string]string, complex bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, " in (") || strings.Contains(s, " notin (") || strings.Contains(s, "!") ||
		(s != "" && s != "<none>" && !strings.Contains(s, "=")) {
		return nil, true
	}
	return netLabels(s), false
}

// netDescribePeers reads the sources of the "Allowing ingress traffic:"
// block of `kubectl describe networkpolicy`.
func netDescribePeers(lines []string) (peers []netPeer, any bool) {
	in := false
	var cur *netPeer
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "Allowing ingress traffic:"):
			in = true
			continue
		case strings.HasPrefix(t, "Allowing egress traffic:"), strings.HasPrefix(t, "Not affecting"), strings.HasPrefix(t, "Policy Types:"):
			in, cur = false, nil
			continue
		}
		if !in {
			continue
		}
		switch {
		case strings.HasPrefix(t, "From: <any>") || strings.HasPrefix(t, "From: <any"):
			any = true
		case t == "From:":
			peers = append(peers, netPeer{})
			cur = &peers[len(peers)-1]
		case cur != nil && strings.HasPrefix(t, "NamespaceSelector:"):
			sel, cx := netSelector(strings.TrimPrefix(t, "NamespaceSelector:"))
			cur.ns, cur.hasNS, cur.complex = sel, true, cur.complex || cx
		case cur != nil && strings.HasPrefix(t, "PodSelector:"):
			sel, cx := netSelector(strings.TrimPrefix(t, "PodSelector:"))
			cur.pod, cur.hasPod, cur.complex = sel, true, cur.complex || cx
		case cur != nil && strings.HasPrefix(t, "IPBlock:"):
			cur.ipBlock = true
		}
	}
	return peers, any
}

// netJSONPeers reads spec.ingress[].from[] of a NetworkPolicy object.
func netJSONPeers(rules []json.RawMessage) (peers []netPeer, any bool) {
	type sel struct {
		MatchLabels      map[string]string `json:"matchLabels"`
		MatchExpressions []json.RawMessage `json:"matchExpressions"`
	}
	for _, raw := range rules {
		var r struct {
			From []struct {
				PodSelector       *sel            `json:"podSelector"`
				NamespaceSelector *sel            `json:"namespaceSelector"`
				IPBlock           json.RawMessage `json:"ipBlock"`
			} `json:"from"`
		}
		if json.Unmarshal(raw, &r) != nil {
			continue
		}
		if len(r.From) == 0 {
			any = true // a rule without sources admits every source
		}
		for _, f := range r.From {
			p := netPeer{ipBlock: len(f.IPBlock) > 0}
			if f.NamespaceSelector != nil {
				p.hasNS, p.ns = true, f.NamespaceSelector.MatchLabels
				p.complex = len(f.NamespaceSelector.MatchExpressions) > 0
			}
			if f.PodSelector != nil {
				p.hasPod, p.pod = true, f.PodSelector.MatchLabels
				p.complex = p.complex || len(f.PodSelector.MatchExpressions) > 0
			}
			peers = append(peers, p)
		}
	}
	return peers, any
}

// Admission of a client by a peer or policy.
const (
	netDenied = iota
	netAdmitted
	netUnknown
)

// netUnion folds one more policy's answer into the answer of all the
// policies that select a pod: Kubernetes admits what any of them admits, so
// one admitting policy admits, and any doubt leaves the union in doubt.
func netUnion(v, r int) int {
	switch {
	case v == netAdmitted || r == netAdmitted:
		return netAdmitted
	case v == netUnknown || r == netUnknown:
		return netUnknown
	}
	return netDenied
}

// netBlocked groups the timeouts of one client pod to one service that the
// policies in pols do not let through, in the order first seen.
type netBlocked struct {
	client, dest, port string // pod ns/name, service ref, port (egress only)
	pols               []*netPolicy
	ts                 []netTimeout
}

type netBlockedSet struct {
	byKey map[string]*netBlocked
	order []*netBlocked
}

func (s *netBlockedSet) add(t netTimeout, ref, port string, pols []*netPolicy) {
	key := t.ns + "/" + t.pod + "\x00" + ref
	if s.byKey == nil {
		s.byKey = map[string]*netBlocked{}
	}
	h := s.byKey[key]
	if h == nil {
		h = &netBlocked{client: t.ns + "/" + t.pod, dest: ref, port: port, pols: pols}
		s.byKey[key] = h
		s.order = append(s.order, h)
	}
	h.ts = append(h.ts, t)
}

// ids are the evidence items of the timeouts.
func (h *netBlocked) ids() []int {
	var ids []int
	for _, t := range h.ts {
		ids = netAddID(ids, t.id)
	}
	return ids
}

// netSubset is true when every label of sel is in labels (an empty
// selector selects everything).
func netSubset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// admits says whether the peer admits a pod of namespace ns with labels
// (nil when not shown), for a policy in namespace polNS. A namespace's
// labels are known only as far as kubernetes.io/metadata.name goes.
func (p netPeer) admits(polNS, ns string, labels map[string]string) int {
	if p.ipBlock || p.complex {
		return netUnknown
	}
	res := netAdmitted
	switch {
	case !p.hasNS:
		if ns != polNS {
			return netDenied // a podSelector alone selects pods of the policy's namespace
		}
	default:
		for k, v := range p.ns {
			if k != "kubernetes.io/metadata.name" {
				res = netUnknown // the client namespace's other labels are not shown
				continue
			}
			if v != ns {
				return netDenied
			}
		}
	}
	if p.hasPod && len(p.pod) > 0 {
		switch {
		case labels == nil:
			res = netUnknown
		case !netSubset(p.pod, labels):
			return netDenied
		}
	}
	return res
}

func (pol *netPolicy) admits(ns string, labels map[string]string) int {
	if pol.ingressAny {
		return netAdmitted
	}
	res := netDenied
	for _, p := range pol.peers {
		switch p.admits(pol.ns, ns, labels) {
		case netAdmitted:
			return netAdmitted
		case netUnknown:
			res = netUnknown
		}
	}
	return res
}

func (p netPeer) String() string {
	var parts []string
	if p.hasPod {
		if len(p.pod) == 0 {
			parts = append(parts, "any pod")
		} else {
			parts = append(parts, "pods "+netSelectorString(p.pod))
		}
	}
	switch {
	case p.hasNS && len(p.ns) == 0:
		parts = append(parts, "in any namespace")
	case p.hasNS:
		parts = append(parts, "in namespaces "+netSelectorString(p.ns))
	case p.hasPod:
		parts = append(parts, "of its own namespace")
	}
	if p.ipBlock {
		parts = append(parts, "an IP block")
	}
	return strings.Join(parts, " ")
}

// allowListFindings blames a NetworkPolicy that admits ingress only from
// some sources when a client it does not admit times out connecting to
// the pods it isolates. Every policy the evidence shows that selects those
// pods must refuse the client; any doubt (a set-based selector, an IP
// block, labels not shown) and nothing is claimed.
func (m *netModel) allowListFindings() []Finding {
	var blocked netBlockedSet
	for _, t := range m.timeouts {
		if t.pod == "" {
			continue
		}
		svcNS, svcName := m.targetService(t)
		if svcNS == "" {
			continue
		}
		svc := m.services[netKey(svcNS, svcName)]
		ref := "service/" + svcNS + "/" + svcName
		var pols []*netPolicy
		verdict := netDenied
		for _, k := range slices.Sorted(maps.Keys(m.policies)) {
			pol := m.policies[k]
			if pol.ns != svcNS || !pol.ingressTypes {
				continue
			}
			if len(pol.selector) > 0 && (svc == nil || len(svc.selector) == 0 || !netSubset(pol.selector, svc.selector)) {
				continue // not shown to select the service's pods
			}
			if pol.ingressRules == 0 {
				continue // deny-all: policyFindings blames it
			}
			var labels map[string]string
			if cp := m.pods[netKey(t.ns, t.pod)]; cp != nil {
				labels = cp.labels
			}
			verdict = netUnion(verdict, pol.admits(t.ns, labels))
			pols = append(pols, pol)
		}
		if len(pols) == 0 || verdict != netDenied {
			continue
		}
		blocked.add(t, ref, "", pols)
	}
	var fs []Finding
	for _, h := range blocked.order {
		last := h.ts[len(h.ts)-1]
		ids := h.ids()
		svcName := strings.TrimPrefix(h.dest, "service/")
		var names []string
		for _, pol := range h.pols {
			names = append(names, pol.name)
		}
		for _, pol := range h.pols {
			pids := append([]int(nil), pol.ids...)
			for _, id := range ids {
				pids = netAddID(pids, id)
			}
			var from []string
			for _, p := range pol.peers {
				from = append(from, p.String())
			}
			scope := "every pod"
			if len(pol.selector) > 0 {
				scope = fmt.Sprintf("the pods matching %q", netSelectorString(pol.selector))
			}
			fs = append(fs, Finding{
				Category: CategoryNetworkPolicy, Object: "networkpolicy/" + pol.ns + "/" + pol.name,
				Summary: fmt.Sprintf("NetworkPolicy %q in namespace %s isolates %s (behind service %s) and admits ingress only from %s; pod %s is not among them, and its connections to %s time out (%d times, last: %q)",
					pol.name, pol.ns, scope, svcName, strings.Join(from, "; "), h.client, last.addr, len(h.ts), logsClip(last.line, 200)),
				Culprit: pol.name, Evidence: netSortedIDs(pids), Score: 0.75,
			})
		}
		// The service is how the client's findings (its logs name the
		// service) lead on to the policy.
		var related []string
		for _, pol := range h.pols {
			related = append(related, "networkpolicy/"+pol.ns+"/"+pol.name)
		}
		sort.Strings(related)
		fs = append(fs, Finding{
			Category: CategoryNetworkPolicy, Object: h.dest,
			Summary: fmt.Sprintf("connections from pod %s to service %s time out: NetworkPolicy %s does not admit that pod", h.client, svcName, strings.Join(names, ", ")),
			Culprit: strings.Join(names, ","), Evidence: netSortedIDs(ids), Score: 0.6, Related: related,
		})
	}
	return fs
}

// backendLinks connects a service that clients' logs time out on (or are
// refused by) to the pods behind it, so that what is wrong with those pods
// (a saturated pool, exhausted file descriptors, an OOM kill) is followed
// as the deeper cause. The link claims nothing itself: its score is far
// below any candidate's, and a boost from its clients keeps it below one.
func (m *netModel) backendLinks() []Finding {
	type link struct {
		clients, backends []string
		ids               []int
	}
	links := map[string]*link{}
	var order []string
	for _, t := range append(append([]netTimeout(nil), m.timeouts...), m.refused...) {
		svcNS, svcName := m.targetService(t)
		if svcNS == "" {
			continue
		}
		svc := m.services[netKey(svcNS, svcName)]
		ref := "service/" + svcNS + "/" + svcName
		if svc == nil {
			continue
		}
		var backends []string
		for _, k := range slices.Sorted(maps.Keys(m.pods)) {
			p := m.pods[k]
			if p.ns != svc.ns || p.name == t.pod && p.ns == t.ns {
				continue
			}
			behind := netMatches(svc.selector, p.labels)
			for _, a := range svc.addrs {
				if p.ip != "" && netAddrIP(a) == p.ip {
					behind = true
				}
			}
			if behind {
				backends = append(backends, "pod/"+p.ns+"/"+p.name)
			}
		}
		if len(backends) == 0 {
			continue
		}
		l := links[ref]
		if l == nil {
			l = &link{ids: append([]int(nil), svc.ids...)}
			links[ref] = l
			order = append(order, ref)
		}
		for _, b := range backends {
			l.backends = netAddStr(l.backends, b)
		}
		if t.pod != "" {
			l.clients = netAddStr(l.clients, t.ns+"/"+t.pod)
		}
		l.ids = netAddID(l.ids, t.id)
	}
	var fs []Finding
	for _, ref := range order {
		l := links[ref]
		who := "clients"
		if len(l.clients) > 0 {
			who = "pod " + strings.Join(l.clients, ", ")
		}
		var names []string
		for _, b := range l.backends {
			names = append(names, strings.TrimPrefix(b, "pod/"))
		}
		fs = append(fs, Finding{
			Category: CategoryDependency, Object: ref,
			Summary:  fmt.Sprintf("%s cannot get answers from service %s, whose pods are %s", who, strings.TrimPrefix(ref, "service/"), strings.Join(names, ", ")),
			Evidence: netSortedIDs(l.ids), Score: 0.1, Related: l.backends,
		})
	}
	return fs
}

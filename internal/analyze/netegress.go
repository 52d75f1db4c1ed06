package analyze

// Egress NetworkPolicies: a policy in the client's namespace that isolates
// the client for egress and lets out nothing that reaches the dependency
// its logs time out on (a default-deny baseline that only opens DNS).

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// netDescribeEgress reads the "Allowing egress traffic:" block of
// `kubectl describe networkpolicy` (rules are separated by "----------").
func netDescribeEgress(lines []string) []netEgressRule {
	var rules []netEgressRule
	in := false
	var rule *netEgressRule
	var peer *netPeer
	newRule := func() {
		rules = append(rules, netEgressRule{})
		rule, peer = &rules[len(rules)-1], nil
	}
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "Allowing egress traffic:"):
			in, rule, peer = true, nil, nil
			continue
		case strings.HasPrefix(t, "Allowing ingress traffic:"), strings.HasPrefix(t, "Not affecting"), strings.HasPrefix(t, "Policy Types:"):
			in = false
			continue
		}
		if !in || strings.Contains(t, "(Selected pods are isolated for egress connectivity)") {
			continue
		}
		if strings.Trim(t, "-") == "" && t != "" {
			rule = nil // the next rule
			continue
		}
		if rule == nil {
			newRule()
		}
		switch {
		case strings.HasPrefix(t, "To Port: <any>"):
		case strings.HasPrefix(t, "To Port:"):
			for _, p := range strings.Split(strings.TrimPrefix(t, "To Port:"), ",") {
				if p = netStripProto(p); p != "" && !slices.Contains(rule.ports, p) {
					rule.ports = append(rule.ports, p)
				}
			}
		case strings.HasPrefix(t, "To: <any>"):
			rule.anyDest = true
		case t == "To:":
			rule.peers = append(rule.peers, netPeer{})
			peer = &rule.peers[len(rule.peers)-1]
		case peer != nil && strings.HasPrefix(t, "NamespaceSelector:"):
			sel, cx := netSelector(strings.TrimPrefix(t, "NamespaceSelector:"))
			peer.ns, peer.hasNS, peer.complex = sel, true, peer.complex || cx
		case peer != nil && strings.HasPrefix(t, "PodSelector:"):
			sel, cx := netSelector(strings.TrimPrefix(t, "PodSelector:"))
			peer.pod, peer.hasPod, peer.complex = sel, true, peer.complex || cx
		case peer != nil && strings.HasPrefix(t, "IPBlock:"):
			peer.ipBlock = true
		}
	}
	for i := range rules {
		if len(rules[i].peers) == 0 {
			rules[i].anyDest = true // no "To:" restricts the destination
		}
	}
	return rules
}

// netJSONEgress reads spec.egress of a NetworkPolicy object.
func netJSONEgress(raw []json.RawMessage) []netEgressRule {
	var rules []netEgressRule
	for _, r := range raw {
		var e struct {
			To    []json.RawMessage `json:"to"`
			Ports []struct {
				Port any `json:"port"`
			} `json:"ports"`
		}
		if json.Unmarshal(r, &e) != nil {
			continue
		}
		rule := netEgressRule{anyDest: len(e.To) == 0}
		for _, p := range e.Ports {
			if p.Port == nil {
				rule.ports = nil // every port
				break
			}
			rule.ports = append(rule.ports, strings.TrimSuffix(fmt.Sprint(p.Port), ".0"))
		}
		// The peers have the shape of ingress "from" entries.
		wrapped, _ := json.Marshal(map[string]any{"from": e.To})
		rule.peers, _ = netJSONPeers([]json.RawMessage{wrapped})
		rules = append(rules, rule)
	}
	return rules
}

// reaches says whether the peer lets a pod of policy namespace polNS reach
// the pods behind a service of namespace ns with selector sel.
func (p netPeer) reaches(polNS, ns string, sel map[string]string) int {
	if p.ipBlock || p.complex {
		return netUnknown
	}
	res := netAdmitted
	if !p.hasNS {
		if ns != polNS {
			return netDenied
		}
	} else {
		for k, v := range p.ns {
			if k != "kubernetes.io/metadata.name" {
				res = netUnknown
				continue
			}
			if v != ns {
				return netDenied
			}
		}
	}
	// The service's selector is a subset of its pods' labels: a label it
	// names with another value excludes them; one it does not name is
	// unknown.
	for k, v := range p.pod {
		switch got, ok := sel[k]; {
		case !ok:
			res = netUnknown
		case got != v:
			return netDenied
		}
	}
	return res
}

// allowsTo says whether an egress policy in namespace polNS lets traffic
// reach port (service port) or target (its target port) of a service of
// namespace ns with selector sel.
func (pol *netPolicy) allowsTo(ns string, sel map[string]string, port, target string) int {
	res := netDenied
	for _, r := range pol.egress {
		portOK := len(r.ports) == 0
		for _, p := range r.ports {
			if p == port || p == target {
				portOK = true
			} else if _, err := strconv.Atoi(p); err != nil {
				portOK = true // a named port: cannot tell, assume it opens
			}
		}
		if !portOK {
			continue
		}
		if r.anyDest {
			return netAdmitted
		}
		for _, p := range r.peers {
			switch p.reaches(pol.ns, ns, sel) {
			case netAdmitted:
				return netAdmitted
			case netUnknown:
				res = netUnknown
			}
		}
	}
	return res
}

func (r netEgressRule) String() string {
	ports := "every port"
	if len(r.ports) > 0 {
		ports = "port " + strings.Join(r.ports, ", ")
	}
	if r.anyDest {
		return ports + " anywhere"
	}
	var to []string
	for _, p := range r.peers {
		to = append(to, p.String())
	}
	return ports + " to " + strings.Join(to, " or ")
}

// egressFindings blames egress policies of a client's namespace that
// isolate the client and let nothing out to the service its logs time out
// on. Any doubt (client labels not shown, set-based selectors, IP blocks,
// a service whose selector is not shown) claims nothing.
func (m *netModel) egressFindings() []Finding {
	var blocked netBlockedSet
	for _, t := range m.timeouts {
		if t.pod == "" {
			continue
		}
		cp := m.pods[netKey(t.ns, t.pod)]
		_, port := logsSplitAddr(t.addr)
		svcNS, svcName := m.targetService(t)
		if svcNS == "" {
			continue
		}
		svc := m.services[netKey(svcNS, svcName)]
		ref := "service/" + svcNS + "/" + svcName
		if svc == nil || len(svc.selector) == 0 {
			continue
		}
		target := ""
		for _, sp := range svc.ports {
			if sp.port == port {
				target = sp.target
			}
		}
		var pols []*netPolicy
		verdict := netDenied
		for _, k := range slices.Sorted(maps.Keys(m.policies)) {
			pol := m.policies[k]
			if pol.ns != t.ns || !pol.egressTypes {
				continue
			}
			if len(pol.selector) > 0 {
				if cp == nil || cp.labels == nil {
					verdict = netUnion(verdict, netUnknown) // cannot tell whether it selects the client
					continue
				}
				if !netSubset(pol.selector, cp.labels) {
					continue
				}
			}
			verdict = netUnion(verdict, pol.allowsTo(svcNS, svc.selector, port, target))
			pols = append(pols, pol)
		}
		if len(pols) == 0 || verdict != netDenied {
			continue
		}
		blocked.add(t, ref, port, pols)
	}
	var fs []Finding
	for _, h := range blocked.order {
		last := h.ts[len(h.ts)-1]
		ids := h.ids()
		svcName := strings.TrimPrefix(h.dest, "service/")
		var names, related []string
		for _, pol := range h.pols {
			names = append(names, pol.name)
			related = append(related, "networkpolicy/"+pol.ns+"/"+pol.name)
			pids := append([]int(nil), pol.ids...)
			for _, id := range ids {
				pids = netAddID(pids, id)
			}
			allows := "nothing"
			if len(pol.egress) > 0 {
				var rs []string
				for _, r := range pol.egress {
					rs = append(rs, r.String())
				}
				allows = "only " + strings.Join(rs, "; ")
			}
			scope := "every pod"
			if len(pol.selector) > 0 {
				scope = fmt.Sprintf("the pods matching %q", netSelectorString(pol.selector))
			}
			fs = append(fs, Finding{
				Category: CategoryNetworkPolicy, Object: "networkpolicy/" + pol.ns + "/" + pol.name,
				Summary: fmt.Sprintf("NetworkPolicy %q in namespace %s isolates %s for egress and lets out %s; pod %s cannot reach service %s on port %s, and its connections to %s time out (%d times, last: %q)",
					pol.name, pol.ns, scope, allows, h.client, svcName, h.port, last.addr, len(h.ts), logsClip(last.line, 200)),
				Culprit: pol.name, Evidence: netSortedIDs(pids), Score: 0.75,
			})
		}
		slices.Sort(related)
		fs = append(fs, Finding{
			Category: CategoryNetworkPolicy, Object: h.dest,
			Summary: fmt.Sprintf("connections from pod %s to service %s time out: the egress NetworkPolicy %s of its namespace does not let them out", h.client, svcName, strings.Join(names, ", ")),
			Culprit: strings.Join(names, ","), Evidence: netSortedIDs(ids), Score: 0.6, Related: related,
		})
	}
	return fs
}

package analyze

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func netItem(t *testing.T, id int, tool, file string, args map[string]any) Item {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "network", file))
	if err != nil {
		t.Fatal(err)
	}
	return Item{ID: id, Tool: tool, Args: args, Output: string(b)}
}

func netArgs(kv ...string) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

const (
	netDescribe = "kubernetes.describe"
	netGet      = "kubernetes.get"
	netLogs     = "kubernetes.logs"
)

func TestNetworkFindings(t *testing.T) {
	tests := []struct {
		name     string
		items    func(t *testing.T) []Item
		want     []Finding // Summary checked with contains
		contains []string
	}{
		{
			name: "selector mismatch with pod list",
			items: func(t *testing.T) []Item {
				return []Item{
					netItem(t, 1, netDescribe, "svc_cart_describe.txt", netArgs("kind", "service", "name", "cart", "namespace", "shop")),
					netItem(t, 2, netGet, "pods_shop_labels.txt", netArgs("kind", "pods", "namespace", "shop")),
				}
			},
			want:     []Finding{{Category: CategoryServiceRouting, Object: "service/shop/cart", Culprit: "app=cart,tier=web", Evidence: []int{1, 2}, Direct: true, Score: 0.9}},
			contains: []string{`"app=cart,tier=web"`, "app=cart-api"},
		},
		{
			name: "selector mismatch with one described pod is not direct",
			items: func(t *testing.T) []Item {
				return []Item{
					netItem(t, 1, netDescribe, "svc_cart_describe.txt", netArgs("kind", "service", "name", "cart", "namespace", "shop")),
					netItem(t, 5, netDescribe, "pod_inventory_describe.txt", netArgs("kind", "pod", "name", "inventory-5d9c7b8f4-qq7tn", "namespace", "shop")),
				}
			},
			want: []Finding{{Category: CategoryServiceRouting, Object: "service/shop/cart", Culprit: "app=cart,tier=web", Evidence: []int{1, 5}, Direct: false, Score: 0.7}},
		},
		{
			name: "named targetPort missing on pods (JSON)",
			items: func(t *testing.T) []Item {
				return []Item{
					netItem(t, 3, netGet, "svc_orders.json", netArgs("kind", "service", "name", "orders", "namespace", "shop")),
					netItem(t, 4, netGet, "ep_orders.json", netArgs("kind", "endpoints", "name", "orders", "namespace", "shop")),
					netItem(t, 7, netGet, "pods_orders.json", netArgs("kind", "pods", "namespace", "shop")),
				}
			},
			want:     []Finding{{Category: CategoryServiceRouting, Object: "service/shop/orders", Culprit: "http-api", Evidence: []int{3, 4, 7}, Direct: true, Score: 0.85}},
			contains: []string{`"http-api"`, "http=8080", "metrics=9102"},
		},
		{
			name: "numeric targetPort not declared (endpoints exist) is a hint",
			items: func(t *testing.T) []Item {
				return []Item{
					netItem(t, 1, netDescribe, "svc_inventory_describe.txt", netArgs("kind", "service", "name", "inventory", "namespace", "shop")),
					netItem(t, 2, netDescribe, "pod_inventory_describe.txt", netArgs("kind", "pod", "name", "inventory-5d9c7b8f4-qq7tn", "namespace", "shop")),
				}
			},
			want: []Finding{{Category: CategoryServiceRouting, Object: "service/shop/inventory", Culprit: "8081", Evidence: []int{1, 2}, Direct: false, Score: 0.55}},
		},
		{
			name: "numeric targetPort not declared and refused in logs is direct",
			items: func(t *testing.T) []Item {
				return []Item{
					netItem(t, 1, netDescribe, "svc_inventory_describe.txt", netArgs("kind", "service", "name", "inventory", "namespace", "shop")),
					netItem(t, 2, netDescribe, "pod_inventory_describe.txt", netArgs("kind", "pod", "name", "inventory-5d9c7b8f4-qq7tn", "namespace", "shop")),
					{ID: 3, Tool: netLogs, Args: netArgs("pod", "ingress-nginx-controller-1", "namespace", "ingress-nginx"),
						Output: `2024/06/25 09:35:00 [error] 41#41: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.1.187, upstream: "http://10.244.1.12:8081/api", host: "shop.acme.io"
2024/06/25 09:35:01 [error] 41#41: *2 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.1.187, upstream: "http://10.244.9.9:8081/api", host: "shop.acme.io"`},
				}
			},
			want:     []Finding{{Category: CategoryServiceRouting, Object: "service/shop/inventory", Culprit: "8081", Evidence: []int{1, 2, 3}, Direct: true, Score: 0.85}},
			contains: []string{"10.244.1.12:8081 are refused", "8080"},
		},
		{
			name: "selected pods not ready",
			items: func(t *testing.T) []Item {
				return []Item{
					netItem(t, 1, netDescribe, "svc_search_describe.txt", netArgs("kind", "svc", "name", "search", "namespace", "shop")),
					netItem(t, 2, netDescribe, "ep_search_describe.txt", netArgs("kind", "endpoints", "name", "search", "namespace", "shop")),
					netItem(t, 3, netGet, "pods_search.txt", netArgs("kind", "pods", "namespace", "shop")),
				}
			},
			want: []Finding{{Category: CategoryServiceRouting, Object: "service/shop/search", Culprit: "app=search", Evidence: []int{1, 2, 3}, Score: 0.6,
				Related: []string{"pod/shop/search-0", "pod/shop/search-1"}}},
		},
		{
			name: "no endpoints without pod evidence",
			items: func(t *testing.T) []Item {
				return []Item{netItem(t, 8, netDescribe, "svc_reviews_describe.txt", netArgs("kind", "service", "name", "reviews", "namespace", "shop"))}
			},
			want: []Finding{{Category: CategoryServiceRouting, Object: "service/shop/reviews", Culprit: "app=reviews", Evidence: []int{8}, Score: 0.6}},
		},
		{
			name: "ingress backend endpoints not found",
			items: func(t *testing.T) []Item {
				return []Item{netItem(t, 2, netDescribe, "ingress_describe.txt", netArgs("kind", "ingress", "name", "storefront", "namespace", "shop"))}
			},
			want: []Finding{{Category: CategoryServiceRouting, Object: "ingress/shop/storefront", Culprit: "cart-v2:80", Evidence: []int{2}, Direct: true, Score: 0.85,
				Related: []string{"service/shop/cart-v2"}}},
			contains: []string{`endpoints \"cart-v2\" not found`},
		},
		{
			name: "ingress JSON backend absent from service list, and a missing port",
			items: func(t *testing.T) []Item {
				return []Item{
					netItem(t, 1, netGet, "ingress_admin.json", netArgs("kind", "ingress", "name", "admin", "namespace", "shop")),
					netItem(t, 2, netGet, "svcs_shop.txt", netArgs("kind", "services", "namespace", "shop")),
					netItem(t, 3, netGet, "svc_api.json", netArgs("kind", "service", "name", "api", "namespace", "shop")),
				}
			},
			want: []Finding{
				{Category: CategoryServiceRouting, Object: "ingress/shop/admin", Culprit: "admin-ui:80", Evidence: []int{1}, Direct: true, Score: 0.85, Related: []string{"service/shop/admin-ui"}},
				{Category: CategoryServiceRouting, Object: "ingress/shop/admin", Culprit: "api:grpc", Evidence: []int{1, 2, 3}, Direct: true, Score: 0.8, Related: []string{"service/shop/api"}},
			},
		},
		{
			name: "default deny ingress plus timeouts",
			items: func(t *testing.T) []Item {
				return []Item{
					netItem(t, 4, netDescribe, "netpol_deny_describe.txt", netArgs("kind", "networkpolicy", "name", "default-deny-ingress", "namespace", "shop")),
					netItem(t, 6, netLogs, "checkout_timeouts.log", netArgs("pod", "checkout-1", "namespace", "shop")),
				}
			},
			want: []Finding{{Category: CategoryNetworkPolicy, Object: "networkpolicy/shop/default-deny-ingress", Culprit: "default-deny-ingress", Evidence: []int{4, 6}, Score: 0.75,
				Related: []string{"service/shop/payments"}}},
			contains: []string{"payments.shop.svc.cluster.local:9090", "allows no ingress"},
		},
		{
			name: "pod-selecting deny policy plus timeouts from another namespace",
			items: func(t *testing.T) []Item {
				return []Item{
					netItem(t, 1, netGet, "netpol_db_deny.json", netArgs("kind", "networkpolicy", "name", "lock-db", "namespace", "data")),
					netItem(t, 2, netLogs, "db_timeouts.log", netArgs("pod", "app-1", "namespace", "shop")),
				}
			},
			want: []Finding{{Category: CategoryNetworkPolicy, Object: "networkpolicy/data/lock-db", Culprit: "lock-db", Evidence: []int{1, 2}, Score: 0.75,
				Related: []string{"service/data/postgres"}}},
			contains: []string{`pods matching "app=postgres"`},
		},
		{
			// An allow list that does not admit the client's namespace: the
			// policy is blamed, and the service leads from the client to it.
			name: "allow-list policy plus timeouts from a namespace it does not admit",
			items: func(t *testing.T) []Item {
				return []Item{
					netItem(t, 1, netDescribe, "svc_postgres_describe.txt", netArgs("kind", "service", "name", "postgres", "namespace", "data")),
					netItem(t, 2, netDescribe, "netpol_allowlist_describe.txt", netArgs("kind", "networkpolicy", "name", "postgres-ingress", "namespace", "data")),
					{ID: 3, Tool: netLogs, Args: netArgs("pod", "fulfilment-api-1", "namespace", "fulfilment"),
						Output: "fatal: cannot open database: dial tcp 172.20.91.14:5432: i/o timeout\n"},
				}
			},
			want: []Finding{
				{Category: CategoryNetworkPolicy, Object: "networkpolicy/data/postgres-ingress", Culprit: "postgres-ingress", Evidence: []int{2, 3}, Score: 0.75},
				{Category: CategoryNetworkPolicy, Object: "service/data/postgres", Culprit: "postgres-ingress", Evidence: []int{3}, Score: 0.6,
					Related: []string{"networkpolicy/data/postgres-ingress"}},
			},
			contains: []string{"pods app=orders-api in namespaces kubernetes.io/metadata.name=orders", "fulfilment/fulfilment-api-1 is not among them"},
		},
		{
			name: "allow-list json: pod labels of another namespace are not admitted",
			items: func(t *testing.T) []Item {
				return []Item{
					{ID: 1, Tool: netGet, Args: netArgs("kind", "service", "namespace", "payments"), Output: `{"kind":"Service","metadata":{"name":"payments-api","namespace":"payments"},"spec":{"selector":{"app":"payments-api"},"clusterIP":"10.96.4.4","ports":[{"port":8443,"targetPort":8443}]}}`},
					netItem(t, 2, netGet, "netpol_allowlist.json", netArgs("kind", "networkpolicy")),
					{ID: 3, Tool: netLogs, Args: netArgs("pod", "checkout-1", "namespace", "shop"),
						Output: "error calling payments: dial tcp 10.96.4.4:8443: i/o timeout\nerror calling payments: dial tcp 10.96.4.4:8443: i/o timeout\n"},
				}
			},
			want: []Finding{
				{Category: CategoryNetworkPolicy, Object: "networkpolicy/payments/api-ingress", Culprit: "api-ingress", Evidence: []int{2, 3}, Score: 0.75},
				{Category: CategoryNetworkPolicy, Object: "service/payments/payments-api", Culprit: "api-ingress", Evidence: []int{3}, Score: 0.6,
					Related: []string{"networkpolicy/payments/api-ingress"}},
			},
			contains: []string{"2 times"},
		},
		{
			// A default-deny baseline in the client's namespace that only
			// lets DNS out: the egress policy is blamed (the ingress half of
			// the same policy is not: the dependency is elsewhere).
			name: "egress policy that lets only DNS out",
			items: func(t *testing.T) []Item {
				return []Item{
					netItem(t, 1, netDescribe, "svc_pricing_describe.txt", netArgs("kind", "service", "name", "pricing", "namespace", "catalog")),
					netItem(t, 2, netDescribe, "netpol_egress_describe.txt", netArgs("kind", "networkpolicy", "name", "default-deny-all", "namespace", "reports")),
					{ID: 3, Tool: netLogs, Args: netArgs("pod", "builder-1", "namespace", "reports"),
						Output: `level=ERROR msg="price lookup failed" err="Get \"http://pricing.catalog.svc:8080/v1/prices\": dial tcp 172.20.14.9:8080: i/o timeout"` + "\n"},
				}
			},
			want: []Finding{
				{Category: CategoryNetworkPolicy, Object: "networkpolicy/reports/default-deny-all", Culprit: "default-deny-all", Evidence: []int{2, 3}, Score: 0.75},
				{Category: CategoryNetworkPolicy, Object: "service/catalog/pricing", Culprit: "default-deny-all", Evidence: []int{3}, Score: 0.6,
					Related: []string{"networkpolicy/reports/default-deny-all"}},
			},
			contains: []string{"for egress and lets out only port 53 to pods k8s-app=kube-dns", "on port 8080"},
		},
		{
			name: "egress policy json without the dependency's port",
			items: func(t *testing.T) []Item {
				return []Item{
					{ID: 1, Tool: netGet, Args: netArgs("kind", "service", "namespace", "data"), Output: `{"kind":"Service","metadata":{"name":"redis","namespace":"data"},"spec":{"selector":{"app":"redis"},"clusterIP":"10.96.7.7","ports":[{"port":6379,"targetPort":6379}]}}`},
					{ID: 2, Tool: netGet, Args: netArgs("kind", "networkpolicy"), Output: `{"kind":"NetworkPolicy","metadata":{"name":"api-egress","namespace":"web"},"spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"data"}}}],"ports":[{"port":5432,"protocol":"TCP"}]}]}}`},
					{ID: 3, Tool: netLogs, Args: netArgs("pod", "api-1", "namespace", "web"), Output: "redis: dial tcp 10.96.7.7:6379: i/o timeout\n"},
				}
			},
			want: []Finding{
				{Category: CategoryNetworkPolicy, Object: "networkpolicy/web/api-egress", Culprit: "api-egress", Evidence: []int{2, 3}, Score: 0.75},
				{Category: CategoryNetworkPolicy, Object: "service/data/redis", Culprit: "api-egress", Evidence: []int{3}, Score: 0.6,
					Related: []string{"networkpolicy/web/api-egress"}},
			},
			contains: []string{"port 5432 to in namespaces kubernetes.io/metadata.name=data"},
		},
		{
			// Clients time out on a service whose pods the evidence shows:
			// a link (that claims nothing) leads on to those pods.
			name: "client timeouts link the service to its pods",
			items: func(t *testing.T) []Item {
				return []Item{
					netItem(t, 1, netDescribe, "svc_pricing_describe.txt", netArgs("kind", "service", "name", "pricing", "namespace", "catalog")),
					{ID: 2, Tool: netGet, Args: netArgs("kind", "pods", "namespace", "catalog", "output", "wide"), Output: "NAME          READY   STATUS    RESTARTS   AGE   IP           NODE\npricing-a-1   1/1     Running   0          2d    10.12.4.7    n1\nother-b-2     1/1     Running   0          2d    10.12.9.9    n1\n"},
					{ID: 3, Tool: netLogs, Args: netArgs("pod", "web-1", "namespace", "shop"), Output: "price: dial tcp 172.20.14.9:8080: i/o timeout\n"},
				}
			},
			want:     []Finding{{Category: CategoryDependency, Object: "service/catalog/pricing", Evidence: []int{1, 3}, Score: 0.1, Related: []string{"pod/catalog/pricing-a-1"}}},
			contains: []string{"pod shop/web-1 cannot get answers from service catalog/pricing, whose pods are catalog/pricing-a-1"},
		},
		{
			name: "coredns upstream timeouts",
			items: func(t *testing.T) []Item {
				return []Item{netItem(t, 9, netLogs, "coredns.log", netArgs("pod", "coredns-5d78c9869d-4xk2p", "namespace", "kube-system"))}
			},
			want:     []Finding{{Category: CategoryDNS, Object: "pod/kube-system/coredns-5d78c9869d-4xk2p", Culprit: "10.0.0.2:53", Evidence: []int{9}, Score: 0.7}},
			contains: []string{"upstream", "3 times"},
		},
		{
			name: "coredns loop",
			items: func(t *testing.T) []Item {
				return []Item{netItem(t, 9, netLogs, "coredns_loop.log", netArgs("pod", "coredns-5d78c9869d-4xk2p", "namespace", "kube-system", "previous", "true"))}
			},
			want: []Finding{{Category: CategoryDNS, Object: "pod/kube-system/coredns-5d78c9869d-4xk2p", Culprit: "plugin/loop", Evidence: []int{9}, Direct: true, Score: 0.85}},
		},
		{
			name: "DNS failures in events",
			items: func(t *testing.T) []Item {
				return []Item{netItem(t, 3, "kubernetes.events", "events_shop.txt", netArgs("namespace", "shop"))}
			},
			want: []Finding{{Category: CategoryDNS, Object: "namespace/shop", Culprit: "auth.shop.svc.cluster.local", Evidence: []int{3}, Score: 0.6,
				Related: []string{"service/shop/auth"}}},
			contains: []string{"no such host"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := netAnalyzer{}.Analyze(&Input{Items: tc.items(t)})
			if len(got) != len(tc.want) {
				for _, g := range got {
					t.Logf("got %+v", g)
				}
				t.Fatalf("got %d findings, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Analyzer != "network" || g.Category != w.Category || g.Object != w.Object || g.Culprit != w.Culprit ||
					!reflect.DeepEqual(g.Evidence, w.Evidence) || g.Direct != w.Direct || g.Score != w.Score || !reflect.DeepEqual(g.Related, w.Related) {
					t.Errorf("finding %d:\n got %+v\nwant %+v", i, g, w)
				}
				if g.Summary == "" || (g.Culprit != "" && !strings.Contains(g.Summary, g.Culprit)) {
					t.Errorf("summary %q does not name culprit %q", g.Summary, g.Culprit)
				}
			}
			for _, c := range tc.contains {
				if !strings.Contains(got[0].Summary+got[len(got)-1].Summary, c) {
					t.Errorf("summary %q lacks %q", got[0].Summary, c)
				}
			}
		})
	}
}

func TestNetworkHealthyProducesNothing(t *testing.T) {
	cases := map[string][]Item{
		"service with endpoints and matching pods": {
			{ID: 1, Tool: netDescribe, Args: netArgs("kind", "service"), Output: strings.Replace(netMustRead(t, "network/svc_cart_describe.txt"), "<none>\nSession", "10.244.1.5:8080,10.244.2.7:8080\nSession", 1)},
			{ID: 2, Tool: netGet, Args: netArgs("kind", "pods", "namespace", "shop"), Output: strings.ReplaceAll(netMustRead(t, "network/pods_shop_labels.txt"), "app=cart-api", "app=cart")},
		},
		"deny policy without timeouts": {
			netItem(t, 4, netDescribe, "netpol_deny_describe.txt", netArgs("kind", "networkpolicy")),
		},
		"allow policy with timeouts": {
			netItem(t, 1, netGet, "netpol_allow.json", netArgs("kind", "networkpolicy")),
			netItem(t, 2, netLogs, "checkout_timeouts.log", netArgs("pod", "x", "namespace", "web")),
		},
		"allow-list policy that admits the client's namespace": {
			netItem(t, 1, netDescribe, "svc_postgres_describe.txt", netArgs("kind", "service", "name", "postgres", "namespace", "data")),
			netItem(t, 2, netDescribe, "netpol_allowlist_describe.txt", netArgs("kind", "networkpolicy", "name", "postgres-ingress", "namespace", "data")),
			{ID: 3, Tool: netLogs, Args: netArgs("pod", "billing-1", "namespace", "billing"), Output: "dial tcp 172.20.91.14:5432: i/o timeout\n"},
		},
		"allow-list policy whose admission of the client depends on labels not shown": {
			netItem(t, 1, netDescribe, "svc_postgres_describe.txt", netArgs("kind", "service", "name", "postgres", "namespace", "data")),
			netItem(t, 2, netDescribe, "netpol_allowlist_describe.txt", netArgs("kind", "networkpolicy", "name", "postgres-ingress", "namespace", "data")),
			{ID: 3, Tool: netLogs, Args: netArgs("pod", "orders-api-1", "namespace", "orders"), Output: "dial tcp 172.20.91.14:5432: i/o timeout\n"},
		},
		"egress policy that lets the dependency's port out": {
			{ID: 1, Tool: netGet, Args: netArgs("kind", "service", "namespace", "data"), Output: `{"kind":"Service","metadata":{"name":"redis","namespace":"data"},"spec":{"selector":{"app":"redis"},"clusterIP":"10.96.7.7","ports":[{"port":6379,"targetPort":6379}]}}`},
			{ID: 2, Tool: netGet, Args: netArgs("kind", "networkpolicy"), Output: `{"kind":"NetworkPolicy","metadata":{"name":"api-egress","namespace":"web"},"spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"data"}}}],"ports":[{"port":6379}]}]}}`},
			{ID: 3, Tool: netLogs, Args: netArgs("pod", "api-1", "namespace", "web"), Output: "redis: dial tcp 10.96.7.7:6379: i/o timeout\n"},
		},
		"egress policy with an IP block": {
			{ID: 1, Tool: netGet, Args: netArgs("kind", "service", "namespace", "data"), Output: `{"kind":"Service","metadata":{"name":"redis","namespace":"data"},"spec":{"selector":{"app":"redis"},"clusterIP":"10.96.7.7","ports":[{"port":6379,"targetPort":6379}]}}`},
			{ID: 2, Tool: netGet, Args: netArgs("kind", "networkpolicy"), Output: `{"kind":"NetworkPolicy","metadata":{"name":"api-egress","namespace":"web"},"spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"ipBlock":{"cidr":"10.0.0.0/8"}}]}]}}`},
			{ID: 3, Tool: netLogs, Args: netArgs("pod", "api-1", "namespace", "web"), Output: "redis: dial tcp 10.96.7.7:6379: i/o timeout\n"},
		},
		"healthy ingress backends": {
			{ID: 1, Tool: netDescribe, Args: netArgs("kind", "ingress"), Output: strings.Replace(netMustRead(t, "network/ingress_describe.txt"), `(<error: endpoints "cart-v2" not found>)`, "(10.244.1.3:8080)", 1)},
		},
		"coredns info only": {
			{ID: 1, Tool: netLogs, Args: netArgs("pod", "coredns-1", "namespace", "kube-system"), Output: "[INFO] plugin/reload: Running configuration\nCoreDNS-1.11.1\n[INFO] 10.244.1.5:49152 - 1 \"A IN cart.shop.svc.cluster.local. udp 45 false 512\" NOERROR qr,aa,rd 104 0.0001s"},
		},
	}
	for name, items := range cases {
		if got := (netAnalyzer{}).Analyze(&Input{Items: items}); len(got) != 0 {
			t.Errorf("%s: unexpected findings %+v", name, got)
		}
	}
	if a := NetworkAnalyzers(); len(a) != 1 || a[0].Name() != "network" {
		t.Errorf("NetworkAnalyzers = %v", a)
	}
}

func TestNetworkDeterministicOrder(t *testing.T) {
	items := []Item{
		netItem(t, 8, netDescribe, "svc_reviews_describe.txt", netArgs("kind", "service")),
		netItem(t, 1, netDescribe, "svc_cart_describe.txt", netArgs("kind", "service")),
		netItem(t, 2, netGet, "pods_shop_labels.txt", netArgs("kind", "pods", "namespace", "shop")),
		netItem(t, 3, netDescribe, "ingress_describe.txt", netArgs("kind", "ingress")),
	}
	first := netAnalyzer{}.Analyze(&Input{Items: items})
	for i := 0; i < 20; i++ {
		if again := (netAnalyzer{}).Analyze(&Input{Items: items}); !reflect.DeepEqual(first, again) {
			t.Fatalf("non-deterministic:\n%+v\n%+v", first, again)
		}
	}
	for i := 1; i < len(first); i++ {
		a, b := first[i-1], first[i]
		if a.Score < b.Score || (a.Score == b.Score && a.Object > b.Object) {
			t.Errorf("order: %v %s before %v %s", a.Score, a.Object, b.Score, b.Object)
		}
	}
}

func netMustRead(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A client timing out on a service leads on to what is wrong with the pods
// behind it; when nothing is, the client's own finding stays the answer.
func TestBackendChain(t *testing.T) {
	items := []Item{
		netItem(t, 1, netDescribe, "svc_pricing_describe.txt", netArgs("kind", "service", "name", "pricing", "namespace", "catalog")),
		{ID: 2, Tool: netGet, Args: netArgs("kind", "pods", "namespace", "catalog", "output", "wide"), Output: "NAME          READY   STATUS    RESTARTS   AGE   IP           NODE\npricing-a-1   1/1     Running   0          2d    10.12.4.7    n1\n"},
		{ID: 3, Tool: netLogs, Args: netArgs("pod", "web-1", "namespace", "shop"), Output: strings.Repeat("level=error msg=\"price\" err=\"dial tcp 172.20.14.9:8080: i/o timeout\"\n", 5)},
	}
	focus := Focus{Namespace: "shop", Names: []string{"web"}}
	c := Run(All(), &Input{Items: items}, focus)
	if c.Root == nil || c.Root.Object != "pod/shop/web-1" || c.Root.Category != CategoryDependency {
		t.Fatalf("healthy backend: root = %+v", c.Root)
	}
	backend := Item{ID: 4, Tool: netLogs, Args: netArgs("pod", "pricing-a-1", "namespace", "catalog"),
		Output: strings.Repeat("level=error msg=\"accept\" err=\"accept tcp [::]:8080: accept4: too many open files\"\n", 5)}
	c = Run(All(), &Input{Items: append(items, backend)}, focus)
	if c.Root == nil || c.Root.Object != "pod/catalog/pricing-a-1" || c.Root.Category != CategorySaturation {
		t.Fatalf("saturated backend: root = %+v", c.Root)
	}
}

package kubernetes

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterCheck is what one cluster answered to Check.
type ClusterCheck struct {
	Cluster    string `json:"cluster"`
	OK         bool   `json:"ok"`
	Version    string `json:"version,omitempty"`
	Namespaces int    `json:"namespaces,omitempty"`
	// More is true when the cluster has more namespaces than were listed.
	More  bool   `json:"more,omitempty"`
	Error string `json:"error,omitempty"`
}

// checkNamespaceLimit bounds the namespaces a check lists: it proves access,
// it does not count them all.
const checkNamespaceLimit = 500

// Check connects to every cluster cfg names, in parallel: the server's
// version (discovery) and a list of namespaces (proving the credentials may
// read). A configuration error is returned; a cluster that does not answer
// is a ClusterCheck with OK false.
func Check(ctx context.Context, cfg Config) ([]ClusterCheck, error) {
	cs, err := connect(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cs.timeout)
	defer cancel()
	out := make([]ClusterCheck, len(cs.names))
	var wg sync.WaitGroup
	for i, name := range cs.names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = cs.byName[name].check(ctx, name)
		}()
	}
	wg.Wait()
	return out, nil
}

func (k *kube) check(ctx context.Context, name string) ClusterCheck {
	c := ClusterCheck{Cluster: name}
	v, err := k.core.Discovery().ServerVersion()
	if err != nil {
		c.Error = fmt.Sprintf("server version: %v", err)
		return c
	}
	c.Version = v.GitVersion
	l, err := k.core.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: checkNamespaceLimit})
	if err != nil {
		c.Error = fmt.Sprintf("list namespaces: %v", err)
		return c
	}
	c.OK, c.Namespaces, c.More = true, len(l.Items), l.Continue != ""
	return c
}

package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/toolset"
	"github.com/aurora-oss/aurora/internal/toolset/kubernetes"
)

const snapshotUsage = `usage: aurora snapshot [--context C] [--namespace NS] [--kubeconfig FILE] [KIND/NAME] --out DIR

Writes an evidence bundle (docs/bundles.md) from a live cluster: for KIND/NAME
(e.g. pod/cart-7d9f-x2, deployment/cart, pvc/data-0, node/worker-3) its
description, events, pods with their logs and the nodes they run on; without
KIND/NAME the namespace's unhealthy pods, workloads and claims. Read-only;
Secret values are never written. Then: aurora investigate --bundle DIR
`

// snapshotMain runs `aurora snapshot`.
func snapshotMain(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, snapshotUsage) }
	kctx := fs.String("context", "", "kubeconfig context (default: the first of AURORA_KUBE_CONTEXTS, else the current context)")
	ns := fs.String("namespace", "default", "namespace")
	kubeconfig := fs.String("kubeconfig", getenv("KUBECONFIG"), "kubeconfig file (default: $KUBECONFIG, else ~/.kube/config or in-cluster)")
	out := fs.String("out", "", "bundle directory to write (must not hold a bundle)")
	timeout := fs.Duration("timeout", kubernetes.DefaultTimeout, "timeout of each API call")
	// Flags may come before and after KIND/NAME.
	var target string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if target != "" {
			fmt.Fprintf(stderr, "aurora snapshot: unexpected argument %q\n%s", args[0], snapshotUsage)
			return 2
		}
		target, args = args[0], args[1:]
	}
	if *out == "" {
		fmt.Fprint(stderr, "aurora snapshot: --out DIR is required\n"+snapshotUsage)
		return 2
	}
	t := kubernetes.SnapshotTarget{Namespace: *ns}
	if target != "" {
		kind, name, ok := strings.Cut(target, "/")
		if !ok || kind == "" || name == "" || strings.Contains(name, "/") {
			fmt.Fprintf(stderr, "aurora snapshot: %q is not KIND/NAME (e.g. pod/cart-7d9f-x2)\n", target)
			return 2
		}
		t.Kind, t.Name = kind, name
	}
	cfg := kubernetes.Config{Kubeconfig: *kubeconfig, Context: *kctx, Timeout: *timeout}
	if cfg.Context == "" {
		if cs := strings.Split(getenv("AURORA_KUBE_CONTEXTS"), ","); strings.TrimSpace(cs[0]) != "" {
			cfg.Context = strings.TrimSpace(cs[0])
		}
	}
	if cfg.Kubeconfig == "" && cfg.Context == "" && getenv("KUBERNETES_SERVICE_HOST") != "" {
		cfg.InCluster = true
	}
	tools, err := kubernetes.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "aurora snapshot:", err)
		return 1
	}
	reg, err := toolset.NewRegistry(tools...)
	if err != nil {
		fmt.Fprintln(stderr, "aurora snapshot:", err)
		return 1
	}
	started := time.Now()
	res, err := kubernetes.Snapshot(ctx, reg, t, *out)
	for _, f := range res.Failed {
		fmt.Fprintln(stderr, "  no output:", f)
	}
	if err != nil {
		fmt.Fprintln(stderr, "aurora snapshot:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %d evidence files to %s in %s (alert.json and question.txt name what was snapshotted)\n",
		len(res.Files), *out, time.Since(started).Round(time.Millisecond))
	fmt.Fprintf(stdout, "investigate it: aurora investigate --bundle %s\n", *out)
	return 0
}

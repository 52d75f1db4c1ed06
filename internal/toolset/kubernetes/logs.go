package kubernetes

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/aurora-oss/aurora/internal/toolset"
)

// maxLogBytes bounds what is read from the API server; the output keeps
// the newest toolset.DefaultOutputLimit bytes of it.
const maxLogBytes = 4 << 20

func (k *kube) logs(ctx context.Context, a args) (string, error) {
	pod, err := a.name("pod", true)
	if err != nil {
		return "", err
	}
	ns, err := a.name("namespace", true)
	if err != nil {
		return "", err
	}
	container, err := a.name("container", false)
	if err != nil {
		return "", err
	}
	previous, err := a.boolean("previous")
	if err != nil {
		return "", err
	}
	tail, err := a.integer("tail", DefaultLogTail, 1, maxLogTail)
	if err != nil {
		return "", err
	}
	since, err := a.str("since", false)
	if err != nil {
		return "", err
	}
	opts := &corev1.PodLogOptions{Container: container, Previous: previous, TailLines: &tail}
	if since != "" {
		d, perr := time.ParseDuration(since)
		if perr != nil {
			return "", a.errorf("since", "%q is not a Go duration (e.g. \"15m\", \"2h\")", since)
		}
		if d <= 0 {
			return "", a.errorf("since", "must be positive, got %s", d)
		}
		secs := int64(math.Ceil(d.Seconds()))
		opts.SinceSeconds = &secs
	}
	limit := int64(maxLogBytes)
	opts.LimitBytes = &limit
	rc, err := k.core.CoreV1().Pods(ns).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return "", fmt.Errorf("%s: %w", a.tool, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxLogBytes))
	if err != nil {
		return "", fmt.Errorf("%s: reading logs: %w", a.tool, err)
	}
	return keepTail(string(b), toolset.DefaultOutputLimit), nil
}

// keepTail keeps the newest limit bytes of a log, cut at a line start, with
// a first line saying how much was dropped: for logs the end matters.
func keepTail(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := len(s) - limit + 100 // room for the notice
	if i := strings.IndexByte(s[cut:], '\n'); i >= 0 && i < limit/4 {
		cut += i + 1
	}
	return fmt.Sprintf("… [%d earlier bytes cut]\n", cut) + s[cut:]
}

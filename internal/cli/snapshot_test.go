package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestSnapshotArguments(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{nil, nil, 2, "--out DIR is required"},
		{[]string{"pod", "--out", "x"}, nil, 2, `"pod" is not KIND/NAME`},
		{[]string{"pod/a/b", "--out", "x"}, nil, 2, `"pod/a/b" is not KIND/NAME`},
		{[]string{"pod/a", "pod/b", "--out", "x"}, nil, 2, `unexpected argument "pod/b"`},
		{[]string{"--bogus"}, nil, 2, "flag provided but not defined"},
		{[]string{"--namespace", "shop", "deploy/cart", "--out", t.TempDir()}, map[string]string{"KUBECONFIG": "/nonexistent/config"}, 1, "kubeconfig"},
		{[]string{"--out", t.TempDir(), "--context", "nope", "--kubeconfig", "/nonexistent/config"}, nil, 1, "kubeconfig"},
	} {
		var stdout, stderr bytes.Buffer
		code := snapshotMain(context.Background(), c.args, &stdout, &stderr, env(c.env))
		if code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", c.args, code, stderr.String(), c.code, c.want)
		}
	}
}

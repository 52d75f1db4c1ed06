package analyze

import (
	"strings"
	"testing"
)

func TestCreateErrorAnalyzer(t *testing.T) {
	// podWith is a describe of pod ns/app-1 whose container "app" is in
	// state (a waiting reason) with one Failed event saying msg.
	podWith := func(id int, state, msg string) Item {
		return Item{ID: id, Tool: describe, Args: map[string]any{"kind": "pod"}, Output: "Name:         app-1\nNamespace:    ns\nNode:         w1/10.0.0.1\nStatus:       Pending\n" +
			"Containers:\n  app:\n    Image:          example.com/app:1\n    State:          Waiting\n      Reason:       " + state + "\n    Ready:          False\n" +
			"  sidecar:\n    Image:          example.com/side:1\n    State:          Running\n    Ready:          True\n" +
			"Events:\n  Type     Reason  Age                From     Message\n  ----     ------  ----               ----     -------\n" +
			"  Normal   Pulled  10s (x9 over 2m)   kubelet  Container image \"example.com/app:1\" already present on machine\n" +
			"  Warning  Failed  10s (x9 over 2m)   kubelet  " + msg + "\n"}
	}
	const subPath = `/var/lib/kubelet/pods/0f4b/volume-subpaths/conf/app/0`
	cases := []struct {
		name    string
		items   []Item
		want    []wantFinding
		summary []string
	}{
		{
			name:    "CRI-O: command not in the image",
			items:   []Item{podWith(3, "CreateContainerError", `Error: container create failed: time="2025-06-03T07:34:31Z" level=error msg="runc create failed: unable to start container process: exec: \"gunicorn\": executable file not found in $PATH"`)},
			want:    []wantFinding{{CategoryApplicationErr, "pod/ns/app-1", "command gunicorn", true, []int{3}}},
			summary: []string{`container "app" of pod ns/app-1 cannot be created (CreateContainerError)`, `command "gunicorn" is not in the image`},
		},
		{
			name:  "absolute command missing (stat)",
			items: []Item{podWith(3, "CreateContainerError", `Error: container create failed: time="2025-06-03T07:34:31Z" level=error msg="runc create failed: unable to start container process: error during container init: exec: \"/app/server\": stat /app/server: no such file or directory"`)},
			want:  []wantFinding{{CategoryApplicationErr, "pod/ns/app-1", "command /app/server", true, []int{3}}},
		},
		{
			name:    "subPath over a directory of the image",
			items:   []Item{podWith(4, "CreateContainerError", `Error: container create failed: time="2025-07-14T13:55:12Z" level=error msg="runc create failed: unable to start container process: error during container init: error mounting \"`+subPath+`\" to rootfs at \"/etc/app/conf.d\": mount `+subPath+`:/etc/app/conf.d (via /proc/self/fd/7), flags: 0x5001: not a directory"`)},
			want:    []wantFinding{{CategoryMissingConfig, "pod/ns/app-1", "subPath mount at /etc/app/conf.d", true, []int{4}}},
			summary: []string{`subPath mount at "/etc/app/conf.d"`, "not a directory"},
		},
		{
			name:  "containerd: stale subPath (spec generation)",
			items: []Item{podWith(4, "CreateContainerError", `Error: failed to generate container "5b1c9e" spec: failed to generate spec: failed to stat "`+subPath+`": stat `+subPath+`: no such file or directory`)},
			want:  []wantFinding{{CategoryMissingConfig, "pod/ns/app-1", "subPath mount", true, []int{4}}},
		},
		{
			name:    "hostPath source missing",
			items:   []Item{podWith(4, "CreateContainerError", `Error: failed to generate container "5b1c9e" spec: failed to apply OCI options: failed to mkdir "/mnt/models/llama": mkdir /mnt/models/llama: no such file or directory`)},
			want:    []wantFinding{{CategoryStorage, "pod/ns/app-1", "mount source /mnt/models/llama", true, []int{4}}},
			summary: []string{`"/mnt/models/llama"`, "hostPath"},
		},
		{
			name:  "unknown runtime error is not direct",
			items: []Item{podWith(4, "CreateContainerError", `Error: context deadline exceeded`)},
			want:  []wantFinding{{CategoryUnknown, "pod/ns/app-1", "context deadline exceeded", false, []int{4}}},
		},
		{
			name:  "events only are not direct",
			items: []Item{{ID: 6, Tool: events, Output: "LAST SEEN   TYPE      REASON   OBJECT      MESSAGE\n2m          Warning   Failed   pod/app-1   Error: container create failed: exec: \"gunicorn\": executable file not found in $PATH\n", Args: map[string]any{"namespace": "ns"}}},
			want:  []wantFinding{{CategoryApplicationErr, "pod/ns/app-1", "command gunicorn", false, []int{6}}},
		},
		{
			name:  "a running container's old event is history",
			items: []Item{podWith(4, "Running", `Error: container create failed: exec: "gunicorn": executable file not found in $PATH`)},
			want:  nil,
		},
		{
			name:  "CreateContainerConfigError is the config analyzer's",
			items: []Item{podWith(4, "CreateContainerConfigError", `Error: container has runAsNonRoot and image will run as root (pod: "app-1_ns(0f4b)", container: app)`)},
			want:  nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := runKube(createErrorAnalyzer{}, tc.items...)
			checkFindings(t, got, tc.want)
			for _, s := range tc.summary {
				if len(got) == 0 || !strings.Contains(got[0].Summary, s) {
					t.Errorf("summary lacks %q: %+v", s, got)
				}
			}
		})
	}
}

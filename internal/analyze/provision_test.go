package analyze

import (
	"strings"
	"testing"
)

func TestProvisioningFailed(t *testing.T) {
	// pvc is a describe of claim ns/data-0, Pending, with one event.
	pvc := func(id int, typ, reason, msg string) Item {
		return Item{ID: id, Tool: describe, Args: map[string]any{"kind": "persistentvolumeclaim", "name": "data-0", "namespace": "ns"},
			Output: "Name:          data-0\nNamespace:     ns\nStorageClass:  fast\nStatus:        Pending\nVolume:        \nUsed By:       db-0\n" +
				"Events:\n  Type     Reason  Age                 From                 Message\n  ----     ------  ----                ----                 -------\n" +
				"  " + typ + "  " + reason + "  2m (x17 over 34m)   ebs.csi.aws.com_x  " + msg + "\n"}
	}
	cases := []struct {
		name    string
		items   []Item
		want    []wantFinding
		summary []string
	}{
		{
			name:    "quota of the backend (ResourceExhausted)",
			items:   []Item{pvc(3, "Warning", "ProvisioningFailed", `failed to provision volume with StorageClass "fast": rpc error: code = ResourceExhausted desc = CreateVolume failed: rpc error: code = ResourceExhausted desc = QUOTA_EXCEEDED - Quota 'SSD_TOTAL_GB' exceeded.  Limit: 500.0 in region us-central1.`)},
			want:    []wantFinding{{CategoryStorage, "persistentvolumeclaim/ns/data-0", "storageclass/fast", true, []int{3}}},
			summary: []string{`StorageClass "fast"`, "ResourceExhausted", "quota or capacity", "QUOTA_EXCEEDED - Quota 'SSD_TOTAL_GB' exceeded"},
		},
		{
			name:    "parameters refused (InvalidArgument)",
			items:   []Item{pvc(3, "Warning", "ProvisioningFailed", `failed to provision volume with StorageClass "fast": rpc error: code = InvalidArgument desc = Could not create volume "pvc-1": invalid parameter "type": "gp9"`)},
			want:    []wantFinding{{CategoryStorage, "persistentvolumeclaim/ns/data-0", "storageclass/fast", true, []int{3}}},
			summary: []string{"InvalidArgument", `invalid parameter`},
		},
		{
			name:    "in-tree provisioner without a gRPC code",
			items:   []Item{pvc(3, "Warning", "ProvisioningFailed", `failed to provision volume with StorageClass "fast": failed to create volume: quota exceeded`)},
			want:    []wantFinding{{CategoryStorage, "persistentvolumeclaim/ns/data-0", "storageclass/fast", true, []int{3}}},
			summary: []string{"quota exceeded"},
		},
		{
			name:    "other failures keep the generic wording",
			items:   []Item{pvc(3, "Warning", "ProvisioningFailed", `storageclass.storage.k8s.io "fast" not found`)},
			want:    []wantFinding{{CategoryStorage, "persistentvolumeclaim/ns/data-0", "storageclass/fast", true, []int{3}}},
			summary: []string{"is not found"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := runKube(schedulingAnalyzer{}, tc.items...)
			checkFindings(t, got, tc.want)
			for _, s := range tc.summary {
				if len(got) == 0 || !strings.Contains(got[0].Summary, s) {
					t.Errorf("summary lacks %q: %+v", s, got)
				}
			}
		})
	}
}

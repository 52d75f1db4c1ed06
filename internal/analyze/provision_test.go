package analyze

import (
	"fmt"
	"strings"
	"testing"
)

func TestProvisioningFailed(t *testing.T) {
	// pvc is a describe of claim ns/data-0, Pending, with one event.
	pvc := func(id int, typ, reason, msg string) Item {
		return Item{ID: id, Tool: describe, Args: map[string]any{"kind": "persistentvolumeclaim", "name": "data-0", "namespace": "ns"},
			Output: "Name:          data-0\nNamespace:     ns\nStorageClass:  fast\nStatus:        Pending\nVolume:        \nUsed By:       db-0\n" +
				"Events:\n  Type     Reason                Age                From               Message\n  ----     ------                ----               ----               -------\n" +
				fmt.Sprintf("  %-7s  %-20s  %-17s  %-17s  %s\n", typ, reason, "2m (x17 over 34m)", "ebs.csi.aws.com_x", msg)}
	}
	// blockedPod is a describe of pod ns/db-0 the scheduler cannot place
	// until claim data-0 binds.
	blockedPod := func(id int) Item {
		return Item{ID: id, Tool: describe, Args: map[string]any{"kind": "pod", "name": "db-0", "namespace": "ns"},
			Output: "Name:         db-0\nNamespace:    ns\nNode:         <none>\nStatus:       Pending\n" +
				"Containers:\n  db:\n    Image:      example.com/db:1\n" +
				"Volumes:\n  data:\n    Type:       PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:  data-0\n    ReadOnly:   false\n" +
				"Events:\n  Type     Reason            Age                 From               Message\n  ----     ------            ----                ----               -------\n" +
				"  Warning  FailedScheduling  4m (x6 over 29m)    default-scheduler  0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.\n"}
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
		{
			name:    "external provisioner never acts (pod blocked)",
			items:   []Item{blockedPod(2), pvc(3, "Normal", "ExternalProvisioning", `Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`)},
			want:    []wantFinding{{CategoryStorage, "persistentvolumeclaim/ns/data-0", "external provisioner ebs.csi.aws.com", true, []int{2, 3}}},
			summary: []string{`external provisioner "ebs.csi.aws.com"`, "not running"},
		},
		{
			name:  "older wording of the controller",
			items: []Item{blockedPod(2), pvc(3, "Normal", "ExternalProvisioning", `Waiting for a volume to be created, either by external provisioner "nfs.csi.k8s.io" or manually created by system administrator`)},
			want:  []wantFinding{{CategoryStorage, "persistentvolumeclaim/ns/data-0", "external provisioner nfs.csi.k8s.io", true, []int{2, 3}}},
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

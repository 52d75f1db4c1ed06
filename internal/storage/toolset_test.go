package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/aurora-oss/aurora/internal/storage"
)

func TestToolsetSettings(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		org, err := s.EnsureDefaultOrg(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetToolsetSetting(ctx, org.ID, "prometheus"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("unset: %v", err)
		}
		// A test result alone makes a row without settings or a version.
		if err := s.SetToolsetTest(ctx, org.ID, "prometheus", json.RawMessage(`{"ok":false}`)); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetToolsetSetting(ctx, org.ID, "prometheus")
		var last struct{ OK *bool }
		_ = json.Unmarshal(got.LastTest, &last)
		if err != nil || got.Settings != nil || got.Version != 0 || last.OK == nil || *last.OK {
			t.Fatalf("after test: %+v %v", got, err)
		}
		// Concurrent PUTs serialise: every one gets its own version.
		var wg sync.WaitGroup
		versions := make([]int64, 8)
		for i := range versions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, v, err := s.PutToolsetSetting(ctx, storage.ToolsetSetting{OrgID: org.ID, Name: "prometheus", Settings: json.RawMessage(`{"url":"http://p"}`), SecretRef: "ref", UpdatedBy: "a"})
				if err != nil {
					t.Error(err)
				}
				versions[i] = v
			}()
		}
		wg.Wait()
		seen := map[int64]bool{}
		for _, v := range versions {
			if v < 1 || v > 8 || seen[v] {
				t.Errorf("versions %v: not 1..8 each once", versions)
				break
			}
			seen[v] = true
		}
		old, v, err := s.PutToolsetSetting(ctx, storage.ToolsetSetting{OrgID: org.ID, Name: "prometheus", UpdatedBy: "b"})
		if err != nil || old != "ref" || v != 9 {
			t.Fatalf("clear: old %q v %d %v", old, v, err)
		}
		got, _ = s.GetToolsetSetting(ctx, org.ID, "prometheus")
		if got.Settings != nil || got.SecretRef != "" || got.LastTest != nil || got.UpdatedBy != "b" {
			t.Errorf("cleared row: %+v", got)
		}
		vs, err := s.ToolsetVersions(ctx, org.ID)
		if err != nil || len(vs) != 1 || vs["prometheus"] != 9 {
			t.Errorf("versions %v %v", vs, err)
		}
		other, _ := s.ToolsetVersions(ctx, "another-org")
		if len(other) != 0 {
			t.Errorf("another org sees %v", other)
		}
	})
}

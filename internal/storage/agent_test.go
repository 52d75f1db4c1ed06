package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
)

// Model usage adds up per investigation and per org and UTC day, exactly,
// under concurrent writers (several replicas spending the same budget).
func TestLLMUsage(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		org, err := s.EnsureDefaultOrg(ctx)
		if err != nil {
			t.Fatal(err)
		}
		invID := newInvestigation(t, s, org.ID).ID
		if u, err := s.InvestigationLLMUsage(ctx, org.ID, invID); err != nil || u != nil {
			t.Fatalf("usage before any call: %+v %v", u, err)
		}
		day := time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.InTx(ctx, func(tx *storage.Tx) error {
					return tx.AddLLMUsage(ctx, org.ID, invID, "openai/gpt-x", 100, 10, 0.000123, day.Add(time.Duration(i)*time.Millisecond))
				})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// A call the next UTC day counts for that day only.
		if _, err := s.InTx(ctx, func(tx *storage.Tx) error {
			return tx.AddLLMUsage(ctx, org.ID, "", "openai/gpt-x", 5, 5, 1, day.Add(2*time.Minute))
		}); err != nil {
			t.Fatal(err)
		}
		u, err := s.InvestigationLLMUsage(ctx, org.ID, invID)
		if err != nil || u == nil || u.Calls != 20 || u.InputTokens != 2000 || u.OutputTokens != 200 || u.CostUSD != 20*0.000123 || u.Model != "openai/gpt-x" {
			t.Fatalf("investigation usage: %+v %v", u, err)
		}
		d, err := s.DailyLLMUsage(ctx, org.ID, day)
		if err != nil || d.Calls != 20 || d.CostUSD != 20*0.000123 {
			t.Fatalf("daily usage: %+v %v", d, err)
		}
		d, err = s.DailyLLMUsage(ctx, org.ID, day.Add(time.Hour))
		if err != nil || d.Calls != 1 || d.CostUSD != 1 {
			t.Fatalf("next day's usage: %+v %v", d, err)
		}
		// Scoped by org.
		if u, err := s.InvestigationLLMUsage(ctx, "other-org", invID); err != nil || u != nil {
			t.Fatalf("other org sees usage: %+v %v", u, err)
		}
	})
}

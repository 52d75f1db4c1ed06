package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
)

// Scheduler enqueues periodic maintenance. Any number of replicas may run:
// one holds a database lease (renewed well before it expires) and enqueues;
// the others wait to take over. Even when a lease changes hands mid-period,
// the per-period uniqueness of the job makes a second run impossible.
type Scheduler struct {
	Store    *storage.Store
	Queue    *Queue
	Holder   string
	Interval time.Duration
	Log      *slog.Logger
	// OnLeader observes leadership changes (metrics).
	OnLeader func(bool)
}

const leaseName = "scheduler"

// Run blocks until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	ttl := 15 * time.Second
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	leader := false
	defer func() {
		if leader {
			_ = s.Store.ReleaseLease(context.WithoutCancel(ctx), leaseName, s.Holder)
		}
	}()
	for {
		ok, term, err := s.Store.AcquireLease(ctx, leaseName, s.Holder, ttl)
		if err != nil && ctx.Err() == nil {
			s.Log.Warn("scheduler lease", "err", err)
		}
		if ok != leader {
			leader = ok
			s.Log.Info("scheduler leadership changed", "leader", leader, "term", term)
			if s.OnLeader != nil {
				s.OnLeader(leader)
			}
		}
		if leader {
			s.enqueueDue(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Period is the key of the period a time falls in.
func Period(t time.Time, every time.Duration) string {
	return t.UTC().Truncate(every).Format(time.RFC3339)
}

func (s *Scheduler) enqueueDue(ctx context.Context) {
	period := Period(time.Now(), s.Interval)
	for _, task := range []string{TaskRetention, TaskAutoResolve} {
		inserted, err := s.Queue.EnqueueMaintenance(ctx, task, period)
		if err != nil {
			if ctx.Err() == nil {
				s.Log.Warn("enqueue maintenance", "task", task, "err", err)
			}
			continue
		}
		if inserted {
			s.Log.Debug("enqueued maintenance", "task", task, "period", period)
		}
	}
}

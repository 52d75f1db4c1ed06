// Package jobs wires River (on PostgreSQL or SQLite) to Aurora's work:
// investigations, and periodic maintenance that the scheduler role enqueues
// once per period from whichever scheduler replica holds the lease.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/storage"
)

// Queue names.
const (
	QueueInvestigations = "investigations"
	QueueMaintenance    = "maintenance"
)

// InvestigationArgs is the job that runs one investigation.
type InvestigationArgs struct {
	OrgID           string `json:"org_id"`
	InvestigationID string `json:"investigation_id"`
}

// Kind implements river.JobArgs.
func (InvestigationArgs) Kind() string { return "investigation" }

// MaintenanceArgs is one periodic task for one period.
type MaintenanceArgs struct {
	Task   string `json:"task"`
	Period string `json:"period"`
}

// Kind implements river.JobArgs.
func (MaintenanceArgs) Kind() string { return "maintenance" }

// Maintenance tasks.
const (
	TaskRetention   = "retention"
	TaskAutoResolve = "auto_resolve"
)

// Options configure the queue.
type Options struct {
	ProcessID   string
	Work        bool // run workers (worker role); otherwise insert-only
	Concurrency int
	JobTimeout  time.Duration
	RescueAfter time.Duration
	Log         *slog.Logger

	Runner    *investigate.Runner
	Incidents *incident.Service
	Store     *storage.Store

	RawRetention     time.Duration
	EventRetention   time.Duration
	AutoResolveAfter time.Duration
	// OnInvestigation observes each finished investigation job (metrics).
	OnInvestigation func(outcome string, d time.Duration)
	// Chat runs chat turns (see chat.go); nil on processes that do not.
	Chat ChatTurns
	// ChatRetention deletes chat sessions quiet for this long (0: never).
	ChatRetention time.Duration
	// KB indexes knowledge-base documents (see kb.go); nil on processes
	// that do not.
	KB KBIngester
}

// Queue is the River client plus Aurora's job kinds.
type Queue struct {
	Client *river.Client[*sql.Tx]
	opts   Options
}

func driver(db *storage.DB) riverdriver.Driver[*sql.Tx] {
	if db.Dialect == storage.Postgres {
		return riverdatabasesql.New(db.W)
	}
	return riversqlite.New(db.W)
}

// New builds the River client. With Work it also works the queues.
func New(db *storage.DB, o Options) (*Queue, error) {
	q := &Queue{opts: o}
	cfg := &river.Config{
		ID:     o.ProcessID,
		Logger: o.Log.With("component", "river"),
		// No LISTEN/NOTIFY through database/sql: poll often enough that a new
		// incident's investigation starts within a second.
		FetchCooldown:     50 * time.Millisecond,
		FetchPollInterval: 500 * time.Millisecond,
		JobTimeout:        o.JobTimeout,
		// A job whose worker died (kill -9) is retried after this.
		RescueStuckJobsAfter: o.RescueAfter,
	}
	if o.Work {
		workers := river.NewWorkers()
		river.AddWorker(workers, &investigationWorker{q: q})
		river.AddWorker(workers, &maintenanceWorker{q: q})
		river.AddWorker(workers, &chatWorker{q: q})
		river.AddWorker(workers, &kbWorker{q: q})
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{
			QueueInvestigations: {MaxWorkers: max(o.Concurrency, 1)},
			QueueMaintenance:    {MaxWorkers: 1},
			QueueChat:           {MaxWorkers: chatConcurrency},
			QueueKB:             {MaxWorkers: kbConcurrency},
		}
	}
	c, err := river.NewClient(driver(db), cfg)
	if err != nil {
		return nil, fmt.Errorf("create job queue: %w", err)
	}
	q.Client = c
	return q, nil
}

// EnqueueInvestigation implements incident.Enqueuer.
func (q *Queue) EnqueueInvestigation(ctx context.Context, tx *storage.Tx, orgID, investigationID string, at *time.Time) error {
	opts := &river.InsertOpts{Queue: QueueInvestigations, MaxAttempts: 5}
	if at != nil {
		opts.ScheduledAt = *at
	}
	_, err := q.Client.InsertTx(ctx, tx.SQL(), InvestigationArgs{OrgID: orgID, InvestigationID: investigationID}, opts)
	return err
}

// EnqueueMaintenance inserts a periodic task for a period, once: River's
// uniqueness on the args (which include the period) refuses a second insert
// from another scheduler replica.
func (q *Queue) EnqueueMaintenance(ctx context.Context, task, period string) (bool, error) {
	res, err := q.Client.Insert(ctx, MaintenanceArgs{Task: task, Period: period}, &river.InsertOpts{
		Queue: QueueMaintenance, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true},
	})
	if err != nil {
		return false, err
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

type investigationWorker struct {
	river.WorkerDefaults[InvestigationArgs]
	q *Queue
}

func (w *investigationWorker) Work(ctx context.Context, job *river.Job[InvestigationArgs]) error {
	// Jobs read rows committed with (or just before) them: from the
	// primary, since a read replica may not have them yet.
	ctx = storage.WithPrimary(ctx)
	start := time.Now()
	final := job.Attempt >= job.MaxAttempts
	err := w.q.opts.Runner.Run(ctx, job.Args.OrgID, job.Args.InvestigationID, final)
	outcome := "completed"
	switch {
	case errors.Is(err, investigate.ErrFinished):
		return nil
	case errors.Is(err, storage.ErrNotFound):
		// The investigation or incident is gone: nothing to retry.
		return river.JobCancel(err)
	case err != nil && final:
		outcome = "failed"
	case err != nil:
		outcome = "retried"
	}
	if w.q.opts.OnInvestigation != nil {
		w.q.opts.OnInvestigation(outcome, time.Since(start))
	}
	return err
}

type maintenanceWorker struct {
	river.WorkerDefaults[MaintenanceArgs]
	q *Queue
}

func (w *maintenanceWorker) Work(ctx context.Context, job *river.Job[MaintenanceArgs]) error {
	// Jobs read rows committed with (or just before) them: from the
	// primary, since a read replica may not have them yet.
	ctx = storage.WithPrimary(ctx)
	o := w.q.opts
	orgs, err := o.Store.ListOrgIDs(ctx)
	if err != nil {
		return err
	}
	for _, org := range orgs {
		n := 0
		switch job.Args.Task {
		case TaskRetention:
			now := time.Now()
			_, err = o.Store.InTx(ctx, func(tx *storage.Tx) error {
				if o.RawRetention > 0 { // 0 keeps raw payloads forever
					a, err := tx.DeleteRawPayloadsBefore(ctx, org, now.Add(-o.RawRetention))
					if err != nil {
						return err
					}
					n += a
				}
				b, err := tx.DeleteEventsBefore(ctx, org, now.Add(-o.EventRetention))
				n += b
				if err == nil && o.ChatRetention > 0 {
					var c int
					c, err = tx.DeleteChatSessionsBefore(ctx, org, now.Add(-o.ChatRetention))
					n += c
				}
				return err
			})
		case TaskAutoResolve:
			if o.AutoResolveAfter > 0 {
				n, err = o.Incidents.AutoResolve(ctx, org, o.AutoResolveAfter)
			}
		default:
			return river.JobCancel(fmt.Errorf("unknown maintenance task %q", job.Args.Task))
		}
		if err != nil {
			return fmt.Errorf("%s for org %s: %w", job.Args.Task, org, err)
		}
		_, err = o.Store.InTx(ctx, func(tx *storage.Tx) error {
			return tx.RecordJobRun(ctx, org, job.Args.Task, job.Args.Period, o.ProcessID, n, time.Now())
		})
		if errors.Is(err, storage.ErrConflict) {
			o.Log.Warn("maintenance task ran twice for one period", "task", job.Args.Task, "period", job.Args.Period)
		} else if err != nil {
			return err
		}
		if n > 0 {
			o.Log.Info("maintenance", "task", job.Args.Task, "org", org, "affected", n)
		}
	}
	return nil
}

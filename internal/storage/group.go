package storage

import (
	"context"
	"sync"
)

// Group commit on SQLite. SQLite has one writer, so concurrent deliveries
// wait for each other anyway; committing each in its own transaction costs a
// BEGIN, a COMMIT and the WAL frames of every page it touched, and the pages
// the deliveries share (the same index leaves, the same incident) are
// written again by each. InTxGrouped runs the deliveries that queued up
// while the previous transaction ran in one transaction. If one of them
// fails, the group is rolled back and each runs again alone, so that only
// the failing one fails. Nobody is answered success before the transaction
// that stores its work committed, so a crash loses nothing that was
// acknowledged.

// maxGroup bounds the deliveries of one transaction, so that one group's
// latency stays bounded under any load.
const maxGroup = 64

// groupCommit queues the callers of InTxGrouped.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*groupReq
	leading bool // a goroutine is running a group; it starts the next
	// groups counts transactions run, deliveries the callers they served
	// (tests read them).
	groups, deliveries int
}

type groupReq struct {
	ctx   context.Context
	fn    func(*Tx) error
	done  chan struct{}
	wrote bool
	err   error
}

// InTxGrouped is InTx for work that may share its transaction with other
// callers' (alert intake): on SQLite concurrent callers are committed
// together; on PostgreSQL, where
// transactions run in parallel, it is InTx. It returns only after the
// transaction committed (or fn's work was rolled back). fn may run more
// than once (only the last run's work is kept), and must not commit, roll
// back or rely on running first in its transaction.
func (s *Store) InTxGrouped(ctx context.Context, fn func(*Tx) error) (wroteEvents bool, err error) {
	if s.DB.Dialect != SQLite {
		return s.InTx(ctx, fn)
	}
	r := &groupReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, r)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead {
		s.runGroup()
	}
	// Wait even if ctx ends: the work may be committing, and the caller
	// must not report a failure for work that is stored (nor the reverse).
	<-r.done
	return r.wrote, r.err
}

// runGroup commits one group of queued callers, then hands the next group
// to a new goroutine, so that the caller that led returns as soon as its own
// work is committed.
func (s *Store) runGroup() {
	g := &s.group
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	s.commitGroup(batch)

	g.mu.Lock()
	more := len(g.queue) > 0
	g.leading = more
	g.mu.Unlock()
	if more {
		go s.runGroup()
	}
}

// commitGroup runs every request of batch in one transaction and answers
// each. If any fails, the transaction is rolled back and each request is
// run again alone (InTx), so that the failure is its own. Savepoints would
// spare those reruns, but SQLite copies every page a savepoint changes to a
// sub-journal first; measured, that cost more than the group saved, and
// failures are rare (they are the 5xx answers).
func (s *Store) commitGroup(batch []*groupReq) {
	done := func(r *groupReq) { close(r.done) }
	// Statements ignore the end of their caller's context (Tx.detached);
	// a caller whose context ends is not run (runTogether) or its
	// transaction is rolled back (database/sql ends a transaction when the
	// context it began with ends).
	if len(batch) == 1 {
		r := batch[0]
		r.wrote, r.err = s.inTx(r.ctx, r.fn, true)
		s.countGroup(1)
		done(r)
		return
	}
	if s.runTogether(batch) {
		s.countGroup(len(batch))
		for _, r := range batch {
			done(r)
		}
		return
	}
	for _, r := range batch {
		r.wrote, r.err = s.inTx(r.ctx, r.fn, true)
		s.countGroup(1)
		done(r)
	}
}

// runTogether runs batch in one transaction and reports whether it
// committed; it answers nobody.
func (s *Store) runTogether(batch []*groupReq) bool {
	// The transaction serves several callers: no one caller's cancellation
	// may end it (database/sql rolls a transaction back when its context
	// ends). A caller whose context has ended is not run; one whose context
	// ends while it runs is stored, as when it ends just after the commit
	// (the sender, never answered, sends again: a re-delivery).
	ctx := context.Background()
	sqlTx, err := s.DB.W.BeginTx(ctx, nil)
	if err != nil {
		return false
	}
	for _, r := range batch {
		if r.ctx.Err() != nil {
			_ = sqlTx.Rollback()
			return false
		}
		tx := &Tx{tx: sqlTx, dialect: SQLite, detached: true}
		err := r.fn(tx)
		if err == nil {
			err = tx.FlushPending(r.ctx)
		}
		if err == nil {
			err = tx.flushEvents(r.ctx)
		}
		if err != nil {
			_ = sqlTx.Rollback()
			return false
		}
		r.wrote, r.err = len(tx.events) > 0, nil
	}
	if err := sqlTx.Commit(); err != nil {
		return false
	}
	return true
}

func (s *Store) countGroup(deliveries int) {
	s.group.mu.Lock()
	s.group.groups++
	s.group.deliveries += deliveries
	s.group.mu.Unlock()
}

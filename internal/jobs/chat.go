package jobs

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"github.com/aurora-oss/aurora/internal/storage"
)

// QueueChat holds chat turns: short, mostly waiting (on tools or on a
// human's confirmation), so a worker runs many at once.
const QueueChat = "chat"

// chatConcurrency is how many turns one worker runs at once. A turn's
// attempt is bounded by AURORA_JOB_TIMEOUT like any job, which must
// therefore exceed AURORA_CHAT_CONFIRM_TIMEOUT (a turn may wait that long
// for a human); a longer attempt would be rescued while still running.
const chatConcurrency = 50

// ChatTurnArgs is the job that answers one chat turn.
type ChatTurnArgs struct {
	OrgID  string `json:"org_id"`
	TurnID string `json:"turn_id"`
}

// Kind implements river.JobArgs.
func (ChatTurnArgs) Kind() string { return "chat_turn" }

// ChatTurns runs turns (chat.Runner).
type ChatTurns interface {
	RunTurn(ctx context.Context, orgID, turnID string, attempt int, final bool) error
}

// EnqueueChatTurn implements chat.Enqueuer: the turn's job is inserted in
// the transaction that stores the turn.
func (q *Queue) EnqueueChatTurn(ctx context.Context, tx *storage.Tx, orgID, turnID string) error {
	_, err := q.Client.InsertTx(ctx, tx.SQL(), ChatTurnArgs{OrgID: orgID, TurnID: turnID}, &river.InsertOpts{Queue: QueueChat, MaxAttempts: 3})
	return err
}

type chatWorker struct {
	river.WorkerDefaults[ChatTurnArgs]
	q *Queue
}

func (w *chatWorker) Work(ctx context.Context, job *river.Job[ChatTurnArgs]) error {
	// Jobs read rows committed with (or just before) them: from the
	// primary, since a read replica may not have them yet.
	ctx = storage.WithPrimary(ctx)
	if w.q.opts.Chat == nil {
		return river.JobCancel(errNoChat)
	}
	return w.q.opts.Chat.RunTurn(ctx, job.Args.OrgID, job.Args.TurnID, job.Attempt, job.Attempt >= job.MaxAttempts)
}

var errNoChat = errors.New("this worker was started without the chat service")

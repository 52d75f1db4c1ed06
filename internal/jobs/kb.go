package jobs

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"github.com/aurora-oss/aurora/internal/kb/library"
	"github.com/aurora-oss/aurora/internal/storage"
)

// QueueKB holds knowledge-base ingestion: parsing and embedding documents.
const QueueKB = "kb"

// kbConcurrency is how many documents one worker indexes at once; the
// built-in embedder is CPU-bound, so a few.
const kbConcurrency = 2

// KBDocumentArgs is the job that indexes one version of a document.
type KBDocumentArgs struct {
	OrgID      string `json:"org_id"`
	DocumentID string `json:"document_id"`
	SHA256     string `json:"sha256"`
}

// Kind implements river.JobArgs.
func (KBDocumentArgs) Kind() string { return "kb_document" }

// KBIngester indexes documents (library.Service).
type KBIngester interface {
	Process(ctx context.Context, orgID, documentID, sha256 string, final bool) error
}

// EnqueueKBDocument implements library.Enqueuer: the job is inserted in
// the transaction that stores the upload. Processing is idempotent, so a
// duplicate job (a re-index while one runs) costs time, never correctness.
func (q *Queue) EnqueueKBDocument(ctx context.Context, tx *storage.Tx, orgID, documentID, sha256 string) error {
	_, err := q.Client.InsertTx(ctx, tx.SQL(), KBDocumentArgs{OrgID: orgID, DocumentID: documentID, SHA256: sha256}, &river.InsertOpts{
		Queue: QueueKB, MaxAttempts: 5,
	})
	return err
}

type kbWorker struct {
	river.WorkerDefaults[KBDocumentArgs]
	q *Queue
}

func (w *kbWorker) Work(ctx context.Context, job *river.Job[KBDocumentArgs]) error {
	ing := w.q.opts.KB
	if ing == nil {
		return river.JobCancel(errNoKB)
	}
	err := ing.Process(ctx, job.Args.OrgID, job.Args.DocumentID, job.Args.SHA256, job.Attempt >= job.MaxAttempts)
	if errors.Is(err, library.ErrPermanent) {
		return river.JobCancel(err)
	}
	return err
}

var errNoKB = errors.New("this worker was started without the knowledge base")

package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/config"
	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/embed"
	"github.com/aurora-oss/aurora/internal/kb/library"
	"github.com/aurora-oss/aurora/internal/kb/parse"
	"github.com/aurora-oss/aurora/internal/kb/weaviate"
	"github.com/aurora-oss/aurora/internal/storage"
)

// wireKB builds the knowledge base: the embedded chunk store, the
// configured embedder, files under $AURORA_DATA_DIR/blobs. A process that
// works jobs (reindex) checks the stored vector space against the embedder
// and, when they differ, resets the store and re-enqueues every document.
func (a *app) wireKB(ctx context.Context, reindex bool) error {
	cfg := a.cfg
	e, err := embed.New(embed.Config{Provider: cfg.Embedding.Provider, Model: cfg.Embedding.Model, URL: cfg.Embedding.URL, APIKey: cfg.Embedding.APIKey})
	if err != nil {
		return err
	}
	blobs, err := a.blobStore()
	if err != nil {
		return err
	}
	// Chunks live in the database unless WEAVIATE_HOST names a Weaviate.
	var chunks kb.Store = storage.NewKBStore(a.db)
	if w := cfg.Weaviate; w.Host != "" {
		ws, err := weaviate.New(weaviate.Config{Host: w.Host, Port: w.Port, GRPCPort: w.GRPCPort, Secure: w.Secure,
			APIKey: w.APIKey, ReplicationFactor: w.ReplicationFactor})
		if err != nil {
			return err
		}
		chunks = ws
	}
	a.kb = &library.Service{Store: a.store, Chunks: chunks, Embedder: e, Blobs: blobs,
		Opts: library.Options{ChunkSize: cfg.KnowledgeBase.ChunkSize, ChunkOverlap: cfg.KnowledgeBase.ChunkOverlap, MaxUploadBytes: int64(cfg.KnowledgeBase.MaxUploadBytes)},
		Log:  a.log}
	if !reindex {
		return nil
	}
	changed, err := embed.EnsureSpace(ctx, a.kb.Chunks, e)
	if err != nil {
		// A remote embedder that is down must not stop the process: search
		// degrades to lexical until it answers.
		a.log.Warn("knowledge base: embedder unavailable at start-up", "embedder", e.Name(), "err", err)
		return nil
	}
	if changed {
		a.log.Info("knowledge base: embedder changed, re-indexing every document", "embedder", e.Name(), "dimensions", e.Dimensions())
		a.kbReindex = true
	}
	return nil
}

const kbUsage = `Usage:
  aurora kb add [--title T] [--tags a,b] [--source-url URL] [--wait 2m] PATH…
      add or replace Markdown, text, HTML and PDF files; a folder adds every
      such file under it (the name kept is the path relative to the folder's
      parent, so re-adding the folder replaces changed files)
  aurora kb search [--limit N] [--mode hybrid|lexical|vector] QUERY…
  aurora kb eval [flags]
`

// kbMain runs `aurora kb add|search` on the configured database (like
// `aurora users create`): files are stored and their ingestion jobs
// enqueued; a running worker (or `aurora`) indexes them.
func kbMain(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, kbUsage)
		return 2
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "add", "search":
	default:
		fmt.Fprint(stderr, kbUsage)
		return 2
	}
	a, err := open(ctx, cfg, log, stdout, "kb", false)
	if err != nil {
		fmt.Fprintln(stderr, "aurora kb:", err)
		return 1
	}
	defer a.close()
	if err := a.wireKB(ctx, false); err != nil {
		fmt.Fprintln(stderr, "aurora kb:", err)
		return 1
	}
	a.kb.Queue = a.queue
	if sub == "add" {
		return kbAdd(ctx, a, args, stdout, stderr)
	}
	return kbSearch(ctx, a, args, stdout, stderr)
}

func kbAdd(ctx context.Context, a *app, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("kb add", flag.ContinueOnError)
	fl.SetOutput(stderr)
	title := fl.String("title", "", "title (single file only; default: the document's own)")
	tags := fl.String("tags", "", "comma-separated tags")
	source := fl.String("source-url", "", "the document's wiki/Git URL (single file only); alert runbook_url annotations resolve to it")
	wait := fl.Duration("wait", 2*time.Minute, "wait this long for the documents to be indexed (0: do not wait)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() == 0 {
		fmt.Fprint(stderr, kbUsage)
		return 2
	}
	type file struct{ path, name string }
	var files []file
	for _, p := range fl.Args() {
		st, err := os.Stat(p)
		if err != nil {
			fmt.Fprintln(stderr, "aurora kb add:", err)
			return 1
		}
		if !st.IsDir() {
			files = append(files, file{p, filepath.Base(p)})
			continue
		}
		root := filepath.Dir(filepath.Clean(p))
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if q != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir // .git and friends
				}
				return nil
			}
			if _, err := parse.Format(d.Name(), ""); err != nil || filepath.Ext(d.Name()) == "" {
				return nil // not a document (images, binaries, extension-less files)
			}
			rel, _ := filepath.Rel(root, q)
			files = append(files, file{q, filepath.ToSlash(rel)})
			return nil
		})
		if err != nil {
			fmt.Fprintln(stderr, "aurora kb add:", err)
			return 1
		}
	}
	if len(files) > 1 && (*title != "" || *source != "") {
		fmt.Fprintln(stderr, "aurora kb add: --title and --source-url apply to a single file")
		return 2
	}
	failed := 0
	var ids []string
	for _, f := range files {
		data, err := os.ReadFile(f.path)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", f.path, err)
			failed++
			continue
		}
		doc, err := a.kb.Upload(ctx, a.org.ID, library.Upload{Filename: f.name, ContentType: mime.TypeByExtension(filepath.Ext(f.path)),
			Title: *title, SourceURL: *source, Tags: []string{*tags}, Data: data})
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", f.path, err)
			failed++
			continue
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\n", doc.ID, doc.Status, f.name)
		ids = append(ids, doc.ID)
	}
	if *wait > 0 && len(ids) > 0 {
		deadline := time.Now().Add(*wait)
		pending := ids
		for len(pending) > 0 && time.Now().Before(deadline) {
			var still []string
			for _, id := range pending {
				d, err := a.store.KBDocument(ctx, a.org.ID, id)
				switch {
				case errors.Is(err, storage.ErrNotFound):
				case err != nil:
					fmt.Fprintln(stderr, "aurora kb add:", err)
					return 1
				case d.Status == storage.KBProcessing:
					still = append(still, id)
				case d.Status == storage.KBFailed:
					fmt.Fprintf(stdout, "%s\tfailed\t%s: %s\n", d.ID, d.Filename, d.Error)
					failed++
				default:
					fmt.Fprintf(stdout, "%s\tready\t%s (%d chunks)\n", d.ID, d.Filename, d.Chunks)
				}
			}
			pending = still
			if len(pending) > 0 {
				time.Sleep(300 * time.Millisecond)
			}
		}
		if len(pending) > 0 {
			fmt.Fprintf(stderr, "aurora kb add: %d document(s) still processing after %s — is a worker (`aurora` or `aurora worker`) running?\n", len(pending), *wait)
			return 1
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func kbSearch(ctx context.Context, a *app, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("kb search", flag.ContinueOnError)
	fl.SetOutput(stderr)
	limit := fl.Int("limit", 5, "most passages to print")
	mode := fl.String("mode", kb.ModeHybrid, "hybrid, lexical or vector")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	q := strings.Join(fl.Args(), " ")
	if strings.TrimSpace(q) == "" {
		fmt.Fprint(stderr, kbUsage)
		return 2
	}
	hits, err := a.kb.Search(ctx, kb.Query{OrgID: a.org.ID, Text: q, Limit: *limit}, *mode)
	if err != nil {
		fmt.Fprintln(stderr, "aurora kb search:", err)
		return 1
	}
	for i, h := range hits {
		c := h.Chunk
		where := c.Title
		if len(c.HeadingPath) > 0 {
			where += " › " + strings.Join(c.HeadingPath, " › ")
		}
		fmt.Fprintf(stdout, "%d. %s  [%s %d–%d, score %.4f]\n", i+1, where, c.DocumentID, c.Start, c.End, h.Score)
		text := strings.Join(strings.Fields(c.Text), " ")
		if len(text) > 300 {
			text = strings.ToValidUTF8(text[:300], "") + "…"
		}
		fmt.Fprintf(stdout, "   %s\n", text)
	}
	if len(hits) == 0 {
		fmt.Fprintln(stdout, "no passage matches")
	}
	return 0
}

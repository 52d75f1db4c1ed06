package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/aurora-oss/aurora/internal/config"
	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/embed"
	"github.com/aurora-oss/aurora/internal/kb/kbeval"
)

const kbEvalUsage = `Usage: aurora kb eval [flags]

Measures knowledge-base retrieval on a labelled set (default testdata/kb:
Markdown runbooks and postmortems in docs/, questions in queries.json naming
the document and section that answer each). The set is indexed into the
embedded store (a temporary SQLite file, as in the default configuration;
--store memory for an in-memory BM25 store) with the production chunker and
searched with the production hybrid search, once per embedder: the
configured one (EMBEDDING_*), then variants of the built-in one.

For each embedder it prints vector-only and hybrid (default fusion)
figures; for the configured one also lexical-only (it does not depend on
the embedder), hybrid with unweighted reciprocal rank fusion, and the
5-fold cross-validated choice of fusion (chosen on 4/5 of the queries,
scored on the rest):
  recall@5   share of queries whose document is among the first 5 retrieved
  MRR        mean of 1/rank of that document (0 beyond rank 10)
  passage@5  share of queries whose labelled section is among the first 5 passages
and the same split by query style (keyword: shares the document's words;
paraphrase: says it in other words; alert: alert name, service and summary,
as the investigator searches).

Flags:
`

// kbEvalMain runs `aurora kb eval`.
func kbEvalMain(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kb eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, kbEvalUsage)
		fs.PrintDefaults()
	}
	dir := fs.String("dir", "testdata/kb", "labelled set: DIR/docs/*.md and DIR/queries.json")
	variants := fs.Bool("variants", true, "also measure the built-in embedder's variants (mean weighting, no hashing, no bag of words, common component kept) and kb's hashing embedder")
	storeKind := fs.String("store", "sqlite", "where the set is indexed: sqlite (the embedded store, in a temporary directory) or memory")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	misses := fs.Bool("misses", false, "list the queries each configuration missed in its top 5")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "aurora kb eval: unexpected arguments %q\n", fs.Args())
		return 2
	}
	set, err := kbeval.Load(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "aurora kb eval:", err)
		return 1
	}
	configured, err := embed.New(embed.Config{
		Provider: cfg.Embedding.Provider, Model: cfg.Embedding.Model,
		URL: cfg.Embedding.URL, APIKey: cfg.Embedding.APIKey,
	})
	if err != nil {
		fmt.Fprintln(stderr, "aurora kb eval:", err)
		return 2
	}
	embedders := []kb.Embedder{configured}
	if *variants {
		for _, o := range []embed.BuiltinOptions{
			{}, {NoSplit: true}, {NoStem: true}, {NoSplit: true, NoStem: true}, {NoBag: true}, {NoHashing: true},
			{KeepCommon: true}, {Weighting: embed.WeightMean},
			{Weighting: embed.WeightMean, NoHashing: true, KeepCommon: true, NoBag: true, NoSplit: true},
		} {
			e, err := embed.NewBuiltinWith(o)
			if err != nil {
				fmt.Fprintln(stderr, "aurora kb eval:", err)
				return 1
			}
			if e.Name() != configured.Name() {
				embedders = append(embedders, e)
			}
		}
		// The hashing embedder kb uses when no other is available: words
		// only, no meaning.
		embedders = append(embedders, kb.NewHashEmbedder(256))
	}
	if p, ok := configured.(embed.Prober); ok && configured.Dimensions() == 0 {
		if err := p.Probe(ctx); err != nil {
			fmt.Fprintln(stderr, "aurora kb eval:", err)
			return 1
		}
	}
	var newStore func() (kb.Store, error)
	switch *storeKind {
	case "memory":
	case "sqlite":
		dir, err := os.MkdirTemp("", "aurora-kb-eval-")
		if err != nil {
			fmt.Fprintln(stderr, "aurora kb eval:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		stores := kbeval.SQLiteStores(dir)
		defer stores.Close()
		newStore = func() (kb.Store, error) { return stores.New(ctx) }
	default:
		fmt.Fprintf(stderr, "aurora kb eval: --store %q: want sqlite or memory\n", *storeKind)
		return 2
	}
	results, err := set.Evaluate(ctx, embedders, newStore)
	if err != nil {
		fmt.Fprintln(stderr, "aurora kb eval:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{
			"documents": len(set.Docs), "queries": len(set.Queries), "default": configured.Name(),
			"default_fusion": kb.DefaultFusion.String(), "store": *storeKind, "results": results,
		}); err != nil {
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "%d documents, %d queries (%s), %s store; configured embedder %s, default fusion %s\n\n",
		len(set.Docs), len(set.Queries), *dir, *storeKind, configured.Name(), kb.DefaultFusion)
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "MODE\tEMBEDDER\tFUSION\tRECALL@5\tMRR\tPASSAGE@5\tKEYWORD R@5/MRR\tPARAPHRASE R@5/MRR\tALERT R@5/MRR")
	for _, r := range results {
		name, fusion := r.Embedder, r.Fusion
		if name == "" {
			name = "-"
		}
		if fusion == "" {
			fusion = "-"
		}
		k, p, a := r.ByStyle["keyword"], r.ByStyle["paraphrase"], r.ByStyle["alert"]
		fmt.Fprintf(w, "%s\t%s\t%s\t%.3f\t%.3f\t%.3f\t%.3f/%.3f\t%.3f/%.3f\t%.3f/%.3f\n", r.Mode, name, fusion, r.RecallAt5, r.MRR, r.PassageAt5,
			k.RecallAt5, k.MRR, p.RecallAt5, p.MRR, a.RecallAt5, a.MRR)
	}
	w.Flush()
	if *misses {
		for _, r := range results {
			if len(r.Misses) > 0 {
				fmt.Fprintf(stdout, "\n%s %s missed: %s\n", r.Mode, r.Embedder, strings.Join(r.Misses, " | "))
			}
		}
	}
	return 0
}

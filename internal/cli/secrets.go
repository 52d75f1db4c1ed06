package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/aurora-oss/aurora/internal/config"
	"github.com/aurora-oss/aurora/internal/secret"
)

// secretsMain runs `aurora secrets migrate --to vault|local` and
// `aurora secrets rotate`. Both rewrite secrets rows in place, so the
// references other tables keep stay valid, and both may be run again
// after a failure.
func secretsMain(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 || (args[0] != "migrate" && args[0] != "rotate") {
		fmt.Fprintln(stderr, "usage: aurora secrets migrate --to vault|local | aurora secrets rotate")
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("secrets "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "migrate: vault or local")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "aurora secrets %s: unexpected arguments %q\n", sub, fs.Args())
		return 2
	}
	if sub == "migrate" && *to != secret.ToVault && *to != secret.ToLocal {
		fmt.Fprintln(stderr, "aurora secrets migrate: --to must be vault or local")
		return 2
	}
	if sub == "migrate" && cfg.Vault.Addr == "" {
		fmt.Fprintln(stderr, "aurora secrets migrate: set VAULT_ADDR (and VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID)")
		return 2
	}
	a, err := open(ctx, cfg, log, stdout, "cli", false)
	if err != nil {
		log.Error("open storage", "err", err)
		return 1
	}
	defer a.close()
	var rep secret.Report
	if sub == "migrate" {
		rep, err = a.secrets.Migrate(ctx, a.store, *to)
	} else {
		rep, err = a.secrets.Rotate(ctx, a.store)
	}
	verb := map[string]string{"migrate": "moved to " + *to, "rotate": "re-encrypted with key " + a.secrets.Keys.ActiveKeyID()}[sub]
	fmt.Fprintf(stdout, "%d secrets %s, %d already there, %d changed meanwhile (skipped)\n", rep.Changed, verb, rep.Already, rep.Gone)
	if err != nil {
		fmt.Fprintf(stderr, "aurora secrets %s: %v\n(run it again once fixed: finished secrets are skipped)\n", sub, err)
		return 1
	}
	return 0
}

// Command aurora runs Aurora: every role in one process by default, or one
// role per process (server, worker, scheduler) on PostgreSQL.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/aurora-oss/aurora/internal/cli"
)

func main() {
	// Aurora's live heap is small (tens of MB), so at Go's default GOGC=100
	// the collector ran every few MB of allocation: a sixth of the
	// server's CPU under alert intake. 300 trades that for a heap up to 4×
	// what is live (peak RSS 145 -> 162 MB in the embedded benchmark);
	// GOGC and GOMEMLIMIT in the environment still decide.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(300)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

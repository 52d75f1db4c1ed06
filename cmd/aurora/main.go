// Command aurora runs Aurora: every role in one process by default, or one
// role per process (server, worker, scheduler) on PostgreSQL.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aurora-oss/aurora/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

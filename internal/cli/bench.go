package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aurora-oss/aurora/internal/bench"
)

const benchUsage = `Usage: aurora bench ingest [flags]

Load-tests alert intake of a running Aurora: posts Alertmanager group
payloads of new, uniquely labelled alerts to <url>/webhooks/alertmanager
with a fixed number of concurrent senders, then prints how many alerts were
stored per second (a 202 answer means the delivery is committed) and the
request latency percentiles. About one incident forms per 50 alerts.

Send it only to an Aurora you may fill with test alerts.

Flags:
`

// lookupEnv is os.LookupEnv; a variable so tests can replace it.
var lookupEnv = os.LookupEnv

// benchMain runs `aurora bench <kind>`.
func benchMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "chat" {
		return benchChatMain(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "load" {
		return benchLoadMain(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "ingest" {
		fmt.Fprint(stderr, "usage: aurora bench ingest [flags]   (see aurora bench ingest -h)\n")
		return 2
	}
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	o := bench.IngestOptions{}
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "base URL of the Aurora to load")
	fs.StringVar(&o.Token, "token", "", "bearer token: an alertmanager integration token or an editor/admin API token (default $AURORA_TOKEN)")
	fs.IntVar(&o.Alerts, "alerts", 20000, "number of alerts to send")
	fs.IntVar(&o.Concurrency, "concurrency", 8, "requests in flight at once")
	fs.IntVar(&o.Group, "group", 10, "alerts per request (one Alertmanager group payload)")
	fs.DurationVar(&o.Duration, "duration", 0, "stop sending after this long even if not every alert was sent (0: no cap)")
	fs.BoolVar(&o.Redeliver, "redeliver", false, "afterwards, send every firing request again (re-deliveries, as Alertmanager re-sends firing groups)")
	fs.BoolVar(&o.Resolve, "resolve", false, "afterwards, also send the resolved version of every alert sent")
	if err := fs.Parse(args[1:]); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "aurora bench ingest: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if o.Token == "" {
		o.Token, _ = lookupEnv("AURORA_TOKEN")
	}
	if err := o.Validate(); err != nil {
		fmt.Fprintln(stderr, "aurora bench ingest:", err)
		return 2
	}
	fmt.Fprintf(stderr, "aurora bench ingest: sending %d alerts in groups of %d with %d concurrent requests to %s …\n",
		o.Alerts, o.Group, o.Concurrency, o.URL)
	start := time.Now()
	rep, err := bench.RunIngest(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "aurora bench ingest:", err)
		return 2
	}
	rep.Write(stdout)
	for _, p := range rep.Phases {
		if p.ErrorCount() > 0 {
			fmt.Fprintf(stderr, "aurora bench ingest: %d requests failed (run took %s)\n", p.ErrorCount(), time.Since(start).Round(time.Millisecond))
			return 1
		}
	}
	return 0
}

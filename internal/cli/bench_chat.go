package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

const benchChatUsage = `Usage: aurora bench chat --connections N [flags]

Opens N idle chat WebSocket connections to one chatbot (authenticated with
an API token: --token or AURORA_ADMIN_TOKEN), holds them, then prints how
many the chatbot holds (its aurora_chat_connections gauge) and its memory
(process_resident_memory_bytes), both read from its /metrics. Raises this
process's open-file limit to fit N connections.

Flags:
`

// benchChatMain runs `aurora bench chat`.
func benchChatMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchChatUsage)
		fs.PrintDefaults()
	}
	url := fs.String("url", "http://127.0.0.1:8080", "base URL of the chatbot (its /ws and /metrics)")
	token := fs.String("token", "", "API token (default: AURORA_ADMIN_TOKEN)")
	n := fs.Int("connections", 1000, "connections to open")
	parallel := fs.Int("parallel", 100, "connections opened at once")
	hold := fs.Duration("hold", 10*time.Second, "how long to hold them before measuring")
	turns := fs.Int("turns", 0, "then ask this many questions one after another on one more connection and print their latency (needs a worker)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *token == "" {
		*token, _ = lookupEnv("AURORA_ADMIN_TOKEN")
	}
	if *token == "" || *n < 1 || *parallel < 1 {
		fmt.Fprintln(stderr, "aurora bench chat: --token (or AURORA_ADMIN_TOKEN) and --connections ≥ 1 are required")
		return 2
	}
	limit, err := raiseFileLimit(uint64(*n) + 256)
	if err != nil {
		fmt.Fprintln(stderr, "aurora bench chat: open-file limit:", err)
	}
	base := strings.TrimRight(*url, "/")
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	before, _ := scrapeChatbot(ctx, base)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu     sync.Mutex
		conns  []*websocket.Conn
		failed atomic.Int64
		first  atomic.Value
	)
	start := time.Now()
	sem := make(chan struct{}, *parallel)
	var wg sync.WaitGroup
	for i := 0; i < *n && ctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
			defer dcancel()
			c, _, err := websocket.Dial(dctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + *token}}})
			if err != nil {
				if failed.Add(1) == 1 {
					first.Store(err.Error())
				}
				return
			}
			c.CloseRead(ctx) // answers the server's pings
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}()
	}
	wg.Wait()
	opened := time.Since(start)
	fmt.Fprintf(stdout, "opened %d of %d connections in %s (%d failed; open-file limit %d)\n", len(conns), *n, opened.Round(time.Millisecond), failed.Load(), limit)
	if e, ok := first.Load().(string); ok {
		fmt.Fprintln(stdout, "first failure:", e)
	}
	// Keep them alive past the idle timeout with application pings.
	go func() {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				mu.Lock()
				list := append([]*websocket.Conn(nil), conns...)
				mu.Unlock()
				for _, c := range list {
					wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
					_ = c.Write(wctx, websocket.MessageText, []byte(`{"type":"ping"}`))
					wcancel()
				}
			}
		}
	}()
	select {
	case <-ctx.Done():
	case <-time.After(*hold):
	}
	after, err := scrapeChatbot(context.WithoutCancel(ctx), base)
	if err != nil {
		fmt.Fprintln(stderr, "aurora bench chat: read the chatbot's /metrics:", err)
	} else {
		held := after["aurora_chat_connections"]
		rss := after["process_resident_memory_bytes"]
		perConn := 0.0
		if held > 0 {
			perConn = (rss - before["process_resident_memory_bytes"]) / held
		}
		fmt.Fprintf(stdout, "chatbot holds %.0f connections; RSS %.1f MiB (%.1f MiB before; ≈ %.1f KiB per connection); goroutines %.0f\n",
			held, rss/(1<<20), before["process_resident_memory_bytes"]/(1<<20), perConn/1024, after["go_goroutines"])
	}
	if *turns > 0 {
		if err := benchTurns(ctx, wsURL, *token, *turns, stdout); err != nil {
			fmt.Fprintln(stderr, "aurora bench chat: turns:", err)
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(stdout, "this client: %.1f MiB from the OS\n", float64(ms.Sys)/(1<<20))
	mu.Lock()
	for _, c := range conns {
		c.CloseNow()
	}
	mu.Unlock()
	if len(conns) < *n {
		return 1
	}
	return 0
}

// raiseFileLimit raises the soft open-file limit towards want (up to the
// hard limit) and returns the limit in force.
func raiseFileLimit(want uint64) (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur >= want {
		return rl.Cur, nil
	}
	rl.Cur = min(want, rl.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < want {
		return rl.Cur, fmt.Errorf("hard limit %d is below the %d needed (raise it with ulimit -Hn)", rl.Max, want)
	}
	return rl.Cur, nil
}

// scrapeChatbot reads the gauges it reports from <base>/metrics.
func scrapeChatbot(ctx context.Context, base string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		switch name {
		case "aurora_chat_connections", "process_resident_memory_bytes", "go_goroutines":
			if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); ok && err == nil {
				out[name] = v
			}
		}
	}
	return out, sc.Err()
}

// benchTurns asks n questions in turn on one connection and prints the
// latency from sending the query to the first stored frame (the user's
// message, written by the chatbot), to the first frame the worker wrote
// (status running) and to done.
func benchTurns(ctx context.Context, wsURL, token string, n int, stdout io.Writer) error {
	c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 22)
	var first, running, done []time.Duration
	for i := range n {
		start := time.Now()
		q := fmt.Sprintf(`{"type":"query","text":"bench question %d: what can you do?"}`, i)
		if err := c.Write(ctx, websocket.MessageText, []byte(q)); err != nil {
			return err
		}
		gotFirst, gotRunning := false, false
		for {
			rctx, cancel := context.WithTimeout(ctx, time.Minute)
			_, b, err := c.Read(rctx)
			cancel()
			if err != nil {
				return err
			}
			var f struct {
				Type  string `json:"type"`
				Seq   int64  `json:"seq"`
				State string `json:"state"`
			}
			if err := json.Unmarshal(b, &f); err != nil {
				return err
			}
			if f.Type == "error" {
				return errors.New(string(b))
			}
			if !gotFirst && f.Seq > 0 {
				gotFirst = true
				first = append(first, time.Since(start))
			}
			if !gotRunning && f.Type == "status" && f.State == "running" {
				gotRunning = true
				running = append(running, time.Since(start))
			}
			if f.Type == "done" {
				done = append(done, time.Since(start))
				break
			}
		}
	}
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"query → first frame (stored by the chatbot)", first}, {"query → running (first frame of the worker)", running}, {"query → done", done}} {
		slices.Sort(m.d)
		fmt.Fprintf(stdout, "%-46s p50 %s  p95 %s  max %s  (%d turns)\n", m.name, pct(m.d, 50), pct(m.d, 95), pct(m.d, 100), len(m.d))
	}
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := (len(d)*p + 99) / 100
	return d[max(min(i, len(d))-1, 0)].Round(100 * time.Microsecond)
}

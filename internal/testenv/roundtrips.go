package testenv

import (
	"net"
	"net/url"
	"sync"
	"testing"
)

// RoundTrips starts a TCP proxy in front of the PostgreSQL server of pgURL
// and returns pgURL through the proxy, and a function that returns how many
// round trips clients made since it was last called: each time a client
// sends after the server last spoke (or first), one more. Round trips are a
// cost a test can pin down exactly, where time is not.
func RoundTrips(t testing.TB, pgURL string) (proxied string, take func() int) {
	t.Helper()
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatalf("parse %s: %v", pgURL, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	rt := &roundTrips{serverLast: true}
	target := u.Host
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go rt.pipe(c, s, false)
			go rt.pipe(s, c, true)
		}
	}()
	u.Host = ln.Addr().String()
	return u.String(), rt.take
}

type roundTrips struct {
	mu         sync.Mutex
	n          int
	serverLast bool
}

func (rt *roundTrips) pipe(from, to net.Conn, server bool) {
	defer from.Close()
	defer to.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			rt.mu.Lock()
			if !server && rt.serverLast {
				rt.n++
			}
			rt.serverLast = server
			rt.mu.Unlock()
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (rt *roundTrips) take() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	n := rt.n
	rt.n = 0
	return n
}

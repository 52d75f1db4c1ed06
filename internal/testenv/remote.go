package testenv

import "testing"

// Remote is a Process value for an address that no test process of its own
// serves — a proxy or load balancer in front of several processes — so the
// helpers that take a *Process (Do, a test's GET helpers) can talk to it.
// There is nothing to stop: Exited is true, Kill and Stop do nothing, and
// Output is empty.
func Remote(t testing.TB, name, url string) *Process {
	done := make(chan struct{})
	close(done)
	return &Process{t: t, Name: name, URL: url, out: &syncBuffer{}, done: done}
}

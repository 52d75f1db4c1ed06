package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// events streams the org's events as Server-Sent Events. Each event's id is
// its row id, so a client that reconnects with Last-Event-ID (which browsers
// send by themselves) gets exactly what it missed, from any replica.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	org := principal(r).OrgID
	ctx := r.Context()
	var after int64
	resume := r.Header.Get("Last-Event-ID")
	if resume == "" {
		resume = r.URL.Query().Get("last_event_id")
	}
	if resume != "" {
		n, err := strconv.ParseInt(resume, 10, 64)
		if err != nil || n < 0 {
			writeError(w, CodeBadRequest, "Last-Event-ID must be an event id from this stream")
			return
		}
		after = n
	} else {
		// A new client starts from now.
		n, err := s.Store.LastEventID(ctx, org)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		after = n
	}
	wake, cancel := s.Bus.Subscribe(org)
	defer cancel()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n: connected, after %d\n\n", after)
	_ = rc.Flush()
	poll := time.NewTicker(2 * time.Second) // fallback when a wake-up is lost
	defer poll.Stop()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		for {
			evs, err := s.Store.EventsAfter(ctx, org, after, 500)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("sse read failed", "err", err)
				}
				return
			}
			for _, e := range evs {
				fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, e.Data)
				after = e.ID
			}
			if len(evs) > 0 {
				if err := rc.Flush(); err != nil {
					return
				}
			}
			if len(evs) < 500 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.streams:
			return
		case <-wake:
		case <-poll.C:
		case <-keepalive.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

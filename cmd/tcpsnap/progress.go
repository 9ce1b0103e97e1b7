package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress shows on standard error, for work that takes more than a
// second on a terminal, what is being done and for how long: one line,
// rewritten in place and erased at the end. Off a terminal (a pipe, a
// file, CI logs) it prints nothing.
type progress struct {
	w     io.Writer
	start time.Time
	mu    sync.Mutex
	what  string
	shown bool
	stop  chan struct{}
	done  chan struct{}
}

// startProgress begins showing progress on w when w is a terminal; the
// zero progress it returns otherwise does nothing.
func startProgress(w io.Writer, what string) *progress {
	p := &progress{w: w, start: time.Now(), what: what}
	if !isTerminal(w) {
		return p
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.run()
	return p
}

func (p *progress) run() {
	defer close(p.done)
	first := time.NewTimer(time.Second) // quick work stays silent
	defer first.Stop()
	select {
	case <-p.stop:
		return
	case <-first.C:
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		p.mu.Lock()
		fmt.Fprintf(p.w, "\r\x1b[Ktcpsnap: %s (%.0f s)", p.what, time.Since(p.start).Seconds())
		p.shown = true
		p.mu.Unlock()
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

// Phase names what is being done now.
func (p *progress) Phase(what string) {
	p.mu.Lock()
	p.what = what
	p.mu.Unlock()
}

// End stops showing progress and erases the line.
func (p *progress) End() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.stop = nil
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

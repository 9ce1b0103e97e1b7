package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/tcpsnap/tcpsnap/collect"
)

// collectCmd is `tcpsnap collect`.
type collectCmd struct {
	Output   string        `short:"o" name:"output" placeholder:"FILE" help:"Bundle to write (default tcpsnap-<host>-<UTC time>.tar.gz in the current folder)."`
	Samples  int           `default:"2" help:"Number of samples of the per-instant sources."`
	Interval time.Duration `default:"5s" help:"Time between the starts of two samples."`
	Redact   bool          `help:"Pseudonymise IP addresses, host names and command lines (keeps address classes, shared subnets and ports)."`
	Timeout  time.Duration `default:"30s" help:"Time limit of every command run."`
	MaxBytes int64         `name:"max-bytes" default:"536870912" help:"Cap on the uncompressed bundle size; files cut at the cap are marked truncated in the manifest."`
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// stopSignals interrupt a collection: it stops, removes what it wrote and
// fails. A second one kills tcpsnap outright.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

func (c *collectCmd) Run(e *env) error {
	if c.Samples < 1 {
		return &exitCodeError{exitUsage, fmt.Errorf("--samples must be at least 1")}
	}
	if c.Interval < 0 || c.Timeout <= 0 || c.MaxBytes <= 0 {
		return &exitCodeError{exitUsage, fmt.Errorf("--interval, --timeout and --max-bytes must be positive")}
	}
	now := time.Now()
	host, _ := os.Hostname()
	if c.Redact {
		host = collect.RedactedHost
	}
	if host == "" {
		host = "unknown"
	}
	base := "tcpsnap-" + unsafeName.ReplaceAllString(host, "_") + "-" + now.UTC().Format("20060102T150405Z")
	out := c.Output
	if out == "" {
		out = base + ".tar.gz"
	}
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore the default action: a second signal kills
	}()
	interval := c.Interval
	if interval == 0 {
		interval = -1 // no pause
	}
	maxFile := c.MaxBytes
	if maxFile > collect.DefaultMaxFileBytes {
		maxFile = collect.DefaultMaxFileBytes
	}
	prog := startProgress(e.stderr, fmt.Sprintf("collecting %d samples, %v apart, into %s", c.Samples, c.Interval, out))
	m, err := collect.CollectFile(ctx, out, collect.Options{
		Samples: c.Samples, Interval: interval, Redact: c.Redact,
		CommandTimeout: c.Timeout, MaxBytes: c.MaxBytes, MaxFileBytes: maxFile,
		Version: version, Prefix: base,
	})
	prog.End()
	if err != nil {
		return &exitCodeError{exitError, fmt.Errorf("%w; no bundle written", err)}
	}
	fmt.Fprintln(e.stdout, out)
	summary := "no socket listing"
	if rf, err := os.Open(out); err == nil {
		if counts, err := collect.BundleStates(rf); err == nil {
			summary = counts.String()
		}
		rf.Close()
	}
	fmt.Fprintf(e.stdout, "%s: %d samples in %.1fs; last sample: %s\n", m.Host.Hostname, len(m.Samples), m.End.Sub(m.Start).Seconds(), summary)
	for _, n := range m.Notes {
		if n != "" && !strings.HasPrefix(n, "platform ") {
			fmt.Fprintf(e.stderr, "note: %s\n", n)
		}
	}
	return nil
}

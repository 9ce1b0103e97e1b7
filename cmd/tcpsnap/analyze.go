package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/kong"
	"github.com/tcpsnap/tcpsnap/analyze"
	"github.com/tcpsnap/tcpsnap/collect"
)

// analyzeCmd is `tcpsnap analyze`.
type analyzeCmd struct {
	Inputs      []string `arg:"" optional:"" name:"input" help:"Bundles (.tar.gz, .tgz, .tar, .zip), folders, listing files, or - for stdin. Several inputs are one snapshot of one host. None with --live."`
	Format      string   `short:"f" enum:"text,json,markdown,md,html" default:"text" help:"Report format: text (a terminal), json (tools, schema tcpsnap.report/v1), markdown or md (a ticket or an issue, at most 30,000 characters), html (one self-contained page with charts, for a browser or print; write it with -o report.html)."`
	FailOn      string   `enum:"critical,warning,info,never" default:"critical" help:"Exit with 1 when a finding is at or above this severity (${enum})."`
	Rules       string   `type:"existingdir" placeholder:"DIR" help:"Also load the *.yaml rules in DIR; a rule with a built-in rule's id replaces it."`
	InputFormat string   `placeholder:"NAME" help:"Parse every listing as this format instead of detecting it (see tcpsnap formats)."`
	Output      string   `short:"o" placeholder:"FILE" help:"Write the report to FILE instead of standard output (never over an existing file without --force)."`
	Force       bool     `help:"Let -o and --profile overwrite an existing file."`
	Color       string   `enum:"auto,always,never" default:"auto" help:"Colour the severities of the text report: auto (on a terminal, unless NO_COLOR is set), always, never."`
	Profile     string   `placeholder:"FILE" help:"Also write a socket profile (gzipped pprof) to FILE: go tool pprof -http=: FILE shows which states, processes, ports and peers hold the sockets."`
	MaxLines    int64    `default:"4000000" placeholder:"N" help:"Read at most N lines of listings in all (the memory budget: about 500 bytes a line at worst); more fails with an error naming the input."`
	Explain     string   `placeholder:"RULE" help:"Instead of a report, show what rule RULE saw in each group it ran over (the 20 largest and every one it fired on): each severity expression's result, each evidence value, and why it fired or stayed quiet."`

	Live     bool          `help:"Collect this host's TCP state (as tcpsnap collect does) and analyze it in one step; no inputs then."`
	Keep     string        `placeholder:"FILE" help:"With --live: keep the collected bundle in FILE (never overwritten); without it the bundle is deleted."`
	Samples  int           `default:"2" help:"With --live: number of samples."`
	Interval time.Duration `default:"5s" help:"With --live: time between the starts of two samples."`
	Redact   bool          `help:"With --live: pseudonymise addresses, host names and command lines in the bundle."`
}

// checkModes rejects options that would do nothing in the mode chosen.
func (c *analyzeCmd) checkModes(kctx *kong.Context) error {
	// Given on the command line (a default counts as set for kong).
	set := map[string]bool{}
	for _, a := range kctx.Args {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			set[name] = true
		}
	}
	switch {
	case c.Explain != "" && (c.Profile != "" || c.Format == "markdown" || c.Format == "md" || c.Format == "html"):
		return errors.New("--explain prints what one rule saw, as text or -f json: --profile and -f markdown/html do not apply")
	case c.Force && c.Output == "" && c.Profile == "":
		return errors.New("--force lets -o or --profile overwrite a file: give one of them")
	case set["color"] && c.Format != "text":
		return errors.New("--color colours the text report: it does nothing with -f " + c.Format)
	case !c.Live && (set["samples"] || set["interval"]):
		return errors.New("--samples and --interval set how --live collects: they need --live")
	}
	return nil
}

func (c *analyzeCmd) Run(e *env, kctx *kong.Context) error {
	if err := c.checkModes(kctx); err != nil {
		return &exitCodeError{exitUsage, err}
	}
	analyze.ReadyMemory(c.Inputs) // first, before loading fills the heap
	// Compile the rules while the inputs load — once the first listing is
	// parsed: compiling first leaves freed heap behind, and the runtime
	// then zeroes the million-socket table it is reused for (0.4 s on a
	// VM) instead of handing out fresh memory. A bad rule still fails
	// before anything is reported.
	type compiledRules struct {
		rules []*analyze.Rule
		err   error
	}
	ruleCh := make(chan compiledRules, 1)
	start := make(chan struct{})
	var startOnce sync.Once
	startCompile := func() { startOnce.Do(func() { close(start) }) }
	defer startCompile()
	go func() {
		<-start
		rs, err := loadRules(c.Rules)
		ruleCh <- compiledRules{rs, err}
	}()
	var compiled []*analyze.Rule
	waitRules := func() error {
		if ruleCh == nil {
			return nil
		}
		startCompile()
		r := <-ruleCh
		ruleCh, compiled = nil, r.rules
		if r.err != nil {
			return &exitCodeError{code: exitError, err: r.err}
		}
		return nil
	}
	inputs := c.Inputs
	switch {
	case c.Live && len(inputs) > 0:
		return &exitCodeError{exitUsage, errors.New("--live collects this host: give no inputs with it")}
	case !c.Live && (c.Keep != "" || c.Redact):
		return &exitCodeError{exitUsage, errors.New("--keep and --redact need --live")}
	case !c.Live && len(inputs) == 0:
		return &exitCodeError{exitUsage, errors.New("give at least one input, or --live to collect this host")}
	case c.Live:
		if err := waitRules(); err != nil { // before spending seconds collecting
			return err
		}
		bundle, cleanup, err := c.collectLive(e)
		if err != nil {
			return err
		}
		defer cleanup()
		inputs = []string{bundle}
	}
	lim := analyze.DefaultLimits
	lim.MaxLines = c.MaxLines
	if err := refuseManyHosts(inputs, lim); err != nil {
		return err
	}
	prog := startProgress(e.stderr, "reading "+strings.Join(inputs, ", "))
	defer prog.End()
	snap, err := analyze.Load(inputs, analyze.Options{Stdin: e.stdin, InputFormat: c.InputFormat, Limits: lim,
		OnListing: func(analyze.Source, *analyze.Listing) error { startCompile(); return nil }})
	prog.Phase("running the rules")
	if rerr := waitRules(); rerr != nil {
		return rerr
	}
	if err != nil {
		return &exitCodeError{code: exitError, err: err}
	}
	if c.Explain != "" {
		for _, r := range compiled {
			if r.Spec.ID == c.Explain {
				ex := analyze.Explain(snap, r)
				if c.Format == "json" {
					return writeJSON(e.stdout, ex)
				}
				writeExplanation(e.stdout, ex)
				return nil
			}
		}
		return &exitCodeError{code: exitError, err: fmt.Errorf("no rule %q (see tcpsnap rules list)", c.Explain)}
	}
	rep := analyze.Run(snap, compiled)
	prog.End()
	if c.Profile != "" {
		if err := writeProfile(c.Profile, snap, c.Force); err != nil {
			return &exitCodeError{code: exitError, err: err}
		}
	}
	out := e.stdout
	if c.Output != "" {
		f, err := createOutput(c.Output, c.Force)
		if err != nil {
			return &exitCodeError{code: exitError, err: err}
		}
		defer f.Close()
		out = f
	}
	if c.Format == "text" && useColor(c.Color, out) {
		cw := &colorWriter{w: out}
		defer cw.Flush()
		out = cw
	}
	switch c.Format {
	case "markdown", "md":
		err = analyze.WriteMarkdown(out, rep)
	case "json":
		err = analyze.WriteJSON(out, rep)
	case "html":
		err = analyze.WriteHTML(out, rep)
	default:
		err = analyze.WriteText(out, rep)
	}
	if err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("writing report: %w", err)}
	}
	if c.FailOn != "never" {
		for _, f := range rep.Findings {
			if analyze.SeverityRank(f.Severity) >= analyze.SeverityRank(c.FailOn) {
				return &exitCodeError{code: exitFindings}
			}
		}
	}
	if rep.Summary.Insufficient {
		return &exitCodeError{code: exitNoData}
	}
	return nil
}

// collectLive collects this host into --keep FILE or a temporary file and
// returns its path and a function that removes the temporary file.
func (c *analyzeCmd) collectLive(e *env) (string, func(), error) {
	if c.Samples < 1 {
		return "", nil, &exitCodeError{exitUsage, errors.New("--samples must be at least 1")}
	}
	if c.Interval < 0 {
		return "", nil, &exitCodeError{exitUsage, errors.New("--interval must not be negative")}
	}
	cleanup := func() {}
	name := c.Keep
	if name == "" {
		dir, err := os.MkdirTemp("", "tcpsnap-live-")
		if err != nil {
			return "", nil, &exitCodeError{exitError, err}
		}
		name = filepath.Join(dir, "live.tar.gz")
		cleanup = func() { os.RemoveAll(dir) }
	}
	// As collect: SIGINT, SIGTERM and SIGHUP stop it and leave nothing.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal kills
	}()
	interval := c.Interval
	if interval == 0 {
		interval = -1 // no pause
	}
	prog := startProgress(e.stderr, fmt.Sprintf("collecting %d samples of this host, %v apart", c.Samples, c.Interval))
	defer prog.End()
	m, err := collect.CollectFile(ctx, name, collect.Options{
		Samples: c.Samples, Interval: interval, Redact: c.Redact,
		Version: version, Prefix: "tcpsnap-live",
	})
	if err != nil {
		cleanup()
		return "", nil, &exitCodeError{exitError, fmt.Errorf("collecting: %w; no bundle written", err)}
	}
	if c.Keep != "" {
		fmt.Fprintf(e.stderr, "tcpsnap: bundle kept in %s (%d samples in %.1fs)\n", name, len(m.Samples), m.End.Sub(m.Start).Seconds())
	}
	return name, cleanup, nil
}

// writeExplanation prints analyze.Explain's result for people.
func writeExplanation(w io.Writer, ex *analyze.Explanation) {
	fmt.Fprintf(w, "Rule %s runs over %s groups: %d in this snapshot, fired on %d.\n", ex.Rule, ex.For, ex.Total, ex.Fired)
	if hidden := ex.Total - len(ex.Groups); hidden > 0 {
		fmt.Fprintf(w, "Showing %d groups (the 20 largest and every group it fired on); %d smaller quiet groups are not shown.\n", len(ex.Groups), hidden)
	}
	for _, g := range ex.Groups {
		verdict := "quiet"
		if g.Severity != "" {
			verdict = "FIRES " + g.Severity
		}
		name := g.Subject
		if g.Key != "" && !strings.Contains(g.Subject, g.Key) {
			name += " [" + g.Key + "]"
		}
		fmt.Fprintf(w, "\n%s (%d sockets): %s\n", name, g.Sockets, verdict)
		if g.Title != "" {
			fmt.Fprintf(w, "  title: %s\n", g.Title)
		}
		fmt.Fprintf(w, "  why: %s\n", oneLineSrc(g.Why))
		for _, v := range g.Levels {
			fmt.Fprintf(w, "  severity.%-8s = %-5s  %s%s\n", v.Name, analyze.FormatValue(v.Value), oneLineSrc(v.Src), errSuffix(v.Err))
		}
		for _, v := range g.Evidence {
			fmt.Fprintf(w, "  evidence.%-26s = %s%s\n", v.Name, analyze.FormatValue(v.Value), errSuffix(v.Err))
		}
	}
}

func oneLineSrc(s string) string { return strings.Join(strings.Fields(s), " ") }

func errSuffix(err string) string {
	if err == "" {
		return ""
	}
	return "  (error: " + err + ")"
}

// loadRules compiles the built-in rules plus those of dir (which replace
// built-in rules with the same id).
func loadRules(dir string) ([]*analyze.Rule, error) { return analyze.LoadRules(dir) }

func writeProfile(path string, snap *analyze.Snapshot, force bool) error {
	p := analyze.Profile(snap)
	if err := p.CheckValid(); err != nil {
		return fmt.Errorf("building profile: %w", err)
	}
	f, err := createOutput(path, force)
	if err != nil {
		return err
	}
	if err := p.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing profile %s: %w", path, err)
	}
	return f.Close()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/tcpsnap/tcpsnap/analyze"
)

// fleetCmd is `tcpsnap fleet`.
type fleetCmd struct {
	Inputs      []string      `arg:"" name:"input" help:"Bundles (.tar.gz, .tgz, .tar, .zip), capture folders, folders of bundles or host folders, glob patterns, or - for a list of paths (one a line) on stdin. Each bundle or capture folder is one host."`
	Format      string        `short:"f" enum:"text,markdown,md,html,json" default:"text" help:"Summary format: text, markdown (or md), html (one self-contained page), json (schema tcpsnap.fleet/v1)."`
	Out         string        `placeholder:"DIR" help:"Also write hosts.ndjson (one JSON report per host), summary.json, hosts.parquet and findings.parquet into DIR. A rerun into the same DIR reuses the results of inputs whose content has not changed (fleet-index.ndjson)."`
	Force       bool          `help:"With --out: analyze every input again, even those DIR already has results for."`
	Shard       string        `placeholder:"I/N" help:"Take only shard I of N (1 <= I <= N): the inputs whose path hashes to it, so N processes can split a fleet (give each its own --out)."`
	Jobs        int           `short:"j" default:"0" placeholder:"N" help:"Hosts analyzed at once (default: the number of cores); memory is bounded by this, not by the fleet's size."`
	Rules       string        `type:"existingdir" placeholder:"DIR" help:"Also load the *.yaml rules in DIR; a rule with a built-in rule's id replaces it."`
	InputFormat string        `placeholder:"NAME" help:"Parse every listing as this format instead of detecting it (see tcpsnap formats)."`
	MaxLines    int64         `default:"1000000" placeholder:"N" help:"Read at most N lines of listings per host (its memory budget: about 500 bytes a line at worst); a host over it is an error row."`
	Timeout     time.Duration `default:"2m" help:"Give up on one host after this long (checked between listings); it becomes an error row. 0 for no limit."`
	FailOn      string        `enum:"critical,warning,info,never" default:"never" help:"Exit with 1 when any host has a finding at or above this severity (${enum})."`
	Progress    bool          `help:"Print progress (hosts done, rate, time left) to standard error even when it is not a terminal (on a terminal it always shows)."`
}

func (c *fleetCmd) Run(e *env) error {
	analyze.ReadyMemory(c.Inputs) // first, before loading fills the heap
	if c.Jobs < 0 {
		return &exitCodeError{exitUsage, errors.New("-j must be at least 1")}
	}
	rs, err := loadRules(c.Rules)
	if err != nil {
		return &exitCodeError{exitError, err}
	}
	jobs, err := analyze.ExpandFleet(c.Inputs, e.stdin)
	if err != nil {
		return &exitCodeError{exitError, err}
	}
	if c.Shard != "" {
		var i, n int
		if _, err := fmt.Sscanf(c.Shard, "%d/%d", &i, &n); err != nil || n < 1 || i < 1 || i > n {
			return &exitCodeError{exitUsage, fmt.Errorf("--shard %q: want I/N with 1 <= I <= N", c.Shard)}
		}
		jobs = analyze.ShardFleet(jobs, i, n)
	}
	if c.Force && c.Out == "" {
		return &exitCodeError{exitUsage, errors.New("--force analyzes again what --out DIR holds: give --out")}
	}
	if len(jobs) == 0 {
		return &exitCodeError{exitError, errors.New("no hosts: the inputs hold no bundle or capture folder")}
	}
	// With --out, inputs whose content an earlier run into DIR analyzed
	// are taken from its index, not analyzed again.
	hashes := map[string]string{}
	var reused []*analyze.FleetHost
	var oldReports *os.File
	if c.Out != "" {
		idx := map[string]analyze.FleetIndexEntry{}
		if !c.Force {
			idx = analyze.ReadFleetIndex(c.Out)
			if len(idx) > 0 {
				if oldReports, err = os.Open(filepath.Join(c.Out, "hosts.ndjson")); err != nil {
					idx = map[string]analyze.FleetIndexEntry{}
				} else {
					defer oldReports.Close()
				}
			}
		}
		var todo []analyze.FleetJob
		for _, j := range jobs {
			h, err := analyze.FleetInputHash(j.Path)
			if err != nil || j.Err != "" {
				todo = append(todo, j)
				continue
			}
			hashes[j.Path] = h
			if e, ok := idx[h]; ok {
				e.Host.Path = j.Path
				e.Host.ReportAt, e.Host.ReportLen = e.ReportAt, e.ReportLen // in the old hosts.ndjson, for now
				reused = append(reused, e.Host)
				continue
			}
			todo = append(todo, j)
		}
		jobs = todo
	}
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	lim := analyze.DefaultLimits
	lim.MaxLines = c.MaxLines
	opt := analyze.FleetOptions{Rules: rs, Limits: lim, InputFormat: c.InputFormat, Workers: c.Jobs, Timeout: c.Timeout}
	var spill *os.File
	if c.Out != "" {
		if err := os.MkdirAll(c.Out, 0o755); err != nil {
			return &exitCodeError{exitError, err}
		}
		if spill, err = analyze.NewFleetSpill(c.Out); err != nil {
			return &exitCodeError{exitError, err}
		}
		defer func() { spill.Close(); os.Remove(spill.Name()) }()
		opt.Spill = spill
	}
	if c.Progress || isTerminal(e.stderr) {
		start := time.Now()
		last := time.Time{}
		opt.Progress = func(done, total int) {
			now := time.Now()
			if done < total && now.Sub(last) < 200*time.Millisecond {
				return
			}
			last = now
			el := now.Sub(start).Seconds()
			rate := float64(done) / max(el, 1e-9)
			left := time.Duration(float64(total-done)/max(rate, 1e-9)) * time.Second
			fmt.Fprintf(e.stderr, "\rtcpsnap fleet: %d/%d hosts, %.0f/s, %s left   ", done, total, rate, left.Round(time.Second))
			if done == total {
				fmt.Fprintln(e.stderr)
			}
		}
	}
	f, err := analyze.RunFleet(ctx, jobs, opt)
	if err != nil {
		return &exitCodeError{exitError, err}
	}
	if len(reused) > 0 {
		// Their reports go after the new ones in the spill.
		end, err := spill.Seek(0, io.SeekEnd)
		if err != nil {
			return &exitCodeError{exitError, err}
		}
		for _, h := range reused {
			if h.ReportLen > 0 {
				n, err := io.Copy(spill, io.NewSectionReader(oldReports, h.ReportAt, h.ReportLen))
				if err != nil {
					return &exitCodeError{exitError, fmt.Errorf("reusing the report of %s: %w", h.Path, err)}
				}
				h.ReportAt, h.ReportLen = end, n
				end += n
			}
		}
		f.Hosts = append(f.Hosts, reused...)
		analyze.SortFleetHosts(f.Hosts)
		if c.Progress {
			fmt.Fprintf(e.stderr, "tcpsnap fleet: %d hosts reused from %s, %d analyzed\n", len(reused), c.Out, len(jobs))
		}
	}
	sum := analyze.SummarizeFleet(f)
	if c.Out != "" {
		if err := analyze.WriteFleetDir(c.Out, f, sum, spill); err != nil {
			return &exitCodeError{exitError, err}
		}
		if err := analyze.WriteFleetIndex(c.Out, f, hashes); err != nil {
			return &exitCodeError{exitError, err}
		}
	}
	switch c.Format {
	case "json":
		err = analyze.WriteFleetJSON(e.stdout, sum)
	case "markdown", "md":
		err = analyze.WriteFleetMarkdown(e.stdout, sum)
	case "html":
		err = analyze.WriteFleetHTML(e.stdout, sum)
	default:
		err = analyze.WriteFleetText(e.stdout, sum)
	}
	if err != nil {
		return &exitCodeError{exitError, fmt.Errorf("writing summary: %w", err)}
	}
	if sum.Failed == sum.Hosts {
		return &exitCodeError{code: exitError, err: errors.New("no host could be analyzed")}
	}
	if c.FailOn != "never" {
		for _, h := range f.Hosts {
			for _, fd := range h.Findings {
				if analyze.SeverityRank(fd.Severity) >= analyze.SeverityRank(c.FailOn) {
					return &exitCodeError{code: exitFindings}
				}
			}
		}
	}
	return nil
}

// refuseManyHosts stops analyze when its inputs' manifests name several
// hosts: it would merge machines as one (fleet is for that).
func refuseManyHosts(inputs []string, lim analyze.Limits) error {
	if err := analyze.CheckOneHost(inputs, lim); err != nil {
		return &exitCodeError{exitUsage, err}
	}
	return nil
}

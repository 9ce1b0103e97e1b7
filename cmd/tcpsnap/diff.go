package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/tcpsnap/tcpsnap/analyze"
)

// diffCmd is `tcpsnap diff`.
type diffCmd struct {
	Before      string `arg:"" name:"before" help:"The snapshot before the change: a bundle, folder, listing file, or - for stdin."`
	After       string `arg:"" name:"after" help:"The snapshot after the change, the same kinds of input (- for stdin, if BEFORE is not)."`
	Format      string `short:"f" enum:"text,markdown,md,json" default:"text" help:"Diff format: text, markdown (or md) for an issue, json (schema tcpsnap.diff/v1)."`
	FailOn      string `enum:"critical,warning,info,never" default:"critical" help:"Exit with 1 when a finding at or above this severity is new, or rose to it (${enum})."`
	Rules       string `type:"existingdir" placeholder:"DIR" help:"Also load the *.yaml rules in DIR; a rule with a built-in rule's id replaces it. Both sides run the same rules."`
	InputFormat string `placeholder:"NAME" help:"Parse every listing as this format instead of detecting it (see tcpsnap formats)."`
	Output      string `short:"o" placeholder:"FILE" help:"Write the diff to FILE instead of standard output; an existing FILE is kept unless --force."`
	Force       bool   `help:"With -o: overwrite FILE if it exists."`
	MaxLines    int64  `default:"4000000" placeholder:"N" help:"Read at most N lines of listings for each side (the memory budget); more fails with an error naming the input."`
}

func (c *diffCmd) Run(e *env) error {
	analyze.ReadyMemory([]string{c.Before, c.After}) // first, before loading fills the heap
	if c.Before == "-" && c.After == "-" {
		return &exitCodeError{exitUsage, errors.New("only one of BEFORE and AFTER can be - (stdin)")}
	}
	if c.Force && c.Output == "" {
		return &exitCodeError{exitUsage, errors.New("--force needs -o FILE")}
	}
	if c.Output != "" && !c.Force {
		if _, err := os.Lstat(c.Output); err == nil {
			return &exitCodeError{exitError, fmt.Errorf("%s exists: use --force to overwrite it", c.Output)}
		}
	}
	rs, err := loadRules(c.Rules)
	if err != nil {
		return &exitCodeError{exitError, err}
	}
	lim := analyze.DefaultLimits
	lim.MaxLines = c.MaxLines
	sides := make([]analyze.DiffInput, 2)
	prog := startProgress(e.stderr, "reading "+c.Before)
	defer prog.End()
	for i, in := range []string{c.Before, c.After} {
		prog.Phase("reading and analyzing " + in)
		snap, err := analyze.Load([]string{in}, analyze.Options{Stdin: e.stdin, InputFormat: c.InputFormat, Limits: lim})
		if err != nil {
			return &exitCodeError{exitError, fmt.Errorf("%s: %w", []string{"before", "after"}[i], err)}
		}
		sides[i] = analyze.DiffInput{Input: in, Snapshot: snap, Report: analyze.Run(snap, rs)}
	}
	prog.End()
	d := analyze.Compare(sides[0], sides[1])

	var buf bytes.Buffer
	switch c.Format {
	case "json":
		err = analyze.WriteDiffJSON(&buf, d)
	case "markdown", "md":
		err = analyze.WriteDiffMarkdown(&buf, d)
	default:
		err = analyze.WriteDiffText(&buf, d)
	}
	if err != nil {
		return &exitCodeError{exitError, fmt.Errorf("writing diff: %w", err)}
	}
	if err := c.write(e, buf.Bytes()); err != nil {
		return &exitCodeError{exitError, err}
	}
	if len(d.Regressions(c.FailOn)) > 0 {
		return &exitCodeError{code: exitFindings}
	}
	if d.Before.Insufficient || d.After.Insufficient {
		return &exitCodeError{code: exitNoData}
	}
	return nil
}

// write writes the diff to standard output or -o FILE, which it creates
// (replaces only with --force); a FILE it could not finish is removed.
func (c *diffCmd) write(e *env, data []byte) error {
	if c.Output == "" {
		_, err := e.stdout.Write(data)
		return err
	}
	f, err := createOutput(c.Output, c.Force)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(c.Output)
		return fmt.Errorf("writing %s: %w", c.Output, err)
	}
	return nil
}

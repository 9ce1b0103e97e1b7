package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze"
)

// parseCmd is `tcpsnap parse`: the normalized sockets, for people who want
// data rather than a diagnosis.
type parseCmd struct {
	Inputs      []string `arg:"" name:"input" help:"Bundles, folders, listing files (pasted tickets too), or - for stdin."`
	Format      string   `short:"f" enum:"json,csv" default:"json" help:"Output: json (one object per line) or csv (with a header). Unknown values are null (json) or empty (csv)."`
	InputFormat string   `placeholder:"NAME" help:"Parse every listing as this format instead of detecting it (see tcpsnap formats)."`
	Output      string   `short:"o" placeholder:"FILE" help:"Write to FILE instead of standard output (never over an existing file without --force)."`
	Force       bool     `help:"Let -o overwrite an existing file."`
	AllListings bool     `help:"Write every listing's rows as read, each with its source: a socket that ss and netstat both list in one bundle appears twice. Without it each socket appears once, as analyze counts it (listings of one instant merged)."`
}

// parseColumns are the fields of one record, in CSV column order.
var parseColumns = []string{"sample", "family", "state", "local", "remote", "recv_q", "send_q",
	"process", "pid", "fd", "uid", "inode", "timer", "timer_secs", "retransmits", "source"}

// A socketRecord is one socket as tcpsnap parse writes it. Pointers are
// nil (null) when the listing did not say.
type socketRecord struct {
	Sample      int      `json:"sample"`
	Family      int      `json:"family"`
	State       string   `json:"state"`
	Local       string   `json:"local"`
	Remote      string   `json:"remote"`
	RecvQ       int64    `json:"recv_q"`
	SendQ       int64    `json:"send_q"`
	Process     *string  `json:"process"`
	PID         *int     `json:"pid"`
	FD          *int     `json:"fd"`
	UID         *int     `json:"uid"`
	Inode       *uint64  `json:"inode"`
	Timer       *string  `json:"timer"`
	TimerSecs   *float64 `json:"timer_secs"`
	Retransmits *int     `json:"retransmits"`
	Source      string   `json:"source"`
}

func newRecord(src analyze.Source, s *analyze.Socket) socketRecord {
	r := socketRecord{Sample: src.Sample, Family: int(s.Family), State: s.State.String(),
		Local: endpoint(s.Local.String(), s.LocalName.String(), int(s.Local.Port())), Remote: endpoint(s.Remote.String(), s.RemoteName.String(), int(s.Remote.Port())),
		RecvQ: int64(s.RecvQ), SendQ: int64(s.SendQ), Source: src.Path}
	if s.Process != analyze.NoName {
		name := s.Process.String()
		r.Process = &name
	}
	if s.PID != 0 {
		r.PID = &s.PID
	}
	if s.FD >= 0 {
		fd := int(s.FD)
		r.FD = &fd
	}
	if s.UID >= 0 {
		uid := int(s.UID)
		r.UID = &uid
	}
	if s.Inode != 0 {
		ino := uint64(s.Inode)
		r.Inode = &ino
	}
	if s.Timer != analyze.TimerNone {
		timer := s.Timer.String()
		r.Timer = &timer
	}
	if ts := s.TimerSecs(); ts >= 0 {
		r.TimerSecs = &ts
	}
	if s.Retransmits >= 0 {
		rx := int(s.Retransmits)
		r.Retransmits = &rx
	}
	return r
}

// endpoint prints a listed host name instead of an invalid address.
func endpoint(ap, name string, port int) string {
	if name != "" {
		return name + ":" + strconv.Itoa(port)
	}
	return ap
}

func (r *socketRecord) csvRow(row []string) []string {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	num := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	row = append(row[:0], strconv.Itoa(r.Sample), strconv.Itoa(r.Family), r.State, r.Local, r.Remote,
		strconv.FormatInt(r.RecvQ, 10), strconv.FormatInt(r.SendQ, 10), str(r.Process), num(r.PID), num(r.FD), num(r.UID))
	if r.Inode != nil {
		row = append(row, strconv.FormatUint(*r.Inode, 10))
	} else {
		row = append(row, "")
	}
	row = append(row, str(r.Timer))
	if r.TimerSecs != nil {
		row = append(row, strconv.FormatFloat(*r.TimerSecs, 'f', -1, 64))
	} else {
		row = append(row, "")
	}
	return append(row, num(r.Retransmits), r.Source)
}

func (c *parseCmd) Run(e *env) error {
	analyze.ReadyMemory(c.Inputs) // first, before loading fills the heap
	var out io.Writer = e.stdout
	if c.Force && c.Output == "" {
		return &exitCodeError{exitUsage, errors.New("--force lets -o overwrite a file: give -o")}
	}
	if c.Output != "" {
		f, err := createOutput(c.Output, c.Force)
		if err != nil {
			return &exitCodeError{code: exitError, err: err}
		}
		defer f.Close()
		out = f
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	var write func(src analyze.Source, s *analyze.Socket) error
	var cw *csv.Writer
	switch c.Format {
	case "csv":
		cw = csv.NewWriter(bw)
		if err := cw.Write(parseColumns); err != nil {
			return &exitCodeError{code: exitError, err: err}
		}
		row := make([]string, 0, len(parseColumns))
		write = func(src analyze.Source, s *analyze.Socket) error {
			r := newRecord(src, s)
			row = r.csvRow(row)
			return cw.Write(row)
		}
	default:
		enc := json.NewEncoder(bw)
		write = func(src analyze.Source, s *analyze.Socket) error {
			return enc.Encode(newRecord(src, s))
		}
	}
	opt := analyze.Options{Stdin: e.stdin, InputFormat: c.InputFormat, LoadOnly: true}
	if c.AllListings {
		// Sockets are written as each listing is parsed, not after the
		// whole snapshot is built: every socket of every listing.
		opt.OnListing = func(src analyze.Source, l *analyze.Listing) error {
			for i := range l.Sockets {
				if err := write(src, &l.Sockets[i]); err != nil {
					return fmt.Errorf("writing: %w", err)
				}
			}
			return nil
		}
	}
	prog := startProgress(e.stderr, "reading "+strings.Join(c.Inputs, ", "))
	snap, err := analyze.Load(c.Inputs, opt)
	prog.End()
	if err == nil && !c.AllListings {
		// The merged view: each socket once, its source the listings it
		// was read from (the richest first).
		for k := range snap.Samples {
			smp := snap.Samples[k]
			src := analyze.Source{Path: strings.Join(smp.SocketSources, "+"), Sample: k}
			for i := range smp.Sockets {
				if err = write(src, &smp.Sockets[i]); err != nil {
					err = fmt.Errorf("writing: %w", err)
					break
				}
			}
		}
	}
	if cw != nil {
		cw.Flush()
	}
	if ferr := bw.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("writing: %w", ferr)
	}
	if err != nil {
		return &exitCodeError{code: exitError, err: err}
	}
	for _, p := range snap.Problems {
		fmt.Fprintf(e.stderr, "tcpsnap: %s\n", p)
	}
	return nil
}

package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// AnalyzeFunc analyzes one host's input exactly as tcpsnap analyze does
// (the front door passes Load and Run). It should stop early, with
// ctx's error, once ctx is done.
type AnalyzeFunc func(ctx context.Context, path string) (*model.Snapshot, *engine.Report, error)

// Options control Run.
type Options struct {
	Analyze AnalyzeFunc
	// Workers is how many hosts are analyzed at once (default
	// runtime.NumCPU()): at most that many snapshots are in memory.
	Workers int
	// Timeout bounds one host's analysis (0: none). The loader stops at
	// its next listing once the time is up; the host is an error row.
	Timeout time.Duration
	// Spill, when set, receives every host's full JSON report, one line
	// each, in completion order; Host.ReportAt and ReportLen locate it
	// (WriteNDJSON copies them out in host order). Without it reports
	// are dropped once summarized.
	Spill io.WriterAt
	// Progress, when set, is called after each host with the number
	// done and the total, from one goroutine at a time.
	Progress func(done, total int)
}

// A Host is what the fleet keeps of one analyzed host: bounded whatever
// the size of its snapshot.
type Host struct {
	Host   string `json:"host"` // manifest host name, else Path
	Path   string `json:"path"`
	OS     string `json:"os,omitempty"`
	Kernel string `json:"kernel,omitempty"`
	// Settings holds the host's values of the settings fleets are most
	// often split by (sharedSettings), when its snapshot has them.
	Settings map[string]string `json:"settings,omitempty"`
	Sockets  int               `json:"sockets"`
	States   map[string]int    `json:"states"`
	Critical int               `json:"critical"`
	Warning  int               `json:"warning"`
	Info     int               `json:"info"`
	Error    string            `json:"error,omitempty"`
	Findings []Finding         `json:"findings"`
	Conns    Conns             `json:"-"`

	ReportAt  int64 `json:"-"` // offset of the report in Options.Spill
	ReportLen int64 `json:"-"` // its length with the newline; 0 when none
}

// A Finding is one finding of one host, flattened for tables.
type Finding struct {
	Rule     string         `json:"rule"`
	Severity string         `json:"severity"`
	Title    string         `json:"title"`
	Subject  engine.Subject `json:"subject"`
	// Also and AlsoCount are the subjects folded into the finding (see
	// engine.Finding): a program's other destinations, other workers.
	Also      []engine.Subject `json:"also,omitempty"`
	AlsoCount int              `json:"also_count,omitempty"`
	Sockets   int64            `json:"sockets"`  // the largest count in its evidence: the size to rank by
	Evidence  string           `json:"evidence"` // the evidence object as JSON text
}

// Fleet is the result of Run: every host, sorted by host name then path.
type Fleet struct {
	Hosts []*Host
}

// Failed counts the hosts that could not be analyzed.
func (f *Fleet) Failed() int {
	n := 0
	for _, h := range f.Hosts {
		if h.Error != "" {
			n++
		}
	}
	return n
}

// Run analyzes every job with opt.Analyze in a pool of opt.Workers
// goroutines. A job that fails, panics or runs out of time becomes a
// Host with Error set; Run itself fails only when ctx is cancelled or
// the spill cannot be written. The hosts come back sorted by host name,
// then path, whatever the number of workers.
func Run(ctx context.Context, jobs []Job, opt Options) (*Fleet, error) {
	if opt.Analyze == nil {
		return nil, errors.New("fleet: no analyze function")
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	hosts := make([]*Host, len(jobs))
	next := make(chan int)
	var (
		mu       sync.Mutex
		spillAt  int64
		spillErr error
		done     int
		wg       sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for i := range next {
				h, rep := analyzeOne(ctx, jobs[i], opt)
				buf.Reset()
				if opt.Spill != nil && rep != nil {
					enc := json.NewEncoder(&buf)
					if err := enc.Encode(rep); err != nil {
						h.Error = fmt.Sprintf("encoding report: %v", err)
						buf.Reset()
					}
				}
				mu.Lock()
				if buf.Len() > 0 && spillErr == nil {
					if _, err := opt.Spill.WriteAt(buf.Bytes(), spillAt); err != nil {
						spillErr = fmt.Errorf("writing reports: %w", err)
					} else {
						h.ReportAt, h.ReportLen = spillAt, int64(buf.Len())
						spillAt += int64(buf.Len())
					}
				}
				hosts[i] = h
				done++
				if opt.Progress != nil {
					opt.Progress(done, len(jobs))
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if spillErr != nil {
		return nil, spillErr
	}
	SortHosts(hosts)
	return &Fleet{Hosts: hosts}, nil
}

// SortHosts puts hosts in a fleet's order: by host name, then path.
func SortHosts(hosts []*Host) {
	sort.SliceStable(hosts, func(i, j int) bool {
		if hosts[i].Host != hosts[j].Host {
			return hosts[i].Host < hosts[j].Host
		}
		return hosts[i].Path < hosts[j].Path
	})
}

// analyzeOne analyzes one job in isolation: errors, panics and the time
// limit all end as an error row.
func analyzeOne(ctx context.Context, j Job, opt Options) (h *Host, rep *engine.Report) {
	h = &Host{Host: j.Path, Path: j.Path, States: map[string]int{}, Findings: []Finding{}}
	if j.Err != "" {
		h.Error = j.Err
		return h, nil
	}
	if opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.Timeout)
		defer cancel()
	}
	defer func() {
		if r := recover(); r != nil {
			h.Error = fmt.Sprintf("internal error (panic) while analyzing: %v", r)
			rep = nil
		}
	}()
	snap, rep, err := opt.Analyze(ctx, j.Path)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			h.Error = fmt.Sprintf("took longer than %s: stopped", opt.Timeout)
		} else {
			h.Error = oneLine(err.Error())
		}
		return h, nil
	}
	fill(h, snap, rep)
	return h, rep
}

// sharedSettings are the settings a fleet summary compares across the
// hosts a rule fired on: the ones its advice is about.
var sharedSettings = []string{
	"net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_fin_timeout", "net.ipv4.ip_local_port_range",
	"net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_syncookies",
	"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_max_tw_buckets", "net.netfilter.nf_conntrack_max",
}

// fill keeps the bounded part of a report and snapshot.
func fill(h *Host, snap *model.Snapshot, rep *engine.Report) {
	if n := rep.Snapshot.Host.Name; n != "" {
		h.Host = n
	}
	h.OS, h.Kernel = rep.Snapshot.Host.OS, rep.Snapshot.Host.Kernel
	for _, name := range sharedSettings {
		if v, ok := snap.Sysctls[name]; ok {
			if h.Settings == nil {
				h.Settings = map[string]string{}
			}
			h.Settings[name] = strings.Join(strings.Fields(v), " ")
		}
	}
	h.Sockets = rep.Snapshot.Sockets
	for k, v := range rep.Summary.States {
		h.States[k] = v
	}
	h.Critical, h.Warning, h.Info = rep.Summary.Critical, rep.Summary.Warning, rep.Summary.Info
	for _, f := range rep.Findings {
		ev, _ := json.Marshal(f.Evidence)
		h.Findings = append(h.Findings, Finding{Rule: f.Rule, Severity: f.Severity, Title: f.Title,
			Subject: f.Subject, Also: f.Also, AlsoCount: f.AlsoCount, Sockets: evidenceSize(f.Evidence), Evidence: string(ev)})
	}
	if snap != nil && len(snap.Samples) > 0 {
		h.Conns = connsOf(snap.Latest(), snap.Processes)
	}
}

// evidenceSize is the largest whole number in a finding's evidence: the
// size fleets rank affected hosts by.
func evidenceSize(ev engine.Evidence) int64 {
	var best int64
	for _, it := range ev {
		var n int64
		switch v := it.Value.(type) {
		case int:
			n = int64(v)
		case int64:
			n = v
		case float64:
			n = int64(v)
		}
		best = max(best, n)
	}
	return best
}

// oneLine keeps the first line of a message, and says how many more.
func oneLine(s string) string {
	first, rest, ok := strings.Cut(s, "\n")
	if !ok {
		return s
	}
	return first + fmt.Sprintf(" (and %d more lines)", strings.Count(rest, "\n")+1)
}

// WriteNDJSON copies the hosts' reports from the spill, one line each,
// in host order; hosts without a report (errors) are skipped.
func (f *Fleet) WriteNDJSON(w io.Writer, spill io.ReaderAt) error {
	for _, h := range f.Hosts {
		if h.ReportLen == 0 {
			continue
		}
		if _, err := io.Copy(w, io.NewSectionReader(spill, h.ReportAt, h.ReportLen)); err != nil {
			return fmt.Errorf("copying the report of %s: %w", h.Path, err)
		}
	}
	return nil
}

// NewSpill creates a temporary spill file in dir ("" for the system's);
// the caller closes and removes it.
func NewSpill(dir string) (*os.File, error) {
	return os.CreateTemp(dir, ".tcpsnap-fleet-*.ndjson")
}

package analyze

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/fleet"
	"github.com/tcpsnap/tcpsnap/analyze/input"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/collect"
)

// Fleet analysis (tcpsnap fleet): the analyze/fleet room's types.
type (
	Fleet        = fleet.Fleet   // every host of a fleet run, sorted by host name then path
	FleetHost    = fleet.Host    // what a fleet keeps of one host
	FleetJob     = fleet.Job     // one host to analyze
	FleetSummary = fleet.Summary // the fleet's findings per rule, failures, correlations (tcpsnap.fleet/v1)
	FleetConns   = fleet.Conns   // a host's bounded digest of its connections, for correlation
)

// FleetOptions control RunFleet.
type FleetOptions struct {
	Rules       []*Rule
	Limits      Limits // per host; zero value means DefaultLimits
	InputFormat string
	Workers     int           // hosts analyzed at once; 0 means runtime.NumCPU()
	Timeout     time.Duration // per host; 0 means none
	// Spill, when set, receives every host's JSON report (see
	// fleet.Options.Spill); WriteFleetDir copies them to hosts.ndjson.
	Spill    io.WriterAt
	Progress func(done, total int)
}

// ExpandFleet turns arguments (bundles, folders, globs, "-" for a list
// of paths on stdin) into one job per host.
func ExpandFleet(args []string, stdin io.Reader) ([]FleetJob, error) {
	return fleet.Expand(args, stdin)
}

// RunFleet analyzes every job as Load and Run would analyze it alone,
// in parallel and in isolation: a host that fails is a row with its
// error. Load cannot be interrupted inside a listing; the time limit
// stops it at the next listing it parses.
func RunFleet(ctx context.Context, jobs []FleetJob, opt FleetOptions) (*Fleet, error) {
	lim := opt.Limits
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	one := func(ctx context.Context, path string) (*model.Snapshot, *engine.Report, error) {
		snap, err := Load([]string{path}, Options{Limits: lim, InputFormat: opt.InputFormat,
			OnListing: func(model.Source, *model.Listing) error { return ctx.Err() }})
		if err != nil {
			return nil, nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		return snap, Run(snap, opt.Rules), nil
	}
	return fleet.Run(ctx, jobs, fleet.Options{Analyze: one, Workers: opt.Workers, Timeout: opt.Timeout,
		Spill: opt.Spill, Progress: opt.Progress})
}

// SummarizeFleet counts the fleet's findings per rule, what the affected
// hosts share, the failures, and the connections whose both ends are in
// the fleet.
func SummarizeFleet(f *Fleet) *FleetSummary { return fleet.Summarize(f) }

// WriteFleetText writes a fleet summary for a terminal.
func WriteFleetText(w io.Writer, s *FleetSummary) error { return fleet.WriteText(w, s) }

// WriteFleetHTML writes a fleet summary as one self-contained page.
func WriteFleetHTML(w io.Writer, s *FleetSummary) error { return fleet.WriteHTML(w, s) }

// WriteFleetMarkdown writes a fleet summary as Markdown.
func WriteFleetMarkdown(w io.Writer, s *FleetSummary) error { return fleet.WriteMarkdown(w, s) }

// WriteFleetJSON writes a fleet summary as JSON (schema tcpsnap.fleet/v1).
func WriteFleetJSON(w io.Writer, s *FleetSummary) error { return fleet.WriteJSON(w, s) }

// WriteFleetDir writes hosts.ndjson (from spill, when not nil),
// summary.json, hosts.parquet and findings.parquet into dir.
func WriteFleetDir(dir string, f *Fleet, s *FleetSummary, spill io.ReaderAt) error {
	return fleet.WriteDir(dir, f, s, spill)
}

// AnalyzeFleetInput analyzes one input of a fleet (expanded as
// ExpandFleet expands it: a folder of bundles is several hosts) as
// RunFleet does, and returns what the fleet keeps of each host (with its
// connection digest) and each host's full JSON report, one line ("" for
// a host that failed): for pipelines that analyze the inputs elsewhere
// and gather them after (the Apache Beam pipeline, cmd/tcpsnap-beam).
func AnalyzeFleetInput(ctx context.Context, arg string, opt FleetOptions) ([]*FleetHost, []string, error) {
	jobs, err := ExpandFleet([]string{arg}, nil)
	if err != nil {
		return nil, nil, err
	}
	spill := &memSpill{}
	opt.Workers, opt.Spill, opt.Progress = 1, spill, nil
	f, err := RunFleet(ctx, jobs, opt)
	if err != nil {
		return nil, nil, err
	}
	reports := make([]string, len(f.Hosts))
	for i, h := range f.Hosts {
		if h.ReportLen > 0 {
			reports[i] = string(spill.b[h.ReportAt : h.ReportAt+h.ReportLen])
		}
		h.ReportAt, h.ReportLen = 0, 0
	}
	return f.Hosts, reports, nil
}

// SortFleetHosts puts hosts gathered from elsewhere in the order RunFleet
// gives them: by host name, then path.
func SortFleetHosts(hosts []*FleetHost) { fleet.SortHosts(hosts) }

// memSpill is an in-memory io.WriterAt.
type memSpill struct {
	mu sync.Mutex
	b  []byte
}

func (m *memSpill) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	copy(m.b[off:], p)
	return len(p), nil
}

// NewFleetSpill creates a temporary file for the hosts' reports in dir
// ("" for the system's temporary folder); the caller removes it.
var NewFleetSpill = fleet.NewSpill

// errManifestFound stops InputHosts' walk of an input at its manifest.
var errManifestFound = errors.New("manifest found")

// InputHosts returns, for each input, the host name its tcpsnap
// manifest names ("" when it has none, or for "-"). It reads only
// manifests: a bundle is walked until its manifest.json.
func InputHosts(args []string, lim Limits) []string {
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	names := make([]string, len(args))
	for i, arg := range args {
		if arg == "-" {
			continue
		}
		_ = input.WalkInput(arg, nil, lim, func(f input.File) error {
			if path.Base(f.Rel) != collect.ManifestPath || depth(f.Rel) > 1 {
				return nil
			}
			if m, err := collect.ReadManifest(f.R); err == nil {
				names[i] = m.Host.Hostname
				return errManifestFound
			}
			return nil
		}, func(string, string) {})
	}
	return names
}

// CheckOneHost fails when the inputs' manifests name more than one host:
// analyze merges its inputs as one snapshot of one host, which would mix
// machines. The error names the hosts and points to fleet and diff.
func CheckOneHost(args []string, lim Limits) error {
	if len(args) < 2 {
		return nil
	}
	names := InputHosts(args, lim)
	byHost := map[string][]string{}
	var order []string
	for i, n := range names {
		if n == "" {
			continue
		}
		if _, ok := byHost[n]; !ok {
			order = append(order, n)
		}
		byHost[n] = append(byHost[n], args[i])
	}
	if len(order) < 2 {
		return nil
	}
	var parts []string
	for _, n := range order {
		parts = append(parts, fmt.Sprintf("%s (%s)", n, strings.Join(byHost[n], ", ")))
	}
	return fmt.Errorf("the inputs come from %d different hosts: %s; analyze reads its inputs as one snapshot of one host: "+
		"use tcpsnap fleet for many hosts, or tcpsnap diff to compare one host at two times", len(order), strings.Join(parts, ", "))
}

// ShardFleet keeps the jobs of shard i of n (1 <= i <= n): those whose
// path hashes to it (FNV-1a), so that n processes can split a fleet and
// their outputs concatenate.
func ShardFleet(jobs []FleetJob, i, n int) []FleetJob {
	var out []FleetJob
	for _, j := range jobs {
		h := fnv.New64a()
		h.Write([]byte(j.Path))
		if int(h.Sum64()%uint64(n)) == i-1 {
			out = append(out, j)
		}
	}
	return out
}

// FleetInputHash is the SHA-256 of an input's content: a file's bytes,
// or for a folder every regular file's path and bytes in name order. A
// rerun skips inputs whose hash already has a result.
func FleetInputHash(path string) (string, error) {
	h := sha256.New()
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		if _, err := io.Copy(h, f); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// A FleetIndexEntry is one analyzed input as a fleet's --out folder
// remembers it (fleet-index.ndjson): its content hash, what the fleet
// keeps of its host, and where its report is in hosts.ndjson.
type FleetIndexEntry struct {
	Hash      string     `json:"hash"`
	Host      *FleetHost `json:"host"`
	Conns     FleetConns `json:"conns"`
	ReportAt  int64      `json:"report_at"`
	ReportLen int64      `json:"report_len"`
}

// FleetIndexName is the index file in a fleet's --out folder.
const FleetIndexName = "fleet-index.ndjson"

// ReadFleetIndex reads the index of a --out folder: content hash ->
// entry. A missing or unreadable index is an empty one (everything is
// analyzed again).
func ReadFleetIndex(dir string) map[string]FleetIndexEntry {
	out := map[string]FleetIndexEntry{}
	f, err := os.Open(filepath.Join(dir, FleetIndexName))
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e FleetIndexEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Host == nil || e.Hash == "" {
			return map[string]FleetIndexEntry{} // a damaged index: start over
		}
		e.Host.Conns = e.Conns
		out[e.Hash] = e
	}
	return out
}

// WriteFleetIndex writes the index for the hosts of f as WriteFleetDir
// laid out their reports in hosts.ndjson (in order, one line each);
// hashes maps a host's path to its content hash (hosts without one are
// left out: they are analyzed again next time).
func WriteFleetIndex(dir string, f *Fleet, hashes map[string]string) error {
	tmp, err := os.CreateTemp(dir, "."+FleetIndexName+".*")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(tmp)
	enc := json.NewEncoder(bw)
	var at int64
	for _, h := range f.Hosts {
		e := FleetIndexEntry{Hash: hashes[h.Path], Host: h, Conns: h.Conns, ReportAt: at, ReportLen: h.ReportLen}
		at += h.ReportLen
		if e.Hash == "" || h.Error != "" {
			continue // failures are tried again
		}
		if err = enc.Encode(e); err != nil {
			break
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, FleetIndexName))
}

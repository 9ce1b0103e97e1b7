// Command tcpsnap-beam runs tcpsnap fleet's analysis as an Apache Beam
// pipeline, for fleets past one machine: the hosts are analyzed in
// parallel by the runner's workers (each exactly as tcpsnap analyze
// would), and the launcher gathers the compact per-host results to write
// the same files as tcpsnap fleet --out: hosts.ndjson, summary.json,
// hosts.parquet and findings.parquet.
//
//	tcpsnap-beam --inputs bundles.txt --out results/                  # Prism, in this process
//	tcpsnap-beam --inputs gs://b/bundles.txt --out results/ \
//	    --runner dataflow --project P --region R --staging_location gs://b/staging
//
// --inputs names a text file (on any file system Beam reads: local,
// gs://, s3:// with the matching SDK file system) listing the bundles'
// paths, one a line; each path must be readable by the workers (a shared
// file system, or paths the workers can open). It is its own Go module so
// that Beam's dependencies stay out of the tcpsnap binary.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/tcpsnap/tcpsnap/analyze"
)

var (
	inputs   = flag.String("inputs", "", "text file listing the bundles' paths, one a line (any Beam file system)")
	out      = flag.String("out", "", "folder for hosts.ndjson, summary.json, hosts.parquet and findings.parquet")
	rulesDir = flag.String("rules", "", "also load the *.yaml rules in this folder (it must be readable by the workers)")
	staging  = flag.String("gather", "", "where the workers write the analyzed hosts for the launcher (default OUT/.tcpsnap-beam-hosts.jsonl)")
)

func init() {
	register.DoFn3x1[context.Context, string, func(string), error](&analyzeFn{})
	register.Emitter1[string]()
}

func main() {
	flag.Parse()
	beam.Init()
	if err := run(context.Background(), *inputs, *out, *rulesDir, *staging, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "tcpsnap-beam: %v\n", err)
		os.Exit(2)
	}
}

// run builds and runs the pipeline, then gathers its output.
func run(ctx context.Context, inputs, out, rulesDir, gather string, stdout io.Writer) error {
	if inputs == "" || out == "" {
		return fmt.Errorf("give --inputs FILE and --out DIR")
	}
	if gather == "" {
		gather = filepath.Join(out, ".tcpsnap-beam-hosts.jsonl")
	}
	if err := os.MkdirAll(filepath.Dir(gather), 0o755); err != nil {
		return err
	}
	p, s := beam.NewPipelineWithRoot()
	paths := textio.Read(s, inputs)
	hosts := beam.ParDo(s, &analyzeFn{RulesDir: rulesDir}, paths)
	textio.Write(s, gather, hosts)
	if err := beamx.Run(ctx, p); err != nil {
		return fmt.Errorf("running the pipeline: %w", err)
	}
	defer os.Remove(gather)
	return gatherHosts(gather, out, stdout)
}

// record is one analyzed host as the workers pass it to the launcher.
type record struct {
	Host   *analyze.FleetHost `json:"host"`
	Conns  analyze.FleetConns `json:"conns"`
	Report string             `json:"report,omitempty"` // the full JSON report, one line
}

// analyzeFn analyzes one input per element: a bundle's path, a capture
// folder, or a folder of bundles (several hosts).
type analyzeFn struct {
	RulesDir string `json:"rules_dir"`
	rules    []*analyze.Rule
}

func (f *analyzeFn) Setup() error {
	var err error
	f.rules, err = analyze.LoadRules(f.RulesDir)
	return err
}

func (f *analyzeFn) ProcessElement(ctx context.Context, path string, emit func(string)) error {
	path = strings.TrimSpace(path)
	if path == "" || strings.HasPrefix(path, "#") {
		return nil
	}
	hosts, reports, err := analyze.AnalyzeFleetInput(ctx, path, analyze.FleetOptions{Rules: f.rules})
	if err != nil {
		return err
	}
	for i, h := range hosts {
		b, err := json.Marshal(record{Host: h, Conns: h.Conns, Report: strings.TrimSuffix(reports[i], "\n")})
		if err != nil {
			return err
		}
		emit(string(b))
	}
	return nil
}

// gatherHosts reads the workers' records and writes the fleet's files
// and its summary, as tcpsnap fleet --out does.
func gatherHosts(gather, out string, stdout io.Writer) error {
	f, err := os.Open(gather)
	if err != nil {
		return err
	}
	defer f.Close()
	var hosts []*analyze.FleetHost
	reports := map[*analyze.FleetHost]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: %w", gather, err)
		}
		r.Host.Conns = r.Conns
		hosts = append(hosts, r.Host)
		reports[r.Host] = r.Report
	}
	if err := sc.Err(); err != nil {
		return err
	}
	analyze.SortFleetHosts(hosts)
	spill, err := analyze.NewFleetSpill("")
	if err != nil {
		return err
	}
	defer os.Remove(spill.Name())
	defer spill.Close()
	var at int64
	for _, h := range hosts {
		rep := reports[h]
		if rep == "" {
			continue
		}
		n, err := spill.WriteAt([]byte(rep+"\n"), at)
		if err != nil {
			return err
		}
		h.ReportAt, h.ReportLen = at, int64(n)
		at += int64(n)
	}
	fleet := &analyze.Fleet{Hosts: hosts}
	sum := analyze.SummarizeFleet(fleet)
	if err := analyze.WriteFleetDir(out, fleet, sum, spill); err != nil {
		return err
	}
	return analyze.WriteFleetText(stdout, sum)
}

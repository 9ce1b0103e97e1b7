package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/tcpsnap/tcpsnap/analyze/fleet"
	"github.com/tcpsnap/tcpsnap/rules"
)

// fleetN is how many bundles the fleet tests generate: 300, or
// TCPSNAP_FLEET_N (e.g. TCPSNAP_FLEET_N=10000 go test ./analyze -run
// TestFleetGenerated -v prints the time of the run).
func fleetN(t testing.TB, def int) int {
	if s := os.Getenv("TCPSNAP_FLEET_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("TCPSNAP_FLEET_N=%q: want a positive number", s)
		}
		return n
	}
	return def
}

func runFleetDir(t testing.TB, dir string, workers int, spill *os.File) *Fleet {
	t.Helper()
	jobs, err := ExpandFleet([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opt := FleetOptions{Rules: fleetRules(t), Workers: workers, Timeout: time.Minute}
	if spill != nil {
		opt.Spill = spill
	}
	f, err := RunFleet(context.Background(), jobs, opt)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFleetGenerated runs a generated fleet with broken bundles: every
// host is a row, broken ones with their error; the order does not depend
// on the workers; per-rule host counts equal single analyses; the
// NDJSON and Parquet outputs hold the same numbers as the reports.
func TestFleetGenerated(t *testing.T) {
	n := fleetN(t, 300)
	dir := t.TempDir()
	broken := genFleet(t, dir, n)
	out := t.TempDir()
	spill, err := NewFleetSpill(out)
	if err != nil {
		t.Fatal(err)
	}
	defer spill.Close()
	start := time.Now()
	f := runFleetDir(t, dir, 0, spill)
	t.Logf("%d bundles (%d broken) in %s with %d workers", n, broken, time.Since(start).Round(time.Millisecond), 0)
	if len(f.Hosts) != n {
		t.Fatalf("%d hosts, want %d", len(f.Hosts), n)
	}
	sum := SummarizeFleet(f)
	if sum.Failed != broken {
		for _, fh := range sum.FailedHosts {
			t.Logf("failed: %s: %s", fh.Path, fh.Error)
		}
		t.Fatalf("%d failed, want %d", sum.Failed, broken)
	}
	for _, fh := range sum.FailedHosts {
		if fh.Error == "" || !strings.Contains(fh.Path, "host-") {
			t.Errorf("failed host without a message: %+v", fh)
		}
	}
	for i := 1; i < len(f.Hosts); i++ {
		a, b := f.Hosts[i-1], f.Hosts[i]
		if a.Host > b.Host || a.Host == b.Host && a.Path >= b.Path {
			t.Fatalf("hosts out of order: %s %s, %s %s", a.Host, a.Path, b.Host, b.Path)
		}
	}
	if n > 1000 {
		return // the comparisons below analyze every bundle again, one by one
	}

	// The same with one worker: the same summary, byte for byte.
	var j1, j2 bytes.Buffer
	if err := WriteFleetJSON(&j1, sum); err != nil {
		t.Fatal(err)
	}
	if err := WriteFleetJSON(&j2, SummarizeFleet(runFleetDir(t, dir, 1, nil))); err != nil {
		t.Fatal(err)
	}
	if j1.String() != j2.String() {
		t.Errorf("the summary depends on the number of workers")
	}

	// Per-rule host counts equal the sum of single analyses.
	rs := builtinRulesForTest(t)
	want := map[string]int{}
	reports := map[string]*Report{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		snap, err := Load([]string{p}, Options{})
		if err != nil {
			continue
		}
		rep := Run(snap, rs)
		reports[p] = rep
		seen := map[string]bool{}
		for _, fd := range rep.Findings {
			if !seen[fd.Rule] {
				seen[fd.Rule] = true
				want[fd.Rule]++
			}
		}
	}
	if len(reports) != n-broken {
		t.Errorf("%d bundles analyze alone, want %d", len(reports), n-broken)
	}
	for rule, w := range want {
		if got := sum.Rules[rule]; got == nil || got.Hosts != w {
			t.Errorf("rule %s: fleet counts %v hosts, single analyses %d", rule, got, w)
		}
	}
	if len(sum.Rules) != len(want) {
		t.Errorf("fleet has %d rules with findings, single analyses %d", len(sum.Rules), len(want))
	}

	// The files.
	if err := WriteFleetDir(out, f, sum, spill); err != nil {
		t.Fatal(err)
	}
	nd, err := os.ReadFile(filepath.Join(out, "hosts.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(nd), "\n"), "\n")
	if len(lines) != n-broken {
		t.Fatalf("hosts.ndjson has %d lines, want %d", len(lines), n-broken)
	}
	prev := ""
	for _, l := range lines {
		var rep struct {
			Snapshot struct{ Host struct{ Name string } }
		}
		if err := json.Unmarshal([]byte(l), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Snapshot.Host.Name < prev {
			t.Fatalf("hosts.ndjson out of order: %s after %s", rep.Snapshot.Host.Name, prev)
		}
		prev = rep.Snapshot.Host.Name
	}
	hostRows := readParquet[fleet.HostRow](t, filepath.Join(out, "hosts.parquet"))
	if len(hostRows) != n {
		t.Fatalf("hosts.parquet has %d rows, want %d", len(hostRows), n)
	}
	findings := 0
	for _, r := range hostRows {
		rep := reports[r.Path]
		if rep == nil {
			if r.Error == "" {
				t.Errorf("%s: no report alone, and no error in hosts.parquet", r.Path)
			}
			continue
		}
		findings += len(rep.Findings)
		if r.Host != rep.Snapshot.Host.Name || r.Sockets != int64(rep.Snapshot.Sockets) ||
			r.CloseWait != int64(rep.Summary.States["CLOSE_WAIT"]) || r.TimeWait != int64(rep.Summary.States["TIME_WAIT"]) ||
			r.Critical != int64(rep.Summary.Critical) || r.Warning != int64(rep.Summary.Warning) || r.Info != int64(rep.Summary.Info) {
			t.Errorf("%s: hosts.parquet row %+v differs from its report", r.Path, r)
		}
	}
	if fr := readParquet[fleet.FindingRow](t, filepath.Join(out, "findings.parquet")); len(fr) != findings {
		t.Errorf("findings.parquet has %d rows, the reports %d findings", len(fr), findings)
	}
}

func fleetRules(t testing.TB) []*Rule {
	t.Helper()
	specs, err := rules.Load(rules.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func readParquet[T any](t *testing.T, path string) []T {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, _ := fh.Stat()
	rows, err := parquet.Read[T](fh, st.Size())
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return rows
}

// TestFleetBothEnds matches a leaking server with its clients.
func TestFleetBothEnds(t *testing.T) {
	dir := t.TempDir()
	cw := genBothEnds(t, dir, 8)
	f := runFleetDir(t, dir, 2, nil)
	sum := SummarizeFleet(f)
	if sum.Failed != 0 || len(f.Hosts) != 9 {
		t.Fatalf("%d hosts, %d failed: %+v", len(f.Hosts), sum.Failed, sum.FailedHosts)
	}
	if len(sum.Correlations) == 0 {
		t.Fatal("no correlation")
	}
	c := sum.Correlations[0]
	want := "leaky-server (pid 25239) on 10.0.0.5 (srv-1) holds " + strconv.Itoa(cw) + " CLOSE_WAIT"
	if !strings.HasPrefix(c.Text, want) || !strings.Contains(c.Text, "on :8443; 8 clients in this fleet hold the other ends in ") ||
		c.Clients.States["FIN_WAIT2"] == 0 || c.Server.States["CLOSE_WAIT"] != cw {
		t.Errorf("correlation:\n%s\nwant it to start %q; %+v", c.Text, want, c)
	}
	if rs := sum.Rules["close-wait-leak"]; rs == nil || rs.Hosts != 1 || rs.Top[0].Host != "srv-1" {
		t.Errorf("close-wait-leak: %+v", rs)
	}
	var txt bytes.Buffer
	if err := WriteFleetText(&txt, sum); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(txt.String(), "Both ends in this fleet") {
		t.Errorf("text summary:\n%s", txt.String())
	}
}

// duckdbScript reads the fleet's Parquet files with DuckDB and prints
// the numbers the test compares.
const duckdbScript = `
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const dir = process.argv[2];
  const inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  const q = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();
  const out = {
    hosts: await q("select count(*)::INTEGER as n, sum(close_wait)::INTEGER as close_wait, sum(time_wait)::INTEGER as time_wait, sum(critical)::INTEGER as critical, count(*) filter (where error <> '')::INTEGER as failed from read_parquet('" + dir + "/hosts.parquet')"),
    rules: await q("select rule, count(distinct path)::INTEGER as hosts from read_parquet('" + dir + "/findings.parquet') group by rule order by rule"),
    evidence: await q("select count(*)::INTEGER as n from read_parquet('" + dir + "/findings.parquet') where json_valid(evidence)"),
    columns: await q("select column_name from (describe select * from read_parquet('" + dir + "/hosts.parquet'))"),
    typed: await q("select count(*) filter (where json_extract(evidence, '$.close_wait') is not null)::INTEGER as with_json, count(*) filter (where close_wait is not null and close_wait = cast(json_extract(evidence, '$.close_wait') as BIGINT))::INTEGER as typed_equal from read_parquet('" + dir + "/findings.parquet')"),
  };
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`

// TestFleetParquetDuckDB reads the Parquet files back with DuckDB (the
// npm package @duckdb/node-api; .ci/run installs it) and checks them
// against the fleet's own numbers.
func TestFleetParquetDuckDB(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping the DuckDB check of the Parquet files (.ci/run installs nodejs and @duckdb/node-api)")
	}
	env := os.Environ()
	if os.Getenv("NODE_PATH") == "" {
		if root, err := exec.Command("npm", "root", "-g").Output(); err == nil {
			env = append(env, "NODE_PATH="+strings.TrimSpace(string(root)))
		}
	}
	probe := exec.Command(node, "-e", "require('@duckdb/node-api')")
	probe.Env = env
	if err := probe.Run(); err != nil {
		t.Skip("the npm package @duckdb/node-api is not installed (npm install -g @duckdb/node-api, or set NODE_PATH): skipping the DuckDB check of the Parquet files")
	}
	dir := t.TempDir()
	genFleet(t, dir, 100)
	genBothEnds(t, dir, 4)
	f := runFleetDir(t, dir, 2, nil)
	sum := SummarizeFleet(f)
	out := t.TempDir()
	if err := WriteFleetDir(out, f, sum, nil); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "read.js")
	if err := os.WriteFile(script, []byte(duckdbScript), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, script, out)
	cmd.Env = env
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, res)
	}
	var got struct {
		Hosts []struct {
			N         int
			CloseWait int `json:"close_wait"`
			TimeWait  int `json:"time_wait"`
			Critical  int
			Failed    int
		}
		Rules []struct {
			Rule  string
			Hosts int
		}
		Evidence []struct{ N int }
		Typed    []struct {
			WithJSON   int `json:"with_json"`
			TypedEqual int `json:"typed_equal"`
		}
		Columns []struct {
			ColumnName string `json:"column_name"`
		}
	}
	if err := json.Unmarshal(res, &got); err != nil {
		t.Fatalf("%v: %s", err, res)
	}
	var cw, tw, crit, findings int
	for _, h := range f.Hosts {
		cw += h.States["CLOSE_WAIT"]
		tw += h.States["TIME_WAIT"]
		crit += h.Critical
		findings += len(h.Findings)
	}
	if len(got.Hosts) != 1 {
		t.Fatalf("duckdb: %s", res)
	}
	h := got.Hosts[0]
	if h.N != len(f.Hosts) || h.CloseWait != cw || h.TimeWait != tw || h.Critical != crit || h.Failed != sum.Failed {
		t.Errorf("duckdb reads %+v; the fleet has %d hosts, %d CLOSE_WAIT, %d TIME_WAIT, %d critical, %d failed",
			h, len(f.Hosts), cw, tw, crit, sum.Failed)
	}
	if len(got.Rules) != len(sum.Rules) {
		t.Errorf("duckdb sees %d rules, the summary %d", len(got.Rules), len(sum.Rules))
	}
	for _, r := range got.Rules {
		if rs := sum.Rules[r.Rule]; rs == nil || rs.Hosts != r.Hosts {
			t.Errorf("rule %s: duckdb counts %d hosts, the summary %+v", r.Rule, r.Hosts, rs)
		}
	}
	if len(got.Typed) != 1 || got.Typed[0].WithJSON == 0 || got.Typed[0].TypedEqual != got.Typed[0].WithJSON {
		t.Errorf("duckdb: the typed close_wait column agrees with the evidence JSON in %+v (want all, and some)", got.Typed)
	}
	if len(got.Evidence) != 1 || got.Evidence[0].N != findings {
		t.Errorf("duckdb finds %v findings with valid JSON evidence, want %d", got.Evidence, findings)
	}
	var cols []string
	for _, c := range got.Columns {
		cols = append(cols, c.ColumnName)
	}
	if want := "host path os kernel sockets established syn_sent syn_recv fin_wait1 fin_wait2 time_wait close close_wait last_ack listen closing bound idle unknown critical warning info error"; strings.Join(cols, " ") != want {
		t.Errorf("hosts.parquet columns:\n%s\nwant\n%s", strings.Join(cols, " "), want)
	}
}

// BenchmarkFleet runs tcpsnap fleet's analysis over TCPSNAP_FLEET_N
// generated bundles (default 1,000):
//
//	TCPSNAP_FLEET_N=10000 go test ./analyze -run '^$' -bench BenchmarkFleet -benchtime 1x
func BenchmarkFleet(b *testing.B) {
	n := fleetN(b, 1000)
	dir := b.TempDir()
	genFleet(b, dir, n)
	jobs, err := ExpandFleet([]string{dir}, nil)
	if err != nil {
		b.Fatal(err)
	}
	specs := fleetRules(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := RunFleet(context.Background(), jobs, FleetOptions{Rules: specs, Timeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		SummarizeFleet(f)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "hosts/s")
}

// The fleet's HTML page draws a bar per rule and severity, escapes what
// the inputs say and loads nothing.
func TestFleetHTML(t *testing.T) {
	s := &FleetSummary{Hosts: 3, Failed: 1, RuleOrder: []string{"close-wait-leak"},
		Rules: map[string]*fleet.RuleSummary{"close-wait-leak": {Hosts: 2, Critical: 1, Warning: 1,
			Top: []fleet.TopHost{{Host: `<img src=x onerror=alert(1)>`, Severity: "critical", Title: "</svg><script>alert(2)</script>"}}}},
		FailedHosts: []fleet.FailedHost{{Path: "https://evil.example/x.tgz", Error: "<b>bad</b>"}}}
	var b bytes.Buffer
	if err := WriteFleetHTML(&b, s); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"<img", "<script", "<b>", `src="http`, `href="http`} {
		if strings.Contains(out, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	if n := strings.Count(out, "<rect data-bar"); n != 3 {
		t.Errorf("%d bars, want 3 (one rule, three severities)", n)
	}
	if !strings.Contains(out, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Error("the hostile host name is not shown as text")
	}
}

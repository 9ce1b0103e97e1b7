// Package samples_test runs tcpsnap end to end on the captures of real
// reproductions in this folder: each samples/<name>/ is one capture (made
// by repro/run.sh inside a network namespace), <name>.report.txt, .json,
// .md and .html its expected reports, and repro/expect.txt what a
// correct diagnosis must say. The same expectations are checked against
// each socket listing of a capture on its own, and — as root, with
// iproute2 and net-tools — against fresh reproductions.
package samples_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze"
	"github.com/tcpsnap/tcpsnap/rules"
)

var update = flag.Bool("update", false, "rewrite the expected reports")

// An expectation is one line of repro/expect.txt.
type expectation struct {
	scenario string
	none     bool // no warning or critical finding at all
	rule     string
	severity string
	attrs    map[string]string // process, port, dest
}

func (e expectation) String() string {
	if e.none {
		return e.scenario + ": none"
	}
	var keys []string
	for k := range e.attrs {
		keys = append(keys, k+"="+e.attrs[k])
	}
	sort.Strings(keys)
	return strings.TrimSpace(fmt.Sprintf("%s: %s %s %s", e.scenario, e.rule, e.severity, strings.Join(keys, " ")))
}

func readExpectations(t *testing.T) map[string][]expectation {
	t.Helper()
	f, err := os.Open(filepath.Join("repro", "expect.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]expectation{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("repro/expect.txt:%d: want <scenario>: <rule> ...", n)
		}
		e := expectation{scenario: strings.TrimSpace(name), attrs: map[string]string{}}
		for i, w := range strings.Fields(rest) {
			switch {
			case i == 0 && w == "none":
				e.none = true
			case i == 0:
				e.rule = w
			case analyze.SeverityRank(w) > 0:
				e.severity = w
			case strings.Contains(w, "="):
				k, v, _ := strings.Cut(w, "=")
				e.attrs[k] = v
			default:
				t.Fatalf("repro/expect.txt:%d: unknown word %q", n, w)
			}
		}
		out[e.scenario] = append(out[e.scenario], e)
	}
	return out
}

func compileRules(t testing.TB) []*analyze.Rule {
	t.Helper()
	specs, err := rules.Load(rules.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := analyze.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// check reports how rep fails e ("" when it holds). withOwners says
// whether the input could name processes at all.
func check(rep *analyze.Report, e expectation) string {
	if e.none {
		for _, f := range rep.Findings {
			if analyze.SeverityRank(f.Severity) >= analyze.SeverityRank(analyze.Warning) {
				return fmt.Sprintf("want no warning or critical finding, got [%s] %s: %s", f.Severity, f.Rule, f.Title)
			}
		}
		return ""
	}
	var seen []string
	for _, f := range rep.Findings {
		if f.Rule != e.rule {
			continue
		}
		seen = append(seen, fmt.Sprintf("[%s] %s", f.Severity, f.Title))
		if e.severity != "" && f.Severity != e.severity {
			continue
		}
		if p, ok := e.attrs["process"]; ok && rep.Summary.Processes > 0 && f.Subject.Process != p {
			continue
		}
		if p, ok := e.attrs["port"]; ok && strconv.Itoa(f.Subject.LocalPort) != p && !strings.Contains(f.Title, ":"+p) {
			continue
		}
		if d, ok := e.attrs["dest"]; ok && f.Subject.Remote != d && !strings.Contains(f.Title, d) {
			continue
		}
		return ""
	}
	if len(seen) == 0 {
		return "no " + e.rule + " finding"
	}
	return "no " + e.rule + " finding matches; got " + strings.Join(seen, "; ")
}

// scenarios lists the capture folders.
func scenarios(t *testing.T) []string {
	t.Helper()
	dirs, _ := filepath.Glob("*/scenario.txt")
	var out []string
	for _, d := range dirs {
		out = append(out, filepath.Dir(d))
	}
	if len(out) == 0 {
		t.Fatal("no samples found")
	}
	return out
}

func analyzeInputs(t *testing.T, rs []*analyze.Rule, inputs ...string) *analyze.Report {
	t.Helper()
	snap, err := analyze.Load(inputs, analyze.Options{})
	if err != nil {
		t.Fatalf("load %v: %v", inputs, err)
	}
	rep := analyze.Run(snap, rs)
	for _, p := range rep.Problems {
		if strings.Contains(p.Message, "rule ") {
			t.Errorf("%v: a rule failed: %s", inputs, p)
		}
	}
	return rep
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./samples -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the report; run go test ./samples -update and review the diff", path)
	}
}

// TestSamples checks each whole capture against its expected reports and
// expectations.
func TestSamples(t *testing.T) {
	rs := compileRules(t)
	expect := readExpectations(t)
	for _, name := range scenarios(t) {
		t.Run(name, func(t *testing.T) {
			if len(expect[name]) == 0 {
				t.Fatalf("repro/expect.txt has no line for %s", name)
			}
			rep := analyzeInputs(t, rs, name)
			var text, js, md, page bytes.Buffer
			if err := analyze.WriteText(&text, rep); err != nil {
				t.Fatal(err)
			}
			if err := analyze.WriteJSON(&js, rep); err != nil {
				t.Fatal(err)
			}
			if err := analyze.WriteMarkdown(&md, rep); err != nil {
				t.Fatal(err)
			}
			if err := analyze.WriteHTML(&page, rep); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name+".report.txt", text.Bytes())
			checkGolden(t, name+".report.json", js.Bytes())
			checkGolden(t, name+".report.md", md.Bytes())
			checkGolden(t, name+".report.html", page.Bytes())
			for _, e := range expect[name] {
				if !e.shownBy("") {
					continue
				}
				if msg := check(rep, e); msg != "" {
					t.Errorf("%s: %s", e, msg)
				}
			}
		})
	}
}

// contextFiles are the host files a listing is analyzed with when it is
// checked on its own: settings and counters, no other socket table. In a
// two-sample capture (samples/N/ and manifest.json) the listing and the
// counters are taken from every sample, the rest from the root.
var contextFiles = []string{"manifest.json", "sysctl.txt", "processes.txt", "etc/nsswitch.conf",
	"proc/net/snmp", "proc/net/netstat", "proc/net/sockstat", "proc/net/sockstat6"}

// sampleDirs returns the sample folders of a capture relative to it
// ("samples/0", "samples/1", ...), or "" for a single-sample capture.
func sampleDirs(name string) []string {
	dirs, _ := filepath.Glob(filepath.Join(name, "samples", "[0-9]*"))
	if len(dirs) == 0 {
		return []string{""}
	}
	out := []string{""}
	for _, d := range dirs {
		rel, _ := filepath.Rel(name, d)
		out = append(out, rel)
	}
	return out
}

// listings are the socket tables of a capture; each is checked alone.
var listings = [][]string{
	{"ss-tanpoeim.txt"}, {"ss-tan.txt"}, {"netstat-antpo.txt"}, {"netstat-ant.txt"},
	{"proc/net/tcp", "proc/net/tcp6"},
}

// TestSamplesEachListing checks that every socket listing of a capture,
// on its own with the host's settings and counters, gives the diagnosis.
func TestSamplesEachListing(t *testing.T) {
	rs := compileRules(t)
	expect := readExpectations(t)
	for _, name := range scenarios(t) {
		for _, l := range listings {
			t.Run(name+"/"+strings.Join(l, "+"), func(t *testing.T) {
				dir := t.TempDir()
				var files []string
				for _, sd := range sampleDirs(name) {
					for _, f := range append(append([]string{}, l...), contextFiles...) {
						files = append(files, filepath.Join(sd, f))
					}
				}
				for _, f := range files {
					data, err := os.ReadFile(filepath.Join(name, f))
					if err != nil {
						continue
					}
					dst := filepath.Join(dir, f)
					if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(dst, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				rep := analyzeInputs(t, rs, dir)
				for _, e := range expect[name] {
					if !e.shownBy(l[0]) {
						continue
					}
					if msg := check(rep, e); msg != "" {
						t.Errorf("%s: %s", e, msg)
					}
				}
			})
		}
	}
}

// shownBy says whether the listing file (checked on its own) can show e:
// an expectation with listings=a,b is only checked against those listings
// (and against the whole capture, listing "", unless capture=no: what a
// poorer listing alone must conclude instead).
func (e expectation) shownBy(listing string) bool {
	if listing == "" { // the whole capture
		return e.attrs["capture"] != "no"
	}
	only, ok := e.attrs["listings"]
	if !ok {
		return true
	}
	for _, l := range strings.Split(only, ",") {
		if l == listing {
			return true
		}
	}
	return false
}

// TestReproduceLive re-creates every pathology in fresh network
// namespaces with repro/run_all.sh and checks the diagnosis of the new
// captures. It needs root, iproute2 and net-tools; CI has them.
// TCPSNAP_LIVE_SCENARIOS="a b ..." limits it to those scenarios.
func TestReproduceLive(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	for _, tool := range []string{"ip", "ss", "netstat", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	out := t.TempDir()
	only := strings.Fields(os.Getenv("TCPSNAP_LIVE_SCENARIOS"))
	cmd := exec.Command("bash", append([]string{"repro/run_all.sh", out}, only...)...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		t.Fatalf("repro/run_all.sh: %v\n%s", err, log.String())
	}
	rs := compileRules(t)
	expect := readExpectations(t)
	for _, name := range scenarios(t) {
		t.Run(name, func(t *testing.T) {
			if len(only) > 0 && !slices.Contains(only, name) {
				t.Skip("not in TCPSNAP_LIVE_SCENARIOS")
			}
			dir := filepath.Join(out, name)
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("no fresh capture for %s: %v\n%s", name, err, log.String())
			}
			rep := analyzeInputs(t, rs, dir)
			for _, e := range expect[name] {
				if !e.shownBy("") {
					continue
				}
				if msg := check(rep, e); msg != "" {
					t.Errorf("%s: %s", e, msg)
				}
			}
		})
	}
}

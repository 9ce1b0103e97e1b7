package analyze

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/internal/golden"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/formats"
	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
	"github.com/tcpsnap/tcpsnap/analyze/report"
	"github.com/tcpsnap/tcpsnap/analyze/ticket"
	"github.com/tcpsnap/tcpsnap/rules"
)

// dumpSnapshot renders what Load made of an input: sources with their
// segment lines, samples with states and counts, notes and problems.
func dumpSnapshot(s *model.Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "collector %q os %q\n", s.Host.Collector, s.Host.OS)
	for _, src := range s.Sources {
		fmt.Fprintf(&b, "source %s format=%s confidence=%d sample=%d sockets=%d role=%s lines=%s command=%q\n",
			filepath.ToSlash(filepath.Base(src.Path)), src.Format, src.Confidence, src.Sample, src.Sockets, src.Role, src.Lines, src.Command)
	}
	for i, smp := range s.Samples {
		st := map[string]int{}
		for j := range smp.Sockets {
			st[smp.Sockets[j].State.String()]++
		}
		fmt.Fprintf(&b, "sample %d time=%s sockets=%d\n", i, smp.Time.Format("2006-01-02T15:04:05Z"), len(smp.Sockets))
		for _, k := range model.SortedKeys(st) {
			fmt.Fprintf(&b, "  state %s %d\n", k, st[k])
		}
		for _, k := range model.SortedKeys(smp.StateCounts) {
			fmt.Fprintf(&b, "  count %s %d\n", k, smp.StateCounts[k])
		}
		for _, k := range model.SortedKeys(smp.OwnerCounts) {
			for _, o := range model.SortedKeys(smp.OwnerCounts[k]) {
				fmt.Fprintf(&b, "  owner-count %s %s %d\n", k, o, smp.OwnerCounts[k][o])
			}
		}
		for _, k := range model.SortedKeys(smp.Counters) {
			fmt.Fprintf(&b, "  counter %s %d\n", k, smp.Counters[k])
		}
	}
	for _, k := range model.SortedKeys(s.Sysctls) {
		fmt.Fprintf(&b, "sysctl %s = %s\n", k, s.Sysctls[k])
	}
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "note %s\n", n)
	}
	for _, p := range s.Problems {
		p.Path = filepath.Base(p.Path)
		fmt.Fprintf(&b, "problem %s\n", p)
	}
	return b.String()
}

// TestTicketGoldens loads every testdata/tickets file (whole tickets and
// forum posts with listings among prose) and compares what was extracted
// with <name>.golden.
func TestTicketGoldens(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "tickets", "*"))
	n := 0
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden") || strings.HasSuffix(in, ".md") && strings.HasPrefix(filepath.Base(in), "PROVENANCE") {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			snap, err := Load([]string{in}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, in+".golden", []byte(dumpSnapshot(snap)))
		})
	}
	if n < 5 {
		t.Fatalf("only %d tickets", n)
	}
}

// TestCountsOnlyReport runs the built-in rules on a uniq -c ticket: the
// CLOSE_WAIT leak is found from counts alone and the report says so.
func TestCountsOnlyReport(t *testing.T) {
	specs, err := rules.Load(rules.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := engine.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join("testdata", "tickets", "uniq-counts.txt")
	snap, err := Load([]string{in}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := engine.Run(snap, compiled)
	var b bytes.Buffer
	if err := report.WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "counts-only.report.golden"), b.Bytes())
	found := false
	for _, f := range rep.Findings {
		if f.Rule == "close-wait-leak" && f.Subject.PID == 8166 && f.CountsOnly {
			found = true
		}
	}
	if !found {
		t.Errorf("close-wait-leak on java (pid 8166) from counts not found:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "counts alone") {
		t.Error("report does not say the diagnosis came from counts alone")
	}
}

func TestPromptCommand(t *testing.T) {
	for _, c := range []struct {
		line, cmd string
		win, ok   bool
	}{
		{"$ netstat -ant", "netstat -ant", false, true},
		{"# ss -tanp", "ss -tanp", false, true},
		{"# Problem", "", false, false},
		{"[root@app01 ~]# ss -s", "ss -s", false, true},
		{"user@host:~$ cat /proc/net/tcp", "cat /proc/net/tcp", false, true},
		{`PS C:\> netstat -ano`, "netstat -ano", true, true},
		{`C:\Users\bob>netstat -an`, "netstat -an", true, true},
		{"tcp 0 0 10.0.0.1:22 10.0.0.2:5000 ESTABLISHED", "", false, false},
		{"    1530 times the listen queue of a socket overflowed", "", false, false},
	} {
		cmd, win, ok := ticket.PromptCommand(c.line)
		if cmd != c.cmd || win != c.win || ok != c.ok {
			t.Errorf("promptCommand(%q) = %q %v %v, want %q %v %v", c.line, cmd, win, ok, c.cmd, c.win, c.ok)
		}
	}
}

func TestCommandFormats(t *testing.T) {
	for _, c := range []struct {
		cmd  string
		win  bool
		want string
	}{
		{"ss -tanp", false, "ss"},
		{"sudo ss -s", false, "ss-summary"},
		{"netstat -ano", true, "netstat-windows"},
		{"netstat -ant", false, "netstat-linux"},
		{"netstat -s", false, ""},
		{"cat /proc/net/tcp6", false, "proc-net-tcp"},
		{"netstat -nat | awk '{print $6}' | sort | uniq -c", false, "uniq-counts"},
		{"/usr/sbin/ss -nap", false, "ss"},
		{"uptime", false, ""},
	} {
		got := ""
		if fs := ticket.CommandFormats(c.cmd, c.win); len(fs) > 0 {
			got = fs[0].Name
		}
		if got != c.want {
			t.Errorf("commandFormats(%q) = %q, want %q", c.cmd, got, c.want)
		}
	}
}

func TestStateOfCommand(t *testing.T) {
	for cmd, want := range map[string]string{
		"netstat -apn | grep CLOSE_WAIT | awk '{print $7}' | sort | uniq -c": "CLOSE_WAIT",
		"ss -tanp state close-wait":         "CLOSE_WAIT",
		"netstat -an | grep -c TIME_WAIT":   "TIME_WAIT",
		"netstat -apn | grep java":          "",
		"ss -tan | awk '{print $1}' | sort": "",
	} {
		if got := formats.StateOfCommand(cmd); got != want {
			t.Errorf("stateOfCommand(%q) = %q, want %q", cmd, got, want)
		}
	}
}

func TestLooksProse(t *testing.T) {
	for line, want := range map[string]bool{
		"We already lowered tcp_fin_timeout but it did not help.":                    true,
		"Here is what we see right before it hangs:":                                 true,
		"Proto Recv-Q Send-Q Local Address           Foreign Address         State":  false,
		"tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN": false,
		"State      Recv-Q Send-Q   Local Address:Port     Peer Address:Port":        false,
		"   3856 CLOSE_WAIT":       false,
		"net.core.somaxconn = 128": false,
	} {
		if got := ticket.LooksProse(line); got != want {
			t.Errorf("looksProse(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestUniqCountsDetect(t *testing.T) {
	for _, c := range []struct {
		text string
		want string
	}{
		{"      1 established)\n      1 Foreign\n   3856 CLOSE_WAIT\n    212 ESTABLISHED\n", "uniq-counts"},
		{"    412 ESTAB\n     12 LISTEN\n      3 TIME-WAIT\n      1 State\n", "uniq-counts"},
		{"   3856 8166/java\n     12 912/sshd\n", "uniq-counts"},
	} {
		best, all := formats.Detect(parse.HeadLines([]byte(c.text)))
		if best == nil || best.Format.Name != c.want {
			t.Errorf("detect(%q) = %v, want %s (%v)", c.text, best, c.want, all)
		}
	}
}

// TestCleanListingKeepsFastPath: a clean listing is one source under its
// own name, not a segment.
func TestCleanListingKeepsFastPath(t *testing.T) {
	for _, in := range []string{
		filepath.Join("formats", "testdata", "ss", "tan.txt"),
		filepath.Join("formats", "testdata", "netstat-windows", "ab-en.txt"),   // starts with a blank line
		filepath.Join("formats", "testdata", "sysctl", "sysctl-a-excerpt.txt"), // scores below 90
	} {
		snap, err := Load([]string{in}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range snap.Sources {
			if strings.Contains(s.Path, "#segment") {
				t.Errorf("%s: clean listing was split: %+v", in, s)
			}
		}
	}
}

// TestLargePasteSkipsSplitter: texts over maxExtractBytes are parsed whole
// even when they do not start cleanly.
func TestLargePasteSkipsSplitter(t *testing.T) {
	var b strings.Builder
	b.WriteString("$ ss -tan\nState Recv-Q Send-Q Local Address:Port Peer Address:Port\n")
	for i := 0; b.Len() <= ticket.MaxExtractBytes; i++ {
		fmt.Fprintf(&b, "ESTAB 0 0 10.0.%d.%d:443 192.0.2.%d:%d\n", i>>16&255, i>>8&255, i&255, 1024+i%60000)
	}
	snap, err := Load([]string{"-"}, Options{Stdin: strings.NewReader(b.String())})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Sources) != 1 || strings.Contains(snap.Sources[0].Path, "#segment") || snap.Sources[0].Sockets < 50000 {
		t.Errorf("sources %+v", snap.Sources)
	}
}

// TestNothingRecognizedSaysWhy: the error lists the formats with their
// scores and, for the closest, the line that did not fit.
func TestNothingRecognizedSaysWhy(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "notes.txt")
	os.WriteFile(p, []byte("Dear support,\nthe server is slow again.\nRegards\n"), 0o644)
	_, err := Load([]string{p}, Options{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"netstat-linux", "score 0", `first line "Dear support," fits none`, "--input-format"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	head := []string{"   3856 CLOSE_WAIT", "    212 ESTABLISHED", "and then it hung"}
	if got := rejectReason(formats.UniqCountsFormat, head); !strings.Contains(got, `"and then it hung" did not fit`) {
		t.Errorf("rejectReason = %q", got)
	}
	msg := describeScores([]parse.Detection{{Format: formats.UniqCountsFormat, Score: 20}, {Format: linux.SSFormat, Score: 0}}, head)
	if !strings.Contains(msg, "uniq-counts            score  20  line") || !strings.Contains(msg, "score 0 (nothing of theirs matched): ss") {
		t.Errorf("describeScores:\n%s", msg)
	}
}

// FuzzExtract: the splitter never panics, segments are in order, inside
// the text, and their lines are the text's lines.
func FuzzExtract(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "tickets", "*"))
	for _, s := range seeds {
		if strings.HasSuffix(s, ".golden") {
			continue
		}
		data, _ := os.ReadFile(s)
		f.Add(data)
	}
	f.Add([]byte("TS 1705314601.003 2024-01-15 10:30:01\ntcp 0 0 10.0.0.1:22 10.0.0.2:5000 ESTABLISHED\n"))
	f.Add([]byte("#==[ Command ]===#\n# /bin/ss -nap\nNetid State\n"))
	f.Add([]byte("> > ```\n> $ ss -s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		segs := ticket.ExtractSegments(data)
		n := strings.Count(string(data), "\n") + 1
		last := 0
		for _, s := range segs {
			if s.First <= last || s.Last < s.First || s.Last > n || len(s.Lines) != s.Last-s.First+1 {
				t.Fatalf("bad segment %d-%d (%d lines) after %d in %d lines", s.First, s.Last, len(s.Lines), last, n)
			}
			if s.Format == nil {
				t.Fatal("segment without format")
			}
			var l model.Listing
			_ = s.Format.Parse(bytes.NewReader(s.Text()), &l)
			last = s.Last
		}
	})
}

// TestBundleGoldens loads each foreign bundle fixture (sosreport,
// supportconfig, pt-stalk, OSWatcher) and compares what was made of it.
func TestBundleGoldens(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "bundles", "*"))
	want := map[string]string{"sosreport-app01-2024-01-15": "sosreport", "scc_sles15sp5_240115_1030": "supportconfig",
		"pt-stalk-db2": "pt-stalk", "oswbb": "oswatcher"}
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		name := filepath.Base(d)
		t.Run(name, func(t *testing.T) {
			snap, err := Load([]string{d}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if snap.Host.Collector != want[name] {
				t.Errorf("collector %q, want %q", snap.Host.Collector, want[name])
			}
			golden.Check(t, d+".golden", []byte(dumpSnapshot(snap)))
		})
	}
}

// BenchmarkExtractWorstCase measures ticket extraction on the worst
// shapes at its size limit (one line kind repeated over 4 MiB). Speed is
// proven by this benchmark, not by a timed assertion: go test ./analyze
// -run XXX -bench ExtractWorstCase.
func BenchmarkExtractWorstCase(b *testing.B) {
	for _, name := range []string{"paragraphs", "prose", "prompts", "quotes", "rows"} {
		unit := worstCaseUnits[name]
		data := bytes.Repeat([]byte(unit), ticket.MaxExtractBytes/len(unit))
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				ticket.ExtractSegments(data)
			}
		})
	}
}

var worstCaseUnits = map[string]string{
	"paragraphs": "a b\n\n",
	"prose":      "we see that it does not work at all here.\n",
	"prompts":    "$ ss -tan\n",
	"quotes":     "> > > tcp 0 0 1.2.3.4:5 6.7.8.9:10 ESTABLISHED\n",
	"rows":       "   3 CLOSE_WAIT\n",
}

// TestSosreportTarball: the same sosreport as a .tar.gz
// (how customers attach it) is recognized the same way.
func TestSosreportTarball(t *testing.T) {
	dir := filepath.Join("testdata", "bundles", "sosreport-app01-2024-01-15")
	out := filepath.Join(t.TempDir(), "sosreport.tar.gz")
	if err := tarGz(out, dir, "sosreport-app01-2024-01-15"); err != nil {
		t.Fatal(err)
	}
	snap, err := Load([]string{out}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Host.Collector != "sosreport" || len(snap.Latest().Sockets) != 28 || len(snap.Notes) != 2 {
		t.Errorf("collector %q, %d sockets, notes %q", snap.Host.Collector, len(snap.Latest().Sockets), snap.Notes)
	}
}

func tarGz(out, dir, prefix string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr := &tar.Header{Name: prefix + "/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

package analyze

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHealthyPartialViewsQuiet: a healthy host pasted in the views that
// cannot show listeners must raise no warning or critical finding. The
// Linux views are real captures (samples/healthy-partial, made by
// samples/repro/run.sh healthy-partial); the Windows `netstat -n` and
// macOS `netstat -n -p tcp` views are the same sockets written in those
// layouts, since neither system can be captured here.
func TestHealthyPartialViewsQuiet(t *testing.T) {
	dir := filepath.Join("..", "samples", "healthy-partial")
	views, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	var inputs []string
	for _, v := range views {
		if b := filepath.Base(v); b != "scenario.txt" && b != "sysctl.txt" && b != "processes.txt" {
			inputs = append(inputs, v)
		}
	}
	if len(inputs) < 5 {
		t.Fatalf("want the 5 partial views in %s, found %v", dir, inputs)
	}
	rows := readRows(t, filepath.Join(dir, "netstat-tn.txt"))
	tmp := t.TempDir()
	win := "\r\nActive Connections\r\n\r\n  Proto  Local Address          Foreign Address        State\r\n"
	mac := "Active Internet connections\nProto Recv-Q Send-Q  Local Address          Foreign Address        (state)    \n"
	for _, r := range rows {
		win += fmt.Sprintf("  TCP    %-22s %-22s %s\r\n", r[0], r[1], r[2])
		mac += fmt.Sprintf("tcp4       0      0  %-22s %-22s %s\n", dotPort(r[0]), dotPort(r[1]), r[2])
	}
	for name, text := range map[string]string{"windows-netstat-n.txt": win, "macos-netstat-n-p-tcp.txt": mac} {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, p)
	}
	rs := builtinRulesForTest(t)
	for _, in := range inputs {
		snap, err := Load([]string{in}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if snap.Host.OS == "" && strings.Contains(in, "windows") {
			t.Errorf("%s: OS not recognized", in)
		}
		rep := Run(snap, rs)
		if rep.Snapshot.Sockets < 10 {
			t.Errorf("%s: %d sockets read", in, rep.Snapshot.Sockets)
		}
		for _, f := range rep.Findings {
			if f.Severity == Warning || f.Severity == Critical {
				t.Errorf("%s: healthy host, but [%s] %s", filepath.Base(in), f.Severity, f.Title)
			}
		}
		listeners := false
		for _, g := range rep.CouldNotCheck {
			listeners = listeners || strings.Contains(g.What, "listening")
		}
		if !listeners {
			t.Errorf("%s: the report does not say that listeners could not be checked", filepath.Base(in))
		}
	}
}

// readRows returns local, remote and state of each row of a netstat -tn listing.
func readRows(t *testing.T, path string) [][3]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][3]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 6 && strings.HasPrefix(fs[0], "tcp") {
			out = append(out, [3]string{fs[3], fs[4], fs[5]})
		}
	}
	return out
}

// dotPort writes 127.0.0.1:5432 as BSD netstat does: 127.0.0.1.5432.
func dotPort(ep string) string {
	i := strings.LastIndexByte(ep, ':')
	return strings.Trim(ep[:i], "[]") + "." + ep[i+1:]
}

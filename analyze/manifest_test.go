package analyze

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/report"
	"github.com/tcpsnap/tcpsnap/rules"
)

func builtinRulesForTest(t *testing.T) []*engine.Rule {
	t.Helper()
	specs, err := rules.Load(rules.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := engine.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestManifestToReport: what the collector could not collect, and why,
// reaches the report: manifest notes become report notes, a non-root
// collection is marked, failed sources become problems.
func TestManifestToReport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	manifest := func(root bool) string {
		r := "false"
		if root {
			r = "true"
		}
		return `{"format": "tcpsnap.bundle/v1", "version": "test",
 "host": {"hostname": "h1", "os": "linux", "kernel": "6.1.0"},
 "start": "2026-01-02T03:04:05Z", "end": "2026-01-02T03:04:06Z", "root": ` + r + `,
 "samples": [{"index": 0, "dir": "samples/0", "time": "2026-01-02T03:04:05Z", "elapsed_seconds": 0}],
 "sources": [
  {"path": "", "command": "netstat -antpo", "exit_status": -1, "duration_ms": 1, "bytes": 0, "error": "exec: \"netstat\": executable file not found in $PATH", "sample": 0},
  {"path": "samples/0/proc/net/tcp", "file": "/proc/net/tcp", "exit_status": 0, "duration_ms": 1, "bytes": 300, "sample": 0}],
 "notes": ["platform linux: per sample ss -tanpoeim; once /proc/sys",
  "not running as root: the pids and fds of other users' sockets are missing",
  "inet_diag not loaded: used /proc/net/tcp instead of ss to avoid loading a kernel module",
  "ss and netstat unavailable: the socket table is /proc/net/tcp{,6} alone (owners from /proc/*/fd)"]}
`
	}
	write("samples/0/proc/net/tcp", `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0
`)
	rs := builtinRulesForTest(t)
	for _, root := range []bool{false, true} {
		write("manifest.json", manifest(root))
		snap, err := Load([]string{dir}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rep := engine.Run(snap, rs)
		notes := strings.Join(rep.Notes, "\n")
		if rep.Snapshot.Host.NonRoot == root {
			t.Errorf("root=%v: Host.NonRoot = %v", root, rep.Snapshot.Host.NonRoot)
		}
		if strings.Contains(notes, NoteNonRoot) == root {
			t.Errorf("root=%v: notes:\n%s", root, notes)
		}
		for _, want := range []string{
			"collector: inet_diag not loaded: used /proc/net/tcp instead of ss",
			"collector: ss and netstat unavailable",
		} {
			if !strings.Contains(notes, want) {
				t.Errorf("root=%v: notes lack %q:\n%s", root, want, notes)
			}
		}
		if strings.Contains(notes, "platform linux") || strings.Contains(notes, "not running as root") {
			t.Errorf("root=%v: notes keep the platform description or the collector's root note:\n%s", root, notes)
		}
		found := false
		for _, p := range rep.Problems {
			found = found || p.Path == "manifest.json" && strings.Contains(p.Message, "netstat -antpo") && strings.Contains(p.Message, "not found")
		}
		if !found {
			t.Errorf("root=%v: the failed netstat is not a problem: %v", root, rep.Problems)
		}
		var text, js bytes.Buffer
		if err := report.WriteText(&text, rep); err != nil {
			t.Fatal(err)
		}
		if err := report.WriteJSON(&js, rep); err != nil {
			t.Fatal(err)
		}
		if !root {
			if !strings.Contains(text.String(), "collected without root") || !strings.Contains(text.String(), "process ownership incomplete") {
				t.Errorf("text report:\n%s", text.String())
			}
			if !strings.Contains(js.String(), `"non_root": true`) {
				t.Errorf("JSON report lacks non_root:\n%s", js.String())
			}
		}
		if !strings.Contains(text.String(), "inet_diag not loaded") {
			t.Errorf("root=%v: text report lacks the collector's note:\n%s", root, text.String())
		}
	}
}

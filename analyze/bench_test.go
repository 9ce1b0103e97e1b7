package analyze_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze"
	"github.com/tcpsnap/tcpsnap/rules"
)

// writeListing generates an n-socket listing resembling a busy host: a
// few listeners, a java process with a CLOSE_WAIT leak, clients in
// TIME_WAIT churn toward a database, and established traffic.
// format is "ss" (ss -tanp), "netstat" (netstat -antp) or "proc"
// (/proc/net/tcp, what tcpsnap collect saves on hosts this busy).
func writeListing(tb testing.TB, path, format string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	writeHeader(w, format)
	states := []struct{ ss, netstat string }{
		{"ESTAB", "ESTABLISHED"}, {"TIME-WAIT", "TIME_WAIT"}, {"CLOSE-WAIT", "CLOSE_WAIT"},
		{"TIME-WAIT", "TIME_WAIT"}, {"ESTAB", "ESTABLISHED"}, {"FIN-WAIT-2", "FIN_WAIT2"},
	}
	for i := 0; i < n; i++ {
		st := states[i%len(states)]
		local := fmt.Sprintf("10.0.0.%d:%d", 1+i%2, 32768+i%28000)
		remote := fmt.Sprintf("192.0.2.%d:%d", i%200, []int{5432, 443, 8443, 6379}[i%4])
		proc, rq := "", 0
		switch st.ss {
		case "ESTAB":
			proc = fmt.Sprintf(`users:(("java",pid=%d,fd=%d))`, 8166+i%3, 10+i%60000)
		case "CLOSE-WAIT":
			proc, rq = fmt.Sprintf(`users:(("java",pid=8166,fd=%d))`, 10+i%60000), i%2
			local, remote = fmt.Sprintf("10.0.0.1:%d", 8443), fmt.Sprintf("198.51.100.%d:%d", i%250, 32768+i%28000)
		}
		switch format {
		case "ss":
			fmt.Fprintf(w, "%-10s %-6d %-6d %22s %22s %s\n", st.ss, rq, 0, local, remote, proc)
			continue
		case "proc":
			code := map[string]int{"ESTAB": 1, "TIME-WAIT": 6, "CLOSE-WAIT": 8, "FIN-WAIT-2": 5}[st.ss]
			fmt.Fprintf(w, "%4d: %s %s %02X %08X:%08X 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n",
				i, procHex(local), procHex(remote), code, 0, rq, 100000+i)
			continue
		}
		pp := "-"
		switch {
		case st.ss == "CLOSE-WAIT":
			pp = "8166/java"
		case proc != "":
			pp = fmt.Sprintf("%d/java", 8166+i%3)
		}
		fmt.Fprintf(w, "tcp   %6d %6d %-23s %-23s %-11s %s\n", rq, 0, local, remote, st.netstat, pp)
	}
	switch format {
	case "ss":
		fmt.Fprintln(w, "LISTEN     0      128             0.0.0.0:8443            0.0.0.0:*     users:((\"java\",pid=8166,fd=5))")
	case "proc":
		fmt.Fprintln(w, "   0: 00000000:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 99 1 0000000000000000 100 0 0 10 0")
	default:
		fmt.Fprintln(w, "tcp        0      0 0.0.0.0:8443            0.0.0.0:*               LISTEN      8166/java")
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// writeHeader writes a generated listing's header lines.
func writeHeader(w io.Writer, format string) {
	switch format {
	case "ss":
		fmt.Fprintln(w, "State      Recv-Q Send-Q     Local Address:Port       Peer Address:Port Process")
	case "proc":
		fmt.Fprintln(w, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode")
	default:
		fmt.Fprintln(w, "Active Internet connections (servers and established)")
		fmt.Fprintln(w, "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name")
	}
}

// benchAnalyze measures the whole analysis — read, detect, parse,
// attribute, aggregate, run every built-in rule, render the report — of a
// 1,000,000-socket listing. Compare with the same file through
// awk '{print $6}' | sort | uniq -c (see the README's numbers).
func benchAnalyze(b *testing.B, format string) {
	path := filepath.Join(b.TempDir(), format+".txt")
	writeListing(b, path, format, 1_000_000)
	st, _ := os.Stat(path)
	specs, err := rules.Load(rules.Builtin())
	if err != nil {
		b.Fatal(err)
	}
	rs, err := analyze.Compile(specs)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		snap, err := analyze.Load([]string{path}, analyze.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rep := analyze.Run(snap, rs)
		if rep.Snapshot.Sockets != 1_000_001 {
			b.Fatalf("got %d sockets", rep.Snapshot.Sockets)
		}
		if err := analyze.WriteText(discard{}, rep); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkAnalyze1MSS(b *testing.B)      { benchAnalyze(b, "ss") }
func BenchmarkAnalyze1MNetstat(b *testing.B) { benchAnalyze(b, "netstat") }
func BenchmarkAnalyze1MProc(b *testing.B)    { benchAnalyze(b, "proc") }

// procHex writes "10.0.0.1:8443" as /proc/net/tcp prints it on a
// little-endian host: "0100000A:20FB".
func procHex(ep string) string {
	ap := netip.MustParseAddrPort(ep)
	if ap.Addr().Is6() { // /proc/net/tcp6: four 32-bit words, each in the host's (little-endian) order
		a := ap.Addr().As16()
		var b strings.Builder
		for w := 0; w < 16; w += 4 {
			fmt.Fprintf(&b, "%02X%02X%02X%02X", a[w+3], a[w+2], a[w+1], a[w])
		}
		return fmt.Sprintf("%s:%04X", b.String(), ap.Port())
	}
	a := ap.Addr().As4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0], ap.Port())
}

// benchAwk measures the baseline on the same generated file: the state
// count people type today, awk '{print $6}' FILE | sort | uniq -c. Run
// both with go test -bench '1M' ./analyze and compare ns/op.
func benchAwk(b *testing.B, format string) {
	for _, tool := range []string{"sh", "awk", "sort", "uniq"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skip(tool + " not installed")
		}
	}
	path := filepath.Join(b.TempDir(), format+".txt")
	writeListing(b, path, format, 1_000_000)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command("sh", "-c", `awk '{print $6}' "$1" | sort | uniq -c`, "sh", path)
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		if out.Len() == 0 {
			b.Fatal("no output")
		}
	}
}

func BenchmarkAwkSortUniq1MSS(b *testing.B)      { benchAwk(b, "ss") }
func BenchmarkAwkSortUniq1MNetstat(b *testing.B) { benchAwk(b, "netstat") }

// TestGeneratedListingsDiagnosed keeps the benchmark honest: a small
// version of the generated listing must parse fully and be diagnosed.
func TestGeneratedListingsDiagnosed(t *testing.T) {
	specs, _ := rules.Load(rules.Builtin())
	rs, err := analyze.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"ss", "netstat", "proc"} {
		path := filepath.Join(t.TempDir(), format+".txt")
		writeListing(t, path, format, 6000)
		snap, err := analyze.Load([]string{path}, analyze.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rep := analyze.Run(snap, rs)
		if rep.Snapshot.Sockets != 6001 || len(rep.Problems) > 0 {
			t.Fatalf("%s: %d sockets, problems %v", format, rep.Snapshot.Sockets, rep.Problems)
		}
		found := false
		for _, f := range rep.Findings {
			// /proc/net/tcp names no processes: the leak is on the port.
			if f.Rule == "close-wait-leak" && (f.Subject.PID == 8166 || format == "proc" && f.Subject.LocalPort == 8443) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no close-wait-leak finding for pid 8166 (or :8443)", format)
		}
	}
}

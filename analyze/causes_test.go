package analyze

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
)

// TestOneFindingPerCause: workers of one program with the same problem
// are one finding naming the others; different programs stay apart.
func TestOneFindingPerCause(t *testing.T) {
	rs := builtinRulesForTest(t)
	listing := func(progs ...string) string {
		var b strings.Builder
		b.WriteString("State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n")
		b.WriteString(`LISTEN 0 511 0.0.0.0:443 0.0.0.0:* users:(("nginx",pid=3000,fd=6))` + "\n")
		for w, prog := range progs {
			for i := 0; i < 30; i++ {
				fmt.Fprintf(&b, "CLOSE-WAIT 0 0 10.0.0.1:443 192.0.2.%d:%d users:((%q,pid=%d,fd=%d))\n", 1+w, 40000+i, prog, 3001+w, 10+i)
			}
		}
		return b.String()
	}
	cases := []struct {
		name      string
		progs     []string
		findings  int // close-wait-leak findings
		alsoCount int // of the first
		title     string
	}{
		{"eight workers of one program", []string{"nginx", "nginx", "nginx", "nginx", "nginx", "nginx", "nginx", "nginx"}, 1, 7, "the same in 7 more nginx processes (pid "},
		{"two programs", []string{"nginx", "php-fpm"}, 2, 0, ""},
		{"one process", []string{"nginx"}, 1, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := analyzeText(t, rs, "ss.txt", listing(tc.progs...))
			var got []engine.Finding
			for _, f := range rep.Findings {
				if f.Rule == "close-wait-leak" {
					got = append(got, f)
				}
			}
			if len(got) != tc.findings {
				t.Fatalf("%d close-wait-leak findings, want %d: %+v", len(got), tc.findings, got)
			}
			if got[0].AlsoCount != tc.alsoCount || len(got[0].Also) != tc.alsoCount {
				t.Errorf("also_count %d (%d listed), want %d", got[0].AlsoCount, len(got[0].Also), tc.alsoCount)
			}
			if tc.title != "" && !strings.Contains(got[0].Title, tc.title) {
				t.Errorf("title %q does not say %q", got[0].Title, tc.title)
			}
			if tc.alsoCount == 0 && strings.Contains(got[0].Title, "the same in") {
				t.Errorf("title %q folds what stands alone", got[0].Title)
			}
		})
	}
}

// TestUnknownOwnersFold: a listing that names no owner (/proc/net/tcp)
// makes each port's owner "an unknown process on :PORT"; the same
// problem on many ports is still one finding, which says the owners are
// unknown processes, not one program.
func TestUnknownOwnersFold(t *testing.T) {
	rs := builtinRulesForTest(t)
	var b strings.Builder
	b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	row := 0
	sock := func(local string, lport int, remote string, rport int, st string) {
		fmt.Fprintf(&b, "%4d: %s:%04X %s:%04X %s 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n",
			row, local, lport, remote, rport, st, 100000+row)
		row++
	}
	const host, peer, any = "0100000A", "010200C0", "00000000" // 10.0.0.1, 192.0.2.1, 0.0.0.0
	for p := 40000; p < 40025; p++ {
		sock(host, p, any, 0, "0A") // LISTEN inside the default ephemeral range
	}
	for _, p := range []int{8443, 9443} {
		sock(host, p, any, 0, "0A")
		for i := 0; i < 40; i++ {
			sock(host, p, peer, 50000+i, "08") // CLOSE_WAIT
		}
	}
	// The client side of unknown owners (no listener on the local port)
	// is a group of its own, "an unknown process": it does not fold with
	// the ports' leaks.
	for i := 0; i < 60; i++ {
		sock(host, 45000+i, peer, 443, "08")
	}
	rep := analyzeText(t, rs, "tcp", b.String())
	byRule := map[string][]engine.Finding{}
	for _, f := range rep.Findings {
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	for _, tc := range []struct {
		rule, title string
		findings    int // the first folds also others
		also        int
	}{
		{"port-range-overlaps-listener", "the same in 24 more ports of unknown processes (:40001, :40002, :40003, 21 more)", 1, 24},
		{"close-wait-leak", "the same in 1 more unknown process (:", 2, 1},
	} {
		got := byRule[tc.rule]
		if len(got) != tc.findings {
			t.Errorf("%s: %d findings, want %d: %+v", tc.rule, len(got), tc.findings, got)
			continue
		}
		folded := 0
		for _, f := range got {
			if f.AlsoCount == 0 {
				continue
			}
			folded++
			if f.AlsoCount != tc.also || !strings.Contains(f.Title, tc.title) || strings.Contains(f.Title, ":0)") {
				t.Errorf("%s: also_count %d, title %q; want %d and %q", tc.rule, f.AlsoCount, f.Title, tc.also, tc.title)
			}
		}
		if folded != 1 {
			t.Errorf("%s: %d folded findings, want 1: %+v", tc.rule, folded, got)
		}
	}
}

// TestSharedDestinationOwner: a destination that no one process holds
// the most of is named by its program and process count ("nginx (8
// processes)"), or as a group of processes of several programs; one that
// a process holds most of is still that process's.
func TestSharedDestinationOwner(t *testing.T) {
	rs := builtinRulesForTest(t)
	cases := []struct {
		name  string
		procs []string // one per worker; each holds the same number of sockets unless weighted
		heavy int      // extra sockets of the first worker
		want  string   // the start of the time-wait-churn title
	}{
		{"eight workers of one program", []string{"nginx", "nginx", "nginx", "nginx", "nginx", "nginx", "nginx", "nginx"}, 0, "nginx (8 processes) opens and closes"},
		{"three programs", []string{"php-fpm", "gunicorn", "node"}, 0, "a group of 3 processes (gunicorn, node, php-fpm) opens and closes"},
		{"one worker holds most", []string{"nginx", "nginx", "nginx"}, 100, "nginx (pid 3001) opens and closes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n")
			port := 40000
			for w, prog := range tc.procs {
				n := 20
				if w == 0 {
					n += tc.heavy
				}
				for i := 0; i < n; i++ {
					fmt.Fprintf(&b, "ESTAB 0 0 10.0.0.1:%d 192.0.2.80:8080 users:((%q,pid=%d,fd=%d))\n", port, prog, 3001+w, 10+i)
					port++
				}
			}
			for i := 0; i < 1200; i++ {
				fmt.Fprintf(&b, "TIME-WAIT 0 0 10.0.0.1:%d 192.0.2.80:8080\n", port)
				port++
			}
			rep := analyzeText(t, rs, "ss.txt", b.String())
			for _, f := range rep.Findings {
				if f.Rule == "time-wait-churn" {
					if !strings.HasPrefix(f.Title, tc.want) {
						t.Errorf("title %q, want it to start %q", f.Title, tc.want)
					}
					return
				}
			}
			t.Fatalf("no time-wait-churn finding: %+v", rep.Findings)
		})
	}
}

// analyzeText writes text to a file of that name and analyzes it.
func analyzeText(t *testing.T, rs []*engine.Rule, name, text string) *engine.Report {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := Load([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return engine.Run(snap, rs)
}

// TestFoldByRule: a rule whose cause is the host's (fold: rule) is one
// finding however many programs it fires for, counting the programs; a
// rule folded by owner keeps one finding a program.
func TestFoldByRule(t *testing.T) {
	rs := builtinRulesForTest(t)
	var b strings.Builder
	b.WriteString("State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n")
	// Three programs listen inside the default ephemeral range, on 4
	// ports each; two of them also leak CLOSE_WAIT (their first ports,
	// with more sockets, come first).
	for w, prog := range []string{"alpha", "beta", "gamma"} {
		for p := 0; p < 4; p++ {
			fmt.Fprintf(&b, "LISTEN 0 4096 10.0.0.1:%d 0.0.0.0:* users:((%q,pid=%d,fd=%d))\n", 40000+10*w+p, prog, 3000+w, 5+p)
		}
		if w < 2 {
			for i := 0; i < 30; i++ {
				fmt.Fprintf(&b, "CLOSE-WAIT 0 0 10.0.0.1:%d 192.0.2.9:%d users:((%q,pid=%d,fd=%d))\n", 40000+10*w, 50000+i, prog, 3000+w, 20+i)
			}
		}
	}
	text := b.String()
	rep := analyzeText(t, rs, "ss.txt", text)
	byRule := map[string][]engine.Finding{}
	for _, f := range rep.Findings {
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	if got := byRule["port-range-overlaps-listener"]; len(got) != 1 {
		t.Errorf("port-range-overlaps-listener: %d findings, want 1 for all three programs", len(got))
	} else if f := got[0]; f.AlsoCount != 11 || !strings.Contains(f.Title, "the same in 11 more ports of 3 programs (:40010, :40001, :40002, 8 more)") {
		t.Errorf("port-range-overlaps-listener: also %d, title %q", f.AlsoCount, f.Title)
	}
	// Listeners the listing names no owner of are said apart, not
	// counted as a program.
	text += "LISTEN 0 4096 10.0.0.1:40100 0.0.0.0:*\nLISTEN 0 4096 10.0.0.1:40101 0.0.0.0:*\n"
	rep = analyzeText(t, rs, "ss.txt", text)
	n := 0
	for _, f := range rep.Findings {
		if f.Rule == "port-range-overlaps-listener" {
			n++
			if !strings.Contains(f.Title, "the same in 13 more ports of 3 programs and unknown processes (") {
				t.Errorf("with unknown owners: title %q", f.Title)
			}
		}
	}
	if n != 1 {
		t.Errorf("with unknown owners: %d port-range-overlaps-listener findings, want 1", n)
	}
	if got := byRule["close-wait-leak"]; len(got) != 2 {
		t.Errorf("close-wait-leak: %d findings, want one a program", len(got))
	}
}

// TestFoldByProgram: time-wait-churn is the client's way of connecting
// (fold: program): one program's churn to several service ports is one
// finding, and so is the churn of destinations spread over several
// programs, and that of unknown owners (said to be "of unknown
// processes"); another program stays apart.
func TestFoldByProgram(t *testing.T) {
	rs := builtinRulesForTest(t)
	var b strings.Builder
	b.WriteString("State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n")
	port := 20000
	churn := func(remote string, n int, owners ...string) {
		for w, prog := range owners {
			for i := 0; i < 20; i++ {
				fmt.Fprintf(&b, "ESTAB 0 0 10.0.0.1:%d %s users:((%q,pid=%d,fd=%d))\n", port, remote, prog, 3000+len(prog)*10+w, 10+i)
				port++
			}
		}
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "TIME-WAIT 0 0 10.0.0.1:%d %s\n", port, remote)
			port++
		}
	}
	churn("192.0.2.80:5432", 1500, "envoy")
	churn("192.0.2.81:6379", 1400, "envoy")
	churn("192.0.2.82:8080", 1300, "envoy")
	churn("192.0.2.90:5432", 1250, "java")
	churn("192.0.2.100:7000", 1200, "php-fpm", "gunicorn", "node")
	churn("192.0.2.101:7001", 1100, "ruby", "perl", "python")
	churn("192.0.2.110:9000", 1050)
	churn("192.0.2.111:9001", 1020)
	rep := analyzeText(t, rs, "ss.txt", b.String())
	var got []string
	for _, f := range rep.Findings {
		if f.Rule == "time-wait-churn" {
			got = append(got, f.Title)
		}
	}
	want := []string{
		"envoy (pid 3050) opens and closes about 25 connections/s to 192.0.2.80:5432: 1500 TIME_WAIT sockets; the same in 2 more destinations of envoy (192.0.2.81:6379, 192.0.2.82:8080)",
		"java (pid 3040) opens and closes",
		"a group of 3 processes (gunicorn, node, php-fpm) opens and closes about 20 connections/s to 192.0.2.100:7000: 1200 TIME_WAIT sockets; the same in 1 more destination of several programs (192.0.2.101:7001)",
		"an unknown process opens and closes about 17.50 connections/s to 192.0.2.110:9000: 1050 TIME_WAIT sockets; the same in 1 more destination of unknown processes (192.0.2.111:9001)",
	}
	if len(got) != len(want) {
		t.Fatalf("%d time-wait-churn findings, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) || strings.Contains(w, "TIME_WAIT sockets") && got[i] != w {
			t.Errorf("finding %d:\n got %q\nwant %q", i, got[i], w)
		}
	}

	// The destination nearest to running out of ports leads (lead:
	// TimeWait), not the one with the most sockets; loopback churn is
	// apart (its remedy differs: tcp_tw_reuse is on there by default).
	b.Reset()
	b.WriteString("State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n")
	b.WriteString(`LISTEN 0 128 127.0.0.1:15000 0.0.0.0:* users:(("sidecar",pid=200,fd=3))` + "\n")
	port = 20000
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "ESTAB 0 0 10.0.0.1:%d 192.0.2.80:5432 users:((\"envoy\",pid=100,fd=%d))\n", port, 10+i)
		port++
	}
	churn("192.0.2.80:5432", 1000)
	churn("192.0.2.81:6379", 9000, "envoy")
	churn("127.0.0.1:15000", 1500, "envoy")
	rep = analyzeText(t, rs, "ss.txt", b.String())
	got = nil
	for _, f := range rep.Findings {
		if f.Rule == "time-wait-churn" {
			got = append(got, f.Title)
		}
	}
	want = []string{
		"envoy (pid 3050) opens and closes about 150 connections/s to 192.0.2.81:6379: 9000 TIME_WAIT sockets; the same in 1 more destination of envoy (192.0.2.80:5432)",
		"envoy (pid 3050) opens and closes about 25 connections/s to 127.0.0.1:15000, served locally by sidecar (pid 200): 1500 TIME_WAIT sockets",
	}
	if !slices.Equal(got, want) {
		t.Errorf("time-wait-churn findings:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A program known by its pid alone (netstat -ano) is one program too.
	b.Reset()
	b.WriteString("Active Connections\n\n  Proto  Local Address          Foreign Address        State           PID\n")
	port = 50000
	for _, remote := range []string{"192.0.2.1:5432", "192.0.2.2:6379"} {
		for i := 0; i < 20; i++ {
			fmt.Fprintf(&b, "  TCP    10.0.0.1:%d      %s      ESTABLISHED     4242\n", port, remote)
			port++
		}
		for i := 0; i < 1500; i++ {
			fmt.Fprintf(&b, "  TCP    10.0.0.1:%d      %s      TIME_WAIT       0\n", port, remote)
			port++
		}
	}
	rep = analyzeText(t, rs, "netstat.txt", b.String())
	got = nil
	for _, f := range rep.Findings {
		if f.Rule == "time-wait-churn" {
			got = append(got, f.Title)
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], "; the same in 1 more destination of pid 4242 (192.0.2.2:6379)") {
		t.Errorf("pid-only owner: %q", got)
	}
}

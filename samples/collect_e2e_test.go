package samples_test

// The collector end to end: inside throwaway network namespaces the repro
// peer (repro/peer) leaks CLOSE_WAIT sockets or exhausts the ephemeral
// ports toward one destination; the real `tcpsnap collect` binary and
// collect/tcpsnap-collect.sh (under dash) capture the namespace; the
// analyzer must give the diagnosis from those bundles. Root, ip and Linux
// are needed; everything is bounded in time, every process started is
// killed by pid and every namespace deleted.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpsnap/tcpsnap/analyze"
)

// e2eBins are the binaries the test builds once.
type e2eBins struct {
	tcpsnap string // cmd/tcpsnap
	peerDir string // holds peer and symlinks to it named after each role
	root    string // the repository
}

func buildE2E(t *testing.T) *e2eBins {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux")
	}
	for _, tool := range []string{"ip", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b := &e2eBins{tcpsnap: filepath.Join(dir, "tcpsnap"), peerDir: filepath.Join(dir, "bin"), root: root}
	if err := os.Mkdir(b.peerDir, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, bld := range [][2]string{{b.tcpsnap, "./cmd/tcpsnap"}, {filepath.Join(b.peerDir, "peer"), "./samples/repro/peer"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", bld[0], bld[1])
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", bld[1], err, out)
		}
	}
	t.Logf("built tcpsnap and peer in %v", time.Since(start).Round(time.Millisecond))
	return b
}

type e2eNS struct {
	t    *testing.T
	name string
	bins *e2eBins
}

// newE2ENS creates a namespace with loopback up; it is deleted at cleanup,
// after every peer started in it has been killed.
func newE2ENS(t *testing.T, bins *e2eBins, tag string) *e2eNS {
	t.Helper()
	ns := &e2eNS{t: t, name: fmt.Sprintf("tcpsnap-e2e-%s-%d", tag, os.Getpid()), bins: bins}
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			t.Errorf("deleting namespace %s: %v %s", ns.name, err, out)
		}
	})
	ns.run(10*time.Second, "ip", "link", "set", "lo", "up")
	return ns
}

// argv prefixes a command so that it runs in the namespace. nsenter only
// switches the network namespace and keeps the host's mounts (ip netns exec
// remounts /sys, and ss -e then complains about the cgroup2 mount once per
// socket); both exec the command in place, so its pid is the child's.
func (ns *e2eNS) argv(cmd ...string) []string {
	if p, err := exec.LookPath("nsenter"); err == nil {
		return append([]string{p, "--net=/run/netns/" + ns.name}, cmd...)
	}
	return append([]string{"ip", "netns", "exec", ns.name}, cmd...)
}

// exec runs a command in the namespace under a time limit and returns its
// stdout, stderr and error.
func (ns *e2eNS) exec(limit time.Duration, cmd ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	a := ns.argv(cmd...)
	c := exec.CommandContext(ctx, a[0], a[1:]...)
	c.Dir = ns.bins.root
	c.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v: %w", limit, err)
	}
	return stdout.String(), stderr.String(), err
}

func (ns *e2eNS) run(limit time.Duration, cmd ...string) string {
	ns.t.Helper()
	out, errOut, err := ns.exec(limit, cmd...)
	if err != nil {
		ns.t.Fatalf("%q: %v\n%s%s", cmd, err, out, errOut)
	}
	return out
}

type e2ePeer struct {
	pid int
	log string
}

// startPeer runs repro/peer as name (so ss -p and /proc/PID/comm say name)
// with a hard deadline; it is killed by pid at cleanup.
func (ns *e2eNS) startPeer(name string, args ...string) *e2ePeer {
	t := ns.t
	t.Helper()
	bin := filepath.Join(ns.bins.peerDir, name)
	if err := os.Symlink("peer", bin); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	a := ns.argv(append(append([]string{bin}, args...), "-duration", "100s")...)
	cmd := exec.Command(a[0], a[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	t.Cleanup(func() {
		cmd.Process.Kill() // by pid
		cmd.Wait()
	})
	return &e2ePeer{pid: cmd.Process.Pid, log: logf.Name()}
}

// e2eSock is one row of /proc/net/tcp{,6}: "local remote state inode".
type e2eSock struct{ local, remote, state, inode string }

// sockets reads the namespace's TCP sockets through /proc/PID/net of a
// process inside it (no process is started in the namespace for it).
func sockets(t *testing.T, pid int) []e2eSock {
	t.Helper()
	var out []e2eSock
	for _, f := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f))
		if err != nil {
			t.Fatalf("reading the namespace's sockets: %v", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			fs := strings.Fields(line)
			if len(fs) < 10 || fs[0] == "sl" {
				continue
			}
			out = append(out, e2eSock{fs[1], fs[2], fs[3], fs[9]})
		}
	}
	return out
}

// countState counts sockets in a /proc/net/tcp state (hex) whose local
// or remote port is port (0 = any).
func countState(socks []e2eSock, state string, port int) int {
	n := 0
	suffix := fmt.Sprintf(":%04X", port)
	for _, s := range socks {
		if s.state == state && (port == 0 || strings.HasSuffix(s.local, suffix) || strings.HasSuffix(s.remote, suffix)) {
			n++
		}
	}
	return n
}

// waitFor polls cond every 50 ms until it holds or limit passes.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// peerInodes are the socket inodes the given processes hold.
func peerInodes(pids ...int) map[string]bool {
	out := map[string]bool{}
	for _, pid := range pids {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			l, err := os.Readlink(filepath.Join(dir, e.Name()))
			if err == nil && strings.HasPrefix(l, "socket:[") {
				out[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
			}
		}
	}
	return out
}

// checkNoNewSockets fails when a socket exists after collecting that did
// not before, other than the peers' own. Sockets are compared by 4-tuple
// and inode, not state: the peers' half-closed sockets may move on (say
// FIN_WAIT1 to FIN_WAIT2) while the collectors run.
func checkNoNewSockets(t *testing.T, before, after []e2eSock, peers map[string]bool) {
	t.Helper()
	had := map[e2eSock]bool{}
	for _, s := range before {
		s.state = ""
		had[s] = true
	}
	var added []string
	for _, s := range after {
		if k := (e2eSock{s.local, s.remote, "", s.inode}); !had[k] && !(s.inode != "0" && peers[s.inode]) {
			added = append(added, fmt.Sprint(s))
		}
	}
	sort.Strings(added)
	if len(added) > 0 {
		t.Errorf("collecting created %d sockets of its own in the namespace:\n%s", len(added), strings.Join(added, "\n"))
	}
}

// collectAll runs every collector on the namespace into dir and returns
// the bundles by name. The Go collector runs twice (raw and --redact).
func (ns *e2eNS) collectAll(dir string) map[string]string {
	t := ns.t
	t.Helper()
	bundles := map[string]string{}
	for _, c := range []struct {
		name, out string
		argv      []string
	}{
		{"go", "go.tar.gz", []string{ns.bins.tcpsnap, "collect", "--samples", "2", "--interval", "500ms", "--timeout", "20s", "-o"}},
		{"go-redact", "go-redact.tar.gz", []string{ns.bins.tcpsnap, "collect", "--redact", "--samples", "2", "--interval", "500ms", "--timeout", "20s", "-o"}},
		{"sh", "sh.tar.gz", []string{"dash", "collect/tcpsnap-collect.sh", "-n", "2", "-i", "1", "-t", "20", "-o"}},
	} {
		out := filepath.Join(dir, c.out)
		c.argv = append(c.argv, out)
		if c.argv[0] == "dash" {
			if _, err := exec.LookPath("dash"); err != nil {
				t.Logf("no dash: the shell collector is not tested")
				continue
			}
		}
		start := time.Now()
		stdout, errOut, err := ns.exec(60*time.Second, c.argv...)
		if err != nil {
			t.Fatalf("collector %s: %v\n%s%s", c.name, err, stdout, errOut)
		}
		t.Logf("collector %s: %v", c.name, time.Since(start).Round(time.Millisecond))
		bundles[c.name] = out
	}
	return bundles
}

func findingOf(rep *analyze.Report, rule string) *analyze.Finding {
	for i := range rep.Findings {
		if rep.Findings[i].Rule == rule {
			return &rep.Findings[i]
		}
	}
	return nil
}

func evidence(f *analyze.Finding, name string) (float64, bool) {
	for _, e := range f.Evidence {
		if e.Name == name {
			switch v := e.Value.(type) {
			case int:
				return float64(v), true
			case int64:
				return float64(v), true
			case float64:
				return v, true
			case bool:
				if v {
					return 1, true
				}
				return 0, true
			}
		}
	}
	return 0, false
}

func describe(rep *analyze.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "  [%s] %s: %s (subject %+v)\n", f.Severity, f.Rule, f.Title, f.Subject)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(&b, "  problem: %s\n", p)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	return b.String()
}

// diagnosis is what redaction must keep: rule, severity and the numeric
// evidence of every finding (not names or addresses, nor times that move
// between two collections).
func diagnosis(rep *analyze.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		var ev []string
		for _, e := range f.Evidence {
			if strings.Contains(e.Name, "_ms") {
				continue // ages and idle times move with the clock
			}
			switch v := e.Value.(type) {
			case int, int64, float64, bool:
				ev = append(ev, fmt.Sprintf("%s=%v", e.Name, v))
			}
		}
		out = append(out, fmt.Sprintf("%s %s port=%d %s", f.Rule, f.Severity, f.Subject.LocalPort, strings.Join(ev, " ")))
	}
	sort.Strings(out)
	return out
}

func checkSameDiagnosis(t *testing.T, raw, red *analyze.Report) {
	t.Helper()
	a, b := diagnosis(raw), diagnosis(red)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("redaction changed the diagnosis:\nraw:\n%s\nredacted:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if !red.Snapshot.Host.Redacted {
		t.Errorf("the redacted bundle's report does not say Host.Redacted: %+v", red.Snapshot.Host)
	}
	if raw.Snapshot.Host.Redacted {
		t.Errorf("the raw bundle's report says Host.Redacted")
	}
}

const (
	tcpListen    = "0A"
	tcpCloseWait = "08"
	tcpTimeWait  = "06"
	tcpEstab     = "01"
)

func TestCollectE2E(t *testing.T) {
	bins := buildE2E(t)
	rs := compileRules(t)
	t.Run("closewait-leak", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		defer func() { t.Logf("closewait-leak: %v", time.Since(start).Round(time.Millisecond)) }()
		const leaks = 30
		ns := newE2ENS(t, bins, "cw")
		srv := ns.startPeer("leaky-server", "leak-server", "-addr", ":8443", "-unread-every", "10", "-max-conns", "1000")
		waitFor(t, "leaky-server listening on :8443", 10*time.Second, func() bool {
			return countState(sockets(t, srv.pid), tcpListen, 8443) > 0
		})
		cli := ns.startPeer("loadgen", "client", "-mode", "short", "-n", strconv.Itoa(leaks), "-interval", "2ms", "-addr", "127.0.0.1:8443")
		waitFor(t, "CLOSE_WAIT sockets", 15*time.Second, func() bool {
			return countState(sockets(t, srv.pid), tcpCloseWait, 8443) >= leaks
		})
		before := sockets(t, srv.pid)
		dir := t.TempDir()
		bundles := ns.collectAll(dir)
		live := ns.analyzeLive(t)
		nonRoot := ns.collectNonRoot(t)
		after := sockets(t, srv.pid)
		checkNoNewSockets(t, before, after, peerInodes(srv.pid, cli.pid))

		reports := map[string]*analyze.Report{}
		for name, path := range bundles {
			rep := analyzeInputs(t, rs, path)
			reports[name] = rep
			f := findingOf(rep, "close-wait-leak")
			if f == nil {
				t.Errorf("%s bundle: no close-wait-leak finding:\n%s", name, describe(rep))
				continue
			}
			if name != "go-redact" && f.Subject.Process != "leaky-server" {
				t.Errorf("%s bundle: close-wait-leak names process %q, want leaky-server", name, f.Subject.Process)
			}
			if f.Subject.PID != srv.pid || f.Subject.OwnerInferred {
				t.Errorf("%s bundle: close-wait-leak names pid %d (inferred %v), want %d", name, f.Subject.PID, f.Subject.OwnerInferred, srv.pid)
			}
			if f.Subject.LocalPort != 8443 && !strings.Contains(f.Title, ":8443") {
				t.Errorf("%s bundle: close-wait-leak does not name port 8443: %s %+v", name, f.Title, f.Subject)
			}
			if n, _ := evidence(f, "close_wait"); n != leaks {
				t.Errorf("%s bundle: close_wait = %v, want %d", name, n, leaks)
			}
			if n, _ := evidence(f, "in_both_samples"); n != leaks {
				t.Errorf("%s bundle: in_both_samples = %v, want %d (two samples must prove the leak persistent)", name, n, leaks)
			}
			if rep.Snapshot.Samples != 2 {
				t.Errorf("%s bundle: %d samples, want 2", name, rep.Snapshot.Samples)
			}
			if name == "go" {
				t.Logf("%s: [%s] %s", name, f.Severity, f.Title)
			}
		}
		if reports["go"] != nil && reports["go-redact"] != nil {
			checkSameDiagnosis(t, reports["go"], reports["go-redact"])
		}
		if nonRoot != "" {
			rep := analyzeInputs(t, rs, nonRoot)
			if !rep.Snapshot.Host.NonRoot || !slices.Contains(rep.Notes, analyze.NoteNonRoot) {
				t.Errorf("bundle collected as nobody: Host.NonRoot %v, notes %q", rep.Snapshot.Host.NonRoot, rep.Notes)
			}
			if f := findingOf(rep, "close-wait-leak"); f == nil {
				t.Errorf("bundle collected as nobody: no close-wait-leak finding:\n%s", describe(rep))
			} else {
				t.Logf("as nobody: [%s] %s (pid %d, inferred %v)", f.Severity, f.Title, f.Subject.PID, f.Subject.OwnerInferred)
				if f.Subject.PID == 0 && !strings.Contains(f.Explanation, "collected without root") {
					t.Errorf("bundle collected as nobody: the close-wait-leak explanation does not say why the owner is missing: %s", f.Explanation)
				}
			}
		}
		for name, rep := range reports {
			if rep.Snapshot.Host.NonRoot || slices.Contains(rep.Notes, analyze.NoteNonRoot) {
				t.Errorf("%s bundle, collected as root, is marked non-root", name)
			}
		}
		if live != nil {
			ok := false
			for _, f := range live.Findings {
				ok = ok || f.Rule == "close-wait-leak" && f.Subject.PID == srv.pid && f.Subject.Process == "leaky-server" && (f.Subject.LocalPort == 8443 || strings.Contains(f.Title, ":8443"))
			}
			if !ok {
				t.Errorf("analyze --live: no close-wait-leak finding naming leaky-server pid %d on :8443: %+v", srv.pid, live.Findings)
			}
		}
	})
	t.Run("port-exhaustion", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		defer func() { t.Logf("port-exhaustion: %v", time.Since(start).Round(time.Millisecond)) }()
		ns := newE2ENS(t, bins, "pe")
		// Written from inside the namespace: /proc/sys/net is per namespace.
		ns.run(10*time.Second, "sh", "-c", `echo "40000 40099" >/proc/sys/net/ipv4/ip_local_port_range && echo 0 >/proc/sys/net/ipv4/tcp_tw_reuse`)
		srv := ns.startPeer("cachesrv", "echo-server", "-addr", ":6379")
		waitFor(t, "cachesrv listening on :6379", 10*time.Second, func() bool {
			return countState(sockets(t, srv.pid), tcpListen, 6379) > 0
		})
		cli := ns.startPeer("batchjob", "client", "-mode", "short", "-keep", "60", "-n", "100", "-interval", "1ms", "-addr", "127.0.0.1:6379")
		waitFor(t, "batchjob to see EADDRNOTAVAIL", 20*time.Second, func() bool {
			data, _ := os.ReadFile(cli.log)
			return bytes.Contains(data, []byte("error-count EADDRNOTAVAIL"))
		})
		socks := sockets(t, srv.pid)
		t.Logf("toward :6379: %d ESTABLISHED client+server, %d TIME_WAIT", countState(socks, tcpEstab, 6379), countState(socks, tcpTimeWait, 6379))
		before := socks
		dir := t.TempDir()
		bundles := ns.collectAll(dir)
		after := sockets(t, srv.pid)
		checkNoNewSockets(t, before, after, peerInodes(srv.pid, cli.pid))
		reports := map[string]*analyze.Report{}
		for name, path := range bundles {
			rep := analyzeInputs(t, rs, path)
			reports[name] = rep
			var f *analyze.Finding
			for i := range rep.Findings {
				if g := &rep.Findings[i]; g.Rule == "ephemeral-port-exhaustion" && (name == "go-redact" || g.Subject.Remote == "127.0.0.1:6379") {
					f = g
				}
			}
			if f == nil {
				t.Errorf("%s bundle: no ephemeral-port-exhaustion finding toward 127.0.0.1:6379:\n%s", name, describe(rep))
				continue
			}
			if f.Severity != analyze.Critical {
				t.Errorf("%s bundle: ephemeral-port-exhaustion is %s, want critical: %s", name, f.Severity, f.Title)
			}
			if n, _ := evidence(f, "port_range"); n != 100 {
				t.Errorf("%s bundle: port_range = %v, want 100 (the namespace's ip_local_port_range)", name, n)
			}
			if name == "go" {
				t.Logf("%s: [%s] %s", name, f.Severity, f.Title)
			}
		}
		if reports["go"] != nil && reports["go-redact"] != nil {
			checkSameDiagnosis(t, reports["go"], reports["go-redact"])
		}
	})
}

// collectNonRoot runs tcpsnap collect as nobody in the namespace (with
// setpriv); it returns the bundle, or "" when setpriv is missing.
func (ns *e2eNS) collectNonRoot(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Log("no setpriv: collection without root is not tested")
		return ""
	}
	// t.TempDir's parents are private to root: nobody needs its own
	// folder, with its own copy of the binary.
	dir, err := os.MkdirTemp("", "tcpsnap-e2e-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin, err := os.ReadFile(ns.bins.tcpsnap)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "tcpsnap")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "nonroot.tar.gz")
	start := time.Now()
	ns.run(60*time.Second, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
		exe, "collect", "--samples", "1", "--timeout", "20s", "-o", out)
	t.Logf("collector go as nobody: %v", time.Since(start).Round(time.Millisecond))
	return out
}

// liveReport is the part of the JSON report the live check reads.
type liveReport struct {
	Findings []struct {
		Rule     string
		Severity string
		Title    string
		Subject  analyze.Subject
	}
	Notes []string
}

// analyzeLive runs `tcpsnap analyze --live` in the namespace and returns
// its JSON report.
func (ns *e2eNS) analyzeLive(t *testing.T) *liveReport {
	t.Helper()
	start := time.Now()
	out, errOut, err := ns.exec(60*time.Second, ns.bins.tcpsnap, "analyze", "--live", "--samples", "1", "-f", "json", "--fail-on", "never")
	if err != nil {
		t.Errorf("tcpsnap analyze --live: %v\n%s", err, errOut)
		return nil
	}
	t.Logf("analyze --live: %v", time.Since(start).Round(time.Millisecond))
	var rep liveReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Errorf("analyze --live: decoding the report: %v\n%s", err, out)
		return nil
	}
	return &rep
}

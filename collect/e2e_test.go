package collect

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The end-to-end tests run the real collectors inside a throwaway network
// namespace against a peer that leaks CLOSE_WAIT sockets. The test binary
// re-executes itself as the peer and as the collector (TCPSNAP_E2E_ROLE).

func TestMain(m *testing.M) {
	switch os.Getenv("TCPSNAP_E2E_ROLE") {
	case "peer":
		os.Exit(e2ePeer())
	case "collect":
		os.Exit(e2eCollect())
	}
	os.Exit(m.Run())
}

// e2ePeer leaks TCPSNAP_E2E_LEAKS CLOSE_WAIT sockets (the server accepts,
// reads EOF and never closes) and holds TCPSNAP_E2E_ESTAB established
// pairs, prints "ready PID", and lives until stdin closes or 2 minutes pass.
func e2ePeer() int {
	leaks, _ := strconv.Atoi(os.Getenv("TCPSNAP_E2E_LEAKS"))
	estab, _ := strconv.Atoi(os.Getenv("TCPSNAP_E2E_ESTAB"))
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	var keep []net.Conn
	for i := 0; i < leaks+estab; i++ {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		s, err := ln.Accept()
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		if i < leaks {
			c.Close()
			io.ReadAll(s) // EOF read: CLOSE_WAIT with Recv-Q 0
			keep = append(keep, s)
		} else {
			keep = append(keep, c, s)
		}
	}
	fmt.Printf("ready %d\n", os.Getpid())
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
	}
	runtime.KeepAlive(keep)
	runtime.KeepAlive(ln)
	return 0
}

func e2eCollect() int {
	f, err := os.Create(os.Getenv("TCPSNAP_E2E_OUT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	samples, _ := strconv.Atoi(os.Getenv("TCPSNAP_E2E_SAMPLES"))
	start := time.Now()
	_, err = Collect(context.Background(), Options{Output: f, Samples: samples, Interval: 200 * time.Millisecond, Version: "e2e"})
	f.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("collected in %v\n", time.Since(start))
	return 0
}

type netns struct {
	t    *testing.T
	name string
}

func e2eNamespace(t *testing.T) *netns {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip")
	}
	ns := &netns{t: t, name: fmt.Sprintf("tcpsnap-col-%d", os.Getpid())}
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns.name).Run() })
	ns.run(10*time.Second, nil, "ip", "link", "set", "lo", "up")
	return ns
}

// run runs a command inside the namespace and returns its output.
func (ns *netns) run(limit time.Duration, env []string, argv ...string) string {
	ns.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.name}, argv...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		ns.t.Fatalf("%q: %v\n%s", argv, err, out)
	}
	return string(out)
}

// startPeer starts the leaking peer and returns its pid.
func (ns *netns) startPeer(leaks, estab int) int {
	t := ns.t
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns.name, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "TCPSNAP_E2E_ROLE=peer",
		"TCPSNAP_E2E_LEAKS="+strconv.Itoa(leaks), "TCPSNAP_E2E_ESTAB="+strconv.Itoa(estab))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill() // by pid; ip netns exec execs the peer in place
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		var pid int
		if _, err := fmt.Sscanf(l, "ready %d", &pid); err != nil {
			t.Fatalf("peer: %q", l)
		}
		return pid
	case <-time.After(60 * time.Second):
		t.Fatal("peer did not start")
	}
	return 0
}

// sockets lists the namespace's TCP sockets by 4-tuple and inode. Not by
// state: the peer's half-closed sockets may move from FIN_WAIT1 to
// FIN_WAIT2 while the collector runs (a loaded machine delays the ACK).
func (ns *netns) sockets() []string {
	out := ns.run(10*time.Second, nil, "cat", "/proc/net/tcp", "/proc/net/tcp6")
	var s []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || f[0] == "sl" {
			continue
		}
		s = append(s, strings.Join([]string{f[1], f[2], f[9]}, " "))
	}
	sort.Strings(s)
	return s
}

// stripTop removes the bundle's top-level folder.
func stripTop(files map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		if _, rest, ok := strings.Cut(k, "/"); ok && strings.HasPrefix(k, "tcpsnap-") {
			k = rest
		}
		if !strings.HasSuffix(k, "/") && k != "" {
			out[k] = v
		}
	}
	return out
}

func checkE2EBundle(t *testing.T, files map[string]string, pid, leaks int) {
	t.Helper()
	m, err := ReadManifest(strings.NewReader(files[ManifestPath]))
	if err != nil {
		t.Fatalf("manifest: %v\n%s", err, files[ManifestPath])
	}
	if !m.Root || len(m.Samples) == 0 {
		t.Errorf("manifest: %+v", m)
	}
	last := fmt.Sprintf("samples/%d/", len(m.Samples)-1)
	pidTag := fmt.Sprintf("pid=%d,", pid)
	rows := 0
	if ss, ok := files[last+"ss-tanpoeim.txt"]; ok {
		for _, l := range strings.Split(ss, "\n") {
			if strings.HasPrefix(l, "CLOSE-WAIT") && strings.Contains(l, pidTag) {
				rows++
			}
		}
	} else if ns, ok := files[last+"netstat-antpo.txt"]; ok {
		for _, l := range strings.Split(ns, "\n") {
			if strings.Contains(l, "CLOSE_WAIT") && strings.Contains(l, fmt.Sprintf(" %d/", pid)) {
				rows++
			}
		}
	} else if busy := len(m.Notes) > 0 && strings.Contains(strings.Join(m.Notes, "\n"), "TCP sockets: read /proc/net/tcp"); busy {
		// A busy host: no listing by design; owners come from the inode
		// map, so count CLOSE_WAIT rows of /proc/net/tcp{,6} with the
		// peer's inodes.
		var procs []Process
		json.Unmarshal([]byte(files[ProcessesPath]), &procs)
		mine := map[string]bool{}
		for _, p := range procs {
			if p.PID == pid {
				for _, ino := range p.SocketInodes {
					mine[strconv.FormatUint(ino, 10)] = true
				}
			}
		}
		for _, f := range []string{"proc/net/tcp", "proc/net/tcp6"} {
			for _, l := range strings.Split(files[last+f], "\n") {
				fs := strings.Fields(l)
				if len(fs) > 9 && fs[3] == "08" && mine[fs[9]] {
					rows++
				}
			}
		}
	} else {
		t.Errorf("no socket listing in %s: notes %q", last, m.Notes)
	}
	if rows != leaks {
		t.Errorf("%d CLOSE_WAIT rows owned by pid %d, want %d", rows, pid, leaks)
	}
	c := StateCounts{}
	c.CountProcNetTCP(strings.NewReader(files[last+"proc/net/tcp"]))
	if c["CLOSE_WAIT"] != leaks {
		t.Errorf("proc/net/tcp has %v", c)
	}
	var procs []Process
	if err := json.Unmarshal([]byte(files[ProcessesPath]), &procs); err != nil {
		t.Fatalf("processes.json: %v\n%s", err, files[ProcessesPath])
	}
	found := false
	for _, p := range procs {
		if p.PID == pid {
			found = true
			if p.FDs < leaks || p.FDLimit <= 0 || len(p.SocketInodes) < leaks || p.Name == "" {
				t.Errorf("peer process: %+v", p)
			}
		}
	}
	if !found {
		t.Errorf("pid %d not in processes.json: %s", pid, files[ProcessesPath])
	}
}

func modulesNow() string {
	b, _ := os.ReadFile("/proc/modules")
	return string(b)
}

func TestE2ECloseWaitLeak(t *testing.T) {
	ns := e2eNamespace(t)
	const leaks = 3
	pid := ns.startPeer(leaks, 0)
	mods := modulesNow()
	before := ns.sockets()
	exe, _ := os.Executable()
	dir := t.TempDir()

	t.Run("go", func(t *testing.T) {
		out := filepath.Join(dir, "go.tar.gz")
		log := ns.run(60*time.Second, []string{"TCPSNAP_E2E_ROLE=collect", "TCPSNAP_E2E_OUT=" + out, "TCPSNAP_E2E_SAMPLES=2"}, exe, "-test.run=^$")
		t.Log(strings.TrimSpace(log))
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		checkE2EBundle(t, readTarGz(t, data), pid, leaks)
	})
	t.Run("sh", func(t *testing.T) {
		if _, err := exec.LookPath("dash"); err != nil {
			t.Skip("needs dash")
		}
		out := filepath.Join(dir, "sh.tar.gz")
		ns.run(60*time.Second, nil, "dash", "tcpsnap-collect.sh", "-o", out, "-n", "2", "-i", "0", "-t", "20")
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		checkE2EBundle(t, stripTop(readTarGz(t, data)), pid, leaks)
	})
	after := ns.sockets()
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("collecting changed the namespace's sockets:\nbefore:\n%s\nafter:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
	if modulesNow() != mods {
		t.Error("collecting loaded or unloaded a kernel module")
	}
}

// TestE2EManySockets measures collection time; set TCPSNAP_E2E_SOCKETS to
// the number of established pairs (each is two sockets).
func TestE2EManySockets(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TCPSNAP_E2E_SOCKETS"))
	if n <= 0 {
		t.Skip("set TCPSNAP_E2E_SOCKETS=10000 to measure")
	}
	ns := e2eNamespace(t)
	// One peer holds at most 8000 pairs: RLIMIT_NOFILE may be 20000.
	pid := ns.startPeer(10, 0)
	for left := n; left > 0; left -= 8000 {
		ns.startPeer(0, min(left, 8000))
	}
	exe, _ := os.Executable()
	dir := t.TempDir()
	out := filepath.Join(dir, "go.tar.gz")
	start := time.Now()
	log := ns.run(5*time.Minute, []string{"TCPSNAP_E2E_ROLE=collect", "TCPSNAP_E2E_OUT=" + out, "TCPSNAP_E2E_SAMPLES=1"}, exe, "-test.run=^$")
	t.Logf("go collector, %d sockets, 1 sample: %s (wall %v incl. exec)", 2*n+20, strings.TrimSpace(log), time.Since(start))
	data, _ := os.ReadFile(out)
	t.Logf("bundle %d bytes compressed", len(data))
	files := readTarGz(t, data)
	if m, err := ReadManifest(strings.NewReader(files[ManifestPath])); err == nil {
		for _, it := range m.Sources {
			if it.DurationMS >= 20 {
				t.Logf("  %6.0f ms  %s%s (%d bytes)", it.DurationMS, it.Command, it.File, it.Bytes)
			}
		}
	}
	checkE2EBundle(t, files, pid, 10)
	for _, o := range []string{"-tanpoeim", "-tanoeim", "-tanpoe", "-tanoe"} {
		start := time.Now()
		ns.run(5*time.Minute, nil, "sh", "-c", "ss "+o+" >/dev/null")
		t.Logf("ss %s: %v", o, time.Since(start))
	}
	if _, err := exec.LookPath("dash"); err == nil {
		start = time.Now()
		ns.run(5*time.Minute, nil, "dash", "tcpsnap-collect.sh", "-o", filepath.Join(dir, "sh.tar.gz"), "-n", "1")
		t.Logf("sh collector, 1 sample: %v", time.Since(start))
	}
}

package collect

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// The fake host: a listener on 10.1.2.3:8080 (inode 1000) owned by pid 123,
// one CLOSE_WAIT from 203.0.113.9 (inode 1001) also owned by pid 123, a
// TIME_WAIT without inode, and an IPv4-mapped IPv6 socket (inode 1002).
const (
	fakeTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0302010A:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1000 1 0000000000000000 100 0 0 10 0
   1: 0302010A:1F90 097100CB:D431 08 00000000:00000001 00:00000000 00000000     0        0 1001 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:0016 0100007F:A000 06 00000000:00000000 03:00000F9A 00000000     0        0 0 3 0000000000000000
`
	fakeTCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000302010A:01BB 0000000000000000FFFF0000097100CB:D432 01 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 20 4 30 10 -1
`
	fakeSS = `State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
LISTEN     0      128         10.1.2.3:8080       0.0.0.0:*     users:(("java",pid=123,fd=3)) ino:1000 sk:1
CLOSE-WAIT 1      0           10.1.2.3:8080   203.0.113.9:54321 users:(("java",pid=123,fd=4)) ino:1001 sk:2
ESTAB      0      0   [::ffff:10.1.2.3]:443 [::ffff:203.0.113.9]:54322 users:(("java",pid=123,fd=6)) ino:1002 sk:3
TIME-WAIT  0      0          127.0.0.1:22         127.0.0.1:40960 timer:(timewait,39sec,0)
`
	fakeNetstat = `Active Internet connections (servers and established)
Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name     Timer
tcp        0      0 10.1.2.3:8080           0.0.0.0:*               LISTEN      123/java             off (0.00/0/0)
tcp        1      0 10.1.2.3:8080           203.0.113.9:54321       CLOSE_WAIT  123/java             off (0.00/0/0)
`
)

func link(target string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink | 0o777}
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func fakeFS() fstest.MapFS {
	return fstest.MapFS{
		"proc/net/tcp":       file(fakeTCP),
		"proc/net/tcp6":      file(fakeTCP6),
		"proc/net/snmp":      file("Tcp: RtoAlgorithm ActiveOpens\nTcp: 1 42\n"),
		"proc/net/netstat":   file("TcpExt: ListenOverflows\nTcpExt: 0\n"),
		"proc/net/sockstat":  file("sockets: used 10\nTCP: inuse 3 orphan 0 tw 1 alloc 4 mem 1\n"),
		"proc/net/sockstat6": file("TCP6: inuse 1\n"),
		"proc/modules":       file("inet_diag 24576 1 tcp_diag, Live 0x0000000000000000\ntcp_diag 12288 0 - Live 0x0000000000000000\n"),
		"proc/uptime":        file("1234.56 2000.00\n"),

		"proc/sys/kernel/hostname":                                    file("db01.example.com\n"),
		"proc/sys/kernel/osrelease":                                   file("6.1.0-test\n"),
		"proc/sys/kernel/ostype":                                      file("Linux\n"),
		"proc/sys/kernel/version":                                     file("#1 SMP PREEMPT_DYNAMIC\n"),
		"proc/sys/net/ipv4/tcp_fin_timeout":                           file("60\n"),
		"proc/sys/net/ipv4/tcp_tw_reuse":                              file("2\n"),
		"proc/sys/net/ipv4/tcp_rmem":                                  file("4096\t131072\t6291456\n"),
		"proc/sys/net/ipv4/ip_forward":                                file("0\n"),
		"proc/sys/net/ipv4/ip_local_port_range":                       file("32768\t60999\n"),
		"proc/sys/net/ipv4/ip_local_reserved_ports":                   file("\n"),
		"proc/sys/net/core/somaxconn":                                 file("4096\n"),
		"proc/sys/net/netfilter/nf_conntrack_max":                     file("262144\n"),
		"proc/sys/net/netfilter/nf_conntrack_count":                   file("17\n"),
		"proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established": file("432000\n"),
		"proc/sys/fs/file-nr":                                         file("1024\t0\t9223372036854775807\n"),
		"proc/sys/fs/nr_open":                                         file("1048576\n"),

		"proc/123/comm":    file("java\n"),
		"proc/123/cmdline": file("/usr/bin/java\x00-Dhost=db01.example.com\x00-jar\x00app.jar\x00"),
		"proc/123/status":  file("Name:\tjava\nUid:\t1000\t1000\t1000\t1000\n"),
		"proc/123/limits":  file("Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n"),
		"proc/123/fd/0":    link("/dev/null"),
		"proc/123/fd/3":    link("socket:[1000]"),
		"proc/123/fd/4":    link("socket:[1001]"),
		"proc/123/fd/5":    link("socket:[5555]"), // a unix socket: not TCP
		"proc/123/fd/6":    link("socket:[1002]"),
		"proc/456/comm":    file("bash\n"),
		"proc/456/fd/0":    link("/dev/pts/0"),
		"proc/456/fd/7":    link("socket:[5555]"),
		"proc/self":        link("123"),

		"etc/nsswitch.conf":          file("hosts: files dns\n"),
		"etc/sysctl.conf":            file("net.ipv4.tcp_tw_recycle = 1\n"),
		"etc/sysctl.d/10-net.conf":   file("net.core.somaxconn = 4096\n"),
		"etc/sysctl.d/README.sysctl": file("not a conf\n"),
	}
}

// fakeRun answers commands from a table keyed by the command line. A
// missing key is "executable not found".
type fakeRun struct {
	mu    sync.Mutex
	out   map[string]string
	fail  map[string]int // exit status for a failing command
	calls []string
}

func (f *fakeRun) run(ctx context.Context, stdout, stderr io.Writer, name string, args ...string) (int, error) {
	line := strings.Join(append([]string{name}, args...), " ")
	f.mu.Lock()
	f.calls = append(f.calls, line)
	f.mu.Unlock()
	if st, ok := f.fail[line]; ok {
		fmt.Fprintf(stderr, "%s: invalid option -- 'M'\n", name)
		return st, fmt.Errorf("exit status %d", st)
	}
	out, ok := f.out[line]
	if !ok {
		return -1, &exec.Error{Name: name, Err: exec.ErrNotFound}
	}
	io.WriteString(stdout, out)
	return 0, nil
}

func linuxRun() *fakeRun {
	return &fakeRun{out: map[string]string{
		"ss -tanpoeim":   fakeSS,
		"ss -tanpoe":     fakeSS,
		"ss -s":          "Total: 10\nTCP:   4 (estab 1, closed 0, orphaned 0, timewait 1)\n",
		"netstat -antpo": fakeNetstat,
	}}
}

// fakeClock advances only when the collector sleeps.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if d > 0 {
		c.t = c.t.Add(d)
	}
	return nil
}

func testOptions(fsys fs.FS, r *fakeRun, out io.Writer) Options {
	clk := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return Options{
		Output: out, Root: fsys, Run: r.run, GOOS: "linux", Samples: 2,
		Now: clk.now, Sleep: clk.sleep, IsRoot: func() bool { return true },
		Version: "test", TempDir: "",
	}
}

func collectBundle(t *testing.T, o Options) (*Manifest, map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	o.Output = &buf
	if o.TempDir == "" {
		o.TempDir = t.TempDir()
	}
	m, err := Collect(context.Background(), o)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	files := readTarGz(t, buf.Bytes())
	var bm Manifest
	if err := json.Unmarshal([]byte(files[ManifestPath]), &bm); err != nil {
		t.Fatalf("manifest in bundle: %v", err)
	}
	if _, err := ReadManifest(strings.NewReader(files[ManifestPath])); err != nil {
		t.Fatal(err)
	}
	return m, files
}

func readTarGz(t *testing.T, data []byte) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := files[h.Name]; dup {
			t.Errorf("duplicate entry %s", h.Name)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = string(b)
	}
	return files
}

func keys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

func TestCollectLayout(t *testing.T) {
	r := linuxRun()
	m, files := collectBundle(t, testOptions(fakeFS(), r, nil))
	want := []string{
		"etc/nsswitch.conf", "etc/sysctl.conf", "etc/sysctl.d/10-net.conf",
		"manifest.json", "processes.json",
	}
	for _, s := range []string{"0", "1"} {
		for _, f := range []string{"ss-tanpoeim.txt", "ss-s.txt", "proc/net/tcp", "proc/net/tcp6",
			"proc/net/snmp", "proc/net/netstat", "proc/net/sockstat", "proc/net/sockstat6",
			"proc/sys/net/netfilter/nf_conntrack_count"} {
			want = append(want, "samples/"+s+"/"+f)
		}
	}
	want = append(want, "sysctl.txt", "uname.txt", "uptime.txt")
	sort.Strings(want)
	if got := keys(files); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("bundle paths:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if files["samples/1/proc/net/tcp"] != fakeTCP || files["samples/0/ss-tanpoeim.txt"] != fakeSS {
		t.Error("copies differ from the source")
	}
	// Manifest.
	if m.Format != BundleFormat || m.Version != "test" || !m.Root || m.Redacted {
		t.Errorf("manifest header: %+v", m)
	}
	if m.Host.Hostname != "db01.example.com" || m.Host.Kernel != "6.1.0-test" || m.Host.OS != "linux" || m.Host.Uptime != 1234.56 {
		t.Errorf("host: %+v", m.Host)
	}
	if len(m.Samples) != 2 || m.Samples[1].Elapsed != 5 || m.Samples[0].Elapsed != 0 ||
		!m.Samples[1].Time.Equal(m.Samples[0].Time.Add(5*time.Second)) || m.Samples[1].Dir != "samples/1" {
		t.Errorf("samples: %+v", m.Samples)
	}
	for _, it := range m.Sources {
		if it.Path != "" {
			if _, ok := files[it.Path]; !ok {
				t.Errorf("source %+v names a path not in the bundle", it)
			}
		}
		if it.Error != "" {
			t.Errorf("unexpected failure: %+v", it)
		}
	}
	// Never resolving names: every ss/netstat listing has -n.
	for _, c := range r.calls {
		if f := strings.Fields(c); (f[0] == "ss" || f[0] == "netstat") && f[1] != "-s" && !strings.Contains(f[1], "n") {
			t.Errorf("command %q may resolve names", c)
		}
	}
	// sysctl.txt.
	sys := files["sysctl.txt"]
	for _, l := range []string{"net.ipv4.tcp_fin_timeout = 60", "net.ipv4.tcp_rmem = 4096\t131072\t6291456",
		"net.ipv4.ip_local_port_range = 32768\t60999", "net.core.somaxconn = 4096", "fs.nr_open = 1048576",
		"net.netfilter.nf_conntrack_max = 262144", "net.netfilter.nf_conntrack_tcp_timeout_established = 432000"} {
		if !strings.Contains(sys, l+"\n") {
			t.Errorf("sysctl.txt lacks %q:\n%s", l, sys)
		}
	}
	if strings.Contains(sys, "ip_forward") {
		t.Error("sysctl.txt has an unrequested setting")
	}
	if !strings.HasPrefix(files["uname.txt"], "Linux db01.example.com 6.1.0-test #1") {
		t.Errorf("uname.txt = %q", files["uname.txt"])
	}
	// processes.json.
	var procs []Process
	if err := json.Unmarshal([]byte(files[ProcessesPath]), &procs); err != nil {
		t.Fatal(err)
	}
	if len(procs) != 1 {
		t.Fatalf("processes: %+v", procs)
	}
	p := procs[0]
	if p.PID != 123 || p.Name != "java" || p.UID != 1000 || p.FDs != 5 || p.FDLimit != 1024 ||
		fmt.Sprint(p.SocketInodes) != "[1000 1001 1002]" ||
		p.Cmdline != "/usr/bin/java -Dhost=db01.example.com -jar app.jar" {
		t.Errorf("process: %+v", p)
	}
}

func TestCmdlineCap(t *testing.T) {
	long := strings.Repeat("a\x00", 300)
	if got := cmdline([]byte(long)); len(got) > cmdlineCap || strings.Contains(got, "\x00") {
		t.Errorf("cmdline not capped: %d bytes", len(got))
	}
}

// noFollowFS fails the test when a descriptor link is opened.
type noFollowFS struct {
	fstest.MapFS
	t *testing.T
}

func (f noFollowFS) Open(name string) (fs.File, error) {
	if strings.Contains(name, "/fd/") {
		f.t.Errorf("opened descriptor link %s", name)
	}
	return f.MapFS.Open(name)
}

func (f noFollowFS) ReadLink(name string) (string, error) { return f.MapFS.ReadLink(name) }

func TestNeverOpensDescriptorLinks(t *testing.T) {
	_, files := collectBundle(t, testOptions(noFollowFS{fakeFS(), t}, linuxRun(), nil))
	if !strings.Contains(files[ProcessesPath], `"pid": 123`) {
		t.Errorf("processes.json: %s", files[ProcessesPath])
	}
}

func TestSSOptionFallback(t *testing.T) {
	r := linuxRun()
	r.fail = map[string]int{"ss -tanpoeim": 255}
	m, files := collectBundle(t, testOptions(fakeFS(), r, nil))
	if files["samples/0/ss-tanpoeim.txt"] != fakeSS || files["samples/1/ss-tanpoeim.txt"] != fakeSS {
		t.Error("ss -tanpoe output missing")
	}
	first := m.Sources[0]
	for _, it := range m.Sources {
		if it.Command == "ss -tanpoeim" {
			first = it
			break
		}
	}
	if first.Command != "ss -tanpoeim" || first.Path != "" || first.ExitStatus != 255 || !strings.Contains(first.Error, "invalid option") {
		t.Errorf("failed attempt not recorded: %+v", first)
	}
	if !hasNote(m, "used ss -tanpoe") {
		t.Errorf("notes: %q", m.Notes)
	}
	if countCalls(r, "ss -tanpoeim") != 1 {
		t.Errorf("rejected options retried: %q", r.calls)
	}
}

func TestSSMissingFallsBackToNetstat(t *testing.T) {
	r := linuxRun()
	delete(r.out, "ss -tanpoeim")
	delete(r.out, "ss -tanpoe")
	_, files := collectBundle(t, testOptions(fakeFS(), r, nil))
	if files["samples/0/netstat-antpo.txt"] != fakeNetstat || files["samples/1/netstat-antpo.txt"] != fakeNetstat {
		t.Errorf("netstat fallback missing: %q", keys(files))
	}
	if _, ok := files["samples/0/ss-tanpoeim.txt"]; ok {
		t.Error("empty ss output written")
	}
	if countCalls(r, "ss -s") != 0 {
		t.Error("ss -s run though ss does not work")
	}
}

func TestNoInetDiagUsesProcOnly(t *testing.T) {
	fsys := fakeFS()
	fsys["proc/modules"] = file("ext4 1 0 - Live 0x0\n")
	r := linuxRun()
	m, files := collectBundle(t, testOptions(fsys, r, nil))
	for _, c := range r.calls {
		if strings.HasPrefix(c, "ss") {
			t.Errorf("ran %q though inet_diag is not loaded", c)
		}
	}
	if !hasNote(m, "inet_diag not loaded: used /proc/net/tcp instead of ss to avoid loading a kernel module") {
		t.Errorf("notes: %q", m.Notes)
	}
	if files["samples/0/proc/net/tcp"] != fakeTCP || files["samples/0/netstat-antpo.txt"] == "" {
		t.Error("/proc copies or netstat missing")
	}
	// And with netstat missing too: /proc alone.
	delete(r.out, "netstat -antpo")
	m, files = collectBundle(t, testOptions(fsys, r, nil))
	if !hasNote(m, noteNoSSNoNetstat) || files["samples/1/proc/net/tcp6"] != fakeTCP6 || !strings.Contains(files[ProcessesPath], `"pid": 123`) {
		t.Errorf("proc-only collection: notes %q files %q", m.Notes, keys(files))
	}
}

func TestInetDiagBuiltIn(t *testing.T) {
	fsys := fakeFS()
	fsys["proc/modules"] = file("ext4 1 0 - Live 0x0\n")
	fsys["sys/module/inet_diag/parameters/x"] = file("")
	fsys["lib/modules/6.1.0-test/modules.builtin"] = file("kernel/net/ipv4/tcp_diag.ko\n")
	r := linuxRun()
	_, files := collectBundle(t, testOptions(fsys, r, nil))
	if files["samples/0/ss-tanpoeim.txt"] == "" {
		t.Errorf("ss not used with built-in diag modules: %q", r.calls)
	}
	// Without /proc/modules the kernel cannot load modules at all.
	delete(fsys, "proc/modules")
	_, files = collectBundle(t, testOptions(fsys, linuxRun(), nil))
	if files["samples/0/ss-tanpoeim.txt"] == "" {
		t.Error("ss not used on a kernel without modules")
	}
}

func TestNotRoot(t *testing.T) {
	o := testOptions(fakeFS(), linuxRun(), nil)
	o.IsRoot = func() bool { return false }
	m, _ := collectBundle(t, o)
	if m.Root || !hasNote(m, noteNotRoot) {
		t.Errorf("root %v notes %q", m.Root, m.Notes)
	}
}

func TestSizeCaps(t *testing.T) {
	o := testOptions(fakeFS(), linuxRun(), nil)
	o.MaxFileBytes = 200
	m, files := collectBundle(t, o)
	tcp := files["samples/0/proc/net/tcp"]
	if len(tcp) > 200 || !strings.HasSuffix(tcp, "\n") || !strings.HasPrefix(fakeTCP, tcp) {
		t.Errorf("truncated tcp (%d bytes) = %q", len(tcp), tcp)
	}
	it := findSource(m, "samples/0/proc/net/tcp")
	if it == nil || !it.Truncated || it.Bytes != int64(len(tcp)) {
		t.Errorf("item %+v", it)
	}
	if it := findSource(m, "samples/0/proc/net/snmp"); it == nil || it.Truncated {
		t.Errorf("small file marked truncated: %+v", it)
	}

	// Total cap: the manifest is still written, the rest is skipped.
	o = testOptions(fakeFS(), linuxRun(), nil)
	o.MaxBytes = (1 << 20) + 8*1024
	m, files = collectBundle(t, o)
	skipped := 0
	for _, it := range m.Sources {
		if it.Error == errCapReached.Error() {
			skipped++
			if it.Path != "" || !it.Truncated {
				t.Errorf("skipped item %+v", it)
			}
		}
	}
	if skipped == 0 || len(files) > 12 {
		t.Errorf("total cap not applied: %d skipped, %d files", skipped, len(files))
	}
}

func TestCommandTimeout(t *testing.T) {
	r := linuxRun()
	o := testOptions(fakeFS(), r, nil)
	o.CommandTimeout = 20 * time.Millisecond
	o.Run = func(ctx context.Context, stdout, stderr io.Writer, name string, args ...string) (int, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Errorf("%s run without a deadline", name)
		}
		<-ctx.Done()
		return -1, ctx.Err()
	}
	start := time.Now()
	m, _ := collectBundle(t, o)
	if time.Since(start) > 5*time.Second {
		t.Error("timeouts not applied")
	}
	it := findCommand(m, "ss -tanpoeim")
	if it == nil || !strings.Contains(it.Error, "deadline") {
		t.Errorf("timeout not recorded: %+v", it)
	}
}

func TestCollectRedacted(t *testing.T) {
	o := testOptions(fakeFS(), linuxRun(), nil)
	o.Redact = true
	m, files := collectBundle(t, o)
	if !m.Redacted || m.Host.Hostname != RedactedHost {
		t.Errorf("manifest: redacted %v host %q", m.Redacted, m.Host.Hostname)
	}
	for name, data := range files {
		for _, secret := range []string{"10.1.2.3", "203.0.113.9", "db01", "0302010A", "097100CB"} {
			if strings.Contains(data, secret) {
				t.Errorf("%s still holds %q", name, secret)
			}
		}
	}
	var procs []Process
	json.Unmarshal([]byte(files[ProcessesPath]), &procs)
	if len(procs) != 1 || procs[0].Cmdline != "java" {
		t.Errorf("cmdline not replaced: %+v", procs)
	}
	// The same address maps the same way in ss text and /proc hex, in
	// both samples, and loopback stays loopback.
	ss := files["samples/1/ss-tanpoeim.txt"]
	f := strings.Fields(strings.Split(ss, "\n")[1])
	local := strings.TrimSuffix(f[3], ":8080")
	tcpLines := strings.Split(files["samples/0/proc/net/tcp"], "\n")
	hexLocal := strings.Fields(tcpLines[1])[1]
	if got := hexToAddr(t, strings.TrimSuffix(hexLocal, ":1F90")); got != local {
		t.Errorf("ss says %s, /proc/net/tcp says %s", local, got)
	}
	if !strings.Contains(ss, "127.0.0.1:22") || !strings.Contains(files["samples/0/proc/net/tcp"], "0100007F:0016") {
		t.Error("loopback changed")
	}
	if !strings.Contains(ss, "[::ffff:"+local+"]:443") {
		t.Errorf("mapped address inconsistent with %s:\n%s", local, ss)
	}
	if files["samples/0/ss-tanpoeim.txt"] != ss {
		t.Error("samples redacted differently")
	}
}

func hasNote(m *Manifest, sub string) bool {
	for _, n := range m.Notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

func countCalls(r *fakeRun, line string) int {
	n := 0
	for _, c := range r.calls {
		if c == line {
			n++
		}
	}
	return n
}

func findSource(m *Manifest, path string) *Item {
	for i := range m.Sources {
		if m.Sources[i].Path == path {
			return &m.Sources[i]
		}
	}
	return nil
}

func findCommand(m *Manifest, cmd string) *Item {
	for i := range m.Sources {
		if m.Sources[i].Command == cmd {
			return &m.Sources[i]
		}
	}
	return nil
}

func TestOtherPlatforms(t *testing.T) {
	r := &fakeRun{out: map[string]string{
		"netstat -anv -p tcp": "Active Internet connections (including servers)\ntcp4  0  0  10.0.0.5.443  203.0.113.7.52100  CLOSE_WAIT  131072 131072  123  0\ntcp4 0 0 *.443 *.* LISTEN 0 0 123 0\n",
		"netstat -s -p tcp":   "tcp:\n\t10 packets sent\n",
		"netstat -Lan":        "Current listen queue sizes (qlen/incqlen/maxqlen)\n",
		"sysctl net.inet.tcp net.inet.ip.portrange kern.ipc.somaxconn kern.maxfiles kern.maxfilesperproc": "net.inet.tcp.msl: 15000\nkern.ipc.somaxconn: 128\n",
		"uname -a": "Darwin mac 23.0.0\n",
	}}
	o := testOptions(fstest.MapFS{"etc/nsswitch.conf": file("hosts: files\n")}, r, nil)
	o.GOOS = "darwin"
	o.Hostname = "mac"
	m, files := collectBundle(t, o)
	if files["sysctl.txt"] != "net.inet.tcp.msl = 15000\nkern.ipc.somaxconn = 128\n" {
		t.Errorf("sysctl.txt = %q", files["sysctl.txt"])
	}
	if !strings.Contains(files["samples/1/netstat-an.txt"], "CLOSE_WAIT") || files["uname.txt"] == "" {
		t.Errorf("files %q", keys(files))
	}
	if !hasNote(m, "platform darwin: per sample netstat -anv -p tcp") {
		t.Errorf("notes %q", m.Notes)
	}

	w := &fakeRun{out: map[string]string{
		"netstat -ano": "  TCP    10.0.0.5:49700   203.0.113.7:443   TIME_WAIT   0\n",
		`reg query HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`: "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\...\\Parameters\r\n    TcpTimedWaitDelay    REG_DWORD    0x1e\r\n    Hostname    REG_SZ    WIN01\r\n",
	}}
	o = testOptions(fstest.MapFS{}, w, nil)
	o.GOOS = "windows"
	o.Samples = 1
	_, files = collectBundle(t, o)
	if !strings.Contains(files["sysctl.txt"], "TcpTimedWaitDelay = 30\n") {
		t.Errorf("windows sysctl.txt = %q", files["sysctl.txt"])
	}
	if files["samples/0/netstat-ano.txt"] == "" {
		t.Errorf("files %q", keys(files))
	}
}

func TestBundleStates(t *testing.T) {
	var buf bytes.Buffer
	o := testOptions(fakeFS(), linuxRun(), &buf)
	if _, err := Collect(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	c, err := BundleStates(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.String(); got != "4 sockets: 1 CLOSE_WAIT, 1 ESTABLISHED, 1 LISTEN, 1 TIME_WAIT" {
		t.Errorf("states: %s", got)
	}
	if _, err := BundleStates(strings.NewReader("garbage")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestNoOutput(t *testing.T) {
	if _, err := Collect(context.Background(), Options{}); err == nil {
		t.Error("no error without output")
	}
}

// BenchmarkWalkProcesses measures the /proc/*/fd walk on this host. On a
// namespace holding 100,020 sockets (TestE2EManySockets with
// TCPSNAP_E2E_SOCKETS=50000) the walk took about 0.9 s.
func BenchmarkWalkProcesses(b *testing.B) {
	fsys := os.DirFS("/")
	if _, err := fs.Stat(fsys, "proc/self/fd"); err != nil {
		b.Skip("no /proc")
	}
	all := map[uint64]bool{}
	for i := 0; i < b.N; i++ {
		if _, _, err := walkProcesses(fsys, all); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBusyHostUsesProc: on a host with more TCP sockets than
// bigHostSockets the collector runs neither ss nor netstat (ss -p takes
// ~10 s at 100,000 sockets) and says why; the /proc copies and the
// descriptor map still carry sockets and owners.
func TestBusyHostUsesProc(t *testing.T) {
	fsys := fakeFS()
	fsys["proc/net/sockstat"] = file("sockets: used 120010\nTCP: inuse 70000 orphan 0 tw 50000 alloc 70010 mem 900\n")
	if n := tcpSocketCount(fsys); n != 120001 {
		t.Fatalf("tcpSocketCount = %d, want 120001 (inuse + tw + TCP6 inuse)", n)
	}
	r := linuxRun()
	m, files := collectBundle(t, testOptions(fsys, r, nil))
	for _, c := range r.calls {
		if strings.HasPrefix(c, "ss") || strings.HasPrefix(c, "netstat") {
			t.Errorf("ran %q on a host with 120001 TCP sockets", c)
		}
	}
	found := false
	for _, n := range m.Notes {
		found = found || strings.HasPrefix(n, "120001 TCP sockets: read /proc/net/tcp")
	}
	if !found {
		t.Errorf("notes %q lack the reason", m.Notes)
	}
	if files["samples/0/proc/net/tcp"] != fakeTCP || !strings.Contains(files[ProcessesPath], `"pid": 123`) {
		t.Errorf("proc copies or process table missing: %q", keys(files))
	}
}

// TestReadManifestTooLarge: a manifest over the read cap says so instead
// of "unexpected EOF".
func TestReadManifestTooLarge(t *testing.T) {
	big := `{"format": "` + BundleFormat + `", "notes": ["` + strings.Repeat("x", maxManifestBytes) + `"]}`
	_, err := ReadManifest(strings.NewReader(big))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("ReadManifest = %v", err)
	}
}

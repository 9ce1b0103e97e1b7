package formats

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

func TestSSDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"118min", 7080, true},
		{"55sec", 55, true},
		{"204ms", 0.204, true},
		{"1min23sec", 83, true},
		{"1min5sec", 65, true},
		{"2.067ms", 2.067, true}, // iproute2 < 6.11 bug: seconds
		{"1.864ms", 1.864, true},
		{"2.067sec", 2.067, true}, // 6.11+
		{"0.5ms", 0.0005, true},   // integer part 0: really milliseconds
		{"0ms", 0, true},
		{"", 0, false},
		{"12", 0, false},
		{"5hours", 0, false},
		{"ms", 0, false},
		{"1..2sec", 0, false},
	} {
		got, ok := linux.SSDuration([]byte(tc.in))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("ssDuration(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSSTimer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind model.Timer
		secs float64
		rx   int
		ok   bool
	}{
		{"(keepalive,118min,0)", model.TimerKeepalive, 7080, 0, true},
		{"(timewait,55sec,0)", model.TimerTimeWait, 55, 0, true},
		{"(on,204ms,2)", model.TimerOn, 0.204, 2, true},
		{"(on,2.067ms,7)", model.TimerOn, 2.067, 7, true},
		{"(persist,1min23sec,3)", model.TimerPersist, 83, 3, true},
		{"(delack,40ms,0)", model.TimerDelack, 0.04, 0, true},
		{"(unknown,3sec,0)", model.TimerOther, 3, 0, true},
		{"(on,204ms)", model.TimerOn, 0.204, -1, true},
		{"(on,x,1)", model.TimerOn, -1, 1, true},
		{"(on)", model.TimerNone, 0, 0, false},
		{"on,1sec,0", model.TimerNone, 0, 0, false},
		{"", model.TimerNone, 0, 0, false},
	} {
		kind, secs, rx, ok := linux.SSTimer([]byte(tc.in))
		if ok != tc.ok || (ok && (kind != tc.kind || secs != tc.secs || rx != tc.rx)) {
			t.Errorf("ssTimer(%q) = %q %v %d %v; want %q %v %d %v", tc.in, kind, secs, rx, ok, tc.kind, tc.secs, tc.rx, tc.ok)
		}
	}
}

func TestSSUsers(t *testing.T) {
	for _, tc := range []struct {
		in      string
		name    string
		pid, fd int
		ok      bool
	}{
		{`(("nginx",pid=1234,fd=6),("nginx",pid=1235,fd=6))`, "nginx", 1234, 6, true},
		{`(("sshd",1231,3))`, "sshd", 1231, 3, true},
		{`(("sshd",1231,3),("sshd",1300,3))`, "sshd", 1231, 3, true},
		{`(("web (srv",pid=6464,fd=6))`, "web (srv", 6464, 6, true},
		{`(("a, b (c)",pid=1,fd=2))`, "a, b (c)", 1, 2, true},
		{`(("java",pid=7,tid=9,fd=3))`, "java", 7, 3, true},
		{`(("x",pid=7))`, "x", 7, -1, true},
		{`(("",pid=7,fd=1))`, "", 7, 1, true},
		{`(("unterminated,pid=7`, "", 0, -1, false},
		{`(nginx,pid=1)`, "", 0, -1, false},
		{``, "", 0, -1, false},
	} {
		name, pid, fd, ok := linux.SSUsers([]byte(tc.in))
		if ok != tc.ok || (ok && (string(name) != tc.name || pid != tc.pid || fd != tc.fd)) {
			t.Errorf("ssUsers(%q) = %q %d %d %v; want %q %d %d %v", tc.in, name, pid, fd, ok, tc.name, tc.pid, tc.fd, tc.ok)
		}
	}
}

func TestSSTokens(t *testing.T) {
	line := "ESTAB 0 0 1.2.3.4:1 5.6.7.8:2 users:((\"a b\",pid=1,fd=2),(\"c\",pid=3,fd=4)) \ttimer:(on,1sec,0)"
	got := linux.SSTokens(nil, []byte(line))
	want := []string{"ESTAB", "0", "0", "1.2.3.4:1", "5.6.7.8:2", `users:(("a b",pid=1,fd=2),("c",pid=3,fd=4))`, "timer:(on,1sec,0)"}
	if len(got) != len(want) {
		t.Fatalf("ssTokens = %q, want %q", got, want)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("token %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// TestSSParseEdges checks parsed sockets and problem line numbers for
// small inputs; each want line is a Socket.String().
func TestSSParseEdges(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		want     []string
		problems []int // line numbers
		err      bool
	}{
		{
			name: "info continuation attaches to previous row",
			in: "State Recv-Q Send-Q Local Address:Port Peer Address:Port\n" +
				"ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\n" +
				"\t cubic rto:204 rtt:0.25/0.1 cwnd:10 retrans:0/3 bytes_sent:100 bytes_received:5 unknownkey:7 send 1Mbps\n" +
				"ESTAB 0 0 10.0.0.1:22 10.0.0.2:5001\n",
			want: []string{
				"v4 ESTABLISHED 10.0.0.1:22 -> 10.0.0.2:5000 q=0/0 info{rto=204 rtt=0.25 lastsnd=-1 lastrcv=-1 lastack=-1 retrans=0/3 unacked=-1 backoff=-1 cwnd=10 bytes=100/-1/-1/5 skmem=-1/-1/-1/-1}",
				"v4 ESTABLISHED 10.0.0.1:22 -> 10.0.0.2:5001 q=0/0",
			},
		},
		{
			name: "info line of a skipped udp row is ignored",
			in: "udp UNCONN 0 0 0.0.0.0:53 0.0.0.0:*\n" +
				"\t skmem:(r0,rb1,t0,tb2)\n" +
				"tcp LISTEN 3 128 0.0.0.0:80 0.0.0.0:*\n" +
				"\t skmem:(r0,rb131072,t0,tb16384,f0,w0,o0,bl0,d0)\n",
			want: []string{
				"v4 LISTEN 0.0.0.0:80 -> 0.0.0.0:0 q=3/128 backlog info{rto=-1 rtt=-1 lastsnd=-1 lastrcv=-1 lastack=-1 retrans=-1/-1 unacked=-1 backoff=-1 cwnd=-1 bytes=-1/-1/-1/-1 skmem=0/131072/0/16384}",
			},
		},
		{
			name: "no State column gives UNKNOWN, no backlog",
			in:   "Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n1      0          127.0.0.1:55548    127.0.0.1:8080\n",
			want: []string{"v4 UNKNOWN 127.0.0.1:55548 -> 127.0.0.1:8080 q=1/0"},
		},
		{
			name: "ino without uid means uid 0; uid kept",
			in: "ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000 ino:77 sk:1 <->\n" +
				"ESTAB 0 0 10.0.0.1:22 10.0.0.2:5001 uid:1000 ino:78 sk:2 <->\n" +
				"ESTAB 0 0 10.0.0.1:22 10.0.0.2:5002\n",
			want: []string{
				"v4 ESTABLISHED 10.0.0.1:22 -> 10.0.0.2:5000 q=0/0 uid=0 ino=77",
				"v4 ESTABLISHED 10.0.0.1:22 -> 10.0.0.2:5001 q=0/0 uid=1000 ino=78",
				"v4 ESTABLISHED 10.0.0.1:22 -> 10.0.0.2:5002 q=0/0",
			},
		},
		{
			name: "bad rows become problems with their line numbers",
			in: "Failed to find cgroup2 mount\n" +
				"ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\n" +
				"ESTAB 0 zz 10.0.0.1:22 10.0.0.2:5001\n" +
				"Cannot open netlink socket: Permission denied\n" +
				"tcp ESTAB 0 0 10.0.0.1:22 nothere\n" +
				"ESTAB 0 0 10.0.0.1:22\n" +
				"\n" +
				"LISTEN 0 5 [::]:22 [::]:*\n" +
				"tcp 0 garbage\n",
			want: []string{
				"v4 ESTABLISHED 10.0.0.1:22 -> 10.0.0.2:5000 q=0/0",
				"v6 LISTEN [::]:22 -> [::]:0 q=0/5 backlog",
			},
			problems: []int{3, 4, 5, 6, 9}, // 4: noise inside the table is reported too
		},
		{
			name: "wrapped row: peer and users on the next line",
			in: "ESTAB  0      0               192.0.2.10:22\n" +
				"       198.51.100.5:50937 users:((\"sshd\",pid=812,fd=3))\n" +
				"ESTAB  0      0               192.0.2.10:22   198.51.100.5:1\n" +
				"       users:((\"sshd\",pid=9,fd=4))\n",
			want: []string{
				`v4 ESTABLISHED 192.0.2.10:22 -> 198.51.100.5:50937 q=0/0 proc="sshd" pid=812 fd=3`,
				`v4 ESTABLISHED 192.0.2.10:22 -> 198.51.100.5:1 q=0/0 proc="sshd" pid=9 fd=4`,
			},
		},
		{
			name: "indented rows from a pasted ticket are rows, not continuations",
			in: "    ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\n" +
				"    ESTAB 0 0 10.0.0.1:22 10.0.0.2:5001\n",
			want: []string{
				"v4 ESTABLISHED 10.0.0.1:22 -> 10.0.0.2:5000 q=0/0",
				"v4 ESTABLISHED 10.0.0.1:22 -> 10.0.0.2:5001 q=0/0",
			},
		},
		{
			name: "v4-mapped folds to 4, scopes dropped, names kept",
			in: "ESTAB 0 0 [::ffff:192.0.2.1]:80 [::ffff:192.0.2.2]:5000\n" +
				"LISTEN 0 5 127.0.0.53%lo:53 0.0.0.0:*\n" +
				"ESTAB 0 0 localhost:ssh myhost:40000\n",
			want: []string{
				"v4 ESTABLISHED 192.0.2.1:80 -> 192.0.2.2:5000 q=0/0",
				"v4 LISTEN 127.0.0.53:53 -> 0.0.0.0:0 q=0/5 backlog",
				"v4 ESTABLISHED 127.0.0.1:22 -> myhost:40000 q=0/0",
			},
		},
		{
			name: "empty input is an empty listing",
			in:   "",
		},
		{
			name: "no ss content at all is an error",
			in:   "hello world\nthis is not ss\n",
			err:  true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l model.Listing
			err := linux.ParseSS(strings.NewReader(tc.in), &l)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if err != nil {
				return
			}
			var got []string
			for i := range l.Sockets {
				got = append(got, l.SocketString(i))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("sockets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			var lines []int
			for _, p := range l.Problems {
				lines = append(lines, p.Line)
			}
			if fmt.Sprint(lines) != fmt.Sprint(tc.problems) && !(len(lines) == 0 && len(tc.problems) == 0) {
				t.Errorf("problem lines = %v, want %v (%v)", lines, tc.problems, l.Problems)
			}
		})
	}
}

func TestSSRichness(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\n", 50},
		{"ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000 users:((\"a\",pid=1,fd=2))\n", 70},
		{"ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000 users:((\"a\",pid=1,fd=2)) timer:(on,1sec,0) ino:5\n\t rto:204\n", 95},
	} {
		var l model.Listing
		if err := linux.ParseSS(strings.NewReader(tc.in), &l); err != nil {
			t.Fatal(err)
		}
		if l.Richness != tc.want || fmt.Sprint(l.Families) != "[4 6]" {
			t.Errorf("richness %d families %v, want %d [4 6] for %q", l.Richness, l.Families, tc.want, tc.in)
		}
	}
}

func TestSSDetect(t *testing.T) {
	netstat, err := os.ReadFile("testdata/ss/notss-netstat-tanpo.in")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		in       string
		min, max int
	}{
		{"header", "State Recv-Q Send-Q Local Address:Port Peer Address:Port\n", 95, 95},
		{"headerless rows", "ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\nTIME-WAIT 0 0 10.0.0.1:22 10.0.0.2:5001\n", 60, 90},
		{"netid rows", "tcp ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\nudp UNCONN 0 0 0.0.0.0:53 0.0.0.0:*\n", 60, 90},
		{"stateless rows", "0 0 10.0.0.1:22 10.0.0.2:5000\n1 0 10.0.0.1:22 10.0.0.2:5001\n", 60, 90},
		{"users decisive", "Failed to find cgroup2 mount\nESTAB 0 0 10.0.0.1:22 10.0.0.2:5000 users:((\"a\",pid=1,fd=2))\n", 75, 90},
		{"netstat capture", string(netstat), 0, 0},
		{"netstat headerless", "tcp        0      0 127.0.0.1:8080          0.0.0.0:*               LISTEN\ntcp        0      0 127.0.0.1:8083          127.0.0.1:60620         ESTABLISHED\n", 0, 0},
		{"netstat headerless tcp6", "tcp6       0      0 :::22                   :::*                    LISTEN\n", 0, 0},
		{"ss -s", "Total: 20\nTCP:   21 (estab 13, closed 3, orphaned 0, timewait 2)\n", 0, 0},
		{"prose", "hello world\n", 0, 0},
	} {
		got := linux.DetectSS(parse.HeadLines([]byte(tc.in)))
		if got < tc.min || got > tc.max {
			t.Errorf("%s: detectSS = %d, want %d..%d", tc.name, got, tc.min, tc.max)
		}
	}
}

func TestSSSummary(t *testing.T) {
	in := "Total: 1312 (kernel 1565)\n" +
		"TCP:   1193 (estab 5, closed 1178, orphaned 0, synrecv 0, timewait 1178/0), ports 0\n\n" +
		"Transport Total     IP        IPv6\n*\t  1565      -         -\nTCP\t  15        12        3\n"
	var l model.Listing
	if err := linux.ParseSSSummary(strings.NewReader(in), &l); err != nil {
		t.Fatal(err)
	}
	want := "families [] richness 0 sockets 0\n" +
		"counter SS.TCP = 1193\ncounter SS.TCP.closed = 1178\ncounter SS.TCP.estab = 5\n" +
		"counter SS.TCP.orphaned = 0\ncounter SS.TCP.synrecv = 0\ncounter SS.TCP.timewait = 1178\n" +
		"counter SS.Total = 1312\n"
	if got := l.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if sc := linux.DetectSSSummary(parse.HeadLines([]byte(in))); sc != 95 {
		t.Errorf("detect = %d, want 95", sc)
	}
	l = model.Listing{}
	if err := linux.ParseSSSummary(strings.NewReader("Total: x\nTCP: what\n"), &l); err == nil || len(l.Problems) != 2 || l.Problems[1].Line != 2 {
		t.Errorf("bad input: err %v problems %v", err, l.Problems)
	}
	if err := linux.ParseSSSummary(strings.NewReader("ESTAB 0 0 1.2.3.4:1 1.2.3.4:2\n"), &model.Listing{}); err == nil {
		t.Error("an ss listing parsed as ss -s")
	}
}

func FuzzParseSS(f *testing.F) { fuzzFormat(f, "ss") }

func FuzzParseSSSummary(f *testing.F) { fuzzFormat(f, "ss-summary") }

// ssBenchInput builds an `ss -tanp` listing of n rows.
func ssBenchInput(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 130)
	b.WriteString("State      Recv-Q Send-Q      Local Address:Port        Peer Address:Port Process\n")
	states := []string{"ESTAB", "TIME-WAIT", "CLOSE-WAIT", "ESTAB", "FIN-WAIT-2", "LISTEN"}
	procs := []string{"nginx", "java", "postgres", "sshd"}
	for i := 0; i < n; i++ {
		st := states[i%len(states)]
		fmt.Fprintf(&b, "%-10s %-6d %-6d %22s %22s", st, i%7, i%1000,
			fmt.Sprintf("10.%d.%d.%d:%d", i>>16&255, i>>8&255, i&255, 1024+i%60000),
			fmt.Sprintf("192.0.2.%d:%d", i%250, 443))
		if st != "TIME-WAIT" {
			fmt.Fprintf(&b, ` users:(("%s",pid=%d,fd=%d))`, procs[i%len(procs)], 1000+i%50, 3+i%1000)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func BenchmarkParseSS(b *testing.B) {
	data := ssBenchInput(1_000_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		var l model.Listing
		if err := linux.ParseSS(bytes.NewReader(data), &l); err != nil {
			b.Fatal(err)
		}
		if len(l.Sockets) != 1_000_000 || len(l.Problems) != 0 {
			b.Fatalf("%d sockets, %d problems", len(l.Sockets), len(l.Problems))
		}
	}
	// CPU time (user+sys, all threads, GC included) is steadier than wall
	// time on a shared machine.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

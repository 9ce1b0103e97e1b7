package ticket

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

func TestParsePipeline(t *testing.T) {
	tests := []struct {
		cmd   string
		base  string
		count bool
		head  bool
		state string
		port  int
		pid   int
		num   int
		proc  string
	}{
		{cmd: "ss -np | grep :6000 | grep CLOSE-WAIT | wc -l", base: "ss", count: true, state: "CLOSE_WAIT", port: 6000},
		{cmd: "netstat -apn | grep 7311 | grep CLOS | wc -l", base: "netstat", count: true, state: "CLOSE_WAIT", num: 7311},
		{cmd: "netstat -an | grep -c TIME_WAIT", base: "netstat", count: true, state: "TIME_WAIT"},
		{cmd: "lsof -p 4242 | grep CLOSE_WAIT | head", base: "lsof", head: true, state: "CLOSE_WAIT"},
		{cmd: "netstat -tan | awk '$5 ~ /:9000/ {print $6}' | sort | uniq -c", base: "netstat", port: 9000},
		{cmd: `netstat -ano | find "TIME_WAIT" /c`, base: "netstat", count: true, state: "TIME_WAIT"},
		{cmd: "netstat -anp | grep java | grep -i close_wait | wc -l", base: "netstat", count: true, state: "CLOSE_WAIT", proc: "java"},
		{cmd: "ss -ant state close-wait | wc -l", base: "ss", count: true, state: "CLOSE_WAIT"},
		{cmd: "sudo netstat -tnp | grep -v LISTEN | grep ESTA | wc -l", base: "netstat", count: true, state: "ESTABLISHED"},
		{cmd: "(Get-NetTCPConnection -State TimeWait).Count", base: "get-nettcpconnection", count: true},
		{cmd: "netstat -na -f inet6|grep 8080|grep TIME |wc -l", base: "netstat", count: true, state: "TIME_WAIT", port: 8080},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			p, ok := ParsePipeline(tt.cmd)
			if !ok || p.Base != tt.base || p.Count != tt.count || p.Head != tt.head {
				t.Fatalf("ParsePipeline = %+v, %v", p, ok)
			}
			var e model.Evidence
			p.Describe(&e)
			if e.State != tt.state || e.Port != tt.port || e.PID != tt.pid || e.Number != tt.num || e.Process != tt.proc {
				t.Errorf("describe = state %q port %d pid %d number %d process %q", e.State, e.Port, e.PID, e.Number, e.Process)
			}
		})
	}
}

func TestFindEvidence(t *testing.T) {
	tests := []struct {
		name, text string
		want       []model.Evidence // Kind, State, N, Message, Port, Name compared
	}{
		{"count after prompt", "$ ss -np | grep :6000 | grep CLOSE-WAIT | wc -l\n31877\n",
			[]model.Evidence{{Kind: model.EvCount, State: "CLOSE_WAIT", N: 31877, Port: 6000}}},
		{"ss state count drops the header", "# ss -ant state close-wait | wc -l\n634\n",
			[]model.Evidence{{Kind: model.EvCount, State: "CLOSE_WAIT", N: 633}}},
		{"count in a fence", "```\n> netstat -an | grep TIME_WAIT | wc -l\n```\n```\n  12000\n```\n",
			[]model.Evidence{{Kind: model.EvCount, State: "TIME_WAIT", N: 12000}}},
		{"stated", "We see about 400 connections in CLOSE_WAIT on the app server.",
			[]model.Evidence{{Kind: model.EvStated, State: "CLOSE_WAIT", N: 400}}},
		{"stated words", "There are thousands of TIME_WAIT sockets.",
			[]model.Evidence{{Kind: model.EvStated, State: "TIME_WAIT", N: 1000, AtLeast: true}}},
		{"no number, no claim", "lots of CLOSE_WAIT here, is that bad?", nil},
		{"emfile", "2024/01/02 nginx: [alert] accept4() failed (24: Too many open files)",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgEMFILE}}},
		{"eaddrnotavail with remote", `dial tcp 203.0.113.5:443: connect: cannot assign requested address`,
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgEADDRNOTAVAIL, Port: 443}}},
		{"syn flood", "kernel: TCP: request_sock_TCP: Possible SYN flooding on port 8443. Sending cookies.",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgSYNFlood, Port: 8443}}},
		{"bind", "bind(2) for 127.0.0.1:9090 failed: Address already in use",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgEADDRINUSE, Port: 9090}}},
		// "Address already in use" on an outgoing connection is a client
		// out of ports (bound before connecting), not a server that
		// cannot bind.
		{"eaddrinuse on connect", `21:05:32.001 [error] connection to "localhost":1883 failed due to eaddrinuse`,
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgEADDRINUSEConnect, Port: 1883}}},
		{"eaddrinuse on a bound dial", `dial tcp 10.0.0.5:0->10.0.0.9:443: bind: address already in use`,
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgEADDRINUSEConnect, Port: 443}}},
		{"eaddrinuse on listen", `listen tcp :8080: bind: address already in use`,
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgEADDRINUSE, Port: 8080}}},
		{"a question is no report", `Would that cause a "Too many open files" error?`, nil},
		{"counter line", "$ netstat -s | grep -i listen\n    5120 times the listen queue of a socket overflowed\n",
			[]model.Evidence{{Kind: model.EvCounter, Name: "TcpExt.ListenOverflows", N: 5120}}},
		{"ulimit", "$ ulimit -n\n1024\n", []model.Evidence{{Kind: model.EvSetting, Name: "ulimit -n"}}},
		{"BSD listen overflows", "$ netstat -sp tcp | fgrep listen\n\t1204417 listen queue overflows\n",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgListenQueue}, {Kind: model.EvCounter, Name: "Tcp.ListenQueueOverflows", N: 1204417}}},
		{"a port is no count", "lots of sockets on port 8080 in TIME_WAIT", nil},
		{"a year is no count (the claim is a message)", "since 2023 connections are stuck in CLOSE_WAIT",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgCloseWaitGrows}}},
		{"stuck in CLOSE_WAIT", "RPC sockets get stuck in CLOSE_WAIT state",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgCloseWaitGrows}}},
		{"no increase is no claim", "No increase of CLOSE_WAIT tcp connections.", nil},
		{"listen() queue overflow", "the FreeBSD kernel signaling that the listen() queue overflow",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgListenQueue}}},
		{"sonewconn counts the queue", "sonewconn: pcb 0xfffff8001a6b2540 (192.168.2.1:1083 (proto 6)): Listen queue overflow: 11 already in queue awaiting acceptance (15 occurrences), euid 0, rgid 0, jail 0",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgListenQueue, Port: 1083, N: 11}}},
		{"a product's port is no count", "Redis 6379 connections in TIME_WAIT", nil},
		{"a time is no port", "Mar  4 10:22:33 web1 node[4711]: Error: listen EADDRINUSE: address already in use :::3000",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgEADDRINUSE, Port: 3000}}},
		{"a logged line with a time is no row", "2024/03/04 10:22:33 [crit] 1234#0: *5 connect() to 10.0.0.5:8080 failed (99: Cannot assign requested address) while connecting to upstream",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgEADDRNOTAVAIL, Port: 8080}}},
		{"an answer is no report", "You would only need to worry if you saw 'Too many open files'.", nil},
		{"a pid is no Windows error", "ss -tanp shows java with pid 10055", nil},
		{"not a leak", "That is not a leak; CLOSE_WAIT that goes away is normal", nil},
		{"rows are not stated numbers", "tcp 0 0 10.0.0.1:51584 10.0.0.2:80 CLOSE_WAIT\n", nil},
		{"CR line ends", "$ netstat -an | grep -c CLOSE_WAIT\r200\r",
			[]model.Evidence{{Kind: model.EvCount, State: "CLOSE_WAIT", N: 200}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FindEvidence("t.txt", []byte(tt.text), nil)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d pieces of evidence %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Kind != w.Kind || g.State != w.State || g.N != w.N || g.Message != w.Message || g.Port != w.Port || g.Name != w.Name || g.AtLeast != w.AtLeast {
					t.Errorf("evidence %d = %+v, want %+v", i, g, w)
				}
				if g.Line < 1 || g.Path != "t.txt" {
					t.Errorf("evidence %d has no place: %+v", i, g)
				}
			}
		})
	}
}

// FuzzFindEvidence: any text, never a panic; every piece of evidence
// names a line of the text.
func FuzzFindEvidence(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "samples", "tickets", "*.txt"))
	more, _ := filepath.Glob(filepath.Join("..", "testdata", "tickets", "*"))
	for _, p := range append(seeds, more...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte{'\n'}) + bytes.Count(data, []byte{'\r'}) + 1
		for _, e := range FindEvidence("f", data, nil) {
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("evidence at line %d of a %d-line text", e.Line, lines)
			}
		}
	})
}

func TestOSOfText(t *testing.T) {
	for text, want := range map[string]string{
		"On macOS Sonoma the connections fail; macOS 14.2": "darwin",
		"FreeBSD 13.2 web front, FreeBSD jails":            "freebsd",
		"3proxy on a pfSense VM (FreeBSD)":                 "freebsd",
		"C:\\> netstat -ano on our Windows Server 2019":    "windows",
		"a k8s pod; locally on my macOS laptop it works":   "",
		"Ubuntu 22.04, netstat shows":                      "",
		"works on Linux but not on macOS":                  "",
		"the window of the terminal":                       "",
	} {
		if got := osOfText([]byte(text)); got != want {
			t.Errorf("osOfText(%q) = %q, want %q", text, got, want)
		}
	}
}

// BenchmarkFindEvidenceLongLine reads one 400 KB line dense with stated
// quantities, rates and counts: the words before each match are read
// from its last bytes, not from the line's start (that was quadratic:
// 820 KB took six minutes).
func BenchmarkFindEvidenceLongLine(b *testing.B) {
	line := []byte(strings.Repeat("a lot of TIME_WAIT connections, 750 req/s, about 400 in CLOSE_WAIT, somaxconn is 128 ", 4000))
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		FindEvidence("f", line, nil)
	}
}

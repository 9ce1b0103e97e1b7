package formats

import (
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

func TestNetstatLinuxRows(t *testing.T) {
	tests := []struct {
		name, row, want string
		problem         bool
	}{
		{"plain", "tcp        0     36 192.0.2.10:22           198.51.100.5:50937      ESTABLISHED",
			"v4 ESTABLISHED 192.0.2.10:22 -> 198.51.100.5:50937 q=0/36", false},
		{"pid spaces", "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      600/sshd: /usr/sbin ",
			`v4 LISTEN 0.0.0.0:22 -> 0.0.0.0:0 q=0/0 proc="sshd: /usr/sbin" pid=600`, false},
		{"pid dash", "tcp        0      0 127.0.0.1:47170         127.0.0.1:22            TIME_WAIT   -                   ",
			"v4 TIME_WAIT 127.0.0.1:47170 -> 127.0.0.1:22 q=0/0", false},
		{"timer off", "tcp        0      0 127.0.0.1:38612         127.0.0.1:9000          ESTABLISHED 6571/python3         off (0.00/0/0)",
			`v4 ESTABLISHED 127.0.0.1:38612 -> 127.0.0.1:9000 q=0/0 proc="python3" pid=6571`, false},
		{"timer keepalive", "tcp        0      0 127.0.0.1:47162         127.0.0.1:22            ESTABLISHED 6571/python3         keepalive (7145.57/0/0)",
			`v4 ESTABLISHED 127.0.0.1:47162 -> 127.0.0.1:22 q=0/0 proc="python3" pid=6571 timer=keepalive/7145.57/0`, false},
		{"timer on spaces", "tcp        0   1448 192.0.2.10:443          198.51.100.20:51000     ESTABLISHED 4100/nginx: worker   on (0.20/3/0)",
			`v4 ESTABLISHED 192.0.2.10:443 -> 198.51.100.20:51000 q=0/1448 proc="nginx: worker" pid=4100 timer=on/0.2/3`, false},
		{"timer probe no pid", "tcp        0      0 192.0.2.10:443          198.51.100.20:51000     ESTABLISHED probe (1.20/0/3)",
			`v4 ESTABLISHED 192.0.2.10:443 -> 198.51.100.20:51000 q=0/0 timer=persist/1.2/0`, false},
		{"user inode", "tcp        0      0 127.0.0.1:9000          0.0.0.0:*               LISTEN      0          11242      6571/python3        ",
			`v4 LISTEN 127.0.0.1:9000 -> 0.0.0.0:0 q=0/0 proc="python3" pid=6571 uid=0 ino=11242`, false},
		{"user name inode", "tcp        0      0 127.0.0.1:9000          0.0.0.0:*               LISTEN      postgres   11242     ",
			`v4 LISTEN 127.0.0.1:9000 -> 0.0.0.0:0 q=0/0 ino=11242`, false},
		{"tcp6 wildcard", "tcp6       0      0 :::8443                 :::*                    LISTEN     ",
			"v6 LISTEN [::]:8443 -> [::]:0 q=0/0", false},
		{"tcp6 mapped", "tcp6       0      0 127.0.0.1:8443          127.0.0.1:60176         ESTABLISHED",
			"v4 ESTABLISHED 127.0.0.1:8443 -> 127.0.0.1:60176 q=0/0", false},
		{"old star tcp6", "tcp6       0      0 *:https                 *:*                     LISTEN",
			"v6 LISTEN [::]:443 -> [::]:0 q=0/0", false},
		{"names", "tcp        0      0 web01.example.com:https ec2-54-93-54-143.:56111 ESTABLISHED",
			"v4 ESTABLISHED web01.example.com:443 -> ec2-54-93-54-143.:56111 q=0/0", false},
		{"unknown state", "tcp        0      0 192.0.2.1:1             192.0.2.2:2             WEIRD",
			"v4 UNKNOWN 192.0.2.1:1 -> 192.0.2.2:2 q=0/0", true},
		{"bad pid", "tcp        0      0 192.0.2.1:1             192.0.2.2:2             ESTABLISHED x/y",
			"v4 ESTABLISHED 192.0.2.1:1 -> 192.0.2.2:2 q=0/0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l model.Listing
			if err := linux.ParseNetstatLinux(strings.NewReader(tt.row+"\n"), &l); err != nil {
				t.Fatal(err)
			}
			if len(l.Sockets) != 1 {
				t.Fatalf("got %d sockets, problems %v", len(l.Sockets), l.Problems)
			}
			if got := l.Sockets[0].String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if tt.problem != (len(l.Problems) > 0) {
				t.Errorf("problems %v", l.Problems)
			}
			for _, p := range l.Problems {
				if p.Line != 1 {
					t.Errorf("problem at line %d, want 1", p.Line)
				}
			}
		})
	}
}

func TestNetstatLinuxProblemLines(t *testing.T) {
	in := "Active Internet connections (servers and established)\n" +
		"Proto Recv-Q Send-Q Local Address           Foreign Address         State      \n" +
		"tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN     \n" +
		"udp        0      0 0.0.0.0:53              0.0.0.0:*                          \n" +
		"tcp        0      0 0.0.0.0:22\n" +
		"tcp        x      0 0.0.0.0:22              0.0.0.0:*               LISTEN     \n" +
		"Active UNIX domain sockets (servers and established)\n" +
		"Proto RefCnt Flags       Type       State         I-Node   Path\n" +
		"unix  2      [ ACC ]     STREAM     LISTENING     12345    /run/x.sock\n"
	var l model.Listing
	if err := linux.ParseNetstatLinux(strings.NewReader(in), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Sockets) != 1 || len(l.Problems) != 2 || l.Problems[0].Line != 5 || l.Problems[1].Line != 6 {
		t.Errorf("sockets %d problems %v", len(l.Sockets), l.Problems)
	}
	if l.Richness != 40 || len(l.Families) != 2 {
		t.Errorf("richness %d families %v", l.Richness, l.Families)
	}
	if err := linux.ParseNetstatLinux(strings.NewReader("Kernel IP routing table\n"), &l); err == nil {
		t.Error("routing table parsed as netstat")
	}
}

func TestNetstatLinuxDetect(t *testing.T) {
	tests := []struct {
		name string
		in   string
		min  int // the score must be >= min, or 0 when min is 0
	}{
		{"header", "Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State      \ntcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN", 90},
		{"grep rows", "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      812/sshd\ntcp6       0      0 :::443                  :::*                    LISTEN      901/nginx: master", 60},
		{"ss", "State      Recv-Q Send-Q Local Address:Port               Peer Address:Port\nESTAB      0      0      192.0.2.10:22                  198.51.100.5:50937", 0},
		{"ss netid", "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port\ntcp   ESTAB  0      0      192.0.2.10:22      198.51.100.5:50937 users:((\"sshd\",pid=1,fd=3))", 0},
		{"ss rows no header", "tcp   TIME-WAIT 0      0      192.0.2.10:22      198.51.100.5:50937", 0},
		{"ss rows numeric tw", "tcp 0 0 192.0.2.10:22 198.51.100.5:50937 TIME-WAIT", 0},
		{"macos", "Active Internet connections (including servers)\nProto Recv-Q Send-Q  Local Address          Foreign Address        (state)\ntcp4       0      0  127.0.0.1.631          *.*                    LISTEN\ntcp46      0      0  *.22                   *.*                    LISTEN", 0},
		{"freebsd rows", "tcp4       0      0 192.0.2.1.22           198.51.100.5.50937     ESTABLISHED\ntcp6       0      0 *.22                   *.*                    LISTEN", 0},
		{"windows", "Active Connections\n\n  Proto  Local Address          Foreign Address        State\n  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING\n  TCP    192.0.2.1:49671        198.51.100.5:443       ESTABLISHED", 0},
		{"netstat -i", "Kernel Interface table\nIface             MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\nlo              65536       71      0      0 0            71      0      0      0 LRU", 0},
	}
	for _, tt := range tests {
		got := linux.DetectNetstatLinux(parse.HeadLines([]byte(tt.in)))
		if (tt.min == 0 && got != 0) || (tt.min > 0 && got < tt.min) {
			t.Errorf("%s: score %d, want %d", tt.name, got, tt.min)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for in, want := range map[string]float64{"0.00": 0, "7145.57": 7145.57, "0.2": 0.2, "12": 12, "59.92": 59.92, "1.": 1} {
		got, ok := parse.ParseDecimal([]byte(in))
		if !ok || got != want {
			t.Errorf("parseDecimal(%s) = %v, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", ".", "1.x", "-1", "a"} {
		if _, ok := parse.ParseDecimal([]byte(bad)); ok {
			t.Errorf("parseDecimal(%q) accepted", bad)
		}
	}
}

func FuzzParseNetstatLinux(f *testing.F) { fuzzFormat(f, "netstat-linux") }

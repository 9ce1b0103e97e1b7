package formats

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func TestDecodeProcAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0100007F:1F90", "127.0.0.1:8080"},
		{"0201A8C0:0016", "192.168.1.2:22"},
		{"00000000:0000", "0.0.0.0:0"},
		{"00000000000000000000000001000000:0050", "[::1]:80"},
		{"0000000000000000FFFF00000100007F:20FB", "127.0.0.1:8443"},
		{"B80D0120000000000000000001000000:01BB", "[2001:db8::1]:443"},
		{"000080FE00000000FF005450B6AD1DFE:0222", "[fe80::5054:ff:fe1d:adb6]:546"},
		{"0100007f:1f90", "127.0.0.1:8080"},
	}
	for _, tt := range tests {
		got, ok := linux.DecodeProcAddr([]byte(tt.in))
		if !ok || got.String() != tt.want {
			t.Errorf("decodeProcAddr(%s) = %v, %v; want %s", tt.in, got, ok, tt.want)
		}
	}
	for _, bad := range []string{"0100007F:1F9", "0100007G:1F90", "0100007F-1F90", "", "00000000000000000000000001000000:005"} {
		if got, ok := linux.DecodeProcAddr([]byte(bad)); ok {
			t.Errorf("decodeProcAddr(%q) = %v, want failure", bad, got)
		}
	}
}

func TestProcNetTCPRows(t *testing.T) {
	const hdr = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tests := []struct {
		name, row, want string
		problemLine     int // 0: none
	}{
		{"keepalive", "   3: 0100007F:B83A 0100007F:0016 01 00000000:00000000 02:000AFB3A 00000000     0        0 11245 2 00000000ffbf402f 20 0 0 10 -1",
			"v4 ESTABLISHED 127.0.0.1:47162 -> 127.0.0.1:22 q=0/0 uid=0 ino=11245 timer=keepalive/7196.74/0", 0},
		{"retransmit", "   0: 0A00000A:0016 0502330A:C5F9 01 00000024:00000000 01:00000014 00000003  1000        2 61234 2 0 204 4 1 3 2",
			"v4 ESTABLISHED 10.0.0.10:22 -> 10.51.2.5:50681 q=0/36 uid=1000 ino=61234 timer=on/0.2/3", 0},
		{"persist", "  18: 0100007F:ACD4 0100007F:0050 01 0039B600:00000000 04:00000010 00000000     0        0 11247 2 0 20 0 0 16 -1",
			"v4 ESTABLISHED 127.0.0.1:44244 -> 127.0.0.1:80 q=0/3782144 uid=0 ino=11247 timer=persist/0.16/0", 0},
		{"timewait short", "   5: 0100007F:B842 0100007F:0016 06 00000000:00000000 03:0000162F 00000000     0        0 0 3 00000000441bd1d6",
			"v4 TIME_WAIT 127.0.0.1:47170 -> 127.0.0.1:22 q=0/0 timer=timewait/56.79/0", 0},
		{"listen accept queue", "   0: 0100007F:2328 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 11242 4 0 100 0 0 10 0",
			"v4 LISTEN 127.0.0.1:9000 -> 0.0.0.0:0 q=3/0 uid=0 ino=11242", 0},
		{"wrapped timer", "   0: 0100007F:2328 0100007F:0016 01 00000000:00000000 01:FFFFFFF0 00000001     0        0 7 4 0 100 0 0 10 0",
			"v4 ESTABLISHED 127.0.0.1:9000 -> 127.0.0.1:22 q=0/0 uid=0 ino=7 timer=on/0/1", 0},
		{"bad state", "   0: 0100007F:2328 0100007F:0016 0E 00000000:00000000 00:00000000 00000000     0        0 7 4 0 100 0 0 10 0",
			"v4 UNKNOWN 127.0.0.1:9000 -> 127.0.0.1:22 q=0/0 uid=0 ino=7", 2},
		{"cut after queues", "   0: 0100007F:2328 0100007F:0016 01 00000001:00000002",
			"v4 ESTABLISHED 127.0.0.1:9000 -> 127.0.0.1:22 q=2/1", 2},
		{"bad uid", "   0: 0100007F:2328 0100007F:0016 01 00000001:00000002 00:00000000 00000000 root 0 7",
			"v4 ESTABLISHED 127.0.0.1:9000 -> 127.0.0.1:22 q=2/1", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l model.Listing
			if err := linux.ParseProcNetTCP(strings.NewReader(hdr+tt.row+"\n"), &l); err != nil {
				t.Fatal(err)
			}
			if len(l.Sockets) != 1 {
				t.Fatalf("got %d sockets", len(l.Sockets))
			}
			if got := l.Sockets[0].String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			switch {
			case tt.problemLine == 0 && len(l.Problems) > 0:
				t.Errorf("unexpected problems %v", l.Problems)
			case tt.problemLine != 0 && (len(l.Problems) != 1 || l.Problems[0].Line != tt.problemLine):
				t.Errorf("problems %v, want one at line %d", l.Problems, tt.problemLine)
			}
		})
	}
}

func TestProcNetTCPProblemsLines(t *testing.T) {
	in := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 0100007F:2328 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 11242 4 0 100 0 0 10 0\n" +
		"   1: 0100007F:2328 0100007F\n" +
		"\n" +
		"hello\n"
	var l model.Listing
	if err := linux.ParseProcNetTCP(strings.NewReader(in), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Sockets) != 1 || len(l.Problems) != 2 || l.Problems[0].Line != 3 || l.Problems[1].Line != 5 {
		t.Errorf("sockets %d problems %v", len(l.Sockets), l.Problems)
	}
	if err := linux.ParseProcNetTCP(strings.NewReader("hello\nworld\n"), &l); err == nil {
		t.Error("garbage parsed as /proc/net/tcp")
	}
}

func TestProcNetTCPFamilies(t *testing.T) {
	const h6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	var l model.Listing
	if err := linux.ParseProcNetTCP(strings.NewReader(h6), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Families) != 1 || l.Families[0] != 6 {
		t.Errorf("empty tcp6 table: families %v", l.Families)
	}
}

func FuzzParseProcNetTCP(f *testing.F) { fuzzFormat(f, "proc-net-tcp") }

// decodeProcAddrTo gives what decodeProcAddr gives.
func FuzzProcAddr(f *testing.F) {
	for _, s := range []string{"0100007F:1F90", "00000000:0000", "0A00000A:zz16", "0G00000A:0016",
		"0000000000000000FFFF00000100007F:1F90", "B80D0120000000000000000001000000:0050"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, tok []byte) {
		var got model.AddrPort
		ok := linux.DecodeProcAddrTo(&got, tok)
		ap, wok := linux.DecodeProcAddr(tok)
		if ok != wok || (ok && got != model.AddrPortOf(ap)) || (!ok && got != model.AddrPort{}) {
			t.Fatalf("%q: got %v %v, want %v %v", tok, got, ok, ap, wok)
		}
	})
}

// A text with a second table header (tcp and tcp6 concatenated, or a udp
// table that stops the parse) is never cut.
func TestProcNetTCPPiecesStopAtUDP(t *testing.T) {
	data, err := os.ReadFile("testdata/proc-net-tcp/tcp.txt")
	if err != nil {
		t.Fatal(err)
	}
	udp := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	var b bytes.Buffer
	b.Write(data)
	b.WriteString(udp)
	b.Write(bytes.Repeat(data[bytes.IndexByte(data, '\n')+1:], 3))
	text := b.Bytes()
	var whole model.Listing
	if err := linux.ParseProcNetTCP(bytes.NewReader(text), &whole); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(text, []byte{'\n'})
	for _, n := range []int{2, 3, lines} {
		var l model.Listing
		if err := parsePieces(linux.ProcNetTCPFormat, text, n, &l); err != nil {
			t.Fatal(err)
		}
		if l.String() != whole.String() {
			t.Fatalf("%d pieces: the rows after the udp header were read", n)
		}
	}
}

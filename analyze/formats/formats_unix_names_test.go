package formats

import (
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats/unix"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// parseWith parses in with the named format and returns the listing.
func parseWith(t *testing.T, format, in string) model.Listing {
	t.Helper()
	var l model.Listing
	if err := FormatByName(format).Parse(strings.NewReader(in), &l); err != nil {
		t.Fatalf("%s: %v\n%s", format, err, in)
	}
	return l
}

func socketLines(l model.Listing) []string {
	var out []string
	for i := range l.Sockets {
		out = append(out, l.SocketString(i))
	}
	return out
}

// TestBSDLeadingAddressColumns: the kernel-address columns printed before
// the proto with -A. macOS prints Socket then Flowhash ("%8x": as short as
// "0", and all digits at times), FreeBSD Tcpcb, AIX PCB/ADDR. Rows are
// from the captures in testdata/netstat-bsd (darwin-10.14-An, freebsd-12-Aa).
func TestBSDLeadingAddressColumns(t *testing.T) {
	const macHead = "Socket           Flowhash Proto Recv-Q Send-Q  Local Address      Foreign Address    (state)    \n"
	const fbsdHead = "Tcpcb            Proto Recv-Q Send-Q Local Address      Foreign Address    (state)    \n"
	tests := []struct{ in, want string }{
		{macHead + "7fb03cb94d505aed cedd0cbf tcp4       0      0  192.168.1.221.5486 198.51.100.26.443  ESTABLISHED",
			"v4 ESTABLISHED 192.168.1.221:5486 -> 198.51.100.26:443 q=0/0"},
		{macHead + "7fb03cb95fad8165  6a3d6e4 tcp4       0      0  192.168.1.221.5450 192.168.1.201.4923 ESTABLISHED",
			"v4 ESTABLISHED 192.168.1.221:5450 -> 192.168.1.201:4923 q=0/0"},
		{macHead + "7fb03cb94bcb6475        0 tcp4      31      0  127.0.0.1.53755    127.0.0.1.53763    CLOSE_WAIT ",
			"v4 CLOSE_WAIT 127.0.0.1:53755 -> 127.0.0.1:53763 q=31/0"},
		{macHead + "7fb03cb94bcb6475 12345678 tcp46      0      0  *.8080             *.*                LISTEN     ",
			"v6 LISTEN [::]:8080 -> [::]:0 q=0/0"},
		{fbsdHead + "fffff80003df47a0 tcp4       0      0 localhost.smtp     *.*                LISTEN     ",
			"v4 LISTEN 127.0.0.1:25 -> 0.0.0.0:0 q=0/0"},
		// No header: the columns are still recognised before a proto.
		{"7fb03cb94b38e7dd e3b8b675 tcp4       0      0  127.0.0.1.9592     127.0.0.1.58704    CLOSE_WAIT ",
			"v4 CLOSE_WAIT 127.0.0.1:9592 -> 127.0.0.1:58704 q=0/0"},
	}
	for _, tt := range tests {
		l := parseWith(t, "netstat-bsd", tt.in)
		if got := socketLines(l); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%q:\n got  %q\n want %q", tt.in, got, tt.want)
		}
	}
	// Detection sees the -A rows as BSD rows even without a header.
	rows := "7fb03cb94d505aed cedd0cbf tcp4       0      0  192.168.1.221.5486 198.51.100.26.443  ESTABLISHED\n" +
		"7fb03cb94d692475 1c9f9fcd tcp4       0      0  192.168.1.221.5480 198.51.100.36.443  ESTABLISHED\n" +
		"7fb03cb95fad8165  6a3d6e4 tcp4       0      0  192.168.1.221.5450 192.168.1.201.4923 ESTABLISHED\n"
	if best, all := Detect(parse.HeadLines([]byte(rows))); best == nil || best.Format.Name != "netstat-bsd" {
		t.Errorf("header-less -A rows detected as %v (%v)", best, all)
	}
}

// TestBSDNarrowColumnProblem: -A cuts addresses at 18 characters, so a
// table whose addresses fill that width says its ports may be cut; one
// with longer addresses (-AW, or AIX, which does not cut) does not.
func TestBSDNarrowColumnProblem(t *testing.T) {
	const head = "Socket           Flowhash Proto Recv-Q Send-Q  Local Address      Foreign Address    (state)    \n"
	cut := head + "7fb03cb94b719475 316c063a tcp4       0      0  192.168.1.221.5359 198.51.100.100.555 ESTABLISHED\n"
	l := parseWith(t, "netstat-bsd", cut)
	if len(l.Problems) != 1 || !strings.Contains(l.Problems[0].Message, "18 characters") || l.Problems[0].Line != 2 {
		t.Errorf("cut -A table: problems %v", l.Problems)
	}
	wide := cut + "7fb03cb94b719476 316c063b tcp4       0      0  192.168.1.221.53590 198.51.100.100.5553 ESTABLISHED\n"
	if l := parseWith(t, "netstat-bsd", wide); len(l.Problems) != 0 {
		t.Errorf("-AW table: problems %v", l.Problems)
	}
}

// TestBSDVerbosePIDColumn: the pid column moves with -b (rxbytes txbytes)
// and the macOS release; the header says where it is.
func TestBSDVerbosePIDColumn(t *testing.T) {
	const row = "tcp4       0      0  192.0.2.10.52044       198.51.100.35.443      ESTABLISHED "
	tests := []struct{ head, rest, want string }{
		// macOS <= 10.15 (testdata darwin-anvp-old-header).
		{"(state)     rhiwat shiwat    pid   epid  state    options", "131072 131860   9811      0 0x0102 0x00000008", "9811"},
		// macOS with gencnt ... (testdata darwin-v-gencnt).
		{"(state)      rhiwat  shiwat    pid   epid state  options           gencnt    flags   flags1 usscnt rtncnt fltrs",
			"408214  146988    857      0 00182 00000000 0000000000074ed7 00000080 01000900      1      0 000001", "857"},
		// Apple network_cmds inet.c: -v adds rxbytes txbytes before rhiwat.
		{"(state)        rxbytes    txbytes  rhiwat  shiwat    pid   epid state  options           gencnt    flags   flags1 usecnt rtncnt fltrs",
			"      4958       3996  131072  131768   9811      0 00102 00000000 000000000031c9a1 00000080 04000900      1      0 000001", "9811"},
		// -b alone: bytes, no owner.
		{"(state)        rxbytes    txbytes", "      4958       3996", ""},
		// process:pid after the byte counts.
		{"(state)      rxbytes  txbytes  rhiwat  shiwat  process:pid  options  gencnt  flags  flags1 usecnt rtncnt fltrs",
			"14832         1083  131072  131600    screensharingd:912   00102 00000008 0000000001fec78d 00000081 04000900      2      0 000000", "912"},
	}
	for _, tt := range tests {
		in := "Proto Recv-Q Send-Q  Local Address          Foreign Address        " + tt.head + "\n" + row + tt.rest + "\n"
		l := parseWith(t, "netstat-bsd", in)
		if len(l.Sockets) != 1 {
			t.Fatalf("%q: %d sockets", in, len(l.Sockets))
		}
		got := ""
		if l.Sockets[0].PID != 0 {
			got = model.Itoa(l.Sockets[0].PID)
		}
		if got != tt.want {
			t.Errorf("header %q: pid %q, want %q", tt.head, got, tt.want)
		}
	}
}

// TestBSDListenQueueFull: netstat -L prints qlen/incqlen/maxqlen; 257/0/256
// is a full accept queue (the kernel lets qlen pass maxqlen by one before
// it drops). Every layout must keep both numbers: macOS (no proto),
// FreeBSD (proto), and both with -A address columns. Layouts from
// testdata/netstat-bsd-listen (darwin-Lan, freebsd-Lan, darwin-AaLlnW).
func TestBSDListenQueueFull(t *testing.T) {
	const title = "Current listen queue sizes (qlen/incqlen/maxqlen)\n"
	tests := []struct{ name, in, want string }{
		{"darwin", title + "Listen         Local Address         \n257/0/256      *.80                   \n",
			"v4 LISTEN 0.0.0.0:80 -> 0.0.0.0:0 q=257/256 backlog"},
		{"darwin -A", title + "Socket           Flowhash Listen         Local Address         \nf28c2482e4cb4419        0 257/0/256      *.8080                 \n",
			"v4 LISTEN 0.0.0.0:8080 -> 0.0.0.0:0 q=257/256 backlog"},
		{"freebsd", title + "Proto Listen         Local Address         \ntcp4  257/0/256      *.80                   \n",
			"v4 LISTEN 0.0.0.0:80 -> 0.0.0.0:0 q=257/256 backlog"},
		{"freebsd tcp6", title + "Proto Listen         Local Address         \ntcp6  257/0/256      *.443                  \n",
			"v6 LISTEN [::]:443 -> [::]:0 q=257/256 backlog"},
		{"freebsd -A", title + "Tcpcb            Proto Listen         Local Address         \nfffff80003df4b70 tcp4  257/0/256      192.0.2.20.80          \n",
			"v4 LISTEN 192.0.2.20:80 -> 0.0.0.0:0 q=257/256 backlog"},
		{"darwin names", title + "Listen         Local Address         \n257/0/256      localhost.http-alt     \n",
			"v4 LISTEN 127.0.0.1:8080 -> 0.0.0.0:0 q=257/256 backlog"},
	}
	for _, tt := range tests {
		l := parseWith(t, "netstat-bsd-listen", tt.in)
		if got := socketLines(l); len(got) != 1 || got[0] != tt.want || len(l.Problems) != 0 {
			t.Errorf("%s:\n got  %q %v\n want %q", tt.name, got, l.Problems, tt.want)
		}
		if best, _ := Detect(parse.HeadLines([]byte(tt.in))); best == nil || best.Format.Name != "netstat-bsd-listen" {
			t.Errorf("%s: detected as %v", tt.name, best)
		}
	}
}

// TestBSDClosedRows: CLOSED (socket created, not listening or connected)
// is CLOSE in every BSD layout, FreeBSD's one-space column included, and
// never a listener.
func TestBSDClosedRows(t *testing.T) {
	tests := []struct{ row, want string }{
		// FreeBSD (one space before the local address).
		{"tcp4       0      0 *.*                    *.*                    CLOSED     ", "v4 CLOSE 0.0.0.0:0 -> 0.0.0.0:0 q=0/0"},
		{"tcp6       0      0 *.*                    *.*                    CLOSED     ", "v6 CLOSE [::]:0 -> [::]:0 q=0/0"},
		// Bound, never listened (FreeBSD and macOS print the port).
		{"tcp4       0      0 *.49152                *.*                    CLOSED     ", "v4 CLOSE 0.0.0.0:49152 -> 0.0.0.0:0 q=0/0"},
		{"tcp4       0      0 192.168.1.33.632       192.168.1.10.2049      CLOSED", "v4 CLOSE 192.168.1.33:632 -> 192.168.1.10:2049 q=0/0"},
		// FreeBSD -A.
		{"fffff80003df43d0 tcp4       0      0 *.*                *.*                CLOSED     ", "v4 CLOSE 0.0.0.0:0 -> 0.0.0.0:0 q=0/0"},
	}
	for _, tt := range tests {
		var l model.Listing
		if err := unix.ParseNetstatBSD(strings.NewReader(tt.row), &l); err != nil {
			t.Fatalf("%q: %v", tt.row, err)
		}
		if got := socketLines(l); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%q:\n got  %q\n want %q", tt.row, got, tt.want)
		}
	}
	in := "Active Internet connections (including servers)\n" +
		"Proto Recv-Q Send-Q Local Address          Foreign Address        (state)    \n" +
		"tcp4       0      0 192.168.71.163.22      192.168.71.1.56321     ESTABLISHED\n" +
		"tcp4       0      0 *.*                    *.*                    CLOSED     \n" +
		"tcp4       0      0 *.22                   *.*                    LISTEN     \n"
	if got := unix.BSDFlavor(strings.Split(in, "\n")); got != "freebsd" {
		t.Errorf("flavor of a FreeBSD table with CLOSED rows: %q", got)
	}
}

// TestBSDCutServiceNames: without -n macOS cuts the service name at the end
// of the column; a cut name that begins one service is read as it (the
// rows are from testdata darwin-10.14-names, whose -An twin shows the
// numbers), an ambiguous one is a problem.
func TestBSDCutServiceNames(t *testing.T) {
	l := parseWith(t, "netstat-bsd",
		"tcp4      31      0  kbrazil-mac.attl.62664 203.0.113.35.bc..sunpr CLOSE_WAIT \n"+
			"tcp4       0      0  kbrazil-mac.attl.51797 mycloudex2ultra..afpov ESTABLISHED\n"+
			"tcp4       0      0  localhost.cplscrambler *.*                    LISTEN     \n")
	want := []string{
		"v4 CLOSE_WAIT kbrazil-mac.attl:62664 -> 203.0.113.35.bc.:8081 q=31/0",
		"v4 ESTABLISHED kbrazil-mac.attl:51797 -> mycloudex2ultra.:548 q=0/0",
	}
	if got := socketLines(l); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(l.Problems) != 3 || !strings.Contains(l.Problems[2].Message, "bad local address") {
		t.Errorf("problems %v", l.Problems)
	}
	// A name that is not at the column's end is not a cut name.
	if l := parseWith(t, "netstat-bsd", "tcp4       0      0  host.sunpr             *.*                    LISTEN\n"); len(l.Sockets) != 0 {
		t.Errorf("short cut-looking name accepted: %v", socketLines(l))
	}
}

// TestLsofCantIdentifyProtocol: "can't identify protocol" rows are sockets
// whose connection is gone; they are not TCP sockets but are counted, in
// total and per PID, once per descriptor (-K repeats them per thread).
// Rows from testdata/lsof/linux-p-cant-identify and public pastes listed
// in testdata/SOURCES.md.
func TestLsofCantIdentifyProtocol(t *testing.T) {
	const head = "COMMAND     PID   TID TASKCMD   USER   FD   TYPE DEVICE SIZE/OFF   NODE NAME\n"
	tests := []struct {
		name, in string
		sockets  int
		counters map[string]int64
	}{
		{"plain", "COMMAND    PID USER   FD   TYPE DEVICE SIZE/OFF   NODE NAME\n" +
			"iotc_main 2794 root   26u  sock    0,7      0t0   5511 can't identify protocol\n" +
			"iotc_main 2794 root   30u  IPv6   5538      0t0    TCP *:8077 (LISTEN)\n" +
			"java      1234 app    45u  sock    0,8      0t0 123456 can't identify protocol\n" +
			"java      1234 app    46u  sock    0,8      0t0 123457 can't identify protocol\n" +
			"java      1234 app    47u  sock    0,8      0t0 123458 can't identify protocol\n",
			1, map[string]int64{"Lsof.CantIdentifyProtocol": 4, "Lsof.CantIdentifyProtocol.2794": 1, "Lsof.CantIdentifyProtocol.1234": 3}},
		{"threads", head +
			"java       1234             app   45u  sock    0,8      0t0 123456 can't identify protocol\n" +
			"java       1234  1240 C2Compil  app   45u  sock    0,8      0t0 123456 can't identify protocol\n" +
			"java       1234  1241 VM Thread app   45u  sock    0,8      0t0 123456 can't identify protocol\n" +
			"java       1234             app   46u  sock    0,8      0t0 123457 can't identify protocol\n",
			0, map[string]int64{"Lsof.CantIdentifyProtocol": 2, "Lsof.CantIdentifyProtocol.1234": 2}},
		{"grep, no header", "chromium- 14486     jinarr    6u     sock                0,6       0t0      11122 can't identify protocol\n" +
			"chromium- 14486     jinarr    7u     sock                0,6       0t0     114523 can't identify protocol\n" +
			"chromium- 14486     jinarr   11u     sock                0,6       0t0     114524 can't identify protocol\n",
			0, map[string]int64{"Lsof.CantIdentifyProtocol": 3, "Lsof.CantIdentifyProtocol.14486": 3}},
		{"-F", "p1234\ncjava\nf45\ntsock\nn" + "can't identify protocol" + "\nf46\ntIPv4\nPTCP\nn127.0.0.1:8080\nTST=LISTEN\n",
			1, map[string]int64{"Lsof.CantIdentifyProtocol": 1, "Lsof.CantIdentifyProtocol.1234": 1}},
		{"none", "COMMAND    PID USER   FD   TYPE DEVICE SIZE/OFF   NODE NAME\n" +
			"iotc_main 2794 root   30u  IPv6   5538      0t0    TCP *:8077 (LISTEN)\n", 1, nil},
	}
	for _, tt := range tests {
		l := parseWith(t, "lsof", tt.in)
		if len(l.Sockets) != tt.sockets {
			t.Errorf("%s: %d sockets, want %d: %q", tt.name, len(l.Sockets), tt.sockets, socketLines(l))
		}
		if len(l.Counters) != len(tt.counters) {
			t.Errorf("%s: counters %v, want %v", tt.name, l.Counters, tt.counters)
		}
		for k, v := range tt.counters {
			if l.Counters[k] != v {
				t.Errorf("%s: counter %s = %d, want %d", tt.name, k, l.Counters[k], v)
			}
		}
		if best, all := Detect(parse.HeadLines([]byte(tt.in))); best == nil || best.Format.Name != "lsof" {
			t.Errorf("%s: detected as %v (%v)", tt.name, best, all)
		}
	}
	if unix.CounterCantIdentify != "Lsof.CantIdentifyProtocol" {
		t.Errorf("counter name %q", unix.CounterCantIdentify)
	}
}

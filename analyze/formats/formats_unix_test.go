package formats

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats/unix"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// Inputs of other formats that the BSD/Solaris formats must not claim.
var foreignInputs = map[string]string{
	"linux-netstat": `Active Internet connections (servers and established)
Proto Recv-Q Send-Q Local Address           Foreign Address         State
tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN
tcp        0     36 192.0.2.5:22            198.51.100.7:51234      ESTABLISHED
tcp6       0      0 :::22                   :::*                    LISTEN`,
	"linux-netstat-headerless": `tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN
tcp        0     36 192.0.2.5:22            198.51.100.7:51234      ESTABLISHED`,
	"ss": `State      Recv-Q Send-Q Local Address:Port               Peer Address:Port
LISTEN     0      128          *:22                       *:*
ESTAB      0      0      192.0.2.5:22                 198.51.100.7:51234`,
	"windows": `
Active Connections

  Proto  Local Address          Foreign Address        State
  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING
  TCP    192.0.2.5:49700        198.51.100.7:443       ESTABLISHED`,
	"bsd-netstat-i": `Name  Mtu   Network       Address            Ipkts Ierrs    Opkts Oerrs  Coll
lo0   16384 <Link#1>                        123456     0   123456     0     0
en0   1500  192.0.2       192.0.2.10       999999     0   888888     0     0`,
	"bsd-netstat-r": `Routing tables

Internet:
Destination        Gateway            Flags        Netif Expire
default            192.0.2.1          UGScg          en0
127                127.0.0.1          UCS            lo0`,
	"bsd-netstat-s": `tcp:
	8864927 packets sent
		4194757 data packets (3255534866 bytes)
	2177 connection requests
udp:
	1886908 datagrams received`,
	"solaris-netstat-i": `Name  Mtu  Net/Dest      Address        Ipkts  Ierrs Opkts  Oerrs Collis Queue
lo0   8232 loopback      localhost      1234   0     1234   0     0      0
net0  1500 192.0.2.0     192.0.2.10     5678   0     4321   0     0      0`,
	"solaris-netstat-r": `Routing Table: IPv4
  Destination           Gateway           Flags  Ref     Use     Interface
-------------------- -------------------- ----- ----- ---------- ---------
default              192.0.2.1            UG        2       1234 net0`,
	"netstat-g": `IPv6/IPv4 Group Memberships
Interface       RefCnt Group
--------------- ------ ---------------------
lo              1      224.0.0.1`,
	"linux-sysctl": `net.ipv4.tcp_fin_timeout = 60
net.core.somaxconn = 4096
net.ipv4.ip_local_port_range = 32768	60999`,
	"linux-proc-sys": `tcp_fin_timeout 60
tcp_tw_reuse 2`,
}

var unixFormats = []string{"netstat-bsd", "netstat-bsd-listen", "netstat-solaris", "ndd", "sysctl-bsd"}

func TestUnixFormatsDoNotCollide(t *testing.T) {
	for name, in := range foreignInputs {
		head := parse.HeadLines([]byte(in))
		for _, fn := range unixFormats {
			if sc := FormatByName(fn).Detect(head); sc != 0 {
				t.Errorf("%s scores %d on %s input", fn, sc, name)
			}
		}
	}
}

func TestUnixFormatsDoNotClaimEachOther(t *testing.T) {
	for _, fn := range unixFormats {
		for _, other := range unixFormats {
			if other == fn {
				continue
			}
			inputs := globCases(t, other)
			for path, data := range inputs {
				head := parse.HeadLines(data)
				if sc, own := FormatByName(fn).Detect(head), FormatByName(other).Detect(head); sc >= own {
					t.Errorf("%s scores %d >= %s's %d on %s", fn, sc, other, own, path)
				}
			}
		}
	}
}

func TestBSDFlavor(t *testing.T) {
	tests := []struct{ in, want string }{
		{"PCB/ADDR         Proto Recv-Q Send-Q  Local Address      Foreign Address    (state)", "aix"},
		{"tcp        0      0  *.*                    *.*                    CLOSED\ntcp4       0      0  *.22                   *.*                    LISTEN", "aix"},
		{"Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)     rhiwat shiwat    pid   epid  state    options", "darwin"},
		{"tcp4       0      0  192.0.2.10.52044       198.51.100.35.443      ESTABLISHED", "darwin"},
		{"tcp4       0      0 192.0.2.10.52044       198.51.100.35.443      ESTABLISHED", "freebsd"},
		{"Tcpcb            Proto Recv-Q Send-Q Local Address      Foreign Address    (state)", "freebsd"},
		{"Active Internet connections (including servers)", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := unix.BSDFlavor(strings.Split(tt.in, "\n")); got != tt.want {
			t.Errorf("BSDFlavor(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBSDEdgeRows(t *testing.T) {
	tests := []struct {
		row, want string
	}{
		// Unbound sockets are CLOSE, not listeners.
		{"tcp4       0      0  *.*                    *.*                    CLOSED", "v4 CLOSE 0.0.0.0:0 -> 0.0.0.0:0 q=0/0"},
		// Dual-stack.
		{"tcp46      0      0  *.8080                 *.*                    LISTEN", "v6 LISTEN [::]:8080 -> [::]:0 q=0/0"},
		// Scoped link-local.
		{"tcp6       0      0  fe80::1%lo0.631        *.*                    LISTEN", "v6 LISTEN [fe80::1]:631 -> [::]:0 q=0/0"},
		// Host and service names without -n.
		{"tcp4       0      0  myhost-mac.attl.62979  lb-198-51-100-25.https ESTABLISHED", "v4 ESTABLISHED myhost-mac.attl:62979 -> lb-198-51-100-25:443 q=0/0"},
		// Mapped address folded to v4.
		{"tcp6       0      0  ::ffff:192.0.2.1.443   ::ffff:198.51.100.2.5000 ESTABLISHED", "v4 ESTABLISHED 192.0.2.1:443 -> 198.51.100.2:5000 q=0/0"},
		// Numeric state (FreeBSD prints the number for an out-of-range state).
		{"tcp4       0      0  192.0.2.1.443          198.51.100.2.5000      12", "v4 UNKNOWN 192.0.2.1:443 -> 198.51.100.2:5000 q=0/0"},
	}
	for _, tt := range tests {
		var l model.Listing
		if err := unix.ParseNetstatBSD(strings.NewReader(tt.row), &l); err != nil {
			t.Fatalf("%q: %v", tt.row, err)
		}
		if len(l.Sockets) != 1 {
			t.Errorf("%q: %d sockets", tt.row, len(l.Sockets))
			continue
		}
		if got := l.Sockets[0].String(); got != tt.want {
			t.Errorf("%q:\n got  %s\n want %s", tt.row, got, tt.want)
		}
	}
}

func TestNotThisFormatErrors(t *testing.T) {
	for _, fn := range []string{"netstat-bsd", "ndd", "sysctl-bsd"} {
		var l model.Listing
		if err := FormatByName(fn).Parse(strings.NewReader("hello world\nnothing here\n"), &l); err == nil {
			t.Errorf("%s accepted prose", fn)
		}
	}
}

func FuzzParseNetstatBSD(f *testing.F)       { fuzzFormat(f, "netstat-bsd") }
func FuzzParseNetstatBSDListen(f *testing.F) { fuzzFormat(f, "netstat-bsd-listen") }
func FuzzParseNetstatSolaris(f *testing.F)   { fuzzFormat(f, "netstat-solaris") }
func FuzzParseNDD(f *testing.F)              { fuzzFormat(f, "ndd") }
func FuzzParseSysctlBSD(f *testing.F)        { fuzzFormat(f, "sysctl-bsd") }

func globCases(t *testing.T, format string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	paths, _ := filepath.Glob("testdata/" + format + "/*.txt")
	for _, p := range paths {
		if strings.Contains(p, "/nodetect-") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = data
	}
	return out
}

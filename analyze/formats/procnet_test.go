package formats

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// procnetFormats are the formats this file's tests own.
var procnetFormats = []string{"netstat-linux", "proc-net-tcp", "proc-snmp", "proc-sockstat", "sysctl"}

// TestNegativeDetection: netstat -i/-r/-g and /proc/net/udp{,6} are not
// inputs of any format, so nothing may score them above 20. netstat -s and
// ss output are other formats' inputs: none of the procnet formats may
// claim them. netstat-linux must give netstat -i/-r/-s/-g exactly 0.
func TestNegativeDetection(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "negative", "*.txt"))
	if len(inputs) == 0 {
		t.Fatal("no negative cases")
	}
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(in)
		anyFormat := !strings.HasPrefix(base, "ss-") && base != "netstat-s.txt"
		_, all := Detect(parse.HeadLines(data))
		for _, d := range all {
			if d.Score > 20 && (anyFormat || slices.Contains(procnetFormats, d.Format.Name)) {
				t.Errorf("%s: %s scores %d", in, d.Format.Name, d.Score)
			}
			if d.Format.Name == "netstat-linux" && strings.HasPrefix(base, "netstat-") && d.Score != 0 {
				t.Errorf("%s: netstat-linux scores %d, want 0", in, d.Score)
			}
		}
	}
}

// TestProcNetUDPRejected: the udp look-alike is refused by the parser too.
func TestProcNetUDPRejected(t *testing.T) {
	for _, in := range []string{"proc-net-udp.txt", "proc-net-udp6.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", "negative", in))
		if err != nil {
			t.Fatal(err)
		}
		var l model.Listing
		if err := linux.ProcNetTCPFormat.Parse(bytesReader(data), &l); err == nil {
			t.Errorf("%s: parsed as proc-net-tcp (%d sockets)", in, len(l.Sockets))
		}
	}
}

// TestSysctlFromProcPath checks the bundle path to sysctl name mapping.
func TestSysctlFromProcPath(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"proc/sys/net/ipv4/tcp_fin_timeout", "net.ipv4.tcp_fin_timeout", true},
		{"samples/0/proc/sys/net/core/somaxconn", "net.core.somaxconn", true},
		{"/proc/sys/fs/file-max", "fs.file-max", true},
		{"proc/sys/net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter", true},
		{"proc/sys/", "", false},
		{"proc/net/tcp", "", false},
		{"etc/sysctl.conf", "", false},
		{"xproc/sys/net/core/somaxconn", "", false},
	}
	for _, tt := range tests {
		got, ok := linux.SysctlFromProcPath(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("SysctlFromProcPath(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

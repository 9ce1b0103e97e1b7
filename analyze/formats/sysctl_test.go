package formats

import (
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

func TestSysctl(t *testing.T) {
	var l model.Listing
	in := "net.ipv4.ip_local_port_range = 32768\t60999\nsysctl: permission denied on key 'fs.protected_regular'\nnet.ipv4.ip_local_reserved_ports = \nfoo bar\n"
	if err := linux.ParseSysctl(strings.NewReader(in), &l); err != nil {
		t.Fatal(err)
	}
	if l.Sysctls["net.ipv4.ip_local_port_range"] != "32768 60999" {
		t.Errorf("sysctls %q", l.Sysctls)
	}
	if v, ok := l.Sysctls["net.ipv4.ip_local_reserved_ports"]; !ok || v != "" {
		t.Errorf("empty value: %q %v", v, ok)
	}
	if len(l.Problems) != 2 || l.Problems[0].Line != 2 || l.Problems[1].Line != 4 {
		t.Errorf("problems %v", l.Problems)
	}
}

func FuzzParseSysctl(f *testing.F) { fuzzFormat(f, "sysctl") }

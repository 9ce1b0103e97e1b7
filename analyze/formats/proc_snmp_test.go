package formats

import (
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

func TestSplitCounterName(t *testing.T) {
	tests := []struct{ in, group, key string }{
		{"TcpExtListenOverflows", "TcpExt", "ListenOverflows"},
		{"TcpActiveOpens", "Tcp", "ActiveOpens"},
		{"IpExtInOctets", "IpExt", "InOctets"},
		{"IpInReceives", "Ip", "InReceives"},
		{"Ip6InReceives", "Ip6", "InReceives"},
		{"Icmp6InType133", "Icmp6", "InType133"},
		{"IcmpMsgInType3", "IcmpMsg", "InType3"},
		{"IcmpInMsgs", "Icmp", "InMsgs"},
		{"UdpLite6InDatagrams", "UdpLite6", "InDatagrams"},
		{"UdpLiteInErrors", "UdpLite", "InErrors"},
		{"Udp6InDatagrams", "Udp6", "InDatagrams"},
		{"UdpNoPorts", "Udp", "NoPorts"},
		{"MPTcpExtMPCapableSYNRX", "MPTcpExt", "MPCapableSYNRX"},
		{"SctpCurrEstab", "Sctp", "CurrEstab"},
	}
	for _, tt := range tests {
		g, k, ok := linux.SplitCounterName(tt.in)
		if !ok || g != tt.group || k != tt.key {
			t.Errorf("splitCounterName(%s) = %s, %s, %v", tt.in, g, k, ok)
		}
	}
	for _, bad := range []string{"Tcp", "Foo", "Tcpx", "Ipx"} {
		if g, k, ok := linux.SplitCounterName(bad); ok {
			t.Errorf("splitCounterName(%s) = %s, %s", bad, g, k)
		}
	}
}

func TestProcSNMPProblems(t *testing.T) {
	in := "Tcp: A B C\nTcp: 1 2\n\nUdp: X\nIp: 5\nnonsense line here\n"
	var l model.Listing
	if err := linux.ParseProcSNMP(strings.NewReader(in), &l); err != nil {
		t.Fatal(err)
	}
	want := []int{2, 4, 5, 6}
	if len(l.Problems) != len(want) {
		t.Fatalf("problems %v", l.Problems)
	}
	for i, p := range l.Problems {
		if p.Line != want[i] {
			t.Errorf("problem %q at line %d, want %d", p.Message, p.Line, want[i])
		}
	}
	if l.Counters["Tcp.A"] != 1 || l.Counters["Tcp.B"] != 2 || len(l.Counters) != 2 {
		t.Errorf("counters %v", l.Counters)
	}
	if err := linux.ParseProcSNMP(strings.NewReader("hello world\n"), &l); err == nil {
		t.Error("garbage accepted")
	}
}

func TestProcSNMPDetect(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"#kernel\nIpInReceives 1 0.0\n", true},
		{"Tcp: RtoAlgorithm RtoMin\nTcp: 1 200\n", true},
		{"Ip6InReceives                   \t757\nIp6InHdrErrors                  \t0\n", true},
		{"Ip:\n    Forwarding: 2\n    56 total packets received\nTcp:\n    13 active connection openings\n", false},
		{"TCP: inuse 4 orphan 0 tw 4 alloc 17 mem 1\n", false},
		{"Total: 229\nTCP:   8 (estab 1, closed 3, orphaned 0, timewait 3)\n", false},
	}
	for _, tt := range tests {
		if got := linux.DetectProcSNMP(parse.HeadLines([]byte(tt.in))); (got > 20) != tt.want {
			t.Errorf("detect(%q) = %d", tt.in, got)
		}
	}
}

func FuzzParseProcSNMP(f *testing.F) { fuzzFormat(f, "proc-snmp") }

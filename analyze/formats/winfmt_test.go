package formats

import (
	"os"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats/unix"
	"github.com/tcpsnap/tcpsnap/analyze/formats/windows"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// TestWindowsDetectNegatives: inputs the three formats must not claim.
func TestWindowsDetectNegatives(t *testing.T) {
	inputs := map[string]string{
		"netstat -r":    "===========================================================================\nInterface List\n  9...00 15 5d 01 02 03 ......Microsoft Hyper-V Network Adapter\n===========================================================================\n\nIPv4 Route Table\n===========================================================================\nActive Routes:\nNetwork Destination        Netmask          Gateway       Interface  Metric\n          0.0.0.0          0.0.0.0      192.0.2.1     192.0.2.10     25\n        127.0.0.0        255.0.0.0         On-link         127.0.0.1    331\n",
		"netstat -s":    "\nIPv4 Statistics\n\n  Packets Received                   = 1234567\n  Received Header Errors             = 0\n\nTCP Statistics for IPv4\n\n  Active Opens                        = 12345\n  Passive Opens                       = 678\n  Current Connections                 = 42\n",
		"netstat -e":    "Interface Statistics\n\n                           Received            Sent\n\nBytes                    1234567890       987654321\nUnicast packets            12345678         8765432\n",
		"linux netstat": "Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State\ntcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN\ntcp6       0      0 :::22                   :::*                    LISTEN\n",
		"ss":            "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nLISTEN 0      128          0.0.0.0:22        0.0.0.0:*\nESTAB  0      0        192.0.2.1:22   198.51.100.2:50000\n",
		"bsd netstat":   "Active Internet connections (including servers)\nProto Recv-Q Send-Q  Local Address          Foreign Address        (state)\ntcp4       0      0  192.0.2.1.22           198.51.100.2.50000     ESTABLISHED\ntcp46      0      0  *.22                   *.*                    LISTEN\n",
		"solaris":       "\nTCP: IPv4\n   Local Address        Remote Address    Swind Send-Q Rwind Recv-Q    State\n-------------------- -------------------- ----- ------ ----- ------ -----------\n192.0.2.1.22         198.51.100.2.50000   64128      0 128872      0 ESTABLISHED\n",
		"proc net tcp":  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n",
	}
	for name, in := range inputs {
		head := parse.HeadLines([]byte(in))
		for _, f := range []*parse.Format{windows.NetstatWindowsFormat, unix.LsofFormat, windows.GetNetTCPFormat} {
			if sc := f.Detect(head); sc != 0 {
				t.Errorf("%s: %s scores %d, want 0", name, f.Name, sc)
			}
		}
	}
	// Each parser refuses text that is not its format at all.
	for _, f := range []*parse.Format{windows.NetstatWindowsFormat, unix.LsofFormat, windows.GetNetTCPFormat} {
		var l model.Listing
		if err := f.Parse(strings.NewReader(inputs["netstat -s"]), &l); err == nil {
			t.Errorf("%s accepted netstat -s output", f.Name)
		}
	}
}

// TestWindowsFormatsDontClaimEachOther: every fixture of one format is
// detected as that format (TestFormatGoldens) and scores 0 in the others.
func TestWindowsFormatsDontClaimEachOther(t *testing.T) {
	ours := []*parse.Format{windows.NetstatWindowsFormat, unix.LsofFormat, windows.GetNetTCPFormat}
	for _, f := range ours {
		dir := "testdata/" + f.Name
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".txt") {
				continue
			}
			data, err := os.ReadFile(dir + "/" + e.Name())
			if err != nil {
				t.Fatal(err)
			}
			head := parse.HeadLines(data)
			for _, g := range ours {
				if g != f && g.Detect(head) != 0 {
					t.Errorf("%s/%s: %s scores %d", f.Name, e.Name(), g.Name, g.Detect(head))
				}
			}
		}
	}
}

func FuzzParseNetstatWindows(f *testing.F) { fuzzFormat(f, "netstat-windows") }
func FuzzParseLsof(f *testing.F)           { fuzzFormat(f, "lsof") }
func FuzzParseGetNetTCP(f *testing.F)      { fuzzFormat(f, "get-nettcpconnection") }

func FuzzParseNetshDynamicPort(f *testing.F) { fuzzFormat(f, "netsh-dynamicport") }
func FuzzParseWinReg(f *testing.F)           { fuzzFormat(f, "windows-registry") }

package analyze_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze"
	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/rules"
)

// A shapeSocket is one row of a generated listing.
type shapeSocket struct {
	state         string // ss spelling: ESTAB, TIME-WAIT, CLOSE-WAIT, FIN-WAIT-2, LISTEN, SYN-SENT
	local, remote netip.AddrPort
	comm          string // "" for no owner
	pid           int
	recvQ, sendQ  int
}

// A shape is a kind of host at a million sockets: row i of n.
type shape struct {
	name string
	desc string
	row  func(i, n int) shapeSocket
}

// addr4 spreads i over 10.0.0.0/8 (16M addresses), never .0.
func addr4(base byte, i int) netip.Addr {
	return netip.AddrFrom4([4]byte{base, byte(i >> 16), byte(i >> 8), byte(i)})
}

func ap(a netip.Addr, port int) netip.AddrPort { return netip.AddrPortFrom(a, uint16(port)) }

var (
	hostA   = netip.MustParseAddr("10.0.0.1")
	anyAddr = netip.MustParseAddr("0.0.0.0")
	hostA6  = netip.MustParseAddr("2001:db8::1")
)

// addr6 spreads i over 2001:db8:1::/64, as a peer's address.
func addr6(i int) netip.Addr {
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 12: byte(i >> 24), 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)})
}

// shapes are the listings of issue 12's matrix: the cost of an analysis
// must follow the number of sockets, not the number of distinct peers,
// ports, processes or listeners. Each leaves one pathology to find, so a
// shape that a fast path ignores shows in its report.
var shapes = []shape{
	{"current", "the benchmark's original listing: 200 peers, 2 local addresses, 3 java processes",
		nil},
	{"proxy", "a proxy: ~1M distinct destinations on 5 service ports, 4 envoy processes",
		func(i, n int) shapeSocket {
			if i == 0 {
				return shapeSocket{state: "LISTEN", local: ap(anyAddr, 10000), remote: ap(anyAddr, 0), comm: "envoy", pid: 2000}
			}
			st := []string{"ESTAB", "ESTAB", "TIME-WAIT"}[i%3]
			s := shapeSocket{state: st, local: ap(hostA, 1024+i%64000), remote: ap(addr4(10, 65536+i), []int{443, 80, 5432, 6379, 8080}[i%5])}
			if st == "ESTAB" {
				s.comm, s.pid = "envoy", 2000+i%4
			}
			return s
		}},
	{"proxy6", "the proxy over IPv6: ~1M distinct IPv6 destinations on 5 service ports, 4 envoy processes",
		func(i, n int) shapeSocket {
			if i == 0 {
				return shapeSocket{state: "LISTEN", local: ap(netip.IPv6Unspecified(), 10000), remote: ap(netip.IPv6Unspecified(), 0), comm: "envoy", pid: 2000}
			}
			st := []string{"ESTAB", "ESTAB", "TIME-WAIT"}[i%3]
			s := shapeSocket{state: st, local: ap(hostA6, 1024+i%64000), remote: ap(addr6(i), []int{443, 80, 5432, 6379, 8080}[i%5])}
			if st == "ESTAB" {
				s.comm, s.pid = "envoy", 2000+i%4
			}
			return s
		}},
	{"server", "a server: one listener on :443, 8 nginx workers, ~1M distinct clients",
		func(i, n int) shapeSocket {
			if i == 0 {
				return shapeSocket{state: "LISTEN", local: ap(anyAddr, 443), remote: ap(anyAddr, 0), comm: "nginx", pid: 3000}
			}
			st := []string{"ESTAB", "ESTAB", "TIME-WAIT", "ESTAB", "FIN-WAIT-2"}[i%5]
			s := shapeSocket{state: st, local: ap(hostA, 443), remote: ap(addr4(100, 65536+i), 1024+i%60000)}
			if st == "ESTAB" {
				s.comm, s.pid = "nginx", 3001+i%8
			}
			if i%1000 == 7 { // a slow worker's clients: one leak, spread over the 8 workers
				s.state, s.comm, s.pid = "CLOSE-WAIT", "nginx", 3001+(i/1000)%8
			}
			return s
		}},
	{"ports60k", "60,000 listeners, one per local port, with connections spread over them",
		func(i, n int) shapeSocket {
			if i < 60000 {
				return shapeSocket{state: "LISTEN", local: ap(hostA, 1024+i), remote: ap(anyAddr, 0), comm: "svc", pid: 4000 + i%100}
			}
			st := []string{"ESTAB", "ESTAB", "TIME-WAIT"}[i%3]
			s := shapeSocket{state: st, local: ap(hostA, 1024+i%60000), remote: ap(netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i%250)}), 20000+i%40000)}
			if st == "ESTAB" {
				s.comm, s.pid = "svc", 4000+i%100
			}
			return s
		}},
	{"procs10k", "10,000 processes with 100 sockets each toward 50 services",
		func(i, n int) shapeSocket {
			st := []string{"ESTAB", "ESTAB", "ESTAB", "TIME-WAIT"}[i%4]
			p := i % 10000
			s := shapeSocket{state: st, local: ap(hostA, 1024+i%64000), remote: ap(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + i%50)}), 5000+i%50)}
			if st == "ESTAB" {
				s.comm, s.pid = "worker"+strconv.Itoa(p%500), 100000+p
			}
			if p == 4242 && i%4 != 3 {
				s.state = "CLOSE-WAIT"
			}
			return s
		}},
	{"procs1m", "a million processes: 750,000 with one socket each (750 programs) toward 50 services, their TIME_WAIT, and one process's leak",
		func(i, n int) shapeSocket {
			st := []string{"ESTAB", "ESTAB", "ESTAB", "TIME-WAIT"}[i%4]
			s := shapeSocket{state: st, local: ap(hostA, 1024+i%64000), remote: ap(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + i%50)}), 5000+i%50)}
			if st == "ESTAB" {
				s.comm, s.pid = "app"+strconv.Itoa(i%1000), 100000+i
			}
			if i >= 1000 && i < 1030 {
				s.state, s.comm, s.pid = "CLOSE-WAIT", "app7", 99
			}
			return s
		}},
	{"listeners1m", "a million listeners: 16 addresses × 62,500 ports, 100 services, one with its accept queue full",
		func(i, n int) shapeSocket {
			s := shapeSocket{state: "LISTEN", local: ap(addr4(10, 1+i/62500), 1024+i%62500), remote: ap(anyAddr, 0), comm: "svc" + strconv.Itoa(i%100), pid: 2000 + i%100}
			if i == 4242 {
				s.recvQ, s.sendQ = 129, 128
			}
			return s
		}},
	{"listeners200k", "200,000 listeners on :8080, each on its own address, and their connections",
		func(i, n int) shapeSocket {
			if i < 200000 {
				return shapeSocket{state: "LISTEN", local: ap(addr4(10, 65536+i), 8080), remote: ap(anyAddr, 0), comm: "app", pid: 5000}
			}
			s := shapeSocket{state: "ESTAB", local: ap(addr4(10, 65536+i%200000), 8080), remote: ap(netip.MustParseAddr("192.0.2.1"), 1024+i%60000), comm: "app", pid: 5000}
			if i%4 == 0 {
				s.state, s.comm, s.pid = "TIME-WAIT", "", 0
			}
			return s
		}},
}

var ssStates = map[string]string{"ESTAB": "ESTABLISHED", "TIME-WAIT": "TIME_WAIT", "CLOSE-WAIT": "CLOSE_WAIT",
	"FIN-WAIT-2": "FIN_WAIT2", "LISTEN": "LISTEN", "SYN-SENT": "SYN_SENT"}
var procStates = map[string]int{"ESTAB": 1, "SYN-SENT": 2, "FIN-WAIT-2": 5, "TIME-WAIT": 6, "LISTEN": 10, "CLOSE-WAIT": 8}

// writeShape writes n rows of sh in format "ss" (ss -tanp), "netstat"
// (netstat -antp) or "proc" (/proc/net/tcp).
func writeShape(tb testing.TB, path string, sh shape, format string, n int) {
	tb.Helper()
	if sh.row == nil {
		writeListing(tb, path, format, n)
		return
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	writeHeader(w, format)
	var b []byte
	for i := 0; i < n; i++ {
		s := sh.row(i, n)
		b = b[:0]
		switch format {
		case "ss":
			if s.state == "LISTEN" && s.sendQ == 0 {
				s.sendQ = 4096 // ss prints a listener's backlog as its Send-Q
			}
			b = append(b, s.state...)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(s.recvQ), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(s.sendQ), 10)
			b = append(b, ' ')
			b = s.local.AppendTo(b)
			b = append(b, ' ')
			switch {
			case s.state == "LISTEN" && s.local.Addr().Is6():
				b = append(b, "[::]:*"...)
			case s.state == "LISTEN":
				b = append(b, "0.0.0.0:*"...)
			default:
				b = s.remote.AppendTo(b)
			}
			if s.comm != "" {
				b = fmt.Appendf(b, ` users:(("%s",pid=%d,fd=%d))`, s.comm, s.pid, 10+i%60000)
			}
		case "netstat":
			// IPv6 as net-tools prints it: tcp6, no brackets.
			proto, local, remote, any := "tcp ", s.local.String(), s.remote.String(), "0.0.0.0:*"
			if s.local.Addr().Is6() {
				proto, any = "tcp6", ":::*"
				local = s.local.Addr().String() + ":" + strconv.Itoa(int(s.local.Port()))
				remote = s.remote.Addr().String() + ":" + strconv.Itoa(int(s.remote.Port()))
			}
			b = fmt.Appendf(b, "%s %6d %6d %-23s ", proto, s.recvQ, s.sendQ, local)
			if s.state == "LISTEN" {
				b = fmt.Appendf(b, "%-23s ", any)
			} else {
				b = fmt.Appendf(b, "%-23s ", remote)
			}
			b = fmt.Appendf(b, "%-11s ", ssStates[s.state])
			if s.comm != "" {
				b = fmt.Appendf(b, "%d/%s", s.pid, s.comm)
			} else {
				b = append(b, '-')
			}
		default:
			b = fmt.Appendf(b, "%4d: %s %s %02X %08X:%08X 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1",
				i, procHex(s.local.String()), procHex(s.remote.String()), procStates[s.state], s.sendQ, s.recvQ, 100000+i)
		}
		b = append(b, '\n')
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// stateColumn is the awk field that holds the state in each format.
var stateColumn = map[string]string{"ss": "$1", "netstat": "$6", "proc": "$4"}

// BenchmarkShapes is issue 12's matrix: every shape in every layout, a
// million sockets each, tcpsnap's whole analysis (read, parse, group, run
// every built-in rule, render text) next to awk '{print $STATE}' | sort |
// uniq -c on the same file. Each reports sockets/s and the process's peak
// resident memory during the analysis (peak-MB; Linux only: VmHWM after
// resetting it through /proc/self/clear_refs).
//
//	go test ./analyze -run XXX -bench 'Shapes/proxy' -benchtime 3x
func BenchmarkShapes(b *testing.B) {
	const n = 1_000_000
	specs, err := rules.Load(rules.Builtin())
	if err != nil {
		b.Fatal(err)
	}
	rs, err := engine.Compile(specs)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			for _, format := range []string{"ss", "netstat", "proc"} {
				b.Run(format, func(b *testing.B) {
					path := filepath.Join(dir, sh.name+"."+format+".txt")
					if _, err := os.Stat(path); err != nil {
						writeShape(b, path, sh, format, n)
					}
					st, _ := os.Stat(path)
					b.Run("tcpsnap", func(b *testing.B) {
						b.SetBytes(st.Size())
						b.ReportAllocs()
						peak := int64(0)
						for b.Loop() {
							resetPeakRSS()
							snap, err := analyze.Load([]string{path}, analyze.Options{})
							if err != nil {
								b.Fatal(err)
							}
							rep := analyze.Run(snap, rs)
							if want := n + btoi(sh.row == nil); rep.Snapshot.Sockets != want {
								b.Fatalf("got %d sockets, want %d", rep.Snapshot.Sockets, want)
							}
							if err := analyze.WriteText(discard{}, rep); err != nil {
								b.Fatal(err)
							}
							peak = max(peak, peakRSS())
						}
						b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "sockets/s")
						if peak > 0 {
							b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
						}
					})
					b.Run("awk", func(b *testing.B) {
						if _, err := exec.LookPath("awk"); err != nil {
							b.Skip("awk not installed")
						}
						b.SetBytes(st.Size())
						for b.Loop() {
							cmd := exec.Command("sh", "-c", `awk '{print `+stateColumn[format]+`}' "$1" | sort | uniq -c`, "sh", path)
							var out bytes.Buffer
							cmd.Stdout = &out
							if err := cmd.Run(); err != nil {
								b.Fatal(err)
							}
						}
						b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "sockets/s")
					})
				})
			}
		})
	}
}

// resetPeakRSS resets the kernel's peak resident set size of this
// process (Linux 4.0 and later); elsewhere it does nothing.
// The heap a previous run left is returned to the system first.
func resetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS is the peak resident set size in bytes since the last reset, 0
// when unknown.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

package formats

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// benchRows is the size of the generated listings: a million sockets.
const benchRows = 1_000_000

// genNetstatLinux generates a netstat -antpo listing with n rows.
func genNetstatLinux(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 150)
	b.WriteString("Active Internet connections (servers and established)\n")
	b.WriteString("Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name     Timer\n")
	states := []string{"ESTABLISHED", "TIME_WAIT", "CLOSE_WAIT", "ESTABLISHED", "FIN_WAIT2"}
	progs := []string{"java", "nginx: worker", "-", "postgres: walwriter"}
	for i := 0; i < n; i++ {
		st := states[i%len(states)]
		prog := progs[i%len(progs)]
		if prog != "-" {
			prog = fmt.Sprintf("%d/%s", 1000+i%50, prog)
		}
		timer := "off (0.00/0/0)"
		if st == "TIME_WAIT" {
			timer = "timewait (59.92/0/0)"
		} else if i%7 == 0 {
			timer = "keepalive (7145.57/0/0)"
		}
		// A server: a few local addresses, many peers (unique peer tokens).
		local := fmt.Sprintf("10.0.0.%d:%d", 5+i%4, []int{443, 8080}[i%2])
		remote := fmt.Sprintf("10.%d.%d.%d:%d", i>>16&255, i>>8&255, i&255, 1024+i%60000)
		proto := "tcp"
		if i%10 == 9 {
			proto = "tcp6"
			local = "2001:db8::5:443"
			remote = fmt.Sprintf("2001:db8:1::%x:%d", i&0xffff, 1024+i%60000)
		}
		fmt.Fprintf(&b, "%-5s %6d %6d %-23s %-23s %-11s %-20s %s\n", proto, i%3, i%5*100, local, remote, st, prog, timer)
	}
	return b.Bytes()
}

// genProcNetTCP generates a /proc/net/tcp table with n rows.
func genProcNetTCP(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 150)
	b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n")
	for i := 0; i < n; i++ {
		st := []int{1, 6, 8, 1, 10}[i%5]
		if st == 6 {
			fmt.Fprintf(&b, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x%-40s\n",
				i, uint32(i)|0x0A, 8080, 0x0100007F, 1024+i%60000, st, 0, 0, 3, 5992, 0, 0, 0, 0, 3, 0, "")
			continue
		}
		fmt.Fprintf(&b, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x %d %d %d %d %d                     \n",
			i, uint32(i)|0x0A, 8080, 0x0100007F, 1024+i%60000, st, i%100, i%3, 2*(i%2), 714557, i%4, 1000, 0, 100000+i, 1, 0, 20, 4, 30, 10, -1)
	}
	return b.Bytes()
}

func benchParse(b *testing.B, data []byte, parse func(r *bytes.Reader, out *model.Listing) error) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var l model.Listing
		if err := parse(bytes.NewReader(data), &l); err != nil {
			b.Fatal(err)
		}
		if len(l.Sockets) != benchRows || len(l.Problems) != 0 {
			b.Fatalf("%d sockets, problems %v", len(l.Sockets), l.Problems[:min(3, len(l.Problems))])
		}
	}
}

func BenchmarkParseNetstatLinux(b *testing.B) {
	data := genNetstatLinux(benchRows)
	benchParse(b, data, func(r *bytes.Reader, out *model.Listing) error { return linux.ParseNetstatLinux(r, out) })
}

func BenchmarkParseProcNetTCP(b *testing.B) {
	data := genProcNetTCP(benchRows)
	benchParse(b, data, func(r *bytes.Reader, out *model.Listing) error { return linux.ParseProcNetTCP(r, out) })
}

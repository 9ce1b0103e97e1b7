package formats

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// craftedPieces are inputs of the formats with Cut built to catch a piece
// that starts without the state the lines before it put the parser in:
// section headers between rows, UNIX socket sections, a second table,
// garbage and rows gone wrong in the middle, wrapped and skipped records.
// They are fuzz seeds too (fuzzFormat).
var craftedPieces = map[string][]string{
	"netstat-linux": {
		// The listing: an "Active UNIX domain sockets" header
		// between tcp rows.
		"Active Internet connections (servers and established)\n" +
			"Proto Recv-Q Send-Q Local Address Foreign Address State PID/Program name\n" +
			"tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN 812/sshd\n" +
			"tcp 0 0 10.0.0.1:22 10.0.0.2:50000 ESTABLISHED 900/sshd: root\n" +
			"Active UNIX domain sockets (servers and established)\n" +
			"Proto RefCnt Flags Type State I-Node PID/Program name Path\n" +
			"unix 2 [ ACC ] STREAM LISTENING 12345 1/systemd /run/systemd/private\n" +
			"tcp 0 0 10.0.0.1:22 10.0.0.3:50001 ESTABLISHED 901/sshd\n" +
			"tcp 0 0 10.0.0.1:22 10.0.0.4:50002 CLOSE_WAIT 902/sshd\n" +
			"unix 3 [ ] STREAM CONNECTED 23456 - \n" +
			"garbage in the middle of the table\n" +
			"tcp 0 0 10.0.0.1:22 10.0.0.5:50003 TIME_WAIT -\n" +
			"Active Bluetooth connections (servers and established)\n" +
			"Proto Destination Source State PSM DCID SCID IMTU OMTU Security\n" +
			"l2cap 00:00:00:00:00:00 00:11:22:33:44:55 LISTEN 1 0x0000 0x0000 672 0 LOW\n" +
			"tcp x 0 10.0.0.1:22 10.0.0.6:50004 ESTABLISHED -\n" +
			"tcp bad\n" +
			"Proto Recv-Q Send-Q Local Address Foreign Address State User Inode Timer\n" +
			"tcp6 0 0 :::443 :::* LISTEN 0 4242 off (0.00/0/0)\n" +
			"(Not all processes could be identified, non-owned process info\n" +
			" will not be shown, you would have to be root to see it all.)\n" +
			"$ netstat -ant\n" +
			"tcp 0 1 10.0.0.1:40000 192.0.2.9:443 SYN_SENT -\n" +
			"Ip:\n" +
			" 1041227 total packets received\n" +
			"tcp 0 0 10.0.0.1:22 10.0.0.7:50007 ESTABLISHED -\n",
		// Only a UNIX section before the tcp rows.
		"Active UNIX domain sockets (w/o servers)\n" +
			"Proto RefCnt Flags Type State I-Node PID/Program name Path\n" +
			"unix 3 [ ] STREAM CONNECTED 23456 1/systemd \n" +
			"tcp 0 0 10.0.0.1:22 10.0.0.3:50001 ESTABLISHED\n" +
			"Proto RefCnt Flags Type State I-Node PID/Program name Path\n" +
			"tcp 0 0 10.0.0.1:22 10.0.0.4:50001 ESTABLISHED\n",
	},
	"ss": {
		"State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n" +
			"ESTAB 0 0 10.0.0.1:22 10.0.0.2:50000 users:((\"sshd\",pid=1,fd=3))\n" +
			"\tcubic rto:204 rtt:0.5/0.25 lastrcv:1200\n" +
			// Not a row (ParseSS takes it for noise): the record before
			// stays open, and a piece must not start here.
			"tcp x y\n" +
			"   10.0.0.9:1 users:((\"other\",pid=2,fd=4))\n" +
			"\tcubic rto:208\n" +
			"udp UNCONN 0 0 0.0.0.0:67 0.0.0.0:*\n" +
			"garbage in the middle\n" +
			"LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n" +
			"Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n" +
			"udp UNCONN 0 0 0.0.0.0:68 0.0.0.0:*\n" +
			"   users:((\"dhclient\",pid=3,fd=6))\n" +
			"   /run/wrapped/path\n" +
			"\tskmem:(r0,rb212992,t0,tb212992,f0,w0,o0,bl0,d0)\n" +
			"tcp ESTAB 0 0 10.0.0.1:22 10.0.0.3:50001\n" +
			"   users:((\"sshd\",pid=4,fd=3))\n" +
			"tcp 0 garbage\n" +
			"ESTAB 0 0 10.0.0.1:22\n" +
			"ESTAB 0 zz 10.0.0.1:22 10.0.0.4:1\n" +
			"Failed to find cgroup2 mount\n" +
			"u_str ESTAB 0 0 /run/a 123 * 124\n" +
			"TIME-WAIT 0 0 10.0.0.1:22 10.0.0.5:2 timer:(timewait,31sec,0)\n",
	},
	"proc-net-tcp": {
		"  sl local_address rem_address st tx_queue rx_queue tr tm->when retrnsmt uid timeout inode\n" +
			"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 61234 1 0000000000000000 100 0 0 10 0\n" +
			"garbage\n" +
			"   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 02:000AFC80 00000000 1000 0 61235 1 0000000000000000 20 4 30 10 -1\n" +
			"   2: 0100007F:1F90 0100007F\n" +
			"  sl local_address rem_address st tx_queue rx_queue tr tm->when retrnsmt uid timeout inode ref pointer drops\n" +
			"   3: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1234 2 0000000000000000 0\n",
		// Rows, then a udp header alone (no tcp header before it).
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 61234 1 0000000000000000 100 0 0 10 0\n" +
			"   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 02:000AFC80 00000000 1000 0 61235 1 0000000000000000 20 4 30 10 -1\n" +
			"  sl local_address rem_address st tx_queue rx_queue tr tm->when retrnsmt uid timeout inode ref pointer drops\n" +
			"   2: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1234 2 0000000000000000 0\n" +
			"   3: 00000000:0045 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1235 2 0000000000000000 0\n",
	},
}

// lineEndVariants returns data with its line ends as written, as CRLF,
// as lone CRs (old Mac OS) and mixed.
func lineEndVariants(data []byte) map[string][]byte {
	lf := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	mixed := append([]byte(nil), lf...)
	k := 0
	for i, c := range mixed {
		if c == '\n' {
			if k%3 == 1 {
				mixed[i] = '\r'
			}
			k++
		}
	}
	return map[string][]byte{
		"as is": data,
		"crlf":  bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n")),
		"cr":    bytes.ReplaceAll(lf, []byte("\n"), []byte("\r")),
		"mixed": mixed,
	}
}

// piecesCases returns every input the pieces property is checked on, by
// format: the testdata cases of the formats with Cut and the crafted
// inputs.
func piecesCases(t *testing.T) map[*parse.Format]map[string][]byte {
	cases := map[*parse.Format]map[string][]byte{}
	for _, f := range formats {
		if f.Cut == nil {
			continue
		}
		cases[f] = map[string][]byte{}
		in, _ := filepath.Glob(filepath.Join("testdata", f.Name, "*.txt"))
		for _, path := range in {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cases[f][path] = data
		}
		for i, text := range craftedPieces[f.Name] {
			cases[f][f.Name+" crafted "+model.Itoa(i)] = []byte(text)
		}
	}
	return cases
}

// Pieces equal the whole, as a property: every testdata case of a format
// with Cut and the crafted inputs, with every kind of line end, parsed
// whole and in 2, 3 and 7 pieces (and one piece per line) under
// GOMAXPROCS 1, 2 and 8, give byte-identical Listing dumps.
func TestPiecesPropertyAllCases(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for f, byName := range piecesCases(t) {
		for name, data := range byName {
			for ends, data := range lineEndVariants(data) {
				var whole model.Listing
				if err := f.Parse(bytes.NewReader(data), &whole); err != nil {
					continue
				}
				want := whole.String()
				for _, procs := range []int{1, 2, 8} {
					runtime.GOMAXPROCS(procs)
					for _, n := range []int{2, 3, 7, parse.LineEnds(data) + 1} {
						if got := piecesString(t, f, data, n); got != want {
							t.Fatalf("%s %s (%s), GOMAXPROCS %d, %d pieces:\n%s\nwhole:\n%s", f.Name, name, ends, procs, n, got, want)
						}
					}
				}
			}
		}
	}
}

// largeCrafted repeats a format's crafted input, its first line kept
// once, into a listing large enough for ParseFormat to cut it into
// pieces on several cores.
func largeCrafted(name string, size int) []byte {
	var b bytes.Buffer
	for b.Len() < size {
		for _, text := range craftedPieces[name] {
			if b.Len() > 0 {
				text = text[strings.IndexByte(text, '\n')+1:]
			}
			b.WriteString(text)
		}
	}
	return b.Bytes()
}

// The issue: a netstat listing with an "Active UNIX domain sockets"
// header between tcp rows gave 10,001 sockets with GOMAXPROCS=1 and
// 39,842 with GOMAXPROCS=2. The answer must not depend on the number of
// cores, for any format parsed in pieces.
func TestParseFormatSameOnEveryCore(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, name := range []string{"netstat-linux", "ss", "proc-net-tcp"} {
		f := FormatByName(name)
		data := largeCrafted(name, piecesMinBytes*5/2)
		var whole model.Listing
		if err := f.Parse(bytes.NewReader(data), &whole); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := whole.String()
		for _, procs := range []int{1, 2, 8} {
			runtime.GOMAXPROCS(procs)
			var l model.Listing
			if err := ParseFormat(f, bytes.NewReader(data), &l); err != nil {
				t.Fatalf("%s, GOMAXPROCS %d: %v", name, procs, err)
			}
			if got := l.String(); got != want {
				t.Errorf("%s, GOMAXPROCS %d: %d sockets, %d problems; whole: %d sockets, %d problems",
					name, procs, len(l.Sockets), len(l.Problems), len(whole.Sockets), len(whole.Problems))
			}
		}
	}
}

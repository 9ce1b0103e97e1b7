package formats

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// piecesString parses data in up to n pieces and renders the result.
func piecesString(t *testing.T, f *parse.Format, data []byte, n int) string {
	t.Helper()
	var l model.Listing
	if err := parsePieces(f, data, n, &l); err != nil {
		return "error: " + err.Error()
	}
	return l.String()
}

// Every listing of a format that can be cut, from the parser fixtures and
// the real captures under samples/, parses the same in pieces as whole,
// whatever the number of pieces (cuts fall at many different lines).
func TestPiecesEqualWhole(t *testing.T) {
	var files []string
	for _, f := range formats {
		if f.Cut == nil {
			continue
		}
		in, _ := filepath.Glob(filepath.Join("testdata", f.Name, "*.txt"))
		files = append(files, in...)
	}
	caps, _ := filepath.Glob(filepath.Join("..", "samples", "*", "*", "*"))
	files = append(files, caps...)
	tested := map[string]int{}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		best, _ := Detect(parse.HeadLines(data))
		if best == nil || best.Format.Cut == nil || best.Score < 30 {
			continue
		}
		f := best.Format
		var whole model.Listing
		if err := f.Parse(bytes.NewReader(data), &whole); err != nil {
			continue
		}
		want := whole.String()
		lines := bytes.Count(data, []byte{'\n'})
		for _, n := range []int{2, 3, 5, lines / 2, lines} {
			if n < 2 {
				continue
			}
			if got := piecesString(t, f, data, n); got != want {
				t.Fatalf("%s in %d pieces:\n%s\nwhole:\n%s", path, n, got, want)
			}
		}
		tested[f.Name]++
	}
	for _, name := range []string{"ss", "netstat-linux", "proc-net-tcp"} {
		if tested[name] < 3 {
			t.Errorf("only %d %s listings tested", tested[name], name)
		}
	}
}

func TestCutPoints(t *testing.T) {
	data := []byte("State Recv-Q\nESTAB 0 0 a b\n\tcubic rto:204\nTIME-WAIT 0 0 a b\n noise\nLISTEN 0 5 a b\n")
	got := cutPoints(linux.SSCut, data, 4)
	for _, at := range got[1:] {
		if !linux.SSCut(data[at : at+bytes.IndexByte(data[at:], '\n')]) {
			t.Errorf("cut at %d: %q", at, data[at:])
		}
	}
	if len(got) < 2 {
		t.Fatalf("no cut found: %v", got)
	}
	// Nothing to cut at: one piece.
	if got := cutPoints(linux.SSCut, []byte(strings.Repeat("\tcubic\n", 100)), 4); len(got) != 1 {
		t.Errorf("cuts in a text without records: %v", got)
	}
}

// A large listing goes through parseFormat's in-memory, several-core path
// and gives what one parse gives, line numbers of problems included.
func TestParseFormatLarge(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("State      Recv-Q Send-Q     Local Address:Port       Peer Address:Port Process\n")
	row := "ESTAB      0      0              10.0.0.1:32768         192.0.2.7:5432 users:((\"java\",pid=8166,fd=10))\n"
	for b.Len() < piecesMinBytes*3 {
		b.WriteString(row)
		if b.Len()%7919 < len(row) {
			b.WriteString("\tcubic rto:204 rtt:0.5/0.25 lastrcv:1200\n")
			b.WriteString("ESTAB 0 0 bad-address 192.0.2.7:5432\n")
		}
	}
	data := b.Bytes()
	var whole, pieces model.Listing
	if err := linux.SSFormat.Parse(bytes.NewReader(data), &whole); err != nil {
		t.Fatal(err)
	}
	if err := ParseFormat(linux.SSFormat, bytes.NewReader(data), &pieces); err != nil {
		t.Fatal(err)
	}
	if len(whole.Problems) == 0 || len(whole.Infos) == 0 {
		t.Fatalf("the input should carry problems and tcp_info: %d, %d", len(whole.Problems), len(whole.Infos))
	}
	if whole.String() != pieces.String() {
		t.Fatal("parsing in pieces changed the listing")
	}
}

// A read error in the middle of a large listing (a truncated archive
// member) is returned, not parsed around.
func TestParseFormatReadError(t *testing.T) {
	row := "ESTAB 0 0 10.0.0.1:32768 192.0.2.7:5432\n"
	data := bytes.Repeat([]byte(row), piecesMinBytes*2/len(row))
	r := parse.NewSizedReader(io.MultiReader(bytes.NewReader(data), iotest.ErrReader(io.ErrUnexpectedEOF)), int64(len(data))*2)
	var l model.Listing
	if err := ParseFormat(linux.SSFormat, r, &l); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want the read error", err)
	}
}

// A reader longer or shorter than its declared size is read to its end.
func TestParseFormatSizeMismatch(t *testing.T) {
	row := "ESTAB 0 0 10.0.0.1:32768 192.0.2.7:5432\n"
	data := bytes.Repeat([]byte(row), piecesMinBytes*3/len(row))
	for _, declared := range []int64{int64(len(data)) / 2, int64(len(data)) * 2} {
		var l model.Listing
		if err := ParseFormat(linux.SSFormat, parse.NewSizedReader(bytes.NewReader(data), declared), &l); err != nil {
			t.Fatal(err)
		}
		if want := len(data) / len(row); len(l.Sockets) != want {
			t.Errorf("declared %d: %d sockets, want %d", declared, len(l.Sockets), want)
		}
	}
}

// A listing whose first piece holds no socket (ss -a prints its unix
// sockets first; a piece starts only at a tcp row) still joins into the
// one table sized for all pieces, not a table regrown piece by piece; the
// tcp_info tables (ss -i) join into one grown once.
func TestPiecesJoinInOneTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n")
	long := strings.Repeat("/run/user/1000/bus", 12)
	for i := range 1200 { // a third of the text in fewer lines than tcp rows: the first pieces hold none
		fmt.Fprintf(&b, "u_str ESTAB 0 0 %s %d * %d\n", long, 100000+i, 200000+i)
	}
	for i := range 4000 {
		fmt.Fprintf(&b, "tcp ESTAB 0 0 10.0.0.1:%d 192.0.2.%d:443 users:((\"app\",pid=7,fd=%d))\n", 20000+i, 1+i%200, 10+i)
		fmt.Fprintf(&b, "\t cubic rto:204 rtt:0.5/0.25 mss:1448 cwnd:10 lastrcv:%d\n", i)
	}
	data := []byte(b.String())
	var whole model.Listing
	if err := linux.SSFormat.Parse(bytes.NewReader(data), &whole); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{8, 16, 64} {
		var l model.Listing
		if err := parsePieces(linux.SSFormat, data, n, &l); err != nil {
			t.Fatal(err)
		}
		if l.String() != whole.String() {
			t.Fatalf("%d pieces: not the whole parse", n)
		}
		// The table is made for every line, and one more a piece.
		lines := bytes.Count(data, []byte{'\n'})
		if len(l.Sockets) != 4000 || cap(l.Sockets) <= lines || cap(l.Sockets) > lines+n {
			t.Errorf("%d pieces: %d sockets in a table of %d, want 4000 in the table made for %d lines", n, len(l.Sockets), cap(l.Sockets), lines)
		}
		if len(l.Infos) != 4000 || cap(l.Infos) > len(l.Infos)+len(l.Infos)/16 {
			t.Errorf("%d pieces: %d tcp_info in a table of %d, want 4000 in one grown once", n, len(l.Infos), cap(l.Infos))
		}
	}
}

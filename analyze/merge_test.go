package analyze

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPastedListingsAreNotAssumedDuplicates: a ticket with a listing and a
// second one whose addresses were stripped by the paste keeps the first
// one's rows (it used to count the mangled one as richer: 0 sockets); two
// listings of different sockets in one ticket both count.
func TestPastedListingsAreNotAssumedDuplicates(t *testing.T) {
	tests := []struct {
		name, text string
		want       int
	}{
		{"stripped second listing", `I see these:

$ netstat -tn
Proto Recv-Q Send-Q Local Address           Foreign Address         State
tcp        0      0 127.0.0.1:60930         127.0.0.1:111           TIME_WAIT
tcp        0      0 127.0.0.1:60934         127.0.0.1:111           TIME_WAIT
tcp        0      0 127.0.0.1:60941         127.0.0.1:111           TIME_WAIT

Edit: output of netstat -anp:

Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name
tcp        0      0           TIME_WAIT   -
tcp        0      0           TIME_WAIT   -
`, 3},
		{"two filtered views", `$ ss -tn state close-wait
Recv-Q Send-Q Local Address:Port Peer Address:Port
1      0      10.0.0.5:8443      10.0.0.9:51000
1      0      10.0.0.5:8443      10.0.0.9:51002

and on the other node port:

$ ss -tn state established
Recv-Q Send-Q Local Address:Port Peer Address:Port
0      0      10.0.0.5:40000     10.0.0.7:5432
0      0      10.0.0.5:40002     10.0.0.7:5432
0      0      10.0.0.5:40004     10.0.0.7:5432
`, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "ticket.txt")
			if err := os.WriteFile(p, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			snap, err := Load([]string{p}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(snap.Latest().Sockets); got != tt.want {
				t.Errorf("%d sockets, want %d (sources %+v)", got, tt.want, snap.Sources)
			}
		})
	}
}

// TestTicketsWithCROnlyLineEnds: a ticket whose lines end with a lone CR
// (old Mac text, some copy-paste paths) is read as with \n.
func TestTicketsWithCROnlyLineEnds(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "tickets", "*"))
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden") || strings.HasSuffix(in, ".md") && strings.Contains(in, "PROVENANCE") {
			continue
		}
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		cr := filepath.Join(t.TempDir(), filepath.Base(in))
		text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n", "\r")
		if err := os.WriteFile(cr, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		a, errA := Load([]string{in}, Options{})
		b, errB := Load([]string{cr}, Options{})
		if (errA == nil) != (errB == nil) {
			t.Fatalf("%s: %v with \\n, %v with \\r", in, errA, errB)
		}
		if errA != nil {
			continue
		}
		if len(a.Latest().Sockets) != len(b.Latest().Sockets) || len(a.Sources) != len(b.Sources) || len(a.Evidence) != len(b.Evidence) {
			t.Errorf("%s: %d sockets, %d sources, %d evidence with \\n; %d, %d, %d with \\r", in,
				len(a.Latest().Sockets), len(a.Sources), len(a.Evidence), len(b.Latest().Sockets), len(b.Sources), len(b.Evidence))
		}
	}
}

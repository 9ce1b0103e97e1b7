package formats

import (
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

func TestProcSockstat(t *testing.T) {
	var l model.Listing
	in := "sockets: used 229\nTCP: inuse 4 orphan 0 tw 4 alloc 17 mem 1\nbad\nTCP6: inuse 3\n"
	if err := linux.ParseProcSockstat(strings.NewReader(in), &l); err != nil {
		t.Fatal(err)
	}
	if l.Counters["Sockstat.TCP.tw"] != 4 || l.Counters["Sockstat.TCP6.inuse"] != 3 || l.Counters["Sockstat.sockets.used"] != 229 {
		t.Errorf("counters %v", l.Counters)
	}
	if len(l.Problems) != 1 || l.Problems[0].Line != 3 {
		t.Errorf("problems %v", l.Problems)
	}
	if got := linux.DetectProcSockstat(parse.HeadLines([]byte("Total: 229\nTCP:   8 (estab 1, closed 3, orphaned 0, timewait 3)\n"))); got != 0 {
		t.Errorf("ss -s scored %d", got)
	}
}

func FuzzParseProcSockstat(f *testing.F) { fuzzFormat(f, "proc-sockstat") }

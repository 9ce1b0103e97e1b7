package linux

import (
	"bytes"
	"errors"
	"io"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// SSSummaryFormat reads `ss -s`: the Total and TCP lines become SS.*
// counters; the transport table is accepted and skipped. See formats.md §2.5.
var SSSummaryFormat = &parse.Format{
	Name:        "ss-summary",
	Description: "iproute2 ss -s socket summary",
	Example:     "TCP:   1193 (estab 5, closed 1178, orphaned 0, synrecv 0, timewait 1178/0), ports 0",
	Paths:       []string{"ss_-s"},
	Detect:      DetectSSSummary,
	Parse:       ParseSSSummary,
}

var errNotSSSummary = errors.New("not ss -s output")

func DetectSSSummary(head []string) int {
	total, tcp := false, false
	for _, l := range head {
		b := []byte(l)
		if rest, ok := bytes.CutPrefix(b, []byte("Total:")); ok {
			if f := parse.Fields(nil, rest); len(f) > 0 && isDigits(f[0]) {
				total = true
			}
		}
		if rest, ok := bytes.CutPrefix(b, []byte("TCP:")); ok {
			if f := parse.Fields(nil, rest); len(f) > 1 && isDigits(f[0]) && bytes.HasPrefix(f[1], []byte("(estab")) {
				tcp = true
			}
		}
	}
	switch {
	case total && tcp:
		return 95
	case tcp:
		return 70
	}
	return 0
}

func ParseSSSummary(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	var f [][]byte
	found := false
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		n := sc.Line()
		switch {
		case bytes.HasPrefix(line, []byte("Total:")):
			f = parse.Fields(f, line[len("Total:"):])
			if len(f) == 0 {
				out.Problemf(n, "ss -s: Total line without a number")
				continue
			}
			v, ok := model.Atoi(f[0])
			if !ok {
				out.Problemf(n, "ss -s: bad Total "+quoteBytes(f[0]))
				continue
			}
			out.SetCounter("SS.Total", v)
			found = true
		case bytes.HasPrefix(line, []byte("TCP:")):
			if !parseSSSummaryTCP(line[len("TCP:"):], out) {
				out.Problemf(n, "ss -s: unreadable TCP line")
				continue
			}
			found = true
		}
		// The transport table, blank lines and anything else are skipped.
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !found {
		return errNotSSSummary
	}
	return nil
}

// parseSSSummaryTCP reads "   1193 (estab 5, closed 1178, orphaned 0,
// synrecv 0, timewait 1178/0), ports 0".
func parseSSSummaryTCP(b []byte, out *model.Listing) bool {
	b = bytes.TrimSpace(b)
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	total, ok := model.Atoi(b[:i])
	if !ok {
		return false
	}
	out.SetCounter("SS.TCP", total)
	open := bytes.IndexByte(b, '(')
	if open < 0 {
		return true
	}
	inner := b[open+1:]
	if j := bytes.IndexByte(inner, ')'); j >= 0 {
		inner = inner[:j]
	}
	for _, part := range bytes.Split(inner, []byte{','}) {
		kv := parse.Fields(nil, part)
		if len(kv) != 2 {
			continue
		}
		val := kv[1]
		if j := bytes.IndexByte(val, '/'); j >= 0 {
			val = val[:j] // timewait 1178/0
		}
		v, ok := model.Atoi(val)
		if !ok {
			continue
		}
		switch k := string(kv[0]); k {
		case "estab", "closed", "orphaned", "synrecv", "timewait":
			out.SetCounter("SS.TCP."+k, v)
		}
	}
	return true
}

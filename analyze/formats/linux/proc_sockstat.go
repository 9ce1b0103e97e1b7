package linux

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// ProcSockstatFormat reads /proc/net/sockstat and /proc/net/sockstat6
// (formats.md §4.4): "TCP: inuse 4 orphan 0 tw 4 alloc 17 mem 1" lines
// become counters "Sockstat.TCP.inuse", "Sockstat.TCP.tw", ...; the
// sockstat6 lines ("TCP6: inuse 7") become "Sockstat.TCP6.inuse". mem is in
// pages.
var ProcSockstatFormat = &parse.Format{
	Name:        "proc-sockstat",
	Description: "Linux /proc/net/sockstat and sockstat6 socket counts",
	Example:     "TCP: inuse 4 orphan 0 tw 4 alloc 17 mem 1",
	Paths:       []string{"proc/net/sockstat", "proc/net/sockstat6"},
	Detect:      DetectProcSockstat,
	Parse:       ParseProcSockstat,
}

// sockstatLine checks "GROUP: key value [key value ...]" and returns the
// group and the key/value fields.
func sockstatLine(l []byte, fs [][]byte) (group []byte, kv [][]byte, ok bool) {
	g, rest, ok := snmpGroupLine(l)
	if !ok {
		return nil, nil, false
	}
	kv = parse.Fields(fs, rest)
	if len(kv) < 2 {
		return nil, nil, false
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if _, isNum := model.Atoi(kv[i]); isNum {
			return nil, nil, false // "TCP:   4 (estab 1, ..." is ss -s
		}
		if _, isNum := model.Atoi(kv[i+1]); !isNum {
			return nil, nil, false
		}
	}
	return g, kv, true
}

func DetectProcSockstat(head []string) int {
	good, other := 0, 0
	var fs [][]byte
	for i, l := range head {
		if i == 0 && strings.HasPrefix(l, "sockets: used ") {
			good += 3
			continue
		}
		var ok bool
		if _, fs, ok = sockstatLine([]byte(l), fs); ok {
			if strings.HasPrefix(l, "TCP: inuse") || strings.HasPrefix(l, "TCP6: inuse") {
				good += 2
			}
			good++
			continue
		}
		other++
	}
	switch {
	case good >= 3 && other == 0:
		return 90
	case good >= 3 && good >= other:
		return 60
	}
	return 0
}

var errNotSockstat = errors.New("not a /proc/net/sockstat listing")

func ParseProcSockstat(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	var fs [][]byte
	recognized := false
	for sc.Scan() {
		line := sc.Bytes()
		n := sc.Line()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		g, kv, ok := sockstatLine(line, fs)
		fs = kv
		if !ok {
			out.Problemf(n, "not a sockstat line")
			continue
		}
		recognized = true
		if len(kv)%2 != 0 {
			out.Problemf(n, "odd number of fields; last one ignored")
		}
		for i := 0; i+1 < len(kv); i += 2 {
			v, _ := model.Atoi(kv[i+1])
			out.SetCounter("Sockstat."+string(g)+"."+string(kv[i]), v)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !recognized {
		return errNotSockstat
	}
	return nil
}

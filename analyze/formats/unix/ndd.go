package unix

import (
	"bytes"
	"io"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// NDDFormat reads Solaris TCP tunables as collection scripts record them:
// `ndd -get /dev/tcp NAME` prints a bare number, so scripts echo the name
// first ("tcp_time_wait_interval = 60000", "tcp_time_wait_interval 60000",
// or the command line followed by the value), and Solaris 11 `ipadm
// show-prop -p NAME tcp` prints a table. Values become sysctls named
// "solaris.tcp.tcp_time_wait_interval".
var NDDFormat = &parse.Format{
	Name:        "ndd",
	Description: "Solaris ndd -get /dev/tcp and ipadm show-prop tcp tunables",
	Example:     "tcp_time_wait_interval = 60000",
	Detect:      detectNDD,
	Parse:       parseNDD,
}

// solarisTCPTunables are ndd names only Solaris/illumos have; detection
// counts only these so that Linux "tcp_*" files do not match.
var solarisTCPTunables = map[string]bool{
	"tcp_time_wait_interval": true, "tcp_fin_wait_2_flush_interval": true,
	"tcp_conn_req_max_q": true, "tcp_conn_req_max_q0": true,
	"tcp_smallest_anon_port": true, "tcp_largest_anon_port": true,
	"tcp_keepalive_interval": true, "tcp_close_wait_interval": true,
	"tcp_smallest_nonpriv_port": true, "tcp_ip_abort_interval": true,
	"tcp_ip_abort_cinterval": true, "tcp_rexmit_interval_initial": true,
	"tcp_rexmit_interval_max": true, "tcp_rexmit_interval_min": true,
	"tcp_xmit_hiwat": true, "tcp_recv_hiwat": true, "tcp_max_buf": true,
	"tcp_cwnd_max": true, "tcp_keepalive_abort_interval": true,
	"tcp_conn_req_min": true, "tcp_deferred_ack_interval": true,
	"tcp_slow_start_initial": true, "tcp_strong_iss": true,
	"tcp_extra_priv_ports": true, "tcp_naglim_def": true, "tcp_ip_abort_linterval": true,
}

// nddName reports whether b is a "tcp_" tunable name (lower case, digits, '_').
func nddName(b []byte) bool {
	if !bytes.HasPrefix(b, []byte("tcp_")) || len(b) > 64 || len(b) < 5 {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// nddLine splits "name = value", "name value" or "name: value".
func nddLine(f [][]byte) (name, value []byte, ok bool) {
	if len(f) < 2 {
		return nil, nil, false
	}
	name = bytes.TrimSuffix(f[0], []byte(":"))
	name = bytes.TrimSuffix(name, []byte("="))
	if !nddName(name) {
		return nil, nil, false
	}
	rest := f[1:]
	if len(rest) > 0 && (string(rest[0]) == "=" || string(rest[0]) == ":") {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return nil, nil, false
	}
	return name, bytes.Join(rest, []byte(" ")), true
}

// ipadmHeader reports the `ipadm show-prop` table header.
func ipadmHeader(t string) bool {
	return strings.HasPrefix(t, "PROTO") && strings.Contains(t, "PROPERTY") && strings.Contains(t, "CURRENT")
}

func detectNDD(head []string) int {
	known, ipadm, nddCmd := 0, 0, 0
	var buf [12][]byte
	for _, line := range head {
		t := strings.TrimSpace(line)
		if ipadmHeader(t) {
			ipadm++
			continue
		}
		f := parse.Fields(buf[:0], []byte(t))
		if len(f) >= 3 && string(f[0]) == "tcp" && ipadm > 0 {
			if solarisTCPTunables["tcp_"+strings.TrimPrefix(string(f[1]), "_")] {
				known++
			}
			continue
		}
		if strings.Contains(t, "ndd") && strings.Contains(t, "/dev/tcp") {
			nddCmd++
			for _, w := range f {
				if solarisTCPTunables[string(w)] {
					known++
				}
			}
			continue
		}
		if name, _, ok := nddLine(f); ok && solarisTCPTunables[string(name)] {
			known++
		}
	}
	switch {
	case ipadm > 0 && known > 0:
		return 90
	case known >= 2:
		return 85
	case known == 1 && nddCmd > 0:
		return 80
	case known == 1:
		return 50
	}
	return 0
}

func parseNDD(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	var buf [16][]byte
	var waiting []byte // name from an "ndd -get /dev/tcp NAME" line awaiting its value
	waitAt := 0
	ipadm := false
	found := false
	set := func(name, value []byte) {
		out.SetSysctl("solaris.tcp."+string(name), string(value))
		found = true
	}
	for sc.Scan() {
		line := sc.Bytes()
		sc.ReportTooLong(out)
		t := strings.TrimSpace(string(line))
		if t == "" {
			continue
		}
		f := parse.Fields(buf[:0], line)
		if ipadmHeader(t) {
			ipadm = true
			continue
		}
		if ipadm && len(f) >= 4 && string(f[0]) == "tcp" {
			// PROTO PROPERTY PERM CURRENT PERSISTENT DEFAULT POSSIBLE
			name := append([]byte("tcp_"), bytes.TrimPrefix(f[1], []byte("_"))...)
			if !nddName(name) {
				out.Problemf(sc.Line(), "bad ipadm property "+model.Clip(string(f[1])))
				continue
			}
			set(name, f[3])
			continue
		}
		if strings.Contains(t, "ndd") && strings.Contains(t, "/dev/tcp") {
			// The command line; the value may follow on the same line or the next.
			for k, w := range f {
				if nddName(w) {
					if k+1 < len(f) {
						set(w, bytes.Join(f[k+1:], []byte(" ")))
						waiting = nil
					} else {
						waiting, waitAt = append([]byte(nil), w...), sc.Line()
					}
					break
				}
			}
			continue
		}
		if waiting != nil && len(f) >= 1 {
			if _, ok := model.Atoi(f[0]); ok {
				set(waiting, bytes.Join(f, []byte(" ")))
				waiting = nil
				continue
			}
		}
		if name, value, ok := nddLine(f); ok {
			set(name, value)
			continue
		}
		if bytes.Contains(line, []byte("tcp_")) {
			out.Problemf(sc.Line(), "unrecognized tunable line: "+model.Clip(t))
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if waiting != nil {
		out.Problemf(waitAt, "no value after "+string(waiting))
	}
	if !found && len(out.Problems) == 0 {
		return errNotNDD
	}
	out.SetSysctl("tcpsnap.os", "solaris")
	return nil
}

var errNotNDD = errorString("no Solaris tcp tunables")

type errorString string

func (e errorString) Error() string { return string(e) }

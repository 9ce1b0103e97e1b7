// This file is netstat_solaris_format.go, not netstat_solaris.go: a _solaris.go
// suffix is a GOOS build constraint and would build it on Solaris only.

package unix

import (
	"bytes"
	"io"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// NetstatSolarisFormat reads Solaris and illumos `netstat -an`, `-P tcp`,
// `-f inet` and `-u`: per-protocol, per-family blocks ("TCP: IPv4") with
// columns local remote [User Pid Command] Swind Send-Q Rwind Recv-Q State
// [If]. See formats.md §7.
var NetstatSolarisFormat = &parse.Format{
	Name:        "netstat-solaris",
	Description: "Solaris/illumos netstat -an (TCP: IPv4 blocks, Swind Send-Q Rwind Recv-Q)",
	Example:     "192.0.2.10.22        198.51.100.70.50938  131072     71 256320      0 ESTABLISHED",
	Detect:      detectNetstatSolaris,
	Parse:       parseNetstatSolaris,
}

// solarisBlock classifies a block title: "TCP: IPv4", "TCP: IPv6", "TCP"
// (older releases), "UDP: IPv4", "SCTP:", ... ok is false for other lines.
func solarisBlock(t string) (tcp bool, fam int, ok bool) {
	proto, rest, _ := strings.Cut(t, ":")
	proto = strings.TrimSpace(proto)
	rest = strings.TrimSpace(rest)
	switch proto {
	case "TCP", "UDP", "SCTP", "ICMP", "RAWIP", "DCCP":
	default:
		return false, 0, false
	}
	if !strings.Contains(t, ":") && t != proto {
		return false, 0, false
	}
	switch rest {
	case "IPv4":
		fam = 4
	case "IPv6":
		fam = 6
	case "":
	default:
		return false, 0, false
	}
	return proto == "TCP", fam, true
}

// solarisState maps a Solaris state word; "UnknownState(N)" is a state the
// kernel did not name.
func solarisState(b []byte) (model.State, bool) {
	if bytes.HasPrefix(b, []byte("UnknownState(")) && bytes.HasSuffix(b, []byte(")")) {
		return model.Unknown, true
	}
	return model.CanonicalState(string(b))
}

func isDashes(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] != '-' && t[i] != ' ' {
			return false
		}
	}
	return true
}

func detectNetstatSolaris(head []string) int {
	blocks, tcpBlocks, header, dashes, rows := 0, 0, 0, 0, 0
	var buf [16][]byte
	for _, line := range head {
		t := strings.TrimSpace(line)
		if tcp, _, ok := solarisBlock(t); ok && strings.Contains(t, "IPv") {
			blocks++
			if tcp {
				tcpBlocks++
			}
			continue
		}
		if strings.Contains(t, "Swind") && strings.Contains(t, "Rwind") {
			header++
			continue
		}
		if isDashes(t) && strings.Count(t, " ") >= 2 {
			dashes++
			continue
		}
		f := parse.Fields(buf[:0], []byte(t))
		if _, ok := solarisRow(f); ok {
			rows++
		}
	}
	switch {
	case header > 0 || tcpBlocks > 0:
		return 95
	case blocks > 0 && dashes > 0:
		return 80 // UDP/SCTP blocks only
	case rows >= 3:
		return 55
	case rows > 0:
		return 40
	}
	return 0
}

// solarisFields is one parsed TCP row.
type solarisFields struct {
	local, remote  model.Endpoint
	trunc          bool
	sendQ, recvQ   int64
	state          model.State
	user, command  []byte
	pid            int64
	owner, unknown bool
	stateWord      []byte
}

// solarisRow parses the fields of one TCP row:
// local remote [user pid command...] swind sendq rwind recvq state [if].
func solarisRow(f [][]byte) (r solarisFields, ok bool) {
	if len(f) < 7 {
		return r, false
	}
	s := -1
	for i := len(f) - 1; i >= len(f)-2 && i >= 6; i-- {
		if st, ok := solarisState(f[i]); ok {
			s = i
			r.state = st
			r.unknown = bytes.HasPrefix(f[i], []byte("UnknownState"))
			r.stateWord = f[i]
			break
		}
	}
	if s < 0 {
		return r, false
	}
	var nums [4]int64
	for k := 0; k < 4; k++ {
		n, ok := model.Atoi(f[s-4+k])
		if !ok {
			return r, false
		}
		nums[k] = n
	}
	r.sendQ, r.recvQ = nums[1], nums[3]
	var lt, rt bool
	var err error
	if r.local, lt, err = dotEndpoint(f[0]); err != nil {
		return r, false
	}
	if r.remote, rt, err = dotEndpoint(f[1]); err != nil {
		return r, false
	}
	r.trunc = lt || rt
	if own := f[2 : s-4]; len(own) > 0 {
		if len(own) < 3 {
			return r, false
		}
		pid, ok := model.Atoi(own[1])
		if !ok || pid >= 1<<31 {
			return r, false
		}
		r.owner, r.user, r.pid = true, own[0], pid
		r.command = bytes.Join(own[2:], []byte(" "))
	}
	return r, true
}

func parseNetstatSolaris(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	var (
		buf     [32][]byte
		inTCP   = true // header-less input is taken as a TCP block
		fam     = 0
		verbose bool   // -v: local and remote on separate lines
		pending []byte // -v: the local address line
		pendAt  int
		names   = model.Interner{}
		withPID bool
	)
	for sc.Scan() {
		line := sc.Bytes()
		sc.ReportTooLong(out)
		t := string(bytes.TrimSpace(line))
		if t == "" {
			continue
		}
		if tcp, fm, ok := solarisBlock(t); ok {
			inTCP, fam, verbose, pending = tcp, fm, false, nil
			continue
		}
		switch {
		case strings.HasPrefix(t, "Active UNIX domain sockets"), strings.HasPrefix(t, "Active "):
			inTCP = false
			continue
		case strings.HasPrefix(t, "Local Address"), strings.HasPrefix(t, "Local/Remote Address"):
			verbose = strings.HasPrefix(t, "Local/Remote")
			continue
		case isDashes(t):
			continue
		}
		if !inTCP {
			continue
		}
		f := parse.Fields(buf[:0], line)
		if verbose {
			// -v: "local" then "remote swind snext suna rwind rnext rack rto mss state".
			if len(f) == 1 {
				if pending != nil {
					out.Problemf(pendAt, "netstat -v local address without its remote line")
				}
				pending, pendAt = append([]byte(nil), f[0]...), sc.Line()
				continue
			}
			if pending == nil || len(f) != 10 {
				out.Problemf(sc.Line(), "bad netstat -v row: "+model.Clip(t))
				pending = nil
				continue
			}
			le, lt, err1 := dotEndpoint(pending)
			re, rt, err2 := dotEndpoint(f[0])
			st, ok := solarisState(f[9])
			if err1 != nil || err2 != nil || !ok {
				out.Problemf(pendAt, "bad netstat -v row: "+model.Clip(t))
				pending = nil
				continue
			}
			s := model.NewSocket()
			s.State = st
			s.RecvQ, s.SendQ = -1, -1
			setSocketEndpoints(&s, le, re, fam)
			if lt || rt {
				out.Problemf(sc.Line(), "truncated IPv6 address")
			}
			out.Sockets = append(out.Sockets, s)
			pending = nil
			continue
		}
		row, ok := solarisRow(f)
		if !ok {
			if strings.Contains(t, "netstat ") {
				continue // the command line pasted with its output
			}
			out.Problemf(sc.Line(), "unrecognized tcp row: "+model.Clip(t))
			continue
		}
		s := model.NewSocket()
		s.State = row.state
		s.RecvQ, s.SendQ = model.ClampQueue(row.recvQ), model.ClampQueue(row.sendQ)
		setSocketEndpoints(&s, row.local, row.remote, fam)
		if row.owner {
			s.PID = int(row.pid)
			s.Process = names.Get(row.command)
			withPID = true
			// -u prints one row per process sharing a socket: keep the first.
			if n := len(out.Sockets); n > 0 {
				p := &out.Sockets[n-1]
				if p.PID != 0 && p.Local == s.Local && p.Remote == s.Remote && p.State == s.State &&
					p.LocalName == s.LocalName && p.RemoteName == s.RemoteName && !s.Remote.Addr().IsUnspecified() {
					continue
				}
			}
		}
		if row.trunc {
			out.Problemf(sc.Line(), "truncated IPv6 address")
		}
		if row.unknown {
			out.Problemf(sc.Line(), "kernel printed state "+string(row.stateWord))
		}
		out.Sockets = append(out.Sockets, s)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if pending != nil {
		out.Problemf(pendAt, "netstat -v local address without its remote line")
	}
	out.Families = []int{4, 6}
	out.Richness = 40
	if withPID {
		out.Richness += 20
	}
	out.SetSysctl("tcpsnap.os", "solaris")
	return nil
}

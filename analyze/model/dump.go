package model

import (
	"fmt"
	"sort"
	"strings"
)

// String renders a listing as stable text: one line per socket in input
// order, then counters, sysctls and problems in key order. It is the
// golden form of parser output.
func (l *Listing) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "families %v richness %d sockets %d\n", l.Families, l.Richness, len(l.Sockets))
	for i := range l.Sockets {
		b.WriteString(l.SocketString(i))
		b.WriteByte('\n')
	}
	for _, k := range SortedKeys(l.Counters) {
		fmt.Fprintf(&b, "counter %s = %d\n", k, l.Counters[k])
	}
	for _, k := range SortedKeys(l.Sysctls) {
		fmt.Fprintf(&b, "sysctl %s = %s\n", k, l.Sysctls[k])
	}
	for _, p := range l.Problems {
		fmt.Fprintf(&b, "problem %s\n", p)
	}
	return b.String()
}

// String renders one socket on one line, listing only known fields
// (tcp_info lives in the socket's table: see Listing.SocketString).
func (s *Socket) String() string { return socketString(s, nil) }

// SocketString renders socket i with its tcp_info, if any.
func (l *Listing) SocketString(i int) string {
	return socketString(&l.Sockets[i], l.Info(&l.Sockets[i]))
}

func socketString(s *Socket, in *TCPInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v%d %s %s -> %s", s.Family, s.State, endpointString(s.Local, s.LocalName), endpointString(s.Remote, s.RemoteName))
	fmt.Fprintf(&b, " q=%d/%d", s.RecvQ, s.SendQ)
	if s.BacklogKnown {
		b.WriteString(" backlog")
	}
	if s.Process != NoName || s.PID != 0 {
		fmt.Fprintf(&b, " proc=%q pid=%d", s.Process, s.PID)
		if s.OwnerInferred {
			b.WriteString(" inferred")
		}
	}
	if s.FD >= 0 {
		fmt.Fprintf(&b, " fd=%d", s.FD)
	}
	if s.UID >= 0 {
		fmt.Fprintf(&b, " uid=%d", s.UID)
	}
	if s.Inode != 0 {
		fmt.Fprintf(&b, " ino=%d", s.Inode)
	}
	if s.Timer != TimerNone || s.TimerMS >= 0 {
		fmt.Fprintf(&b, " timer=%s/%g/%d", s.Timer, s.TimerSecs(), s.Retransmits)
	}
	if in != nil {
		fmt.Fprintf(&b, " info{rto=%g rtt=%g lastsnd=%d lastrcv=%d lastack=%d retrans=%d/%d unacked=%d backoff=%d cwnd=%d",
			in.RTO, in.RTT, in.LastSnd, in.LastRcv, in.LastAck, in.Retrans, in.RetransTotal, in.Unacked, in.Backoff, in.Cwnd)
		fmt.Fprintf(&b, " bytes=%d/%d/%d/%d skmem=%d/%d/%d/%d}", in.BytesSent, in.BytesRetrans, in.BytesAcked, in.BytesRecv,
			in.RmemAlloc, in.Rcvbuf, in.WmemAlloc, in.Sndbuf)
	}
	return b.String()
}

func endpointString(ap AddrPort, name Name) string {
	if name != NoName {
		return name.String() + ":" + Itoa(int(ap.Port()))
	}
	return ap.String()
}

func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

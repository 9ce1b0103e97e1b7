package analyze

import (
	"net/netip"
	"strings"
)

// Canonical TCP state names. Every parser maps its own spelling
// (ss "ESTAB", netstat "FIN_WAIT1", /proc "06", Windows "LISTENING", ...)
// onto exactly one of these.
const (
	Established = "ESTABLISHED"
	SynSent     = "SYN_SENT"
	SynRecv     = "SYN_RECV"
	FinWait1    = "FIN_WAIT1"
	FinWait2    = "FIN_WAIT2"
	TimeWait    = "TIME_WAIT"
	Close       = "CLOSE"
	CloseWait   = "CLOSE_WAIT"
	LastAck     = "LAST_ACK"
	Listen      = "LISTEN"
	Closing     = "CLOSING"
	Bound       = "BOUND"
	Idle        = "IDLE"
	Unknown     = "UNKNOWN"
)

// States lists the canonical states in report order.
var States = []string{
	Established, SynSent, SynRecv, FinWait1, FinWait2, TimeWait, Close,
	CloseWait, LastAck, Listen, Closing, Bound, Idle, Unknown,
}

// stateAliases maps every spelling seen in the supported formats to a
// canonical state. Keys are upper case with '-' folded to '_'.
var stateAliases = map[string]string{
	"ESTABLISHED": Established, "ESTAB": Established,
	"SYN_SENT": SynSent,
	"SYN_RECV": SynRecv, "SYN_RCVD": SynRecv, "SYN_RECEIVED": SynRecv,
	"FIN_WAIT1": FinWait1, "FIN_WAIT_1": FinWait1,
	"FIN_WAIT2": FinWait2, "FIN_WAIT_2": FinWait2,
	"TIME_WAIT": TimeWait,
	"CLOSE":     Close, "CLOSED": Close, "UNCONN": Close,
	"CLOSE_WAIT": CloseWait,
	"LAST_ACK":   LastAck,
	"LISTEN":     Listen, "LISTENING": Listen,
	"CLOSING": Closing,
	"BOUND":   Bound,
	"IDLE":    Idle,
	"UNKNOWN": Unknown, "DELETE_TCB": Close,
}

// CanonicalState maps a state word in any supported spelling to its
// canonical name. ok is false when the word is not a known state.
func CanonicalState(word string) (state string, ok bool) {
	if s, ok := stateAliases[word]; ok { // fast path: already canonical or exact alias
		return s, true
	}
	w := strings.ToUpper(strings.ReplaceAll(word, "-", "_"))
	s, ok := stateAliases[w]
	return s, ok
}

// Timer kinds, as ss -o, netstat -o and /proc/net/tcp report them.
const (
	TimerNone      = ""
	TimerOn        = "on" // retransmit (or loss probe)
	TimerKeepalive = "keepalive"
	TimerTimeWait  = "timewait"
	TimerPersist   = "persist" // zero-window probe
	TimerDelack    = "delack"
	TimerOther     = "unknown"
)

// A Socket is one TCP socket, normalized from whatever listing described it.
// Numeric fields hold -1 where the source did not say (see the Has* helpers);
// strings are empty when unknown.
type Socket struct {
	Family int // 4 or 6; IPv4-mapped IPv6 addresses are folded to 4
	State  string
	Local  netip.AddrPort
	Remote netip.AddrPort
	// LocalName and RemoteName hold a host name the listing printed instead
	// of an address (netstat without -n); the AddrPort's address is then
	// invalid but its port is set.
	LocalName  string
	RemoteName string

	// RecvQ and SendQ are bytes for connected sockets. For LISTEN sockets
	// RecvQ is the current accept queue and SendQ the backlog (ss only;
	// netstat and /proc show 0 there, see BacklogKnown).
	RecvQ int64
	SendQ int64

	Process string // command name; "" when unknown
	PID     int    // 0 when unknown
	FD      int    // -1 when unknown
	UID     int    // -1 when unknown
	Inode   uint64 // 0 when unknown (TIME_WAIT sockets have none)

	Timer       string  // one of the Timer* kinds
	TimerSecs   float64 // time left on the timer, seconds; -1 when unknown
	Retransmits int     // timer retransmit count; -1 when unknown

	// BacklogKnown is true when SendQ of a LISTEN socket is its backlog
	// (ss over netlink), false for netstat and /proc listings.
	BacklogKnown bool

	// OwnerInferred is true when Process/PID were not in the listing but
	// derived (listener owner for server-side sockets, inode map, ...).
	OwnerInferred bool

	Info *TCPInfo // ss -i fields; nil when the listing had none
}

// TCPInfo holds the ss -i (tcp_info) fields the rules use. Times are in
// milliseconds; -1 means the field was absent.
type TCPInfo struct {
	RTO          float64
	RTT          float64
	LastSnd      int64
	LastRcv      int64
	LastAck      int64
	Retrans      int64 // current unrecovered retransmits (first number of retrans:a/b)
	RetransTotal int64 // total retransmits (second number of retrans:a/b)
	Unacked      int64
	Backoff      int64
	Cwnd         int64
	BytesSent    int64
	BytesRetrans int64
	BytesAcked   int64
	BytesRecv    int64
	// Skmem from ss -m: receive and send buffer limits and usage, -1 when absent.
	RmemAlloc, Rcvbuf, WmemAlloc, Sndbuf int64
}

// NewTCPInfo returns a TCPInfo with every field marked absent.
func NewTCPInfo() *TCPInfo {
	return &TCPInfo{RTO: -1, RTT: -1, LastSnd: -1, LastRcv: -1, LastAck: -1,
		Retrans: -1, RetransTotal: -1, Unacked: -1, Backoff: -1, Cwnd: -1,
		BytesSent: -1, BytesRetrans: -1, BytesAcked: -1, BytesRecv: -1,
		RmemAlloc: -1, Rcvbuf: -1, WmemAlloc: -1, Sndbuf: -1}
}

// NewSocket returns a socket with every optional field marked unknown.
func NewSocket() Socket {
	return Socket{FD: -1, UID: -1, TimerSecs: -1, Retransmits: -1}
}

// IsLoopback reports whether the remote address is a loopback address.
func (s *Socket) IsLoopback() bool { return s.Remote.Addr().IsLoopback() }

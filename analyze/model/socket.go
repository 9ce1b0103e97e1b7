package model

import (
	"math"
	"strings"
)

// A State is a canonical TCP state. Every parser maps its own spelling
// (ss "ESTAB", netstat "FIN_WAIT1", /proc "06", Windows "LISTENING", ...)
// onto exactly one of these; String gives the canonical name used in
// reports, rules and JSON ("ESTABLISHED", "TIME_WAIT", ...). The zero
// value NoState means a listing has not said yet.
type State uint8

// Canonical TCP states.
const (
	NoState State = iota
	Established
	SynSent
	SynRecv
	FinWait1
	FinWait2
	TimeWait
	Close
	CloseWait
	LastAck
	Listen
	Closing
	Bound
	Idle
	Unknown
	NumStates
)

var stateNames = [NumStates]string{
	"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
	"BOUND", "IDLE", "UNKNOWN",
}

// String returns the canonical name ("" for NoState).
func (s State) String() string {
	if s < NumStates {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// States lists the canonical states in report order.
var States = []State{
	Established, SynSent, SynRecv, FinWait1, FinWait2, TimeWait, Close,
	CloseWait, LastAck, Listen, Closing, Bound, Idle, Unknown,
}

// StateAliases maps every spelling seen in the supported formats to a
// canonical state. Keys are upper case with '-' folded to '_'.
var StateAliases = map[string]State{
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
// canonical state. ok is false when the word is not a known state.
func CanonicalState(word string) (state State, ok bool) {
	if s, ok := StateAliases[word]; ok { // fast path: already canonical or exact alias
		return s, true
	}
	w := strings.ToUpper(strings.ReplaceAll(word, "-", "_"))
	s, ok := StateAliases[w]
	return s, ok
}

// A Timer is a socket timer kind, as ss -o, netstat -o and /proc/net/tcp
// report them.
type Timer uint8

// Timer kinds.
const (
	TimerNone      Timer = iota
	TimerOn              // retransmit (or loss probe)
	TimerKeepalive       // keepalive
	TimerTimeWait        // timewait
	TimerPersist         // zero-window probe
	TimerDelack          // delayed ack
	TimerOther           // a kind not listed here
	numTimers
)

var timerNames = [numTimers]string{"", "on", "keepalive", "timewait", "persist", "delack", "unknown"}

// String returns the timer kind as ss prints it ("" for TimerNone).
func (t Timer) String() string {
	if t < numTimers {
		return timerNames[t]
	}
	return "unknown"
}

// A Socket is one TCP socket, normalized from whatever listing described it.
// Numeric fields hold -1 where the source did not say (see the Has* helpers);
// names are empty when unknown.
//
// A Socket holds no pointers (names are interned, addresses stored inline,
// tcp_info kept in a side table): a table of a million sockets is one
// allocation the garbage collector never scans.
type Socket struct {
	Local  AddrPort
	Remote AddrPort
	// LocalName and RemoteName hold a host name the listing printed instead
	// of an address (netstat without -n); the AddrPort's address is then
	// invalid but its port is set.
	LocalName  Name
	RemoteName Name
	Process    Name // command name; empty when unknown

	// info is 1 + the index of this socket's tcp_info in its table's
	// Infos; 0 when the listing had none. See Listing.Info, Sample.Info.
	info uint32

	Family uint8 // 4 or 6; IPv4-mapped IPv6 addresses are folded to 4
	State  State
	Timer  Timer // TimerNone when the listing showed none

	// BacklogKnown is true when SendQ of a LISTEN socket is its backlog
	// (ss over netlink), false for netstat and /proc listings.
	BacklogKnown bool

	// OwnerInferred is true when Process/PID were not in the listing but
	// derived (listener owner for server-side sockets, inode map, ...).
	OwnerInferred bool

	Retransmits int16 // timer retransmit count (the kernel keeps 8 bits); -1 when unknown

	// RecvQ and SendQ are bytes for connected sockets. For LISTEN sockets
	// RecvQ is the current accept queue and SendQ the backlog (ss only;
	// netstat and /proc show 0 there, see BacklogKnown). The kernel's
	// buffers and backlogs are ints: a listing's larger number is clamped
	// (ClampQueue).
	RecvQ int32
	SendQ int32

	PID   int    // 0 when unknown
	FD    int32  // -1 when unknown
	UID   int32  // -1 when unknown (and for a uid above 2^31-1: the kernel's "nobody" 4294967294 is the only one seen)
	Inode uint32 // 0 when unknown (TIME_WAIT sockets have none); Linux socket inodes are 32-bit (get_next_ino)

	// TimerMS is the time left on the timer in milliseconds (listings
	// print milliseconds, or hundredths of a second); -1 when unknown. See
	// TimerSecs and SetTimerSecs.
	TimerMS int32
}

// TimerSecs is the time left on the timer in seconds; -1 when unknown.
func (s *Socket) TimerSecs() float64 {
	if s.TimerMS < 0 {
		return -1
	}
	return float64(s.TimerMS) / 1000
}

// SetTimerSecs sets the time left on the timer, in seconds (-1 or any
// negative: unknown), to the nearest millisecond.
func (s *Socket) SetTimerSecs(secs float64) {
	switch {
	case secs < 0 || secs != secs:
		s.TimerMS = -1
	case secs*1000 >= math.MaxInt32:
		s.TimerMS = math.MaxInt32
	default:
		s.TimerMS = int32(math.Round(secs * 1000))
	}
}

// A Socket is 96 bytes: a million of them are read in every pass over a
// sample, so each field is as narrow as its values (see the field notes).

// ClampQueue narrows a queue length a listing printed to a Socket's.
func ClampQueue(n int64) int32 {
	switch {
	case n > math.MaxInt32:
		return math.MaxInt32
	case n < math.MinInt32:
		return math.MinInt32
	}
	return int32(n)
}

// NarrowUID narrows a uid to a Socket's: -1 (unknown) for one that does
// not fit.
func NarrowUID(n int64) int32 {
	if n < 0 || n > math.MaxInt32 {
		return -1
	}
	return int32(n)
}

// NarrowInode narrows an inode number to a Socket's: 0 (unknown) for one
// that does not fit, so that no two sockets are matched by a cut number.
func NarrowInode(n uint64) uint32 {
	if n > math.MaxUint32 {
		return 0
	}
	return uint32(n)
}

// NarrowRetransmits narrows a retransmit count: the kernel's is 8 bits.
func NarrowRetransmits(n int64) int16 {
	switch {
	case n > math.MaxInt16:
		return math.MaxInt16
	case n < -1:
		return -1
	}
	return int16(n)
}

// HasInfo reports whether the listing gave ss -i (tcp_info) fields.
func (s *Socket) HasInfo() bool { return s.info != 0 }

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
func NewTCPInfo() TCPInfo {
	return TCPInfo{RTO: -1, RTT: -1, LastSnd: -1, LastRcv: -1, LastAck: -1,
		Retrans: -1, RetransTotal: -1, Unacked: -1, Backoff: -1, Cwnd: -1,
		BytesSent: -1, BytesRetrans: -1, BytesAcked: -1, BytesRecv: -1,
		RmemAlloc: -1, Rcvbuf: -1, WmemAlloc: -1, Sndbuf: -1}
}

// InfoOf returns the tcp_info of s in table infos, nil when none.
func InfoOf(infos []TCPInfo, s *Socket) *TCPInfo {
	if s.info == 0 || int(s.info) > len(infos) {
		return nil
	}
	return &infos[s.info-1]
}

// SetInfo stores in as the tcp_info of s, appending it to *infos.
func SetInfo(infos *[]TCPInfo, s *Socket, in TCPInfo) *TCPInfo {
	*infos = append(*infos, in)
	s.info = uint32(len(*infos))
	return &(*infos)[len(*infos)-1]
}

// AppendTable appends sockets add, whose tcp_info is in addInfos, to the
// table socks with tcp_info table infos, re-basing the info indices.
func AppendTable(socks *[]Socket, infos *[]TCPInfo, add []Socket, addInfos []TCPInfo) {
	from, base := len(*socks), uint32(len(*infos))
	*socks = append(*socks, add...)
	if len(addInfos) == 0 {
		return
	}
	*infos = append(*infos, addInfos...)
	for i := from; i < len(*socks); i++ {
		if (*socks)[i].info != 0 {
			(*socks)[i].info += base
		}
	}
}

// NewSocket returns a socket with every optional field marked unknown.
func NewSocket() Socket {
	return Socket{FD: -1, UID: -1, TimerMS: -1, Retransmits: -1}
}

// Owned reports whether the listing (or the collector's process table)
// named the socket's owner: a pid or a command.
func (s *Socket) Owned() bool { return s.PID != 0 || s.Process != NoName }

// IsLoopback reports whether the remote address is a loopback address.
func (s *Socket) IsLoopback() bool { return s.Remote.Addr().IsLoopback() }

// MarshalText makes a State read as its canonical name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalText makes a Timer read as its kind in JSON.
func (t Timer) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// winSystemPIDs names the pseudo-processes Windows reports by PID.
var WindowsSystemPIDs = map[int]string{0: "System Idle Process", 4: "System"}

// InfoIndex is 1 + the index of the socket's tcp_info in its table, 0 for none.
func (s *Socket) InfoIndex() uint32 { return s.info }

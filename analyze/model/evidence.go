package model

// Evidence is one fact a ticket states outside a socket table: a count a
// shell pipeline printed, a number in the reporter's words, an error or
// kernel message, a counter line or a setting. It keeps its line so that
// a finding can say where its numbers came from, and it weighs less than
// rows of a listing: a rule never takes it for a whole table.
type Evidence struct {
	Kind EvidenceKind `json:"kind"`
	Path string       `json:"path"`
	Line int          `json:"line"`
	Text string       `json:"text"` // the line, clipped
	// Command is the shell pipeline whose output this is (counts).
	Command string `json:"command,omitempty"`

	// What a count or stated number is about. Port and PID come from the
	// pipeline's filters ("grep :6000", "grep 7311"); Number is a bare
	// number filter that may be either (grep 25782 after netstat -p).
	State  string `json:"state,omitempty"` // canonical state name
	Port   int    `json:"port,omitempty"`
	PID    int    `json:"pid,omitempty"`
	Number int    `json:"number,omitempty"`
	// Side says which end Port is: "local" (awk $4, ss sport), "remote"
	// (awk $5, ss dport), "" when the filter does not say (grep :80).
	// "loopback" is a TIME_WAIT count whose filter matches either end, on
	// a port the ticket shows as a service of this host reached over
	// loopback ("[::1]:8080", "localhost:8080"): both ends of every
	// connection to it are on this host, each connection leaves one
	// TIME_WAIT here, whichever end holds it, so the count measures the
	// connections to that port without saying which end closed. Groups
	// take it as the destination port.
	Side    string `json:"side,omitempty"`
	Process string `json:"process,omitempty"`
	// Remote is a remote address:port the message names ("dial tcp
	// 203.0.113.5:443: connect: cannot assign requested address").
	Remote string `json:"remote,omitempty"`

	N       int64 `json:"n,omitempty"`        // the count, stated number or counter value
	AtLeast bool  `json:"at_least,omitempty"` // a lower bound: "| head", "thousands of", "more than"

	// Many is a quantity stated without a number ("a lot of TIME_WAIT",
	// "huge amount of CLOSE_WAIT connections", "tons of"): the reporter
	// sees many sockets in State. N stays 0 — no number is made up — so
	// it raises no count; rules read it as words (SaidMany in rules).
	Many bool `json:"many,omitempty"`
	// Rate is a rate per second the reporter states ("750reqs/sec",
	// "1000 req/s", "2000 connections per second", "qps 400"), Unit what
	// it counts: "requests" or "connections". N stays 0, and no group
	// holds it: a rate is no socket.
	Rate float64 `json:"rate,omitempty"`
	Unit string  `json:"unit,omitempty"`

	// Title is true for what the ticket's title says: its first line,
	// standing alone above the text (see ticket.TitleLine). A title is the
	// reporter's summary, written before the thread found the cause: it
	// weighs below the text, and a message only the title reports never
	// takes a rule's reported severity (TitleOnly in rules).
	Title bool `json:"title,omitempty"`

	// Message is the kind of an error or kernel message: one of the
	// Msg* constants.
	Message string `json:"message,omitempty"`
	// Name and Value are a setting's or counter's name and value.
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

// EvidenceKind says what kind of line a piece of evidence is.
type EvidenceKind string

// The kinds of evidence, strongest first.
const (
	EvCount   EvidenceKind = "count"   // a number a command printed: `... | wc -l` then `31877`
	EvCounter EvidenceKind = "counter" // a counter line: `5120 times the listen queue of a socket overflowed`
	EvSetting EvidenceKind = "setting" // `ulimit -n` then `1024`; `cat /proc/sys/...` then a value
	EvMessage EvidenceKind = "message" // an error or kernel message
	EvStated  EvidenceKind = "stated"  // the reporter's words: "about 400 connections in CLOSE_WAIT"
)

// The messages evidence recognizes.
const (
	MsgEMFILE        = "EMFILE"        // Too many open files (per process)
	MsgENFILE        = "ENFILE"        // Too many open files in system; file-max
	MsgEADDRNOTAVAIL = "EADDRNOTAVAIL" // Cannot assign requested address (no free local port)
	MsgEADDRINUSE    = "EADDRINUSE"    // Address already in use (bind)
	// EADDRINUSE on an outgoing connection ("connection to localhost:1883
	// failed due to eaddrinuse"): on Linux connect() alone reports
	// EADDRNOTAVAIL when no port is free, so the program bound before
	// connecting and the whole range is used up.
	MsgEADDRINUSEConnect = "EADDRINUSE_CONNECT"
	MsgWSAEADDRINUSE     = "WSAEADDRINUSE"    // Windows 10048 on connect: no free dynamic port
	MsgSYNFlood          = "SYN_FLOOD"        // possible SYN flooding on port N
	MsgTWBucket          = "TW_BUCKET"        // TCP: time wait bucket table overflow
	MsgConntrack         = "CONNTRACK"        // nf_conntrack: table full, dropping packet
	MsgListenQueue       = "LISTEN_QUEUE"     // sonewconn ... Listen queue overflow (BSD kernel)
	MsgOrphans           = "ORPHANS"          // too many orphaned sockets
	MsgTCPMemory         = "TCP_MEMORY"       // TCP: out of memory -- consider tuning tcp_mem
	MsgCloseWaitGrows    = "CLOSE_WAIT_GROWS" // the reporter: CLOSE_WAIT accumulates, never goes away, until a restart
	MsgTimeout           = "ETIMEDOUT"        // connect timed out
	MsgReset             = "ECONNRESET"       // connection reset by peer
	// The reporter says sockets in a state the application must end stay
	// for good: FIN_WAIT2 "permanently", ESTABLISHED "forever" after the
	// program closed them or the clients vanished.
	MsgFinWait2Stays    = "FIN_WAIT2_STAYS"
	MsgEstablishedStays = "ESTABLISHED_STAYS"
)

// Names of listener facts stated in a ticket's words (Kind EvStated,
// with N and, when the text names it, Port): the backlog a listener was
// given ("the default backlog of listen(2) is 50") and the accept queue
// it showed ("Recv-Q is 129" on a listener).
const (
	ListenBacklog     = "listen.backlog"
	ListenAcceptQueue = "listen.accept_queue"
)

// StallAfter names the number of connections after which, the reporter
// says, new ones hang or fail ("it hangs for a while after the first
// (roughly) 16000"), Kind EvStated with N. A ceiling near the size of
// the ephemeral port range is the signature of connections whose ports
// are all still held (TIME_WAIT).
const StallAfter = "connections.stall_after"

// RateCeiling names a stated rate that is a ceiling ("could not serve
// more than 750reqs/sec", "tops out at 2000 req/s"): Kind EvStated with
// Rate and Unit. UpstreamTCP is a sentence that says the host forwards to
// upstreams over TCP ("nginx ... in front of 3 php5-fpm servers with TCP
// connections"), Process the proxy the text names: each request then
// takes a local port toward an upstream.
const (
	RateCeiling = "rate.ceiling"
	UpstreamTCP = "upstream.tcp"
)

// Where says where a piece of evidence is: "ticket.txt:12", or "title
// ticket.txt:1" for the ticket's title.
func (e *Evidence) Where() string {
	at := e.Path + ":" + Itoa(e.Line)
	if e.Path == "" {
		at = "line " + Itoa(e.Line)
	}
	if e.Title {
		return "title " + at
	}
	return at
}

// Words reports whether the evidence is the reporter's words rather
// than what a command or the system printed: stated numbers, quantities
// and rates, and anything that rests on the title.
func (e *Evidence) Words() bool {
	return e.Kind == EvStated || e.Title
}

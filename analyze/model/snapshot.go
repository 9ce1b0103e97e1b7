package model

import (
	"time"
)

// A Snapshot is one host's TCP state as the inputs describe it: one or more
// samples (instants) of sockets and counters, plus the host's settings.
type Snapshot struct {
	Host    Host
	Samples []*Sample // in time order; never empty after Load
	// Sysctls are kernel settings keyed by their sysctl name
	// ("net.ipv4.tcp_fin_timeout"), values as the kernel prints them.
	Sysctls map[string]string
	// Processes known from the bundle's process table (pid -> process).
	Processes map[int]*Process
	// Files holds small text files the rules consult, by bundle path
	// (for example "etc/nsswitch.conf").
	Files    map[string]string
	Sources  []Source  // every input file looked at, in path order
	Problems []Problem // what could not be read, and why; sorted
	// Notes say what the collector could not collect and why (from the
	// bundle manifest, first), and what the loader saw but did not analyze
	// (other network namespaces of a sosreport, ...); the report lists them.
	Notes []string
	// Evidence is what a ticket states besides its listings: counts of
	// pipelines, messages, counter lines, settings and the reporter's
	// numbers, in the order of the text.
	Evidence []Evidence
}

// Host describes where the snapshot was taken, as far as the inputs say.
type Host struct {
	Name     string `json:"name,omitempty"`
	OS       string `json:"os,omitempty"`     // "linux", "windows", "darwin", "freebsd", "solaris", "aix"; "" unknown
	Kernel   string `json:"kernel,omitempty"` // e.g. "6.1.0-18-amd64"
	Redacted bool   `json:"redacted,omitempty"`
	// NonRoot is true when a tcpsnap collector ran without root: the
	// owners (pid, process) of other users' sockets are missing.
	NonRoot bool `json:"non_root,omitempty"`
	// Collector is the tool that produced the bundle ("tcpsnap 0.1.0",
	// "sosreport", ...), "" for loose listings.
	Collector string `json:"collector,omitempty"`
}

// A Sample is the state at one instant.
type Sample struct {
	Time     time.Time // zero when unknown
	Sockets  []Socket
	Infos    []TCPInfo        // the sockets' tcp_info; see Info
	Counters map[string]int64 // "Tcp.ActiveOpens", "TcpExt.ListenOverflows", "Sockstat.TCP.tw", ...
	// Socket tables used for Sockets (after de-duplication), by source path.
	SocketSources []string
	// StateCounts and OwnerCounts hold `uniq -c` summaries pasted instead
	// of a listing: sockets per canonical state, and per state per owner
	// ("8166/java"). They are used only when Sockets is empty (a listing
	// of the same instant says more) and never become sockets.
	StateCounts map[string]int
	OwnerCounts map[string]map[string]int
	// ListenersShown is true when a listing of the sample would show
	// listening sockets if there were any: it has LISTEN rows, its command
	// asked for them (-a, -l), its header says so ("servers and
	// established"), or its format always lists every state
	// (/proc/net/tcp, ss rows in TIME-WAIT or SYN-RECV, which ss prints
	// only with -a). netstat -tn, ss -tn and lsof -sTCP:ESTABLISHED show
	// none: nothing can be concluded from their absence.
	ListenersShown bool
	// Index is what owner inference (group.InferOwners) derived from
	// Sockets and keeps for aggregation to use again (the index of the
	// listening sockets): nil when nothing is kept. It describes the table
	// it was made from and is not used for another; whoever changes
	// Sockets in place after owner inference sets it to nil.
	Index any `json:"-"`
}

// Info returns the tcp_info (ss -i) of one of the sample's sockets, nil
// when the listing had none for it.
func (s *Sample) Info(so *Socket) *TCPInfo { return InfoOf(s.Infos, so) }

// CountsOnly reports whether the sample's sockets are known only as
// counts (no socket table, a uniq -c summary).
func (s *Sample) CountsOnly() bool {
	return len(s.Sockets) == 0 && (len(s.StateCounts) > 0 || len(s.OwnerCounts) > 0)
}

// A Process is what the collector recorded about one process.
type Process struct {
	PID     int
	Name    string
	Cmdline string
	UID     int
	FDs     int // open file descriptors; -1 unknown
	FDLimit int // RLIMIT_NOFILE soft limit; -1 unknown
	Inodes  []uint64
}

// A Source is one input file and what was made of it.
type Source struct {
	Path       string `json:"path"`
	Format     string `json:"format"`
	Confidence int    `json:"confidence"` // detection confidence 0..100; 100 = named by path or flag
	Sample     int    `json:"sample"`
	Sockets    int    `json:"sockets"`
	// Role says how the sockets were used: "primary" (counted), "merged"
	// (same sockets as a richer source, used to fill missing fields),
	// or "" for non-socket sources.
	Role string `json:"role,omitempty"`
	// Lines is the line range "12-40" of a segment extracted from a
	// larger text (a pasted ticket); Path is then "file#segment-N".
	Lines string `json:"lines,omitempty"`
	// Command is the command that printed the segment, when a prompt or
	// a collector's header said it.
	Command string `json:"command,omitempty"`
}

// A Problem is part of the input that could not be used. Path and Line
// say where (Line 0 = the whole file).
type Problem struct {
	Path    string `json:"path"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	switch {
	case p.Path == "" && p.Line > 0:
		return "line " + Itoa(p.Line) + ": " + p.Message
	case p.Path == "":
		return p.Message
	case p.Line > 0:
		return p.Path + ":" + Itoa(p.Line) + ": " + p.Message
	default:
		return p.Path + ": " + p.Message
	}
}

// Latest returns the last sample.
func (s *Snapshot) Latest() *Sample { return s.Samples[len(s.Samples)-1] }

// First returns the first sample.
func (s *Snapshot) First() *Sample { return s.Samples[0] }

package collect

// ProcessesPath is where the process table lives in a bundle.
const ProcessesPath = "processes.json"

// A Process is one process that owns at least one socket.
type Process struct {
	PID     int    `json:"pid"`
	Name    string `json:"name"`              // comm
	Cmdline string `json:"cmdline,omitempty"` // capped
	UID     int    `json:"uid"`
	FDs     int    `json:"fds"`      // open descriptors; -1 unknown
	FDLimit int    `json:"fd_limit"` // RLIMIT_NOFILE soft limit; -1 unknown
	// SocketInodes are the inodes of the sockets among its descriptors,
	// so ownership is known even where ss -p is missing.
	SocketInodes []uint64 `json:"socket_inodes,omitempty"`
}

package collect

import (
	"sort"
	"strings"
)

// A Source is one thing a platform's collector gathers.
type Source struct {
	// Path is the bundle path; for per-sample sources it is relative to
	// the sample folder ("netstat-an.txt" → "samples/N/netstat-an.txt").
	Path      string
	PerSample bool
	Command   []string // command and arguments, never through a shell
	File      string   // or a file copied from the host
	// Convert, when set, rewrites the command's output into the bundle
	// format ("name: value" sysctl output into "name = value" lines).
	Convert string
}

// Conversions named by Source.Convert.
const (
	convertColonSysctl = "colon-sysctl" // "name: value" → "name = value"
	convertRegQuery    = "reg-query"    // reg query output → "name = value"
)

// Platforms is what `tcpsnap collect` gathers on each GOOS. Linux is
// gathered by dedicated code (ss with fallbacks, /proc, processes.json);
// its row here documents it. Every socket listing is numeric: no name is
// ever resolved.
var Platforms = map[string][]Source{
	"linux": {
		{Path: "ss-tanpoeim.txt", PerSample: true, Command: []string{"ss", "-tanpoeim"}},
		{Path: "netstat-antpo.txt", PerSample: true, Command: []string{"netstat", "-antpo"}},
		{Path: "ss-s.txt", PerSample: true, Command: []string{"ss", "-s"}},
		{Path: "proc/net/tcp", PerSample: true, File: "/proc/net/tcp"},
		{Path: "proc/net/tcp6", PerSample: true, File: "/proc/net/tcp6"},
		{Path: "proc/net/snmp", PerSample: true, File: "/proc/net/snmp"},
		{Path: "proc/net/netstat", PerSample: true, File: "/proc/net/netstat"},
		{Path: "proc/net/sockstat", PerSample: true, File: "/proc/net/sockstat"},
		{Path: "proc/net/sockstat6", PerSample: true, File: "/proc/net/sockstat6"},
		{Path: "proc/sys/net/netfilter/nf_conntrack_count", PerSample: true, File: "/proc/sys/net/netfilter/nf_conntrack_count"},
		{Path: "sysctl.txt", File: "/proc/sys"},
		{Path: "etc/nsswitch.conf", File: "/etc/nsswitch.conf"},
		{Path: "etc/sysctl.conf", File: "/etc/sysctl.conf"},
		{Path: "etc/sysctl.d/", File: "/etc/sysctl.d/*.conf"},
		{Path: "uname.txt", File: "/proc/sys/kernel/osrelease"},
		{Path: "uptime.txt", File: "/proc/uptime"},
		{Path: ProcessesPath, File: "/proc/*/fd"},
	},
	"darwin": {
		{Path: "netstat-an.txt", PerSample: true, Command: []string{"netstat", "-anv", "-p", "tcp"}},
		{Path: "netstat-s.txt", PerSample: true, Command: []string{"netstat", "-s", "-p", "tcp"}},
		{Path: "netstat-Lan.txt", PerSample: true, Command: []string{"netstat", "-Lan"}},
		{Path: "sysctl.txt", Command: []string{"sysctl", "net.inet.tcp", "net.inet.ip.portrange", "kern.ipc.somaxconn", "kern.maxfiles", "kern.maxfilesperproc"}, Convert: convertColonSysctl},
		{Path: "uname.txt", Command: []string{"uname", "-a"}},
		{Path: "etc/nsswitch.conf", File: "/etc/nsswitch.conf"},
	},
	"freebsd": {
		{Path: "netstat-an.txt", PerSample: true, Command: []string{"netstat", "-an", "-p", "tcp"}},
		{Path: "netstat-s.txt", PerSample: true, Command: []string{"netstat", "-s", "-p", "tcp"}},
		{Path: "netstat-Lan.txt", PerSample: true, Command: []string{"netstat", "-Lan"}},
		{Path: "sockstat-46.txt", PerSample: true, Command: []string{"sockstat", "-46", "-n"}},
		{Path: "sysctl.txt", Command: []string{"sysctl", "net.inet.tcp", "net.inet.ip.portrange", "kern.ipc.somaxconn", "kern.ipc.soacceptqueue", "kern.maxfiles"}, Convert: convertColonSysctl},
		{Path: "uname.txt", Command: []string{"uname", "-a"}},
		{Path: "etc/nsswitch.conf", File: "/etc/nsswitch.conf"},
	},
	"solaris": {
		{Path: "netstat-an.txt", PerSample: true, Command: []string{"netstat", "-an", "-P", "tcp"}},
		{Path: "netstat-s.txt", PerSample: true, Command: []string{"netstat", "-s", "-P", "tcp"}},
		{Path: "uname.txt", Command: []string{"uname", "-a"}},
		{Path: "etc/nsswitch.conf", File: "/etc/nsswitch.conf"},
		// ndd values are gathered one by one into sysctl.txt ("name = value").
		{Path: "sysctl.txt", Command: []string{"ndd", "-get", "/dev/tcp"}},
	},
	"aix": {
		{Path: "netstat-an.txt", PerSample: true, Command: []string{"netstat", "-an", "-f", "inet"}},
		{Path: "netstat-s.txt", PerSample: true, Command: []string{"netstat", "-s", "-p", "tcp"}},
		{Path: "sysctl.txt", Command: []string{"no", "-a"}},
		{Path: "uname.txt", Command: []string{"uname", "-a"}},
		{Path: "etc/netsvc.conf", File: "/etc/netsvc.conf"},
	},
	"windows": {
		{Path: "netstat-ano.txt", PerSample: true, Command: []string{"netstat", "-ano"}},
		{Path: "netstat-s.txt", PerSample: true, Command: []string{"netstat", "-s", "-p", "tcp"}},
		{Path: "netsh-dynamicport.txt", Command: []string{"netsh", "int", "ipv4", "show", "dynamicport", "tcp"}},
		{Path: "netsh-excludedportrange.txt", Command: []string{"netsh", "int", "ipv4", "show", "excludedportrange", "protocol=tcp"}},
		{Path: "sysctl.txt", Command: []string{"reg", "query", `HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`}, Convert: convertRegQuery},
	},
}

// soliarisNdd are the Solaris TCP tunables read with ndd -get /dev/tcp.
var solarisNdd = []string{
	"tcp_time_wait_interval", "tcp_fin_wait_2_flush_interval", "tcp_conn_req_max_q",
	"tcp_conn_req_max_q0", "tcp_smallest_anon_port", "tcp_largest_anon_port",
	"tcp_keepalive_interval", "tcp_ip_abort_interval",
}

// PlatformNote describes in one line what the collector gathers on goos.
func PlatformNote(goos string) string {
	srcs, ok := Platforms[goos]
	if !ok {
		return "platform " + goos + " is not supported: only host facts were collected"
	}
	var per, once []string
	for _, s := range srcs {
		what := s.File
		if len(s.Command) > 0 {
			what = strings.Join(s.Command, " ")
		}
		if s.PerSample {
			per = append(per, what)
		} else {
			once = append(once, what)
		}
	}
	sort.Strings(once)
	return "platform " + goos + ": per sample " + strings.Join(per, ", ") + "; once " + strings.Join(once, ", ")
}

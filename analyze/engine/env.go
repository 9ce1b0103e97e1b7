package engine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/group"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// Env is what a rule expression sees: the fields and methods of the group
// it runs over (Group) and of the whole snapshot (Facts). docs/rules.md
// documents every name.
type Env struct {
	*group.Group
	*Facts
}

// Facts are snapshot-wide values, computed once per snapshot.
type Facts struct {
	OS     string // "linux", "windows", "darwin", "freebsd", "solaris", "aix", or "unknown"
	Kernel string // kernel release when known
	// SystemName names the system for people: "Linux", "Windows",
	// "macOS", "FreeBSD", "Solaris", "AIX", or "an unknown system". Rules
	// say which system they reasoned for when it is not Linux.
	SystemName   string
	Samples      int     // number of samples
	Interval     float64 // seconds between the first and last sample; 0 with one sample or unknown times
	TotalSockets int
	States       map[string]int // sockets by canonical state, latest sample

	HasOwners bool // some socket names its process (ss -p, netstat -p, lsof, ...)
	// CountsOnly is true when the latest sample has no socket table, only
	// uniq -c counts of states or owners: no ports, queues, peers, timers.
	CountsOnly bool
	HasTimers  bool // some socket carries a timer (ss -o, netstat -o, /proc)
	HasTCPInfo bool // ss -i fields present
	// HasListeners is true when the listing shows listening sockets, or
	// would if there were any (model.Sample.ListenersShown): a rule must
	// not conclude that nothing listens when it is false.
	HasListeners bool
	HasCounters  bool // kernel counters (snmp/netstat/nstat) present

	// Ephemeral (dynamic) port range for outgoing connections, and its
	// usable size (reserved ports inside it removed). PortRangeAssumed is
	// true when the snapshot did not say and the system default was used.
	PortRangeLow     int
	PortRangeHigh    int
	PortRangeSize    int
	PortRangeAssumed bool

	// TimeWaitSeconds is how long this system keeps TIME_WAIT (Linux 60,
	// fixed); TimeWaitAssumed when the setting was not in the snapshot.
	TimeWaitSeconds float64
	TimeWaitAssumed bool

	NIS bool // etc/nsswitch.conf sends hosts/services lookups to NIS

	// NonRoot: the bundle was collected without root, so the owners of
	// other users' sockets are missing (an unnamed owner is not proof of
	// an orphan).
	NonRoot bool

	// FirstStates counts sockets by canonical state in the first sample
	// (equal to States with one sample): growth between samples.
	FirstStates map[string]int

	// KernelMajor and KernelMinor are the kernel release's first two
	// numbers ("4.9.0-8-amd64" gives 4 and 9); -1 when unknown.
	KernelMajor int
	KernelMinor int

	// StalledAfter is the number of connections after which, the
	// reporter says, new ones hang or fail ("it hangs after the first
	// (roughly) 16000"); 0 when nobody says. Near PortRangeSize it is the
	// signature of ports all held, most often by TIME_WAIT.
	StalledAfter int

	snap *model.Snapshot

	// The ticket's words no group holds (see TitleOnly and SaidMany).
	titleOnly map[string]string
	saidMany  map[string]string
}

// number converts an expression's numeric result (expr gives int, int64
// or float64) to a float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// SysctlIntAt returns the i-th number (from 0) of a setting with several
// ("tcp_mem" = "188316 251088 376632"), or -1 when absent.
func (f *Facts) SysctlIntAt(name string, i int) int {
	fs := strings.Fields(f.snap.Sysctls[name])
	if i < 0 || i >= len(fs) {
		return -1
	}
	n, err := strconv.Atoi(fs[i])
	if err != nil {
		return -1
	}
	return n
}

// KernelAtLeast reports whether the kernel release is known and at least
// major.minor.
func (f *Facts) KernelAtLeast(major, minor int) bool {
	if f.KernelMajor < 0 {
		return false
	}
	return f.KernelMajor > major || (f.KernelMajor == major && f.KernelMinor >= minor)
}

// KernelBefore reports whether the kernel release is known and older
// than major.minor.
func (f *Facts) KernelBefore(major, minor int) bool {
	return f.KernelMajor >= 0 && !f.KernelAtLeast(major, minor)
}

// ConfiguredSysctl returns the value a setting is given in the snapshot's
// etc/sysctl.conf or etc/sysctl.d/*.conf files ("" when none sets it),
// applying them as sysctl --system does: sysctl.d files in name order,
// then sysctl.conf; the last assignment wins. This catches settings
// written down but not (or no longer) applied, such as tcp_tw_recycle on
// a kernel that removed it.
func (f *Facts) ConfiguredSysctl(name string) string {
	v, _ := f.configured(name)
	return v
}

// ConfiguredSysctlFile names the file whose assignment ConfiguredSysctl
// returns ("etc/sysctl.d/99-tuning.conf"), or "".
func (f *Facts) ConfiguredSysctlFile(name string) string {
	_, file := f.configured(name)
	return file
}

func (f *Facts) configured(name string) (value, file string) {
	var names []string
	for n := range f.snap.Files {
		if strings.HasPrefix(n, "etc/sysctl.d/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	names = append(names, "etc/sysctl.conf")
	slashed := strings.ReplaceAll(name, ".", "/")
	for _, n := range names {
		for _, line := range strings.Split(f.snap.Files[n], "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' || line[0] == ';' {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			k = strings.TrimPrefix(strings.TrimSpace(k), "-")
			if k == name || k == slashed {
				value, file = strings.Join(strings.Fields(v), " "), n
			}
		}
	}
	return value, file
}

// InPortRange reports whether a port is inside the ephemeral range.
func (f *Facts) InPortRange(port int) bool {
	return port >= f.PortRangeLow && port <= f.PortRangeHigh
}

// PortReserved reports whether net.ipv4.ip_local_reserved_ports keeps a
// port out of the ephemeral range.
func (f *Facts) PortReserved(port int) bool {
	return reservedInside(f.Sysctl("net.ipv4.ip_local_reserved_ports"), port, port) > 0
}

// IsPowerOfTwo reports whether n is a power of two. Linux sizes
// tcp_max_tw_buckets and tcp_max_orphans from the established hash table,
// so their defaults are powers of two; other values were set by hand.
func (f *Facts) IsPowerOfTwo(n int) bool { return n > 0 && n&(n-1) == 0 }

// Sysctl returns a setting as the kernel prints it, or "" when absent.
func (f *Facts) Sysctl(name string) string { return f.snap.Sysctls[name] }

// SysctlInt returns the first number of a setting, or -1 when absent or
// not a number.
func (f *Facts) SysctlInt(name string) int {
	v := f.snap.Sysctls[name]
	if v == "" {
		return -1
	}
	n, err := strconv.Atoi(strings.Fields(v)[0])
	if err != nil {
		return -1
	}
	return n
}

// TitleOnly returns where and how the ticket's title reports a message
// of the kind (model.Msg*) that its text does not: `title ticket.txt:1:
// "Cannot create socket due to too many open files"`; "" when the text
// reports it too, or nothing does. A title is the reporter's summary,
// written before the thread found the cause: a message only the title
// carries never takes a rule's reported severity (the engine sees to
// that), and a rule that still says something on it says so.
func (f *Facts) TitleOnly(kind string) string { return f.titleOnly[kind] }

// SaidMany returns where and how the reporter says there are many
// sockets in a state without giving a number (`"a lot of TIME_WAIT",
// ticket.txt:3`), the text's words before the title's; "" when nobody
// says so. It is no count: a rule may let it weigh an excerpt's
// pattern, never make up a size.
func (f *Facts) SaidMany(state string) string { return f.saidMany[group.CanonicalOr(state)] }

// words gathers the ticket's words that no group holds.
func (f *Facts) words() {
	inText := map[string]bool{}
	for _, e := range f.snap.Evidence {
		if e.Kind == model.EvMessage && !e.Title {
			inText[e.Message] = true
		}
	}
	said := func(e *model.Evidence) string {
		if e.Many && e.Value != "" { // the words, not the clipped line
			return strconv.Quote(e.Value) + ", " + e.Where()
		}
		return e.Where() + ": " + strconv.Quote(e.Text)
	}
	fromTitle := map[string]bool{}
	for i := range f.snap.Evidence {
		e := &f.snap.Evidence[i]
		switch {
		case e.Kind == model.EvMessage && e.Title && !inText[e.Message]:
			if _, ok := f.titleOnly[e.Message]; !ok {
				if f.titleOnly == nil {
					f.titleOnly = map[string]string{}
				}
				f.titleOnly[e.Message] = said(e)
			}
		case e.Kind == model.EvStated && e.Name == model.StallAfter:
			if f.StalledAfter == 0 || !e.Title {
				f.StalledAfter = int(e.N)
			}
		case e.Kind == model.EvStated && e.Many && e.State != "":
			// The text's words before the title's.
			if t, ok := fromTitle[e.State]; !ok || t && !e.Title {
				if f.saidMany == nil {
					f.saidMany = map[string]string{}
				}
				f.saidMany[e.State] = said(e)
				fromTitle[e.State] = e.Title
			}
		}
	}
}

// HasSysctl reports whether the snapshot holds a setting.
func (f *Facts) HasSysctl(name string) bool {
	_, ok := f.snap.Sysctls[name]
	return ok
}

// Counter returns a kernel counter of the latest sample, such as
// "TcpExt.ListenOverflows", or 0 when absent (see HasCounter).
func (f *Facts) Counter(name string) int { return int(f.snap.Latest().Counters[name]) }

// HasCounter reports whether the latest sample has the counter.
func (f *Facts) HasCounter(name string) bool {
	_, ok := f.snap.Latest().Counters[name]
	return ok
}

// Delta returns how much a counter grew from the first to the last
// sample; 0 with one sample.
func (f *Facts) Delta(name string) int {
	if len(f.snap.Samples) < 2 {
		return 0
	}
	return int(f.snap.Latest().Counters[name] - f.snap.First().Counters[name])
}

// Rate returns a counter's growth per second between the first and last
// sample, or -1 when that cannot be known (one sample, no times).
func (f *Facts) Rate(name string) float64 {
	if f.Interval <= 0 {
		return -1
	}
	return float64(f.Delta(name)) / f.Interval
}

// File returns a host file kept in the snapshot ("etc/nsswitch.conf"), or "".
func (f *Facts) File(name string) string { return f.snap.Files[name] }

// State returns the number of sockets in a state (any spelling).
func (f *Facts) State(name string) int { return f.States[group.CanonicalOr(name)] }

// NewFacts computes the snapshot-wide values.
func NewFacts(s *model.Snapshot) *Facts {
	f := &Facts{snap: s, OS: s.Host.OS, Kernel: s.Host.Kernel, Samples: len(s.Samples), States: map[string]int{}, NonRoot: s.Host.NonRoot}
	f.KernelMajor, f.KernelMinor = kernelVersion(s.Host.Kernel)
	if f.OS == "" {
		f.OS = "unknown"
	}
	f.SystemName = systemNames[f.OS]
	if f.SystemName == "" {
		f.SystemName = "an unknown system"
	}
	if first, last := s.First(), s.Latest(); first != last && !first.Time.IsZero() && !last.Time.IsZero() {
		f.Interval = last.Time.Sub(first.Time).Seconds()
	}
	smp := s.Latest()
	f.TotalSockets = len(smp.Sockets)
	sum := group.Summarize(smp.Sockets)
	f.States = sum.StateMap()
	f.HasOwners, f.HasTimers, f.HasTCPInfo = sum.Owners, sum.Timers, sum.Info
	if smp.CountsOnly() {
		f.CountsOnly = true
		f.States = group.CountStates(smp)
		for _, n := range f.States {
			f.TotalSockets += n
		}
		f.HasOwners = len(smp.OwnerCounts) > 0
	}
	f.HasListeners = f.States[model.Listen.String()] > 0 || smp.ListenersShown
	f.FirstStates = f.States
	if first := s.First(); first != smp {
		f.FirstStates = group.Summarize(first.Sockets).StateMap()
		if first.CountsOnly() {
			f.FirstStates = group.CountStates(first)
		}
	}
	f.HasCounters = len(smp.Counters) > 0
	f.words()
	f.portRange()
	f.timeWait()
	ns := s.Files["etc/nsswitch.conf"]
	for _, line := range strings.Split(ns, "\n") {
		line = strings.TrimSpace(line)
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		db, srcs, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(db) {
		case "hosts", "services", "networks", "protocols", "rpc":
			for _, w := range strings.Fields(srcs) {
				if w == "nis" || w == "nisplus" {
					f.NIS = true
				}
			}
		}
	}
	return f
}

var systemNames = map[string]string{"linux": "Linux", "windows": "Windows", "darwin": "macOS",
	"freebsd": "FreeBSD", "solaris": "Solaris", "aix": "AIX"}

// kernelVersion reads "major.minor" from a release string; -1, -1 when
// it has none.
func kernelVersion(rel string) (int, int) {
	a, rest, ok := strings.Cut(strings.TrimSpace(rel), ".")
	if !ok {
		return -1, -1
	}
	b := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		b = rest[:i]
	}
	maj, err1 := strconv.Atoi(a)
	mnr, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return -1, -1
	}
	return maj, mnr
}

// portRange fills the ephemeral range from the system's settings, or its
// documented default.
func (f *Facts) portRange() {
	lo, hi := -1, -1
	switch f.OS {
	case "windows":
		if s, n := f.SysctlInt("windows.dynamicport.tcp.start"), f.SysctlInt("windows.dynamicport.tcp.num"); s > 0 && n > 0 {
			lo, hi = s, s+n-1
		}
	case "linux", "unknown":
		lo, hi = twoPorts(f.Sysctl("net.ipv4.ip_local_port_range"))
	default:
		if r, ok := portRangeSettings[f.OS]; ok {
			if first, last := f.SysctlInt(r.first), f.SysctlInt(r.last); first > 0 && last >= first {
				lo, hi = first, last
			}
		}
	}
	if lo < 0 {
		d, ok := portRangeSettings[f.OS]
		if !ok {
			d = portRangeSettings["linux"]
		}
		lo, hi, f.PortRangeAssumed = d.lo, d.hi, true
	}
	f.PortRangeLow, f.PortRangeHigh = lo, hi
	f.PortRangeSize = hi - lo + 1 - reservedInside(f.Sysctl("net.ipv4.ip_local_reserved_ports"), lo, hi)
}

// portRangeSettings are, per system, the settings holding the first and
// last ephemeral port (Linux and Windows are read differently) and the
// documented default range.
var portRangeSettings = map[string]struct {
	first, last string
	lo, hi      int
}{
	"linux":   {lo: 32768, hi: 60999},
	"windows": {lo: 49152, hi: 65535},
	"darwin":  {"net.inet.ip.portrange.first", "net.inet.ip.portrange.last", 49152, 65535},
	"freebsd": {"net.inet.ip.portrange.first", "net.inet.ip.portrange.last", 10000, 65535},
	"solaris": {"solaris.tcp.tcp_smallest_anon_port", "solaris.tcp.tcp_largest_anon_port", 32768, 65535},
	"aix":     {"aix.tcp_ephemeral_low", "aix.tcp_ephemeral_high", 32768, 65535},
}

// twoPorts parses "32768 60999"; -1, -1 when it is not a valid range.
func twoPorts(v string) (int, int) {
	fs := strings.Fields(v)
	if len(fs) != 2 {
		return -1, -1
	}
	a, err1 := strconv.Atoi(fs[0])
	b, err2 := strconv.Atoi(fs[1])
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		return -1, -1
	}
	return a, b
}

// reservedInside counts the ports of a "8080,9000-9010" list inside [lo, hi].
func reservedInside(list string, lo, hi int) int {
	n := 0
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, b, isRange := strings.Cut(part, "-")
		x, err := strconv.Atoi(a)
		if err != nil {
			continue
		}
		y := x
		if isRange {
			if y, err = strconv.Atoi(b); err != nil {
				continue
			}
		}
		x, y = max(x, lo), min(y, hi)
		if y >= x {
			n += y - x + 1
		}
	}
	return n
}

// timeWait fills the TIME_WAIT duration for the system.
func (f *Facts) timeWait() {
	ms := func(name string, def float64) float64 {
		if v := f.SysctlInt(name); v > 0 {
			return float64(v) / 1000
		}
		f.TimeWaitAssumed = true
		return def
	}
	switch f.OS {
	case "windows":
		if v := f.SysctlInt("windows.TcpTimedWaitDelay"); v > 0 {
			f.TimeWaitSeconds = float64(v)
		} else {
			f.TimeWaitSeconds, f.TimeWaitAssumed = 240, true
		}
	case "solaris":
		f.TimeWaitSeconds = ms("solaris.tcp.tcp_time_wait_interval", 60)
	case "darwin":
		f.TimeWaitSeconds = 2 * ms("net.inet.tcp.msl", 15)
	case "freebsd":
		f.TimeWaitSeconds = 2 * ms("net.inet.tcp.msl", 30)
	default:
		f.TimeWaitSeconds = 60 // TCP_TIMEWAIT_LEN: fixed, not a sysctl
	}
}

// Bytes renders a byte count for people: "512 B", "64 KiB", "1.5 MiB".
// It takes any number (int, int64 or float64): expr type-checks integer
// kinds as interchangeable but does not convert them in calls.
func (f *Facts) Bytes(v any) string {
	n, ok := number(v)
	if !ok {
		return fmt.Sprint(v)
	}
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(n/(1<<30), 'f', 1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(n/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(n/(1<<10), 'f', 0, 64) + " KiB"
	}
	return strconv.FormatFloat(n, 'f', 0, 64) + " B"
}

// TwReuse reports whether Linux may reuse this host's client-side
// TIME_WAIT ports for new connections to a destination: tcp_tw_reuse=1,
// or 2 (the default since 4.19, assumed when unknown) for loopback, and
// TCP timestamps on.
func (f *Facts) TwReuse(loopback bool) bool {
	if f.OS != "linux" {
		return false
	}
	if f.SysctlInt("net.ipv4.tcp_timestamps") == 0 {
		return false
	}
	switch f.SysctlInt("net.ipv4.tcp_tw_reuse") {
	case 1:
		return true
	case 2, -1:
		return loopback
	}
	return false
}

// Plural writes a count with its noun: "1 socket", "2 sockets". Rules
// write counts that can be 1 with it.
func (f *Facts) Plural(n int, noun string) string { return model.Plural(n, noun) }

// Num renders a number for text the way reports show evidence: whole
// numbers without decimals, others rounded ("32.80", "197"). Use it
// instead of string() for a computed value inside a template expression.
func (f *Facts) Num(x float64) string { return FormatValue(x) }

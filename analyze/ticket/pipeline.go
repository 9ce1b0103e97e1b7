package ticket

import (
	"strconv"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// A Pipeline is a shell command line around a listing command, as
// people paste it: `ss -np | grep :6000 | grep CLOSE-WAIT | wc -l`.
type Pipeline struct {
	Base    string   // the listing command: "ss", "netstat", "lsof", "get-nettcpconnection"; "" for others
	Args    []string // the base command's arguments
	Filters []Filter // grep, findstr, Select-String and awk field filters, in order
	Count   bool     // the output is a count (wc -l, grep -c, find /c, Measure-Object)
	Head    bool     // cut by head or tail: a sample, "at least this many"
	Uniq    bool     // sort | uniq -c: counts per value
}

// A Filter is one stage that keeps lines matching (or, Invert, not
// matching) Pattern; Field is the awk field it tests, 0 for the line.
type Filter struct {
	Pattern string
	Invert  bool
	Field   int
	Fold    bool // case-insensitive
}

// ParsePipeline splits a command line into its stages. ok is false when
// the line is not a command tcpsnap knows something about.
func ParsePipeline(cmd string) (p Pipeline, ok bool) {
	stages := splitPipe(cmd)
	if len(stages) == 0 {
		return p, false
	}
	base := shellWords(stages[0])
	for len(base) > 0 && (base[0] == "sudo" || base[0] == "watch" || strings.HasPrefix(base[0], "-")) {
		base = base[1:]
	}
	if len(base) == 0 {
		return p, false
	}
	name := strings.ToLower(base[0])
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSuffix(name, ".exe")
	switch name {
	case "ss", "netstat", "lsof", "sockstat":
		p.Base = name
	case "get-nettcpconnection":
		p.Base = "get-nettcpconnection"
	default:
		if strings.HasPrefix(name, "(get-nettcpconnection") {
			p.Base = "get-nettcpconnection"
			if strings.Contains(strings.ToLower(stages[0]), ").count") {
				p.Count = true
			}
		}
	}
	p.Args = base[1:]
	for _, st := range stages[1:] {
		w := shellWords(st)
		if len(w) == 0 {
			continue
		}
		tool := strings.ToLower(w[0])
		if i := strings.LastIndexAny(tool, `/\`); i >= 0 {
			tool = tool[i+1:]
		}
		tool = strings.TrimSuffix(tool, ".exe")
		switch tool {
		case "grep", "egrep", "fgrep", "zgrep", "rg":
			p.grep(w[1:])
		case "findstr", "find", "select-string", "sls", "where-object", "?":
			p.findstr(tool, w[1:])
		case "awk", "gawk", "mawk":
			p.awk(w[1:])
		case "wc":
			if len(w) > 1 && w[1] == "-l" {
				p.Count = true
			}
		case "head", "tail", "select-object", "select":
			if tool == "head" || tool == "tail" || hasFold(w[1:], "-first", "-last") {
				p.Head = true
			}
		case "uniq":
			if hasFold(w[1:], "-c") {
				p.Uniq = true
			}
		case "measure-object", "measure":
			p.Count = true
		}
	}
	return p, p.Base != "" || len(p.Filters) > 0
}

func hasFold(ws []string, flags ...string) bool {
	for _, w := range ws {
		for _, f := range flags {
			if strings.EqualFold(w, f) {
				return true
			}
		}
	}
	return false
}

func (p *Pipeline) grep(args []string) {
	f := Filter{}
	var pats []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-e" && i+1 < len(args):
			pats = append(pats, args[i+1])
			i++
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for _, c := range a[1:] {
				switch c {
				case 'v':
					f.Invert = true
				case 'c':
					p.Count = true
				case 'i':
					f.Fold = true
				}
			}
		default:
			pats = append(pats, a)
		}
	}
	if len(pats) > 0 {
		// grep PATTERN FILE...: the first is the pattern.
		f.Pattern = pats[0]
		p.Filters = append(p.Filters, f)
	}
}

// findstr: Windows find "X" /c, findstr /i X, Select-String X,
// Where-Object { $_.State -eq 'TimeWait' }.
func (p *Pipeline) findstr(tool string, args []string) {
	f := Filter{Fold: tool != "find"}
	for _, a := range args {
		la := strings.ToLower(a)
		switch {
		case la == "/c" && tool == "find":
			p.Count = true
		case la == "/v":
			f.Invert = true
		case la == "/i":
			f.Fold = true
		case strings.HasPrefix(la, "/c:"):
			f.Pattern = a[3:]
		case strings.HasPrefix(a, "/") || strings.HasPrefix(a, "-") || a == "{" || a == "}" || strings.HasPrefix(a, "$_"):
		case la == "-eq" || la == "-match" || la == "-like":
		default:
			if f.Pattern == "" {
				f.Pattern = strings.Trim(a, "'\"{}")
			}
		}
	}
	if f.Pattern != "" {
		p.Filters = append(p.Filters, f)
	}
}

var awkFieldRE = lazyRegexp(`\$(\d+)\s*(!?~|==|!=)\s*(?:/([^/]*)/|"([^"]*)")`)

func (p *Pipeline) awk(args []string) {
	for _, a := range args {
		for _, m := range awkFieldRE.FindAllStringSubmatch(a, -1) {
			n, _ := strconv.Atoi(m[1])
			pat := m[3] + m[4]
			p.Filters = append(p.Filters, Filter{Pattern: pat, Field: n, Invert: strings.HasPrefix(m[2], "!")})
		}
	}
}

// splitPipe cuts a command line at | outside quotes (|| is not a pipe).
func splitPipe(cmd string) []string {
	var out []string
	var q byte
	start := 0
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '\'' || c == '"':
			q = c
		case c == '|':
			if i+1 < len(cmd) && cmd[i+1] == '|' {
				return append(out, strings.TrimSpace(cmd[start:i]))
			}
			out = append(out, strings.TrimSpace(cmd[start:i]))
			start = i + 1
		case c == ';' || c == '&' && i+1 < len(cmd) && cmd[i+1] == '&':
			return append(out, strings.TrimSpace(cmd[start:i]))
		}
	}
	return append(out, strings.TrimSpace(cmd[start:]))
}

// shellWords splits a stage into words, removing quotes.
func shellWords(s string) []string {
	var out []string
	var b strings.Builder
	var q byte
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			} else {
				b.WriteByte(c)
			}
		case c == '\'' || c == '"':
			q, in = c, true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, b.String())
	}
	return out
}

// stateWords maps what people grep for to states: prefixes of either
// spelling ("CLOS", "TIME", "ESTA", "CLOSE-WAIT", "TimeWait").
var stateWords = []struct {
	prefix string
	state  model.State
}{
	{"CLOSE_WAIT", model.CloseWait}, {"CLOSE-WAIT", model.CloseWait}, {"CLOSEWAIT", model.CloseWait},
	{"CLOSE_", model.CloseWait}, {"CLOSE-", model.CloseWait}, {"CLOS", model.CloseWait},
	{"TIME_WAIT", model.TimeWait}, {"TIME-WAIT", model.TimeWait}, {"TIMEWAIT", model.TimeWait},
	{"TIMED_WAIT", model.TimeWait}, {"TIME", model.TimeWait},
	{"FIN_WAIT2", model.FinWait2}, {"FIN-WAIT-2", model.FinWait2}, {"FIN_WAIT_2", model.FinWait2}, {"FINWAIT2", model.FinWait2},
	{"FIN_WAIT1", model.FinWait1}, {"FIN-WAIT-1", model.FinWait1}, {"FIN_WAIT_1", model.FinWait1}, {"FINWAIT1", model.FinWait1},
	{"FIN_WAIT", model.FinWait2}, {"FIN-WAIT", model.FinWait2},
	{"SYN_SENT", model.SynSent}, {"SYN-SENT", model.SynSent}, {"SYNSENT", model.SynSent},
	{"SYN_RECV", model.SynRecv}, {"SYN-RECV", model.SynRecv}, {"SYN_RCVD", model.SynRecv}, {"SYNRECEIVED", model.SynRecv}, {"SYN_RECEIVED", model.SynRecv},
	{"LAST_ACK", model.LastAck}, {"LAST-ACK", model.LastAck}, {"LASTACK", model.LastAck},
	{"ESTABLISHED", model.Established}, {"ESTAB", model.Established}, {"ESTA", model.Established},
	{"LISTEN", model.Listen}, {"CLOSING", model.Closing},
}

// filterState returns the state a grep pattern selects, if it names one.
// Patterns are matched as people type them: upper case, or any case with
// -i.
func filterState(f Filter) (model.State, bool) {
	pat := f.Pattern
	if f.Fold {
		pat = strings.ToUpper(pat)
	}
	if pat != strings.ToUpper(pat) && !isPascalState(pat) {
		return 0, false
	}
	pat = strings.ToUpper(strings.Trim(pat, " ^$\\b<>"))
	if len(pat) < 4 {
		return 0, false
	}
	for _, sw := range stateWords {
		if strings.HasPrefix(sw.prefix, pat) || pat == sw.prefix || strings.HasPrefix(pat, sw.prefix) && len(pat) <= len(sw.prefix)+1 {
			return sw.state, true
		}
	}
	return 0, false
}

// isPascalState: PowerShell spells states TimeWait, CloseWait.
func isPascalState(p string) bool {
	switch p {
	case "TimeWait", "CloseWait", "Established", "SynSent", "SynReceived", "FinWait2", "FinWait1", "LastAck", "Listen":
		return true
	}
	return false
}

var portPatRE = lazyRegexp(`^(?:[\w.\[\]*-]*:)?(\d{1,5})\$?$`)

// filterNumber returns the number a pattern selects: ":6000", "6000",
// "127.0.0.1:33000"; colon says it is a port.
func filterNumber(f Filter) (n int, port bool, ok bool) {
	pat := strings.Trim(f.Pattern, " ^\\b<>")
	m := portPatRE.FindStringSubmatch(pat)
	if m == nil {
		return 0, false, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n == 0 {
		return 0, false, false
	}
	return n, strings.Contains(pat, ":") || strings.Contains(pat, "."), true
}

var procPatRE = lazyRegexp(`^/?([a-z][a-z0-9_.-]{2,30})$`)

// filterProcess returns the program a pattern names ("java", "/nginx").
func filterProcess(f Filter, base Pipeline) (string, bool) {
	if !base.owners() {
		return "", false
	}
	m := procPatRE.FindStringSubmatch(f.Pattern)
	if m == nil {
		return "", false
	}
	switch m[1] {
	case "tcp", "tcp6", "udp", "udp6", "unix", "inet", "ipv4", "ipv6", "listen", "established", "sport", "dport", "state", "src", "dst":
		return "", false
	}
	return m[1], true
}

// owners reports whether the base command prints process names or pids.
func (p Pipeline) owners() bool {
	switch p.Base {
	case "lsof", "sockstat":
		return true
	case "ss", "netstat":
		for _, a := range p.Args {
			if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a, "pb") {
				return true
			}
		}
	}
	return false
}

// flag reports whether a short flag letter appears among the arguments.
func (p Pipeline) flag(c byte) bool {
	for _, a := range p.Args {
		if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a[1:], c) >= 0 {
			return true
		}
	}
	return false
}

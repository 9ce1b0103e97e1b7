package fleet

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
)

// Schema is the fleet summary's JSON schema name (docs/report-schema.md).
const Schema = "tcpsnap.fleet/v1"

// Bounds of the summary's lists.
const (
	maxTop          = 10
	maxShared       = 5
	maxCorrelations = 100
	maxClientTop    = 10
)

// Summary is what the fleet's reports say together.
type Summary struct {
	Schema       string                  `json:"schema"`
	Hosts        int                     `json:"hosts"`
	Failed       int                     `json:"failed"`
	Rules        map[string]*RuleSummary `json:"rules"`
	FailedHosts  []FailedHost            `json:"failed_hosts"`
	Correlations []Correlation           `json:"correlations"`
	// RuleOrder lists the rules most hosts fired first (the text order).
	RuleOrder []string `json:"-"`
}

// RuleSummary is one rule over the fleet.
type RuleSummary struct {
	Hosts    int       `json:"hosts"`    // hosts with at least one finding of the rule
	Critical int       `json:"critical"` // of them, hosts whose most severe finding of the rule is critical
	Warning  int       `json:"warning"`
	Info     int       `json:"info"`
	Top      []TopHost `json:"top"`    // most severe first, then largest
	Shared   Shared    `json:"shared"` // what the affected hosts have in common
}

// A TopHost is one affected host, by its most severe, largest finding.
type TopHost struct {
	Host     string `json:"host"`
	Path     string `json:"path"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Sockets  int64  `json:"sockets"`
}

// Shared counts, among a rule's affected hosts, the hosts per program,
// local port, destination and kernel (most hosts first).
type Shared struct {
	Programs     []Count `json:"programs"`
	Ports        []Count `json:"ports"`
	Destinations []Count `json:"destinations"`
	Kernels      []Count `json:"kernels"`
	Settings     []Count `json:"settings"` // "net.ipv4.tcp_tw_reuse=0"
}

// A Count is a value and the number of hosts that have it.
type Count struct {
	Value string `json:"value"`
	Hosts int    `json:"hosts"`
}

// A FailedHost is an input that could not be analyzed.
type FailedHost struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// A Correlation is one service whose server and clients are both in the
// fleet: the server's sockets toward those clients and the clients'
// sockets toward it, by state.
type Correlation struct {
	Text    string     `json:"text"`
	Server  ServerEnd  `json:"server"`
	Clients ClientEnds `json:"clients"`
}

// ServerEnd is the server side of a correlation.
type ServerEnd struct {
	Host    string         `json:"host"`
	Path    string         `json:"path"`
	Address string         `json:"address"` // ip:port of the service
	Process string         `json:"process,omitempty"`
	PID     int            `json:"pid,omitempty"`
	States  map[string]int `json:"states"` // toward clients in the fleet
}

// ClientEnds are the client sides of a correlation.
type ClientEnds struct {
	Hosts  int            `json:"hosts"`
	States map[string]int `json:"states"`
	Top    []ClientHost   `json:"top"` // most sockets first
}

// A ClientHost is one client host of a correlation.
type ClientHost struct {
	Host    string         `json:"host"`
	Process string         `json:"process,omitempty"`
	Sockets int            `json:"sockets"`
	States  map[string]int `json:"states"`
}

// Summarize counts the fleet's findings per rule and matches both ends
// of its connections.
func Summarize(f *Fleet) *Summary {
	s := &Summary{Schema: Schema, Hosts: len(f.Hosts), Rules: map[string]*RuleSummary{},
		FailedHosts: []FailedHost{}, Correlations: []Correlation{}}
	type shared struct{ programs, ports, dests, kernels, settings map[string]int }
	sh := map[string]*shared{}
	for _, h := range f.Hosts {
		if h.Error != "" {
			s.Failed++
			s.FailedHosts = append(s.FailedHosts, FailedHost{Path: h.Path, Error: h.Error})
			continue
		}
		best := map[string]int{} // rule -> index of its most severe, largest finding
		for i, fd := range h.Findings {
			j, ok := best[fd.Rule]
			if !ok || rankAbove(fd, h.Findings[j]) {
				best[fd.Rule] = i
			}
		}
		for rule, i := range best {
			fd := h.Findings[i]
			rs := s.Rules[rule]
			if rs == nil {
				rs = &RuleSummary{Top: []TopHost{}}
				s.Rules[rule] = rs
				sh[rule] = &shared{map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}}
			}
			rs.Hosts++
			switch fd.Severity {
			case engine.Critical:
				rs.Critical++
			case engine.Warning:
				rs.Warning++
			default:
				rs.Info++
			}
			rs.Top = append(rs.Top, TopHost{Host: h.Host, Path: h.Path, Severity: fd.Severity, Title: fd.Title, Sockets: fd.Sockets})
			if len(rs.Top) > 4*maxTop {
				sortTop(rs.Top)
				rs.Top = rs.Top[:maxTop]
			}
			seen := map[string]bool{}
			for _, g := range h.Findings {
				if g.Rule != rule {
					continue
				}
				// The subjects folded into a finding count as its own: a
				// host's second destination of one program is in also.
				for _, sub := range append([]engine.Subject{g.Subject}, g.Also...) {
					for _, kv := range [][2]string{{"p", sub.Process}, {"o", portName(sub.LocalPort)}, {"d", sub.Remote}} {
						if kv[1] == "" || seen[kv[0]+kv[1]] {
							continue
						}
						seen[kv[0]+kv[1]] = true
						switch kv[0] {
						case "p":
							sh[rule].programs[kv[1]]++
						case "o":
							sh[rule].ports[kv[1]]++
						case "d":
							sh[rule].dests[kv[1]]++
						}
					}
				}
			}
			if h.Kernel != "" {
				sh[rule].kernels[h.Kernel]++
			}
			for k, v := range h.Settings {
				sh[rule].settings[k+"="+v]++
			}
		}
	}
	for rule, rs := range s.Rules {
		sortTop(rs.Top)
		if len(rs.Top) > maxTop {
			rs.Top = rs.Top[:maxTop]
		}
		x := sh[rule]
		rs.Shared = Shared{Programs: topCounts(x.programs), Ports: topCounts(x.ports),
			Destinations: topCounts(x.dests), Kernels: topCounts(x.kernels), Settings: topCounts(x.settings)}
		s.RuleOrder = append(s.RuleOrder, rule)
	}
	sort.Slice(s.RuleOrder, func(i, j int) bool {
		a, b := s.Rules[s.RuleOrder[i]], s.Rules[s.RuleOrder[j]]
		if a.Critical != b.Critical {
			return a.Critical > b.Critical
		}
		if a.Hosts != b.Hosts {
			return a.Hosts > b.Hosts
		}
		return s.RuleOrder[i] < s.RuleOrder[j]
	})
	s.Correlations = Correlate(f)
	return s
}

func rankAbove(a, b Finding) bool {
	if ra, rb := engine.SeverityRank(a.Severity), engine.SeverityRank(b.Severity); ra != rb {
		return ra > rb
	}
	return a.Sockets > b.Sockets
}

func sortTop(t []TopHost) {
	sort.SliceStable(t, func(i, j int) bool {
		a, b := t[i], t[j]
		if ra, rb := engine.SeverityRank(a.Severity), engine.SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		if a.Sockets != b.Sockets {
			return a.Sockets > b.Sockets
		}
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.Path < b.Path
	})
}

func portName(p int) string {
	if p == 0 {
		return ""
	}
	return ":" + strconv.Itoa(p)
}

func topCounts(m map[string]int) []Count {
	out := []Count{}
	for v, n := range m {
		out = append(out, Count{Value: v, Hosts: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Hosts != out[j].Hosts {
			return out[i].Hosts > out[j].Hosts
		}
		return out[i].Value < out[j].Value
	})
	if len(out) > maxShared {
		out = out[:maxShared]
	}
	return out
}

// Correlate matches both ends of connections across the fleet's hosts:
// a server flow of host A toward address C matches the client flows of
// the host that owns C toward A's service. An address seen as its own by
// more than one host (NAT, copies) matches nothing: it cannot say which.
// Loopback never matches. Only services where some socket on either side
// is not ESTABLISHED are reported, most such sockets first.
func Correlate(f *Fleet) []Correlation {
	owner := map[netip.Addr]int{} // address -> host index, -1 when ambiguous
	for i, h := range f.Hosts {
		for _, a := range h.Conns.Addrs {
			if j, ok := owner[a]; ok && j != i {
				owner[a] = -1
			} else if !ok {
				owner[a] = i
			}
		}
	}
	ownerOf := func(a netip.Addr) int {
		if i, ok := owner[a]; ok {
			return i
		}
		return -1
	}
	type ckey struct {
		server  int
		service netip.AddrPort
	}
	type client struct {
		sockets int
		states  map[string]int
		procs   map[string]int
	}
	type corr struct {
		states  map[string]int
		procs   map[string]int // "name\x00pid" -> sockets
		clients map[int]*client
	}
	cs := map[ckey]*corr{}
	get := func(k ckey) *corr {
		c := cs[k]
		if c == nil {
			c = &corr{states: map[string]int{}, procs: map[string]int{}, clients: map[int]*client{}}
			cs[k] = c
		}
		return c
	}
	for i, h := range f.Hosts {
		for _, fl := range h.Conns.Flows {
			if fl.Server {
				b := ownerOf(fl.Peer)
				if b < 0 || b == i {
					continue
				}
				c := get(ckey{i, fl.Service})
				c.states[fl.State] += fl.Count
				c.procs[fl.Process+"\x00"+strconv.Itoa(fl.PID)] += fl.Count
				continue
			}
			a := ownerOf(fl.Service.Addr())
			if a < 0 || a == i {
				continue
			}
			c := get(ckey{a, fl.Service})
			cl := c.clients[i]
			if cl == nil {
				cl = &client{states: map[string]int{}, procs: map[string]int{}}
				c.clients[i] = cl
			}
			cl.sockets += fl.Count
			cl.states[fl.State] += fl.Count
			cl.procs[fl.Process] += fl.Count
		}
	}
	type ranked struct {
		c     Correlation
		score int
	}
	var out []ranked
	for k, c := range cs {
		if len(c.clients) == 0 {
			continue // the server's peers are fleet hosts, but they showed nothing toward it
		}
		score := 0
		for st, n := range c.states {
			if st != "ESTABLISHED" {
				score += n
			}
		}
		ce := ClientEnds{Hosts: len(c.clients), States: map[string]int{}, Top: []ClientHost{}}
		for i, cl := range c.clients {
			for st, n := range cl.states {
				ce.States[st] += n
				if st != "ESTABLISHED" {
					score += n
				}
			}
			ce.Top = append(ce.Top, ClientHost{Host: f.Hosts[i].Host, Process: largest(cl.procs), Sockets: cl.sockets, States: cl.states})
		}
		if score == 0 {
			continue
		}
		sort.Slice(ce.Top, func(i, j int) bool {
			if ce.Top[i].Sockets != ce.Top[j].Sockets {
				return ce.Top[i].Sockets > ce.Top[j].Sockets
			}
			return ce.Top[i].Host < ce.Top[j].Host
		})
		if len(ce.Top) > maxClientTop {
			ce.Top = ce.Top[:maxClientTop]
		}
		sh := f.Hosts[k.server]
		se := ServerEnd{Host: sh.Host, Path: sh.Path, Address: k.service.String(), States: c.states}
		if p := largest(c.procs); p != "" {
			name, pid, _ := strings.Cut(p, "\x00")
			se.Process, se.PID = name, atoi(pid)
		} else {
			for _, l := range sh.Conns.Listeners {
				if l.Addr.Port() == k.service.Port() && (l.Addr.Addr() == k.service.Addr() || l.Addr.Addr().IsUnspecified()) {
					se.Process, se.PID = l.Process, l.PID
					break
				}
			}
		}
		cor := Correlation{Server: se, Clients: ce}
		cor.Text = correlationText(cor, k.service)
		out = append(out, ranked{cor, score})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		if out[i].c.Server.Host != out[j].c.Server.Host {
			return out[i].c.Server.Host < out[j].c.Server.Host
		}
		return out[i].c.Server.Address < out[j].c.Server.Address
	})
	res := []Correlation{}
	for i := 0; i < len(out) && i < maxCorrelations; i++ {
		res = append(res, out[i].c)
	}
	return res
}

func largest(m map[string]int) string {
	best, bn := "", -1
	for k, n := range m {
		if n > bn || n == bn && k < best {
			best, bn = k, n
		}
	}
	if strings.TrimLeft(best, "\x000") == "" {
		return ""
	}
	return best
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// correlationText says a correlation in one sentence.
func correlationText(c Correlation, svc netip.AddrPort) string {
	var b strings.Builder
	who := c.Server.Process
	if who == "" {
		who = "the server"
	} else if c.Server.PID != 0 {
		who += fmt.Sprintf(" (pid %d)", c.Server.PID)
	}
	fmt.Fprintf(&b, "%s on %s (%s)", who, svc.Addr(), c.Server.Host)
	if len(c.Server.States) > 0 {
		fmt.Fprintf(&b, " holds %s on :%d", statesText(c.Server.States), svc.Port())
	} else {
		fmt.Fprintf(&b, " serves :%d", svc.Port())
	}
	n := c.Clients.Hosts
	noun, verb := "clients", "hold"
	if n == 1 {
		noun, verb = "client", "holds"
	}
	if len(c.Server.States) > 0 {
		fmt.Fprintf(&b, "; %d %s in this fleet %s the other ends in %s", n, noun, verb, statesText(c.Clients.States))
	} else {
		fmt.Fprintf(&b, "; %d %s in this fleet %s %s toward it", n, noun, verb, statesText(c.Clients.States))
	}
	return b.String()
}

// statesText lists socket counts by state, most first: "3856 CLOSE_WAIT, 1 ESTABLISHED".
func statesText(m map[string]int) string {
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range m {
		l = append(l, kv{k, n})
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].n != l[j].n {
			return l[i].n > l[j].n
		}
		return l[i].k < l[j].k
	})
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = fmt.Sprintf("%d %s", x.n, x.k)
	}
	return strings.Join(parts, ", ")
}

package model

import (
	"slices"
	"strconv"
	"strings"
)

// AddStateCount adds n sockets in a state to the listing's count summary.
func (l *Listing) AddStateCount(state string, n int) {
	if l.StateCounts == nil {
		l.StateCounts = map[string]int{}
	}
	l.StateCounts[state] += n
}

// AddOwnerCount adds n sockets in a state ("" = not said) owned by
// "pid/program" to the listing's count summary.
func (l *Listing) AddOwnerCount(state, owner string, n int) {
	if l.OwnerCounts == nil {
		l.OwnerCounts = map[string]map[string]int{}
	}
	m := l.OwnerCounts[state]
	if m == nil {
		m = map[string]int{}
		l.OwnerCounts[state] = m
	}
	m[owner] += n
}

// ParseOwner splits "8166/java" into program and pid; "-" is unknown.
func ParseOwner(o string) (prog string, pid int) {
	p, prog, ok := strings.Cut(o, "/")
	if !ok {
		return "", 0
	}
	pid, _ = strconv.Atoi(p)
	return prog, pid
}

// A Listing is what one parser made of one input.
type Listing struct {
	Sockets []Socket
	// Infos holds the sockets' tcp_info (ss -i); see Info.
	Infos    []TCPInfo
	Counters map[string]int64
	Sysctls  map[string]string
	// Families lists the address families the socket table covers
	// (4, 6 or both): /proc/net/tcp covers 4 only, ss covers both.
	Families []int
	// Richness ranks socket tables describing the same instant: the richest
	// is counted, the others only fill in missing fields.
	Richness int
	Problems []Problem // Path is filled in by the loader
	// StateCounts and OwnerCounts are count summaries (uniq -c) that
	// stand in for a socket table: state -> sockets, and state ->
	// "pid/program" -> sockets ("" = state not said).
	StateCounts map[string]int
	OwnerCounts map[string]map[string]int

	// richBase and richHas are what Richness was made of (setRichness),
	// so that listings parsed in pieces can be joined.
	richBase int
	richHas  Richness
}

// Richness says which optional columns a socket table had; each adds to
// Listing.Richness once.
type Richness uint8

const (
	RichOwners Richness = 1 << iota // process names or PIDs: +20
	RichTimers                      // timers: +10
	RichInfo                        // tcp_info: +10
	RichInodes                      // inodes: +5
)

var richBonus = [...]int{20, 10, 10, 5}

// SetRichness sets Richness to base plus the bonus of each column had.
func (l *Listing) SetRichness(base int, has Richness) {
	l.richBase, l.richHas, l.Richness = base, has, base
	for i, b := range richBonus {
		if has&(1<<i) != 0 {
			l.Richness += b
		}
	}
}

// Info returns the tcp_info of one of the listing's sockets, nil when
// the listing had none for it.
func (l *Listing) Info(s *Socket) *TCPInfo { return InfoOf(l.Infos, s) }

// Problemf records a problem at a line of the input.
func (l *Listing) Problemf(line int, msg string) {
	l.Problems = append(l.Problems, Problem{Line: line, Message: msg})
}

// SetCounter records a counter value.
func (l *Listing) SetCounter(name string, v int64) {
	if l.Counters == nil {
		l.Counters = make(map[string]int64)
	}
	l.Counters[name] = v
}

// SetSysctl records a kernel setting.
func (l *Listing) SetSysctl(name, v string) {
	if l.Sysctls == nil {
		l.Sysctls = make(map[string]string)
	}
	l.Sysctls[name] = v
}

// JoinListing appends piece p, whose first line is line lineOff+1 of the
// whole text, to l.
func JoinListing(l, p *Listing, lineOff int) {
	AppendTable(&l.Sockets, &l.Infos, p.Sockets, p.Infos)
	for _, pr := range p.Problems {
		if pr.Line > 0 {
			pr.Line += lineOff
		}
		l.Problems = append(l.Problems, pr)
	}
	for k, v := range p.Counters {
		l.SetCounter(k, v)
	}
	for k, v := range p.Sysctls {
		if l.Sysctls == nil {
			l.Sysctls = map[string]string{}
		}
		l.Sysctls[k] = v
	}
	for _, fam := range p.Families {
		if !slices.Contains(l.Families, fam) {
			l.Families = append(l.Families, fam)
		}
	}
	slices.Sort(l.Families)
	if p.richBase > 0 {
		l.SetRichness(max(l.richBase, p.richBase), l.richHas|p.richHas)
	}
}

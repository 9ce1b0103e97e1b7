package model

// An AddrSet is a set of addresses (ports ignored), for the host's own
// addresses: most hosts have at most four, checked without hashing.
type AddrSet struct {
	m      ApMap[bool]
	recent [4]AddrPort // recent adds, IPv4 or IPv6: a host has few addresses, most adds stop here
	next   int
}

// Add adds *ap's address. Endpoints are passed by pointer here and in
// Has: called for a million sockets, a copied argument cost more than
// the set.
func (s *AddrSet) Add(ap *AddrPort) {
	for i := range s.recent {
		if s.recent[i].SameAddr(ap) && i < s.next {
			return
		}
	}
	a := ap.WithPort(0)
	s.recent[s.next%len(s.recent)] = a
	s.next++
	s.m.Set(&a, true)
}

// Each calls fn for every address in the set, in no particular order.
func (s *AddrSet) Each(fn func(AddrPort)) {
	s.m.Each(func(a AddrPort, _ bool) { fn(a) })
}

// Has reports whether *ap's address is in the set.
func (s *AddrSet) Has(ap *AddrPort) bool {
	if s.m.Len() <= len(s.recent) {
		// At most four addresses (nearly every host): each is in recent,
		// which a new address only overwrites past four.
		for i := range min(s.next, len(s.recent)) {
			if s.recent[i].SameAddr(ap) {
				return true
			}
		}
		return false
	}
	a := ap.WithPort(0)
	ok, _ := s.m.Get(&a)
	return ok
}

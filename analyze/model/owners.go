package model

// An Owner is a socket's owner as a tally counts it: its pid, its
// program's name (interned: owners are compared, not their names), and
// whether it was inferred (inferred owners count apart from listed ones).
type Owner struct {
	PID      int
	Name     Name
	Inferred bool
}

// Packed returns the owner as one integer key: its name, pid (below
// 2^30) and whether it was inferred; false when the pid does not fit.
func (o Owner) Packed() (uint64, bool) {
	if o.PID < 0 || o.PID >= 1<<30 {
		return 0, false
	}
	k := uint64(o.Name)<<31 | uint64(o.PID)<<1
	if o.Inferred {
		k |= 1
	}
	return k, true
}

// UnpackOwner is Packed's inverse.
func UnpackOwner(k uint64) Owner {
	return Owner{Name: Name(k >> 31), PID: int(k >> 1 & (1<<30 - 1)), Inferred: k&1 != 0}
}

// An OwnerTally counts sockets per owner and, of them, the live ones:
// other than TIME_WAIT, of a named owner (a pid), who hold ports and
// handles. Most tallies have one owner, kept inline; the others are in
// rest. Each of the two counts keeps at most bound owners: a new owner
// past them is dropped from that count. The zero value is empty.
type OwnerTally struct {
	one            ownerCount // the first owner (N > 0); none while N == 0
	owners, live   int32      // owners with N > 0, with Live > 0
	full, fullLive bool       // an owner was dropped from a count: there are more than owners, than live
	rest           *ownerRest
}

type ownerCount struct {
	id Owner
	LiveCount
}

// LiveCount is one owner's sockets and, of them, live ones (32 bits: a
// tally of 10,000 owners is a third smaller).
type LiveCount struct{ N, Live int32 }

// ownerRest holds a tally's owners after the first: in a short slice up
// to ownerFew owners, then by packed owner (a destination of 10,000
// processes: one probe, no hashing of a struct), in other the owners
// that do not pack.
type ownerRest struct {
	few   []ownerCount
	many  *IntTable[LiveCount]
	other map[Owner]LiveCount
}

const ownerFew = 8

// Owners is how many owners the socket count holds (those Each gives
// with N > 0); Live how many the live count holds (Live > 0).
func (t *OwnerTally) Owners() int { return int(t.owners) }
func (t *OwnerTally) Live() int   { return int(t.live) }

// Full reports whether an owner was dropped from the socket count
// (there are more owners than it holds); FullLive the same of the live
// count.
func (t *OwnerTally) Full() bool     { return t.full }
func (t *OwnerTally) FullLive() bool { return t.fullLive }

// PackedLen is how many owners the tally holds by packed key, in its
// table: 0 until it has more than a few.
func (t *OwnerTally) PackedLen() int {
	if r := t.rest; r != nil && r.many != nil {
		return r.many.Len()
	}
	return 0
}

// Add counts n sockets of o, live of them live (0 <= live <= n, n > 0),
// keeping at most bound owners in each count.
func (t *OwnerTally) Add(o Owner, n, live, bound int) {
	if t.one.N > 0 && t.one.id == o {
		t.bump(&t.one.LiveCount, n, live, bound)
		return
	}
	if t.one.N == 0 && t.rest == nil {
		if c, ok := t.fresh(n, live, bound); ok {
			t.one = ownerCount{o, c}
		}
		return
	}
	if t.rest == nil {
		t.rest = &ownerRest{}
	}
	r := t.rest
	if r.many == nil {
		for i := range r.few {
			if r.few[i].id == o {
				t.bump(&r.few[i].LiveCount, n, live, bound)
				return
			}
		}
		if len(r.few) < ownerFew-1 {
			if c, ok := t.fresh(n, live, bound); ok {
				r.few = append(r.few, ownerCount{o, c})
			}
			return
		}
		r.many = &IntTable[LiveCount]{}
		for _, c := range r.few {
			r.put(c.id, c.LiveCount)
		}
		r.few = nil
	}
	var at *LiveCount
	if k, ok := o.Packed(); ok {
		at = r.many.AtBounded(k, 0) // nil when absent
	} else if c, ok := r.other[o]; ok {
		t.bump(&c, n, live, bound)
		r.other[o] = c
		return
	}
	if at != nil {
		t.bump(at, n, live, bound)
	} else if c, ok := t.fresh(n, live, bound); ok {
		r.put(o, c)
	}
}

// bump counts into an owner's counts; an owner dropped from a count
// because it was full stays dropped (the count stays full).
func (t *OwnerTally) bump(c *LiveCount, n, live, bound int) {
	if c.N > 0 {
		c.N += int32(n)
	}
	if live > 0 {
		if c.Live > 0 {
			c.Live += int32(live)
		} else if int(t.live) < bound {
			c.Live = int32(live)
			t.live++
		} else {
			t.fullLive = true
		}
	}
}

// fresh returns a new owner's counts, false when both counts are full.
func (t *OwnerTally) fresh(n, live, bound int) (LiveCount, bool) {
	var c LiveCount
	if int(t.owners) < bound {
		c.N = int32(n)
		t.owners++
	} else {
		t.full = true
	}
	if live > 0 && int(t.live) < bound {
		c.Live = int32(live)
		t.live++
	} else if live > 0 {
		t.fullLive = true
	}
	return c, c.N > 0 || c.Live > 0
}

func (r *ownerRest) put(o Owner, c LiveCount) {
	if k, ok := o.Packed(); ok {
		*r.many.At(k) = c
		return
	}
	if r.other == nil {
		r.other = map[Owner]LiveCount{}
	}
	r.other[o] = c
}

// Each calls fn with every owner's counts: sockets (0 for an owner only
// the live count kept) and live sockets.
func (t *OwnerTally) Each(fn func(Owner, LiveCount)) {
	if t.one.N > 0 {
		fn(t.one.id, t.one.LiveCount)
	}
	r := t.rest
	if r == nil {
		return
	}
	for _, c := range r.few {
		fn(c.id, c.LiveCount)
	}
	if r.many != nil {
		r.many.Each(func(k uint64, c LiveCount) { fn(UnpackOwner(k), c) })
	}
	for o, c := range r.other {
		fn(o, c)
	}
}

package group

import (
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// InferOwners fills Process and PID where the listing did not name them:
// first from the collector's inode table (exact), then — marked
// OwnerInferred — a server-side socket gets its listener's owner and a
// client-side one the single process that holds live sockets to the same
// remote endpoint. TIME_WAIT sockets have no owner in any listing; this is
// how a report can still say whose they are.
func InferOwners(socks []model.Socket, procs map[int]*model.Process) {
	if len(procs) > 0 {
		type proc struct {
			pid  int
			name model.Name
		}
		byInode := map[uint64]proc{}
		for _, p := range procs {
			for _, ino := range p.Inodes {
				byInode[ino] = proc{p.PID, model.Intern(p.Name)}
			}
		}
		for i := range socks {
			s := &socks[i]
			if s.PID == 0 && s.Inode != 0 {
				if p, ok := byInode[uint64(s.Inode)]; ok {
					s.PID, s.Process = p.pid, p.name
				}
			}
		}
	}
	type owner struct {
		pid  int
		name model.Name
		// remote is the endpoint the owner was noted for: an IPv6
		// endpoint is keyed by a digest, and two endpoints that share
		// one (a crafted listing can make them) must not lend each
		// other owners.
		remote model.AddrPort
	}
	// The owners of listening sockets by port, and whether any socket
	// needs an owner: each half of the table on its own core. (The zero
	// value, no pid and no name, is never an owner.)
	const conflict = -1
	note := func(o *owner, s *model.Socket) {
		switch {
		case *o == (owner{}):
			*o = owner{s.PID, s.Process, s.Remote}
		case o.pid != s.PID || o.name != s.Process || o.remote != s.Remote:
			o.pid, o.name = conflict, model.NoName
		}
	}
	var halves [2]struct {
		listens []int
		unowned bool
	}
	parallel(len(socks), func(half, lo, hi int) {
		var listens []int
		unowned := false
		for i := lo; i < hi; i++ {
			s := &socks[i]
			switch {
			case s.PID == 0 && s.Process == model.NoName:
				unowned = unowned || s.State != model.Listen
			case s.State == model.Listen:
				listens = append(listens, i)
			}
		}
		halves[half].listens, halves[half].unowned = listens, unowned
	})
	if !halves[0].unowned && !halves[1].unowned {
		return
	}
	// Owned listeners, in order; per port the first wildcard one, and per
	// endpoint the first one on exactly it: constant-time lookups however
	// many listeners share a port.
	listens := append(halves[0].listens, halves[1].listens...)
	listeners := make([]owner, 0, len(listens))
	firstWild := map[uint16]int{}   // port -> 1 + index in listeners, or 0 when only exact ones
	var firstExact model.ApMap[int] // endpoint -> 1 + index in listeners
	firstExact.Reserve(len(listens))
	for _, i := range listens {
		s := &socks[i]
		k := len(listeners)
		listeners = append(listeners, owner{pid: s.PID, name: s.Process})
		w, seen := firstWild[s.Local.Port()]
		if a := s.Local.Addr(); a.IsUnspecified() || !a.IsValid() {
			if w == 0 {
				firstWild[s.Local.Port()] = k + 1
			}
		} else if !seen {
			firstWild[s.Local.Port()] = 0
		}
		if at := firstExact.At(s.Local); *at == 0 {
			*at = k + 1
		}
	}
	// By port, a port's only owned listener, when there are many ports.
	var one []portOne
	if len(firstWild) > manyPorts {
		one = portOnes(socks, listens)
	}
	// A server-side socket gets its listener's owner; the others may get
	// the owner of their remote endpoint, below.
	var ownedPorts [65536 / 64]uint64 // ports with an owned listener
	for p := range firstWild {
		ownedPorts[p/64] |= 1 << (p % 64)
	}
	var counts [2]struct{ need, owned int }
	parallel(len(socks), func(half, lo, hi int) {
		c := &counts[half]
		for i := lo; i < hi; i++ {
			s := &socks[i]
			switch {
			case s.State == model.Listen:
			case s.PID != 0 || s.Process != model.NoName:
				if !s.OwnerInferred {
					c.owned++
				}
			case one != nil && one[s.Local.Port()].n == 1:
				if o := &one[s.Local.Port()]; o.local == s.Local || o.local.ZeroIP() {
					l := listeners[o.k]
					s.PID, s.Process, s.OwnerInferred = l.pid, l.name, true
				}
			default:
				if w, ok := firstWild[s.Local.Port()]; ok {
					// The first listener that is a wildcard or on this address.
					k := w
					if e, ok := firstExact.Get(s.Local); ok && (k == 0 || e < k) {
						k = e
					}
					if k > 0 {
						l := listeners[k-1]
						s.PID, s.Process, s.OwnerInferred = l.pid, l.name, true
					}
					continue
				}
				c.need++
			}
		}
	})
	need, owned := counts[0].need+counts[1].need, counts[0].owned+counts[1].owned
	if need == 0 || owned == 0 {
		return
	}
	// The sockets whose owners may come from their remote endpoint:
	// unowned, not on a port an owned process listens on.
	needs := func(s *model.Socket) bool {
		p := s.Local.Port()
		return s.PID == 0 && s.Process == model.NoName && s.State != model.Listen && ownedPorts[p/64]&(1<<(p%64)) == 0
	}
	// The sockets that tell it: owned, and listed so.
	tells := func(s *model.Socket) bool {
		return (s.PID != 0 || s.Process != model.NoName) && !s.OwnerInferred && s.State != model.Listen
	}
	// Each remote endpoint's owner, or conflict when several processes
	// talk to it: in one table while it stays small, else partition by
	// partition.
	var t model.IntTable[owner]
	resolve := func(s *model.Socket, k uint64) {
		if o, ok := t.Get(k); ok && o.pid != conflict && o.remote == s.Remote {
			s.PID, s.Process, s.OwnerInferred = o.pid, o.name, true
		}
	}
	const direct = 1 << 15
	overflow := false
	for i := range socks {
		if s := &socks[i]; tells(s) {
			if k := endpointKey(s); k != 0 {
				if t.Len() >= direct {
					overflow = true
					break
				}
				note(t.At(k), s)
			}
		}
	}
	if !overflow {
		for i := range socks {
			if s := &socks[i]; needs(s) {
				if k := endpointKey(s); k != 0 {
					resolve(s, k)
				}
			}
		}
		return
	}
	// Partitioned: each socket's key, needOwner marking the sockets that
	// need one; 0 is neither.
	const needOwner = 1 << 62
	keys := make([]uint64, len(socks))
	model.AdviseHugePages(keys)
	var ns [2]int
	parallel(len(socks), func(half, lo, hi int) {
		for i := lo; i < hi; i++ {
			s := &socks[i]
			switch {
			case tells(s):
				keys[i] = endpointKey(s)
			case needs(s):
				if k := endpointKey(s); k != 0 {
					keys[i] = k | needOwner
				}
			}
			if keys[i] != 0 {
				ns[half]++
			}
		}
	})
	n := ns[0] + ns[1]
	if n > 1<<18 {
		// Past a quarter of a million keys, two passes over 1 MiB
		// bitsets cost less than partitioning keys that find no partner.
		n = pairedKeys(keys)
	}
	order, start := partitions(keys, n, func(k uint64) uint64 { return model.Mix64(k &^ needOwner) })
	eachPartition(start, func(_, lo, hi int) {
		var t model.IntTable[owner]
		for p := lo; p < hi; p++ {
			part := order[start[p]:start[p+1]]
			t.Clear()
			for _, i := range part {
				if k := keys[i]; k&needOwner == 0 {
					note(t.At(k), &socks[i])
				}
			}
			if t.Len() == 0 {
				continue
			}
			for _, i := range part {
				if k := keys[i]; k&needOwner != 0 {
					if o, ok := t.Get(k &^ needOwner); ok && o.pid != conflict && o.remote == socks[i].Remote {
						s := &socks[i]
						s.PID, s.Process, s.OwnerInferred = o.pid, o.name, true
					}
				}
			}
		}
	})
}

// pairedKeys clears the keys that cannot pair — a socket that needs an
// owner whose endpoint no owned socket talks to, an owned socket whose
// endpoint no socket needs — and returns how many are left. A proxy's
// million peers are each one socket's: without this every key would go
// through the partitions to find no partner. Two bitsets of the keys'
// digests (1 MiB each, one per side) decide it; a digest collision only
// keeps a key that then finds nothing.
func pairedKeys(keys []uint64) int {
	const needOwner = 1 << 62
	const bits = 1 << 23
	bit := func(k uint64) uint64 { return model.Mix64(k&^needOwner) >> (64 - 23) }
	var sets [2][2][]uint64 // [half][tells, needs]
	parallel(len(keys), func(half, lo, hi int) {
		tells, needs := make([]uint64, bits/64), make([]uint64, bits/64)
		for _, k := range keys[lo:hi] {
			if k == 0 {
				continue
			}
			b := bit(k)
			if k&needOwner != 0 {
				needs[b/64] |= 1 << (b % 64)
			} else {
				tells[b/64] |= 1 << (b % 64)
			}
		}
		sets[half] = [2][]uint64{tells, needs}
	})
	tells, needs := sets[0][0], sets[0][1]
	if sets[1][0] != nil {
		for j := range tells {
			tells[j] |= sets[1][0][j]
			needs[j] |= sets[1][1][j]
		}
	}
	var ns [2]int
	parallel(len(keys), func(half, lo, hi int) {
		for i := lo; i < hi; i++ {
			k := keys[i]
			if k == 0 {
				continue
			}
			other := needs
			if k&needOwner != 0 {
				other = tells
			}
			if b := bit(k); other[b/64]&(1<<(b%64)) == 0 {
				keys[i] = 0
				continue
			}
			ns[half]++
		}
	})
	return ns[0] + ns[1]
}

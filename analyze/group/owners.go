package group

import (
	"slices"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// InferOwners fills Process and PID where the listing did not name them:
// first from the collector's inode table (exact), then — marked
// OwnerInferred — a server-side socket gets its listener's owner and a
// client-side one the single process that holds live sockets to the same
// remote endpoint. TIME_WAIT sockets have no owner in any listing; this is
// how a report can still say whose they are.
func InferOwners(smp *model.Sample, procs map[int]*model.Process) {
	inferOwners(smp, procs, false)
}

// InferOwnersOfLatest is InferOwners for the sample to be aggregated
// (the latest): it also makes the port groups of many ports ahead.
func InferOwnersOfLatest(smp *model.Sample, procs map[int]*model.Process) {
	inferOwners(smp, procs, true)
}

func inferOwners(smp *model.Sample, procs map[int]*model.Process, ahead bool) {
	socks := smp.Sockets
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
	// An owner is noted per remote endpoint below: the first one seen,
	// or conflict once another talks to it. (The zero value, no pid and
	// no name, is never an owner.)
	const conflict = -1
	// join notes owner n (or a conflict, whose pid differs from every
	// owner's) at o.
	join := func(o *owner, n owner) {
		switch {
		case *o == (owner{}):
			*o = n
		case o.pid != n.pid || o.name != n.name || o.remote != n.remote:
			o.pid, o.name = conflict, model.NoName
		}
	}
	note := func(o *owner, s *model.Socket) { join(o, owner{s.PID, s.Process, s.Remote}) }
	// The listening sockets, whether any socket needs an owner, and the
	// index of the listeners — per endpoint the first owned listener on
	// exactly it, per port the first owned wildcard one, in constant time
	// however many listeners share a port: one scan, each half of the
	// table on its own core, made after the inode table has named
	// listeners and kept in the sample for Aggregate (only the listeners'
	// owners change below, never a listener's).
	x := scanSample(smp, ahead)
	smp.Index = x
	if !x.unowned {
		return
	}
	li := x.li
	listens := li.listens
	// By port, a port's only owned listener, when many ports have one.
	var one []portOne
	var ownedListens []int
	if model.Popcount(li.ownedPorts[:]) > manyPorts {
		for _, i := range listens {
			if socks[i].Owned() {
				ownedListens = append(ownedListens, i)
			}
		}
		one = li.one // every listener owned: the index has it
		if len(ownedListens) < len(listens) {
			one = portOnes(socks, ownedListens)
		}
	}
	ownedPorts := &li.ownedPorts
	// A server-side socket gets its listener's owner; the others may get
	// the owner of their remote endpoint, below.
	var counts [2]struct{ need, owned int }
	model.Parallel(len(socks), func(half, lo, hi int) {
		c := &counts[half]
		for i := lo; i < hi; i++ {
			s := &socks[i]
			switch {
			case s.State == model.Listen:
			case s.Owned():
				if !s.OwnerInferred {
					c.owned++
				}
			case one != nil && one[s.Local.Port()].n == 1:
				if o := &one[s.Local.Port()]; o.local == s.Local || o.local.ZeroIP() {
					l := &socks[ownedListens[o.k]]
					s.PID, s.Process, s.OwnerInferred = l.PID, l.Process, true
				}
			default:
				if p := s.Local.Port(); ownedPorts[p/64]&(1<<(p%64)) != 0 {
					// The first owned listener that is a wildcard or on
					// this address.
					k := li.port(p).firstOwnedWild
					if e, ok := li.exactOf().Get(&s.Local); ok && e.owned > 0 && (k < 0 || int(e.owned)-1 < k) {
						k = int(e.owned) - 1
					}
					if k >= 0 {
						l := &socks[listens[k]]
						s.PID, s.Process, s.OwnerInferred = l.PID, l.Process, true
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
		return !s.Owned() && s.State != model.Listen && ownedPorts[p/64]&(1<<(p%64)) == 0
	}
	// The sockets that tell it: owned, and listed so.
	tells := func(s *model.Socket) bool {
		return s.Owned() && !s.OwnerInferred && s.State != model.Listen
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
	// Each half of the table is noted on its own core, into a table of
	// its own; the two are then merged (an endpoint two owners talk to is
	// a conflict however they split).
	//
	// A big listing whose keys are mostly distinct (a proxy's million
	// peers) goes to the partitions early, before filling a table it
	// would drop.
	const direct = 1 << 15
	var tables [2]model.IntTable[owner]
	var overflows [2]bool
	model.Parallel(len(socks), func(half, lo, hi int) {
		t := &tables[half]
		seen := 0
		for i := lo; i < hi; i++ {
			if s := &socks[i]; tells(s) {
				if k := endpointKey(s); k != 0 {
					seen++
					if n := t.Len(); n >= direct || n >= direct/8 && 2*n > seen && len(socks) > 1<<18 {
						overflows[half] = true
						return
					}
					note(t.At(k), s)
				}
			}
		}
	})
	if !overflows[0] && !overflows[1] {
		t = tables[0]
		tables[1].Each(func(k uint64, o owner) { join(t.At(k), o) })
		model.Parallel(len(socks), func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				if s := &socks[i]; needs(s) {
					if k := endpointKey(s); k != 0 {
						resolve(s, k)
					}
				}
			}
		})
		return
	}
	// Partitioned: each socket's key, needOwner marking the sockets that
	// need one; 0 is neither.
	const needOwner = 1 << 62
	keys := make([]uint64, len(socks))
	model.AdviseHugePages(keys)
	var ns [2]int
	model.Parallel(len(socks), func(half, lo, hi int) {
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
	order, start := model.Partitions(keys, n, func(k uint64) uint64 { return model.Mix64(k &^ needOwner) })
	model.EachPartition(start, func(_, lo, hi int) {
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
	model.Parallel(len(keys), func(half, lo, hi int) {
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
	model.Parallel(len(keys), func(half, lo, hi int) {
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

// sampleIndex is what one scan of a sample's socket table finds: the
// listening sockets and their index. InferOwners keeps it in the sample
// (model.Sample.Index), so that owner inference and Aggregate scan the
// table and index its listeners once — with 200,000 listeners the index
// is the costliest thing either builds. The kept index lives as long as
// the sample: the listener list, a 256 KiB table by port (and, past 256
// listening ports, a 2 MiB one) and a table of listening endpoints.
type sampleIndex struct {
	socks         []model.Socket // the table scanned
	listens       []int          // indices of the listening sockets, ascending
	loopCloseWait bool           // some CLOSE_WAIT socket is on loopback
	unowned       bool           // some socket that does not listen has no owner
	synRecv       bool           // some socket is in SYN_RECV
	li            *listenerIndex // the listeners' index; its fallbackBelow is 0 (see ListenerIndexOf)
}

// scanSample scans a sample's sockets and indexes its listeners (ahead:
// see portsAhead). Only InferOwners keeps the result in the sample, so
// that its readers (Aggregate, on any goroutines) never write to it but
// to take the port groups made ahead, once (an atomic swap).
func scanSample(smp *model.Sample, ahead bool) *sampleIndex {
	socks := smp.Sockets
	x := &sampleIndex{socks: socks}
	var halves [2]sampleIndex
	// Room for every socket to listen (a crafted listing of a million
	// listeners), each half writing its own part: pages never written
	// cost nothing, where growing by doubling copied and faulted 20 MB
	// and joining the halves 8 MB more.
	all := make([]int, len(socks))
	var portsOf [2][65536 / 64]uint64 // the listeners' ports, by half
	model.Parallel(len(socks), func(half, lo, hi int) {
		h := &halves[half]
		h.listens = all[lo:lo:hi]
		ports := &portsOf[half]
		for i := lo; i < hi; i++ {
			s := &socks[i]
			switch {
			case s.State == model.Listen:
				h.listens = append(h.listens, i)
				p := s.Local.Port()
				ports[p/64] |= 1 << (p % 64)
			case !s.Owned():
				h.unowned = true
			}
			if s.State == model.CloseWait && s.Remote.IsLoopback() {
				h.loopCloseWait = true
			}
			if s.State == model.SynRecv {
				h.synRecv = true
			}
		}
	})
	// The second half's part moves down behind the first's (a small
	// listing, or one without a second half, has nothing to move).
	n0 := len(halves[0].listens) // the first half starts at 0
	n := n0 + copy(all[n0:], halves[1].listens)
	x.listens = all[:n:n]
	if n < len(all)/4 {
		// Few listeners: keep a table their size, not the listing's.
		x.listens = slices.Clone(x.listens)
	}
	x.loopCloseWait = halves[0].loopCloseWait || halves[1].loopCloseWait
	x.unowned = halves[0].unowned || halves[1].unowned
	for k, w := range portsOf[1] {
		portsOf[0][k] |= w
	}
	x.li = newListenerIndex(socks, x.listens, 0, &portsOf[0])
	x.li.synRecv = halves[0].synRecv || halves[1].synRecv
	if ahead {
		x.li.ahead = makePortsAhead(&portsOf[0])
	}
	return x
}

// keptScan returns the scan InferOwners kept in the sample, or a new one
// when there is none or the one kept describes another table. (Whoever
// changes a sample's sockets in place after InferOwners sets Index to
// nil.)
func keptScan(smp *model.Sample) *sampleIndex {
	socks := smp.Sockets
	if x, ok := smp.Index.(*sampleIndex); ok && len(x.socks) == len(socks) && (len(socks) == 0 || &x.socks[0] == &socks[0]) {
		return x
	}
	return scanSample(smp, false)
}

// ListenerIndexOf returns the index of the sample's listening sockets
// (the one owner inference made, when it did), with ephLow as the port
// below which a listing without listeners counts a socket as a server's.
func ListenerIndexOf(smp *model.Sample, ephLow int) *listenerIndex {
	return keptScan(smp).withFallback(ephLow)
}

// withFallback returns a copy of the scan's listener index with ephLow as
// its fallback port.
func (x *sampleIndex) withFallback(ephLow int) *listenerIndex {
	li := *x.li
	li.fallbackBelow = ephLow
	return &li
}

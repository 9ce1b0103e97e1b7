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
				if p, ok := byInode[s.Inode]; ok {
					s.PID, s.Process = p.pid, p.name
				}
			}
		}
	}
	type owner struct {
		pid  int
		name model.Name
	}
	// The owners of listening sockets by port, and the owner of each
	// remote endpoint, or conflict when several processes talk to it:
	// each half of the table on its own core, then merged. (The zero
	// value, no pid and no name, is never an owner.)
	const conflict = -1
	note := func(o *owner, pid int, name model.Name) {
		switch {
		case *o == (owner{}):
			*o = owner{pid, name}
		case o.pid != pid || o.name != name:
			o.pid, o.name = conflict, model.NoName
		}
	}
	var halves [2]struct {
		listens []int
		remotes model.ApMap[owner]
	}
	parallel(len(socks), func(half, lo, hi int) {
		var remotes model.ApMap[owner]
		var listens []int
		for i := lo; i < hi; i++ {
			s := &socks[i]
			switch {
			case s.PID == 0 && s.Process == model.NoName:
			case s.State == model.Listen:
				listens = append(listens, i)
			case !s.OwnerInferred:
				note(remotes.At(s.Remote), s.PID, s.Process)
			}
		}
		halves[half].listens, halves[half].remotes = listens, remotes
	})
	// The owner of a remote endpoint, from both halves' tallies (merging
	// them would cost as much again as building them).
	remoteOwner := func(a model.AddrPort) (owner, bool) {
		o, ok := halves[0].remotes.Get(a)
		if o1, ok1 := halves[1].remotes.Get(a); ok1 {
			if !ok {
				return o1, true
			}
			note(&o, o1.pid, o1.name)
		}
		return o, ok
	}
	// Owned listeners, in order; per port the first wildcard one, and per
	// endpoint the first one on exactly it: constant-time lookups however
	// many listeners share a port.
	var listeners []owner
	firstWild := map[uint16]int{}   // port -> 1 + index in listeners, or 0 when only exact ones
	var firstExact model.ApMap[int] // endpoint -> 1 + index in listeners
	for _, i := range append(halves[0].listens, halves[1].listens...) {
		s := &socks[i]
		k := len(listeners)
		listeners = append(listeners, owner{s.PID, s.Process})
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
	// The maps are only read from here: each half of the table on its own
	// core.
	parallel(len(socks), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			s := &socks[i]
			if s.PID != 0 || s.Process != model.NoName || s.State == model.Listen {
				continue
			}
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
			if o, ok := remoteOwner(s.Remote); ok && o.pid != conflict {
				s.PID, s.Process, s.OwnerInferred = o.pid, o.name, true
			}
		}
	})
}

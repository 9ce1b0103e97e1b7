package analyze

import "net/netip"

// inferOwners fills Process and PID where the listing did not name them:
// first from the collector's inode table (exact), then — marked
// OwnerInferred — a server-side socket gets its listener's owner and a
// client-side one the single process that holds live sockets to the same
// remote endpoint. TIME_WAIT sockets have no owner in any listing; this is
// how a report can still say whose they are.
func inferOwners(socks []Socket, procs map[int]*Process) {
	if len(procs) > 0 {
		type proc struct {
			pid  int
			name Name
		}
		byInode := map[uint64]proc{}
		for _, p := range procs {
			for _, ino := range p.Inodes {
				byInode[ino] = proc{p.PID, Intern(p.Name)}
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
		name Name
		addr netip.Addr
	}
	listeners := map[uint16][]owner{}
	var remotes apMap[owner]
	const conflict = -1
	for i := range socks {
		s := &socks[i]
		if s.PID == 0 && s.Process == NoName {
			continue
		}
		if s.State == Listen {
			listeners[s.Local.Port()] = append(listeners[s.Local.Port()], owner{s.PID, s.Process, s.Local.Addr()})
			continue
		}
		if s.OwnerInferred {
			continue
		}
		o, seen := remotes.get(s.Remote)
		switch {
		case !seen:
			remotes.set(s.Remote, owner{pid: s.PID, name: s.Process})
		case o.pid != s.PID || o.name != s.Process:
			if o.pid != conflict {
				remotes.set(s.Remote, owner{pid: conflict})
			}
		}
	}
	// The maps are only read from here: each half of the table on its own
	// core.
	parallel(len(socks), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s := &socks[i]
			if s.PID != 0 || s.Process != NoName || s.State == Listen {
				continue
			}
			if ls, ok := listeners[s.Local.Port()]; ok {
				for _, l := range ls {
					if l.addr.IsUnspecified() || l.addr == s.Local.Addr() || !l.addr.IsValid() {
						s.PID, s.Process, s.OwnerInferred = l.pid, l.name, true
						break
					}
				}
				continue
			}
			if o, ok := remotes.get(s.Remote); ok && o.pid != conflict {
				s.PID, s.Process, s.OwnerInferred = o.pid, o.name, true
			}
		}
	})
}

package group

import "github.com/tcpsnap/tcpsnap/analyze/model"

// endpointKey is a key in [1, 1<<62) for a socket's remote endpoint:
// exact for IPv4 (address and port) and for a host name a listing printed
// instead of an address (name and port); a digest for IPv6 (two of a
// million IPv6 endpoints share one with a chance of about 1e-6). It is 0
// when the socket has no remote endpoint to tell.
func endpointKey(s *model.Socket) uint64 {
	switch a := s.Remote; {
	case a.Is4():
		return 1<<48 | model.V4Key(a)
	case a.IsValid():
		return 1<<61 | model.PairDigest(a, model.AddrPort{})>>3
	case s.RemoteName != model.NoName:
		return 1<<60 | uint64(s.RemoteName)<<16 | uint64(a.Port())
	}
	return 0
}

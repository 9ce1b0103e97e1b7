package model

import (
	"bytes"
	"errors"
	"net/netip"
	"unsafe"
)

// An Endpoint is an address and port as a listing printed it.
type Endpoint struct {
	AddrPort AddrPort // address invalid when the listing printed a host name
	Name     Name     // host name as printed (possibly truncated), when not an address
	Wildcard bool     // "*", "0.0.0.0", "::" or "*:*" forms: any address
	AnyPort  bool     // port printed as "*"
}

var errEndpoint = errors.New("not an address:port")

// ParseEndpoint parses one address token as printed by a socket listing.
//
// With dotPort false the port follows the last ':' (Linux, Windows):
// "192.0.2.1:443", "[2001:db8::1]:443", ":::22", "::1:25", "*:80", "*:*",
// "0.0.0.0:*", "[::ffff:192.0.2.1]:80", "127.0.0.53%lo:53",
// "[fe80::1]%eth0:546", "localhost:ssh". With dotPort true the port follows
// the last '.' (BSD, macOS, AIX, Solaris): "192.0.2.1.443", "*.22", "*.*",
// "::1.8080", "fe80::1%lo0.123", "host.example.com.https".
//
// Service names are mapped with the built-in services table; IPv4-mapped
// IPv6 addresses are folded to IPv4; interface scopes are dropped.
func ParseEndpoint(tok []byte, dotPort bool) (Endpoint, error) {
	var e Endpoint
	sep := byte(':')
	if dotPort {
		sep = '.'
	}
	i := bytes.LastIndexByte(tok, sep)
	if i < 0 {
		if dotPort && len(tok) == 1 && tok[0] == '*' {
			e.Wildcard, e.AnyPort = true, true
			e.AddrPort = AddrPortFrom(netip.IPv4Unspecified(), 0)
			return e, nil
		}
		return e, errEndpoint
	}
	host, port := tok[:i], tok[i+1:]
	// Port.
	switch {
	case len(port) == 1 && port[0] == '*':
		e.AnyPort = true
	default:
		n, ok := Atoi(port)
		if !ok {
			p, known := ServicePort(string(port))
			if !known {
				return e, errEndpoint
			}
			n = int64(p)
		}
		if n > 65535 {
			return e, errEndpoint
		}
		e.AddrPort = AddrPortFrom(netip.Addr{}, uint16(n))
	}
	portNum := e.AddrPort.Port()
	// Host.
	if len(host) >= 2 && host[0] == '[' {
		if j := bytes.IndexByte(host, ']'); j > 0 {
			host = host[1:j] // drops a "%eth0" scope printed after the bracket too
		}
	}
	if k := bytes.IndexByte(host, '%'); k >= 0 {
		host = host[:k]
	}
	switch {
	case len(host) == 0 || (len(host) == 1 && host[0] == '*'):
		e.Wildcard = true
		e.AddrPort = AddrPortFrom(netip.IPv4Unspecified(), portNum)
		return e, nil
	}
	a, ok := parseIPv4(host)
	var err error
	if !ok {
		// A view of the bytes, not a copy: netip keeps nothing of the
		// text (the zone, the one part it would keep, was cut above, and
		// its error is dropped below), and a copy was an allocation per
		// IPv6 token — a million for a million IPv6 peers.
		a, err = netip.ParseAddr(unsafe.String(unsafe.SliceData(host), len(host)))
	}
	if err != nil {
		if dotPort || bytes.IndexByte(host, ':') < 0 {
			switch string(host) {
			case "localhost", "localhost.localdomain", "ip6-localhost":
				e.AddrPort = AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), portNum)
				return e, nil
			}
			if !validHostName(host) {
				return e, errEndpoint
			}
			e.Name = Intern(string(host))
			return e, nil
		}
		return e, errEndpoint
	}
	a = a.Unmap()
	if a.IsUnspecified() {
		e.Wildcard = true
	}
	e.AddrPort = AddrPortFrom(a, portNum)
	return e, nil
}

// validHostName accepts what a resolver could print, possibly truncated.
func validHostName(b []byte) bool {
	if len(b) == 0 || len(b) > 255 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}

// Family returns 4 or 6 for an endpoint's address (6 for a v6 wildcard).
func Family(a netip.Addr) uint8 {
	if a.Is6() {
		return 6
	}
	return 4
}

// ServicePort maps the service names net-tools, ss, lsof and BSD netstat
// print without -n (or -P) to port numbers. The table holds the names
// seen in TCP listings: the Linux /etc/services (netbase) names and the
// IANA names macOS and the BSDs print for common server ports ("hbci" is
// 3000, "cslistener" 9000, "wap-wsp" 9200 there). An unknown name is an
// unparsable port.
func ServicePort(name string) (uint16, bool) {
	p, ok := services[name]
	return p, ok
}

// ServicePortPrefix maps a service name cut by a listing's column width
// ("sunpr" for sunproxyadmin, "afpov" for afpovertcp) to the port of the names it
// begins: ok only when at least three characters are left and every
// service name with that prefix is one port.
func ServicePortPrefix(prefix string) (port uint16, ok bool) {
	if len(prefix) < 3 {
		return 0, false
	}
	for name, p := range services {
		if len(name) < len(prefix) || name[:len(prefix)] != prefix {
			continue
		}
		if ok && p != port {
			return 0, false
		}
		port, ok = p, true
	}
	return port, ok
}

// services: where Linux (netbase) and IANA disagree, the Linux name wins
// the number it names on Linux, and the IANA name is added when it is a
// different word ("webcache" and "http-alt" are both 8080).
var services = map[string]uint16{
	"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53,
	"http": 80, "www": 80, "www-http": 80, "kerberos": 88, "pop3": 110, "sunrpc": 111, "rpcbind": 111,
	"auth": 113, "ident": 113, "nntp": 119, "ntp": 123, "epmap": 135, "loc-srv": 135, "netbios-ssn": 139,
	"imap": 143, "imap2": 143, "snmp": 161, "ldap": 389, "https": 443, "microsoft-ds": 445,
	"kpasswd": 464, "submissions": 465, "urd": 465, "smtps": 465, "printer": 515, "submission": 587,
	"ipp": 631, "ldaps": 636, "rsync": 873, "imaps": 993, "pop3s": 995, "socks": 1080,
	"openvpn": 1194, "ms-sql-s": 1433, "ingreslock": 1524, "pptp": 1723, "radius": 1812,
	"nfs": 2049, "mysql": 3306, "ms-wbt-server": 3389, "svn": 3690, "postgresql": 5432,
	"postgres": 5432, "amqp": 5672, "x11": 6000, "ircd": 6667, "http-alt": 8080,
	"webcache": 8080, "tproxy": 8081, "https-alt": 8443, "pcsync-https": 8443,
	"redis": 6379, "memcache": 11211, "zabbix-agent": 10050, "zabbix-trapper": 10051,
	"ldap-admin": 3407, "iscsi-target": 3260, "kerberos-adm": 749, "mdns": 5353,
	"xmpp-client": 5222, "xmpp-server": 5269, "git": 9418, "mongodb": 27017, "afs3-fileserver": 7000,
	"bgp": 179, "irc": 194, "svrloc": 427, "syslog": 514, "klogin": 543, "kshell": 544,
	"uucp": 540, "nntps": 563, "sieve": 4190, "distcc": 3632, "hkp": 11371, "bacula-dir": 9101,
	"bacula-fd": 9102, "bacula-sd": 9103, "nut": 3493, "sane-port": 6566, "gsiftp": 2811,
	"cvspserver": 2401, "iprop": 2121, "zope-ftp": 8021, "omniorb": 8088, "jetdirect": 9100,
	"xmms2": 9667, "zope": 9673, "webmin": 10000, "amanda": 10080, "ms-sql-m": 1434,
	"hostmon": 5355, "dhcpv6-server": 547, "dhcpv6-client": 546, "bootps": 67, "bootpc": 68,
	"tftp": 69, "finger": 79, "echo": 7, "discard": 9, "daytime": 13, "chargen": 19,
	"time": 37, "whois": 43, "gopher": 70, "login": 513, "shell": 514, "exec": 512,
	"nfsd": 2049, "lockd": 4045, "icpv2": 3130, "squid": 3128, "ndmp": 10000,
	// Linux /etc/services (netbase) names not above.
	"ftps-data": 989, "ftps": 990, "telnets": 992, "rtsp": 554, "sip": 5060, "sips": 5061,
	"nrpe": 5666, "nsca": 5667, "puppet": 8140, "amqps": 5671, "mqtt": 1883, "secure-mqtt": 8883,
	"snmp-trap": 162, "kerberos-sec": 88, "x11-1": 6001, "x11-2": 6002,
	"nbd": 10809, "pop2": 109, "imap3": 220,
	"afpovertcp": 548, "openflow": 6653, "ceph": 3300,
	"epmd": 4369, "gearman": 4730, "mysql-proxy": 6446,
	// IANA names that macOS and the BSDs print for common server ports.
	"hbci": 3000, "commplex-main": 5000, "commplex-link": 5001, "rfb": 5900, "irdmi": 8000,
	"cslistener": 9000, "wap-wsp": 9200, "websm": 9090, "ncube-lm": 1521, "eforward": 2181,
	"XmlIpcRegSvc": 9092, "docker": 2375, "docker-s": 2376, "sun-sr-https": 6443,
	"ddi-tcp-1": 8888, "hpvroom": 5228, "dsf": 555, "ldgateway": 9592,
	"sunproxyadmin": 8081, "jamlink": 8091, "hp-pdl-datastr": 9100, "pdl-datastream": 9100,
	"etcd-client": 2379, "etcd-server": 2380,
	"terabase": 4000, "cplscrambler-lg": 1086, "cplscrambler-in": 1087,
	"cplscrambler-al": 1088, "kerberos-iv": 750,
}

// An EndpointCache remembers parsed address tokens with a ':' port
// separator: a server's listing repeats its few local addresses (and
// "0.0.0.0:*") on every row, and ParseEndpoint allocates for IPv6 and
// names. It stops growing at endpointCacheMax entries, so unique peer
// addresses cost one failed lookup — and when a full cache keeps
// failing (a million distinct IPv6 peers and ports), it is not looked up
// for a while. Its zero value is empty and ready; one parser uses it.
type EndpointCache struct {
	m             map[string]Endpoint
	lookups, hits int // in the current window of endpointCacheWindow lookups
	skip          int // tokens still to parse without a lookup
	// The last dotted token that needed ParseEndpoint, and what it gave:
	// netstat without -n prints "10.0.0.1:https" row after row (the
	// parsers read a listener's peer "0.0.0.0:*" before asking).
	lastTok []byte
	last    Endpoint
	v6      v6Memo
}

// v6Memo holds the last two IPv6 addresses parsed, as text and bytes: a
// host's own address comes on most of its rows, between its peers', and
// parsing one costs more than comparing it (a proxy's million IPv6
// connections).
type v6Memo struct {
	e    [2]v6Parsed
	next int // the entry the next address replaces: the one used less recently
}

type v6Parsed struct {
	host []byte
	ip   [16]byte
}

const (
	endpointCacheMax    = 4096
	endpointCacheWindow = 1024
	endpointCacheRest   = 16384 // tokens parsed without a lookup after a window of (nearly) only misses
)

func (c *EndpointCache) Parse(tok []byte) (Endpoint, error) {
	// Plain IPv4: parsing it allocates nothing and is cheaper than
	// hashing it for the cache.
	var e Endpoint
	if ParseIPv4PortTo(&e.AddrPort, tok) {
		e.Wildcard = e.AddrPort.ip == [16]byte{}
		return e, nil
	}
	if len(tok) > 0 && (tok[0] == '[' || tok[0] == ':' || bytes.Count(tok, []byte{':'}) > 1) && parseIPv6PortTo(&e, tok, &c.v6) {
		return e, nil // cheaper than hashing it for the cache (a million IPv6 peers: each a miss)
	}
	if len(tok) > 0 && tok[0] >= '0' && tok[0] <= '9' && bytes.IndexByte(tok, '.') > 0 && bytes.IndexByte(tok, '%') < 0 {
		if c.lastTok != nil && bytes.Equal(tok, c.lastTok) {
			return c.last, nil
		}
		if e, err := ParseEndpoint(tok, false); err == nil {
			c.lastTok, c.last = append(c.lastTok[:0], tok...), e
			return e, nil
		}
	}
	if c.skip > 0 {
		c.skip--
		return ParseEndpoint(tok, false)
	}
	if e, ok := c.m[string(tok)]; ok { // no allocation for the lookup
		c.hits++
		c.count()
		return e, nil
	}
	e, err := ParseEndpoint(tok, false)
	if err == nil && len(c.m) < endpointCacheMax {
		if c.m == nil {
			c.m = map[string]Endpoint{}
		}
		c.m[string(tok)] = e
	}
	c.count()
	return e, err
}

// parseIPv6PortTo parses an IPv6 endpoint, ss's "[2001:db8::1]:443" or
// netstat's "2001:db8::1:443", into *e and reports whether it could (*e
// is undefined when it could not). It takes the plain forms only — hex
// groups and one "::", a numeric port — as netip.ParseAddr reads them,
// and leaves the rest (a zone, an embedded IPv4 address, "*" for the
// port, anything malformed) to ParseEndpoint: when it returns true, *e
// is what ParseEndpoint gives. A memo (nil: none) gives the addresses it
// holds without parsing them again, and keeps the ones it parses.
func parseIPv6PortTo(e *Endpoint, tok []byte, memo *v6Memo) bool {
	var host, port []byte
	if len(tok) > 0 && tok[0] == '[' {
		j := bytes.IndexByte(tok, ']')
		if j < 2 || j+2 >= len(tok) || tok[j+1] != ':' {
			return false
		}
		host, port = tok[1:j], tok[j+2:]
	} else {
		i := bytes.LastIndexByte(tok, ':')
		if i < 0 {
			return false
		}
		host, port = tok[:i], tok[i+1:]
	}
	p, ok := Atoi(port)
	if !ok || p > 65535 {
		return false
	}
	// In place: a [16]byte returned, then copied into *e, cost more than
	// parsing it (a million IPv6 peers).
	ip := &e.AddrPort.ip
	switch {
	case memo != nil && len(memo.e[0].host) > 0 && bytes.Equal(host, memo.e[0].host):
		*ip, memo.next = memo.e[0].ip, 1
	case memo != nil && len(memo.e[1].host) > 0 && bytes.Equal(host, memo.e[1].host):
		*ip, memo.next = memo.e[1].ip, 0
	case !parseIPv6Plain(ip, host):
		return false
	case memo != nil: // a host that parsed: 39 bytes at most
		m := &memo.e[memo.next]
		m.host, m.ip = append(m.host[:0], host...), *ip
		memo.next ^= 1
	}
	e.AddrPort.port, e.AddrPort.bits = uint16(p), 6
	e.Name, e.AnyPort = NoName, false
	if ip[10] == 0xff && ip[11] == 0xff && [10]byte(ip[:10]) == [10]byte{} { // IPv4-mapped: the IPv4 address
		copy(ip[:4], ip[12:])
		clear(ip[4:])
		e.AddrPort.bits = 4
		e.Wildcard = [4]byte(ip[:4]) == [4]byte{}
		return true
	}
	e.Wildcard = *ip == [16]byte{}
	return true
}

// HexValue is each byte's value as a hex digit, 0xff for a byte that is
// not one (a table: a million IPv6 peers, or /proc/net/tcp rows, branched
// on every digit).
var HexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c], t[c-'a'+'A'] = byte(c-'a'+10), byte(c-'a'+10)
	}
	return t
}()

// parseIPv6Plain parses into *ip an IPv6 address of hex groups and at
// most one "::" as netip.ParseAddr does (the same steps), false for
// anything else, which netip may still read (a zone, an IPv4 tail); *ip
// is undefined then.
func parseIPv6Plain(ip *[16]byte, s []byte) bool {
	if bytes.IndexByte(s, ':') < 0 {
		return false
	}
	*ip = [16]byte{}
	ellipsis := -1 // where "::" stands in ip
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis = 0
		s = s[2:]
	}
	i := 0
	for i < 16 && len(s) > 0 {
		off, acc := 0, uint32(0)
		for ; off < len(s) && off < 5; off++ {
			v := HexValue[s[off]]
			if v > 15 {
				break
			}
			acc = acc<<4 + uint32(v)
		}
		if off == 0 || off > 4 || (off < len(s) && s[off] != ':') {
			return false // no digit, more than four, or a '.', '%' or other byte
		}
		ip[i], ip[i+1] = byte(acc>>8), byte(acc)
		i += 2
		s = s[off:]
		if len(s) == 0 {
			break
		}
		if len(s) == 1 { // a trailing ':'
			return false
		}
		s = s[1:]
		if s[0] == ':' {
			if ellipsis >= 0 {
				return false
			}
			ellipsis = i
			s = s[1:]
		}
	}
	if len(s) != 0 {
		return false
	}
	if i < 16 {
		if ellipsis < 0 {
			return false
		}
		n := 16 - i
		copy(ip[ellipsis+n:], ip[ellipsis:i])
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return false // "::" must stand for at least one group
	}
	return true
}

// count ends a lookup: at the end of a window in which a full cache was
// hit less than once in 64 times, it rests.
func (c *EndpointCache) count() {
	if c.lookups++; c.lookups < endpointCacheWindow {
		return
	}
	if len(c.m) >= endpointCacheMax && c.hits*64 < c.lookups {
		c.skip = endpointCacheRest
	}
	c.lookups, c.hits = 0, 0
}

// ParseIPv4AnyPortTo parses "0.0.0.0:*" (a listener's peer: any port)
// straight into *a, with port 0; it returns false for every other form,
// and when it returns true *a is the AddrPort ParseEndpoint gives. A
// million listeners' peers went through the endpoint cache.
func ParseIPv4AnyPortTo(a *AddrPort, b []byte) bool {
	n := len(b)
	if n < len("0.0.0.0:*") || n > len("255.255.255.255:*") || b[n-1] != '*' || b[n-2] != ':' {
		return false
	}
	var buf [len("255.255.255.255:*")]byte
	copy(buf[:], b[:n-1])
	buf[n-1] = '0'
	return ParseIPv4PortTo(a, buf[:n])
}

// ParseIPv4PortTo parses "192.0.2.1:443" straight into *a; it returns
// false for every other form, which ParseEndpoint then reads, and leaves
// *a undefined then. When it returns true, *a is what ParseEndpoint
// gives. (It writes in place: an AddrPort holds an array, which Go
// returns through memory, and this runs twice per row.)
func ParseIPv4PortTo(a *AddrPort, b []byte) bool {
	if len(b) < 9 || b[0] < '0' || b[0] > '9' { // "0.0.0.0:0" is the shortest
		return false
	}
	*a = AddrPort{}
	part, n, digits := 0, 0, 0
	i := 0
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' || c == ':' {
			if digits == 0 || (digits > 1 && b[i-digits] == '0') {
				return false
			}
			a.ip[part&3] = byte(n)
			part, n, digits = part+1, 0, 0
			if c == ':' {
				break
			}
			if part > 3 {
				return false
			}
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
		digits++
		if n > 255 {
			return false
		}
	}
	if part != 4 || i >= len(b) {
		return false
	}
	port, ok := Atoi(b[i+1:])
	if !ok || port > 65535 {
		return false
	}
	a.port, a.bits = uint16(port), 4
	return true
}

// parseIPv4 parses a dotted quad without allocating; ok is false for
// anything else (IPv6, names), which the caller then parses in full.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	part, n, digits := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || part > 3 || (digits > 1 && b[i-digits] == '0') {
				return netip.Addr{}, false
			}
			ip[part] = byte(n)
			part, n, digits = part+1, 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' {
			return netip.Addr{}, false
		}
		n = n*10 + int(c-'0')
		digits++
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if part != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

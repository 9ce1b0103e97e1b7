package model

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"unsafe"
)

// hasPointers reports whether values of t hold a pointer the garbage
// collector would have to scan.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface,
		reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// A million-socket table must be one allocation the garbage collector
// never scans (and never reads before the parser writes it).
func TestSocketHasNoPointers(t *testing.T) {
	if hasPointers(reflect.TypeOf(Socket{})) {
		t.Fatal("Socket holds a pointer: keep names interned, addresses inline and tcp_info in the side table")
	}
	if n := unsafe.Sizeof(Socket{}); n > 128 {
		t.Errorf("Socket is %d bytes; keep it within 128", n)
	}
}

func TestAddrPortRoundTrip(t *testing.T) {
	for _, s := range []string{"192.0.2.1:80", "0.0.0.0:0", "[2001:db8::1]:443", "[::]:22", "[::1]:25", "[::ffff:192.0.2.1]:80"} {
		ap := netip.MustParseAddrPort(s)
		c := AddrPortOf(ap)
		if c.AddrPort() != ap || c.String() != ap.String() || c.Port() != ap.Port() || !c.IsValid() {
			t.Errorf("%s: got %v", s, c)
		}
		if c.Addr().Is4() != ap.Addr().Is4() {
			t.Errorf("%s: family changed", s)
		}
	}
	noAddr := AddrPortFrom(netip.Addr{}, 8080)
	if noAddr.IsValid() || noAddr.Port() != 8080 || noAddr.Addr().IsValid() {
		t.Errorf("host-name endpoint: %+v", noAddr)
	}
	if AddrPortOf(netip.MustParseAddrPort("192.0.2.1:80")) == AddrPortOf(netip.MustParseAddrPort("[::ffff:192.0.2.1]:80")) {
		t.Error("an IPv4-mapped address must stay distinct unless a parser folds it")
	}
	if b, _ := MustParseAddrPort("192.0.2.1:80").MarshalText(); string(b) != "192.0.2.1:80" {
		t.Errorf("MarshalText = %s", b)
	}
}

func TestNamesIntern(t *testing.T) {
	if NoName.String() != "" || Intern("") != NoName {
		t.Fatal("the empty name must be NoName")
	}
	a, b := Intern("java"), Intern("java")
	if a != b || a.String() != "java" || Intern("nginx") == a {
		t.Fatalf("java=%d/%d nginx=%d", a, b, Intern("nginx"))
	}
	// Concurrent parsers intern and read names at once.
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var in Interner
			in = Interner{}
			for i := 0; i < 2000; i++ {
				name := []byte{'p', byte('a' + i%26), byte('a' + i/26%26)}
				if n := in.Get(name); n.String() != string(name) {
					t.Errorf("%s read back as %q", name, n.String())
					return
				}
			}
		}()
	}
	wg.Wait()
	if b, _ := a.MarshalText(); string(b) != "java" {
		t.Errorf("MarshalText = %s", b)
	}
}

func TestStateAndTimerNames(t *testing.T) {
	for _, st := range States {
		if got, ok := CanonicalState(st.String()); !ok || got != st {
			t.Errorf("%v does not round-trip", st)
		}
	}
	if NoState.String() != "" || TimerNone.String() != "" || TimerKeepalive.String() != "keepalive" {
		t.Error("zero values must print empty")
	}
	if b, _ := CloseWait.MarshalText(); string(b) != "CLOSE_WAIT" {
		t.Errorf("MarshalText = %s", b)
	}
}

// The IPv4 fast paths agree with ParseEndpoint wherever they answer.
func FuzzIPv4Port(f *testing.F) {
	for _, s := range []string{"192.0.2.1:443", "0.0.0.0:22", "10.0.0.1:0", "1.2.3.4:65535", "1.2.3.4:65536",
		"01.2.3.4:5", "1.2.3:4", "1.2.3.4.5:6", "1.2.3.4:", "1.2.3.4:*", "256.1.1.1:1", "1.2.3.4:+1", "1.2.3.4:0080",
		"0.0.0.0:*", "255.255.255.255:*", "01.2.3.4:*", "1.2.3.4:**", "1.2.3:*", "*:*", "1.2.3.4.5:*"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, tok []byte) {
		var ap, star AddrPort
		if ParseIPv4AnyPortTo(&star, tok) {
			e, err := ParseEndpoint(tok, false)
			if err != nil || e.AddrPort != star || e.Name != NoName || star.Port() != 0 {
				t.Fatalf("%q: any-port fast path gave %v, ParseEndpoint %+v, %v", tok, star, e, err)
			}
		}
		if !ParseIPv4PortTo(&ap, tok) {
			return
		}
		e, err := ParseEndpoint(tok, false)
		if err != nil {
			t.Fatalf("%q: fast path gave %v, ParseEndpoint failed: %v", tok, ap, err)
		}
		if e.AddrPort != ap || e.Name != NoName || e.AnyPort || e.Wildcard != (ap.Addr().IsUnspecified()) {
			t.Fatalf("%q: fast path %v, ParseEndpoint %+v", tok, ap, e)
		}
	})
}

// TestAddrPortPredicates checks the byte-level predicates against netip's.
func TestAddrPortPredicates(t *testing.T) {
	addrs := []string{"0.0.0.0", "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.15.0.1", "172.16.0.1",
		"172.31.255.255", "172.32.0.1", "192.168.1.1", "192.169.0.1", "169.254.3.4", "169.253.0.1",
		"192.0.2.10", "198.51.100.7", "8.8.8.8", "255.255.255.255", "::", "::1", "fe80::1", "fc00::5",
		"fd12::1", "2001:db8::1", "2606:4700::1111", "::ffff:10.0.0.1"}
	for i := 0; i < 256; i++ {
		addrs = append(addrs, fmt.Sprintf("%d.%d.0.1", i, (i*37)%256))
	}
	check := func(a AddrPort, ad netip.Addr) {
		t.Helper()
		if got, want := a.IsLoopback(), ad.IsLoopback(); got != want {
			t.Errorf("%v isLoopback = %v, want %v", ad, got, want)
		}
		if got, want := a.IsUnspecified(), ad.IsUnspecified(); got != want {
			t.Errorf("%v isUnspecified = %v, want %v", ad, got, want)
		}
		want := ad.IsValid() && !ad.IsUnspecified() && !ad.IsLoopback() && !ad.IsPrivate() && !ad.IsLinkLocalUnicast()
		if got := a.IsPublic(); got != want {
			t.Errorf("%v isPublic = %v, want %v", ad, got, want)
		}
	}
	for _, s := range addrs {
		a := AddrPortOf(netip.AddrPortFrom(netip.MustParseAddr(s), 80))
		check(a, a.Addr())
	}
	check(AddrPort{}, netip.Addr{})
}

// TestAddrPortCompare orders endpoints as netip does, across families,
// invalid addresses and ports.
func TestAddrPortCompare(t *testing.T) {
	eps := []string{"10.0.0.1:80", "10.0.0.1:443", "10.0.0.2:1", "9.255.255.255:65535", "0.0.0.0:0",
		"255.255.255.255:1", "[::1]:80", "[2001:db8::1]:443", "[::ffff:10.0.0.1]:80"}
	var aps []AddrPort
	for _, e := range eps {
		aps = append(aps, MustParseAddrPort(e))
	}
	aps = append(aps, AddrPortFrom(netip.Addr{}, 80), AddrPort{})
	r := rand.New(rand.NewPCG(9, 10))
	for range 200 { // random IPv6 and IPv4 endpoints sharing prefixes and ports
		var b [16]byte
		b[0], b[1], b[15] = 0x20, byte(r.IntN(3)), byte(r.IntN(4))
		aps = append(aps, AddrPortFrom(netip.AddrFrom16(b), uint16(r.IntN(3))),
			AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(3)), byte(r.IntN(3))}), uint16(r.IntN(3))))
	}
	for _, a := range aps {
		for _, b := range aps {
			if got, want := a.Compare(b), a.AddrPort().Compare(b.AddrPort()); got != want {
				t.Errorf("%v vs %v: %d, netip says %d", a, b, got, want)
			}
		}
	}
}

// TestDestDigest: DestDigest is PairDigest of the local address (port 0)
// and the remote endpoint, for IPv4, IPv6, names and none.
func TestDestDigest(t *testing.T) {
	eps := []AddrPort{MustParseAddrPort("10.0.0.1:40000"), MustParseAddrPort("192.0.2.7:443"),
		MustParseAddrPort("[2001:db8::1]:443"), MustParseAddrPort("0.0.0.0:0"), AddrPortFrom(netip.Addr{}, 80), {}}
	for _, l := range eps {
		for _, r := range eps {
			if got, want := DestDigest(&l, &r), PairDigest(l.WithPort(0), r); got != want {
				t.Errorf("DestDigest(%v, %v) = %x, PairDigest says %x", l, r, got, want)
			}
		}
	}
	// A Digester remembers the last local address's lanes: whatever
	// came before, it gives DestDigest and the local address's digest.
	eps = append(eps, MustParseAddrPort("[2001:db8::2]:443"), MustParseAddrPort("[2001:db8::1]:80"), MustParseAddrPort("[::]:0"))
	var d Digester
	r := rand.New(rand.NewPCG(9, 10))
	for range 2000 {
		l, rem := eps[r.IntN(len(eps))], eps[r.IntN(len(eps))]
		if got, want := d.Dest(&l, &rem), DestDigest(&l, &rem); got != want {
			t.Fatalf("Digester.Dest(%v, %v) = %x, DestDigest says %x", l, rem, got, want)
		}
		if got, want := d.LocalDigest(&l), PairDigest(l.WithPort(0), AddrPort{}); got != want {
			t.Fatalf("Digester.LocalDigest(%v) = %x, PairDigest says %x", l, got, want)
		}
	}
}

// ipv6Tokens are IPv6 endpoints as ss and netstat print them, good and bad, for the fast
// path's tests and fuzz seeds.
var ipv6Tokens = []string{"[2001:db8::1]:443", "[::]:22", "[::1]:8080", "[::]:*", "[fe80::1%eth0]:22",
	"[::ffff:192.0.2.1]:80", "[::ffff:c000:201]:80", "[::ffff:0:0]:1", "[1:2:3:4:5:6:7:8]:9", "[1:2:3:4:5:6:7:8:9]:1",
	"[1:2:3:4:5:6:7::]:1", "[1:2:3:4:5:6:7:8::]:1", "[::1:2:3:4:5:6:7:8]:1", "[1::2::3]:1", "[12345::]:1",
	"[:1::]:1", "[1:]:1", "[1::]:65535", "[1::]:65536", "[ABCD:ef01::]:0", "[::1]x:80", "[::1]:", "[]:1",
	"[::1]:0080", "[::1]:+80", "[g::1]:1", "[2001:db8:0:1:2:3:4::]:443", "[::]:0", "[0:0:0:0:0:0:0:0]:5",
	// netstat's, without brackets: the port after the last colon.
	"2001:db8::1:443", ":::22", "::1:25", ":::*", "::ffff:192.0.2.1:80", "fe80::1%eth0:22", "1:2:3:4:5:6:7:8:9",
	"1:2:3:4:5:6:7:8", "::", ":1:80", "1::2::3:4", "2001:db8:0:1:2:3:4::5:443", "web01:http"}

// TestIPv6Port holds the IPv6 fast path to ParseEndpoint: it
// answers the plain forms and, where it answers, agrees.
func TestIPv6Port(t *testing.T) {
	answered := 0
	check := func(tok string) {
		t.Helper()
		var e Endpoint
		if !parseIPv6PortTo(&e, []byte(tok), nil) {
			return
		}
		answered++
		want, err := ParseEndpoint([]byte(tok), false)
		if err != nil || e != want {
			t.Errorf("%q: fast path %+v, ParseEndpoint %+v %v", tok, e, want, err)
		}
	}
	for _, tok := range ipv6Tokens {
		check(tok)
	}
	for _, tok := range []string{"[2001:db8::1]:443", "[::1]:8080", "[1:2:3:4:5:6:7:8]:9", "[::ffff:c000:201]:80", "[::]:0",
		"2001:db8::1:443", ":::22", "1:2:3:4:5:6:7:8:9"} {
		var e Endpoint
		if !parseIPv6PortTo(&e, []byte(tok), nil) {
			t.Errorf("%q: the fast path does not answer a plain form", tok)
		}
	}
	// Random addresses, printed as netip prints them and in full.
	r := uint64(1)
	for i := 0; i < 20000; i++ {
		var b [16]byte
		for j := range b {
			r = r*6364136223846793005 + 1442695040888963407
			if r>>60 < 6 { // runs of zero groups, for "::"
				b[j] = byte(r >> 33)
			}
		}
		a := netip.AddrFrom16(b)
		check("[" + a.String() + "]:" + strconv.Itoa(i%65536))
		check("[" + a.StringExpanded() + "]:443")
		check(a.String() + ":" + strconv.Itoa(i%65536)) // netstat's form
	}
	if answered < 60000 {
		t.Errorf("the fast path answered %d tokens", answered)
	}
}

// The IPv6 fast path agrees with ParseEndpoint wherever it answers.
func FuzzIPv6Port(f *testing.F) {
	for _, s := range ipv6Tokens {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, tok []byte) {
		var e Endpoint
		if !parseIPv6PortTo(&e, tok, nil) {
			return
		}
		want, err := ParseEndpoint(tok, false)
		if err != nil || e != want {
			t.Fatalf("%q: fast path %+v, ParseEndpoint %+v %v", tok, e, want, err)
		}
	})
}

// The IPv6 fast path with its memo of the last address answers as it
// does without one, whatever address came before.
func FuzzIPv6PortMemo(f *testing.F) {
	for i, s := range ipv6Tokens {
		f.Add([]byte(s), []byte(ipv6Tokens[(i+1)%len(ipv6Tokens)]))
		f.Add([]byte(s), []byte(s))
	}
	f.Add([]byte("[2001:db8::1]:1025"), []byte("[2001:db8::1]:1026"))
	f.Add([]byte("[2001:db8::1]:1025"), []byte("[2001:db8::1%eth0]:1026"))
	f.Add([]byte("[::ffff:10.0.0.1]:80"), []byte("[::ffff:10.0.0.1]:81"))
	f.Fuzz(func(t *testing.T, before, tok []byte) {
		var memo v6Memo
		var e, want Endpoint
		parseIPv6PortTo(&e, before, &memo)
		e = Endpoint{}
		ok := parseIPv6PortTo(&e, tok, &memo)
		if wantOK := parseIPv6PortTo(&want, tok, nil); ok != wantOK || ok && e != want {
			t.Fatalf("%q after %q: with the memo %v %+v, without %v %+v", tok, before, ok, e, wantOK, want)
		}
	})
}

package collect

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// hexToAddr decodes a /proc/net/tcp address as the kernel prints it.
func hexToAddr(t *testing.T, h string) string {
	t.Helper()
	raw, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	mem := make([]byte, len(raw))
	for w := 0; w < len(raw)/4; w++ {
		binary.NativeEndian.PutUint32(mem[w*4:], binary.BigEndian.Uint32(raw[w*4:]))
	}
	a, _ := netip.AddrFromSlice(mem)
	return a.String()
}

func class(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsPrivate():
		return "private"
	case a.IsMulticast():
		return "multicast"
	case v4Shared.Contains(a):
		return "shared"
	}
	return "public"
}

// addrToHex encodes a as /proc/net/tcp (4 bytes) or tcp6 (16 bytes)
// prints it: host-order 32-bit words, most significant digit first.
func addrToHex(a netip.Addr, six bool) string {
	var mem []byte
	if six {
		b := a.As16()
		mem = b[:]
	} else {
		b := a.As4()
		mem = b[:]
	}
	enc := make([]byte, len(mem))
	for w := 0; w < len(mem)/4; w++ {
		binary.BigEndian.PutUint32(enc[w*4:], binary.NativeEndian.Uint32(mem[w*4:]))
	}
	return strings.ToUpper(hex.EncodeToString(enc))
}

func TestRedactorClassesAndSubnets(t *testing.T) {
	r := NewRedactor()
	in := []string{
		"10.1.2.3", "10.1.2.4", "10.1.3.3", "192.168.1.10", "172.20.0.1",
		"8.8.8.8", "8.8.8.9", "8.8.4.4", "1.1.1.1", "100.64.1.1", "169.254.169.254",
		"127.0.0.1", "127.0.1.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
		"::1", "::", "fe80::1", "fe80::a00:27ff:fe4e:66a1", "fd12:3456:789a:1::5", "fd12:3456:789a:1::6",
		"2a00:1450:4001:82a::200e", "2a00:1450:4001:82a::200f", "2a00:1450:4001:82b::200e",
		"ff02::1", "::ffff:10.1.2.3", "::ffff:127.0.0.1", "192.0.2.1", "2001:db8::1",
	}
	out := map[string]netip.Addr{}
	for _, s := range in {
		a := netip.MustParseAddr(s)
		b := r.Addr(a)
		out[s] = b
		if class(a) != class(b) {
			t.Errorf("%s (%s) → %s (%s): class changed", a, class(a), b, class(b))
		}
		if a.Is4() != b.Is4() || a.Is4In6() != b.Is4In6() {
			t.Errorf("%s → %s: family changed", a, b)
		}
		if again := r.Addr(a); again != b {
			t.Errorf("%s mapped to %s then %s", a, b, again)
		}
		keep := a.Unmap().IsLoopback() || a.Unmap().IsUnspecified()
		if keep != (a == b) {
			t.Errorf("%s → %s: only loopback and unspecified addresses may stay", a, b)
		}
	}
	same24 := func(a, b string) bool {
		x, y := out[a].As4(), out[b].As4()
		return x[0] == y[0] && x[1] == y[1] && x[2] == y[2]
	}
	if !same24("10.1.2.3", "10.1.2.4") || !same24("8.8.8.8", "8.8.8.9") {
		t.Error("a shared /24 was split")
	}
	if same24("10.1.2.3", "10.1.3.3") || same24("8.8.8.8", "8.8.4.4") || same24("8.8.8.8", "1.1.1.1") {
		t.Error("different /24s were merged")
	}
	same64 := func(a, b string) bool {
		x, y := out[a].As16(), out[b].As16()
		return bytes.Equal(x[:8], y[:8])
	}
	if !same64("2a00:1450:4001:82a::200e", "2a00:1450:4001:82a::200f") || same64("2a00:1450:4001:82a::200e", "2a00:1450:4001:82b::200e") {
		t.Error("/64 sharing not kept")
	}
	if !same64("fe80::1", "fe80::a00:27ff:fe4e:66a1") || !same64("fd12:3456:789a:1::5", "fd12:3456:789a:1::6") {
		t.Error("/64 sharing not kept")
	}
	if out["::ffff:10.1.2.3"].Unmap() != out["10.1.2.3"] {
		t.Errorf("mapped %s vs %s", out["::ffff:10.1.2.3"], out["10.1.2.3"])
	}
	for _, s := range []string{"2a00:1450:4001:82a::200e", "2001:db8::1"} {
		if !netip.MustParsePrefix("2001:db8::/32").Contains(out[s]) {
			t.Errorf("public %s → %s: not in 2001:db8::/32", s, out[s])
		}
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "192.0.2.1"} {
		if !netip.MustParsePrefix("240.0.0.0/4").Contains(out[s]) {
			t.Errorf("public %s → %s: not in 240.0.0.0/4", s, out[s])
		}
	}
	if !strings.HasPrefix(out["ff02::1"].String(), "ff02:") || !strings.HasPrefix(out["fd12:3456:789a:1::5"].String(), "fd") {
		t.Errorf("ff02::1 → %s, fd12:3456:789a:1::5 → %s", out["ff02::1"], out["fd12:3456:789a:1::5"])
	}
	if z := r.Addr(netip.MustParseAddr("fe80::1%eth0")); z.Zone() != "eth0" || z.WithZone("") != out["fe80::1"] {
		t.Errorf("fe80::1%%eth0 → %s", z)
	}
}

// TestRedactorNeverIdentity checks the guarantee exhaustively on whole
// /24s of every class and on many random addresses: no address but
// loopback and unspecified maps to itself, the class is kept, distinct
// addresses stay distinct, subnets stay together.
func TestRedactorNeverIdentity(t *testing.T) {
	r := NewRedactor()
	seen := map[netip.Addr]netip.Addr{}
	check := func(a netip.Addr) netip.Addr {
		t.Helper()
		b := r.Addr(a)
		if b == a {
			t.Fatalf("%s maps to itself", a)
		}
		if class(a) != class(b) || a.Is4() != b.Is4() {
			t.Fatalf("%s (%s) → %s (%s)", a, class(a), b, class(b))
		}
		if prev, ok := seen[b]; ok && prev != a {
			t.Fatalf("%s and %s both map to %s", prev, a, b)
		}
		seen[b] = a
		return b
	}
	// Whole /24s, including the ones an identity-prone mapping would keep
	// (the first private and documentation /24s).
	for _, p := range []string{"10.0.0", "10.0.1", "10.255.255", "172.16.0", "172.31.255", "192.168.0", "192.168.1",
		"169.254.0", "169.254.169", "100.64.0", "100.127.255", "8.8.8", "192.0.2", "198.51.100", "203.0.113",
		"198.18.0", "240.0.0", "255.255.255", "224.0.0", "239.255.255", "1.0.0", "0.0.0"} {
		var pre [3]byte
		hosts := map[byte]bool{}
		for h := 0; h < 256; h++ {
			var b [4]byte
			fmt.Sscanf(p, "%d.%d.%d", &b[0], &b[1], &b[2])
			b[3] = byte(h)
			a := netip.AddrFrom4(b)
			if a.IsUnspecified() {
				continue
			}
			m := check(a).As4()
			if h == 1 {
				pre = [3]byte(m[:3])
			} else if h > 1 && [3]byte(m[:3]) != pre {
				t.Fatalf("%s.0/24 split: %s", p, netip.AddrFrom4(m))
			}
			if m[3] == byte(h) {
				t.Errorf("%s kept its host byte (%s)", a, netip.AddrFrom4(m))
			}
			hosts[m[3]] = true
		}
		if [3]byte{pre[0], pre[1], pre[2]} == [3]byte{} {
			t.Fatalf("%s: no prefix", p)
		}
	}
	// Whole IPv6 host ranges in a few /64s.
	for _, p := range []string{"fe80::", "fd00::", "2001:db8::", "2a00:1450:4001:82a::", "ff02::", "::"} {
		base := netip.MustParseAddr(p).As16()
		var pre [8]byte
		for h := 0; h < 1024; h++ {
			b := base
			binary.BigEndian.PutUint16(b[14:], uint16(h))
			a := netip.AddrFrom16(b)
			if a.IsUnspecified() || a.IsLoopback() {
				continue
			}
			m := check(a).As16()
			if binary.BigEndian.Uint64(m[8:]) == binary.BigEndian.Uint64(b[8:]) {
				t.Errorf("%s kept its interface id", a)
			}
			if h == 2 {
				pre = [8]byte(m[:8])
			} else if h > 2 && [8]byte(m[:8]) != pre {
				t.Fatalf("%s/64 split", p)
			}
		}
	}
	// Random addresses of every kind.
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	prefixes := map[[3]byte][3]byte{}
	for i := 0; i < 50000; i++ {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], rng.Uint32())
		a := netip.AddrFrom4(b)
		if a.IsLoopback() || a.IsUnspecified() {
			continue
		}
		m := check(a).As4()
		p, q := [3]byte(b[:3]), [3]byte(m[:3])
		if old, ok := prefixes[p]; ok && old != q {
			t.Fatalf("%s: /24 split", a)
		}
		prefixes[p] = q
		if m6 := r.Addr(netip.AddrFrom16(a.As16())); m6.Unmap().As4() != m {
			t.Fatalf("::ffff:%s → %s, %s → %s", a, m6, a, netip.AddrFrom4(m))
		}
	}
	for i := 0; i < 50000; i++ {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:], rng.Uint64())
		binary.BigEndian.PutUint64(b[8:], rng.Uint64())
		switch i % 4 {
		case 0:
			b[0], b[1] = 0xfe, 0x80 // link-local
		case 1:
			b[0] = 0xfd // ULA
		case 2:
			b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
		}
		check(netip.AddrFrom16(b))
	}
}

func TestRedactorKeyed(t *testing.T) {
	a := netip.MustParseAddr("10.1.2.3")
	diff := 0
	for i := 0; i < 8; i++ {
		if NewRedactor().Addr(a) != NewRedactor().Addr(a) {
			diff++
		}
	}
	if diff < 6 {
		t.Errorf("two Redactors agree on %s in %d of 8 tries: the key is not random", a, 8-diff)
	}
	r1, r2 := NewRedactor("db01.example.com"), NewRedactor("db01.example.com")
	if r1.Host("db02.example.com") == r2.Host("db02.example.com") {
		t.Error("name pseudonyms are not keyed")
	}
}

// TestRedactorEncodings checks that one address maps to one pseudonym in
// every encoding: dotted, IPv6 text in any spelling, IPv4-mapped,
// /proc/net/tcp and tcp6 hex, reverse DNS, dashes in a host name.
func TestRedactorEncodings(t *testing.T) {
	r := NewRedactor()
	for _, s := range []string{"10.1.2.3", "192.0.2.1", "8.8.4.4", "172.17.0.2", "169.254.1.9"} {
		a := netip.MustParseAddr(s)
		m := r.Addr(a)
		b, mb := a.As4(), m.As4()
		dash := func(b [4]byte) string { return fmt.Sprintf("%d-%d-%d-%d", b[0], b[1], b[2], b[3]) }
		rev := func(b [4]byte) string { return fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa", b[3], b[2], b[1], b[0]) }
		cases := [][2]string{
			{s, m.String()},
			{"::ffff:" + s, "::ffff:" + m.String()},
			{"[::FFFF:" + s + "]:80", "[::ffff:" + m.String() + "]:80"},
			{"   0: " + addrToHex(a, false) + ":1F90 " + addrToHex(a, false) + ":0050 01 00000000:00000000",
				"   0: " + addrToHex(m, false) + ":1F90 " + addrToHex(m, false) + ":0050 01 00000000:00000000"},
			{"   0: " + addrToHex(netip.AddrFrom16(a.As16()), true) + ":1F90 00000000000000000000000000000000:0000 0A",
				"   0: " + addrToHex(netip.AddrFrom16(m.As16()), true) + ":1F90 00000000000000000000000000000000:0000 0A"},
			{"PTR " + rev(b) + ".", "PTR " + rev(mb) + "."},
			{"ip-" + dash(b) + ".ec2.internal", "ip-" + dash(mb) + ".ec2.internal"},
			{"ec2-" + dash(b) + ".compute-1.amazonaws.com:443", "ec2-" + dash(mb) + ".compute-1.amazonaws.com:443"},
			{dash(b) + ".example.com", dash(mb) + ".example.com"},
			{"inet addr:" + s + "  Bcast", "inet addr:" + m.String() + "  Bcast"},
			{"peer=x-" + s + ",v" + s, "peer=x-" + m.String() + ",v" + m.String()},
			{"tcp4 0 0 " + s + ".8080 *.*", "tcp4 0 0 " + m.String() + ".8080 *.*"},
			{"zone 3.2.1.in-addr.arpa", ""},
		}
		for _, c := range cases {
			got := r.Line(c[0])
			if c[1] != "" && got != c[1] {
				t.Errorf("Line(%q)\n got %q\nwant %q", c[0], got, c[1])
			}
			if strings.Contains(got, s) || strings.Contains(got, dash(b)) || strings.Contains(got, rev(b)) ||
				strings.Contains(got, addrToHex(a, false)) {
				t.Errorf("Line(%q) = %q still holds %s", c[0], got, s)
			}
		}
	}
	// IPv6: spellings of one address.
	a := netip.MustParseAddr("2a00:1450:4001:82a::200e")
	m := r.Addr(a).String()
	for _, s := range []string{"2a00:1450:4001:82a::200e", "2A00:1450:4001:082A:0000:0000:0000:200E", "2a00:1450:4001:82a:0:0:0:200e", "[2a00:1450:4001:82a::200e]:443"} {
		got := r.Line("x " + s + " y")
		if !strings.Contains(got, m) {
			t.Errorf("Line(%q) = %q, want %s", s, got, m)
		}
	}
	nib := func(a netip.Addr) string {
		b := a.As16()
		var out []string
		for i := 15; i >= 0; i-- {
			out = append(out, fmt.Sprintf("%x", b[i]&0xf), fmt.Sprintf("%x", b[i]>>4))
		}
		return strings.Join(out, ".") + ".ip6.arpa"
	}
	if got, want := r.Line("PTR "+nib(a)), "PTR "+nib(r.Addr(a)); got != want {
		t.Errorf("ip6.arpa:\n got %s\nwant %s", got, want)
	}
	tcp6 := "   1: " + addrToHex(a, true) + ":01BB " + addrToHex(a, true) + ":D431 01 00000000:00000000"
	if got, want := r.ProcNetTCPLine(tcp6), "   1: "+addrToHex(r.Addr(a), true)+":01BB "+addrToHex(r.Addr(a), true)+":D431 01 00000000:00000000"; got != want {
		t.Errorf("tcp6:\n got %s\nwant %s", got, want)
	}
}

func TestRedactorLine(t *testing.T) {
	r := NewRedactor("db01.example.com")
	cases := []string{
		"ESTAB 0 0 10.1.2.3:8080 203.0.113.9:54321 users:((\"java\",pid=123,fd=4)) ino:1001 sk:ffff8881abcd",
		"tcp6 0 0 :::22 :::* LISTEN 1/sshd",
		"tcp6 0 0 ::ffff:10.1.2.3:8080 ::ffff:203.0.113.9:54321 ESTABLISHED",
		"ESTAB 0 0 [2a00:1450::1]:443 [fe80::1]%eth0:22",
		"tcp4 0 0 10.1.2.3.8080 203.0.113.9.54321 CLOSE_WAIT",
		"  TCP    10.1.2.3:8080   203.0.113.9:54321   TIME_WAIT   0",
		"java 123 app 4u IPv4 1001 0t0 TCP 10.1.2.3:8080->203.0.113.9:54321 (CLOSE_WAIT)",
		"LISTEN 0 128 127.0.0.1:22 0.0.0.0:* [::1]:631 [::]:*",
		"\t cubic wscale:7,7 rto:204 rtt:0.029/0.014 mss:32741 lastsnd:1560 bytes_acked:1",
		"Linux db01.example.com 6.1.0 #1 SMP; short name db01, DB01.Example.COM. and db01x",
		"search example.com; db02.example.com web.db01.example.com mail.example.com.",
	}
	got := make([]string, len(cases))
	for i, c := range cases {
		got[i] = r.Line(c)
	}
	a := r.Addr(netip.MustParseAddr("10.1.2.3")).String()
	p := r.Addr(netip.MustParseAddr("203.0.113.9")).String()
	v6 := r.Addr(netip.MustParseAddr("2a00:1450::1")).String()
	ll := r.Addr(netip.MustParseAddr("fe80::1")).String()
	want := []string{
		"ESTAB 0 0 " + a + ":8080 " + p + ":54321 users:((\"java\",pid=123,fd=4)) ino:1001 sk:ffff8881abcd",
		"tcp6 0 0 :::22 :::* LISTEN 1/sshd",
		"tcp6 0 0 ::ffff:" + a + ":8080 ::ffff:" + p + ":54321 ESTABLISHED",
		"ESTAB 0 0 [" + v6 + "]:443 [" + ll + "]%eth0:22",
		"tcp4 0 0 " + a + ".8080 " + p + ".54321 CLOSE_WAIT",
		"  TCP    " + a + ":8080   " + p + ":54321   TIME_WAIT   0",
		"java 123 app 4u IPv4 1001 0t0 TCP " + a + ":8080->" + p + ":54321 (CLOSE_WAIT)",
		"LISTEN 0 128 127.0.0.1:22 0.0.0.0:* [::1]:631 [::]:*",
		"\t cubic wscale:7,7 rto:204 rtt:0.029/0.014 mss:32741 lastsnd:1560 bytes_acked:1",
		"Linux redacted-host 6.1.0 #1 SMP; short name redacted-host, redacted-host. and redacted-hostx",
		"search example.invalid; " + r.Host("db02.example.com") + " " + r.Host("web.db01.example.com") + " " + r.Host("mail.example.com") + ".",
	}
	for i := range cases {
		if got[i] != want[i] {
			t.Errorf("Line(%q)\n got %q\nwant %q", cases[i], got[i], want[i])
		}
	}
	for _, h := range []string{"db02.example.com", "web.db01.example.com"} {
		ps := r.Host(h)
		if !strings.HasPrefix(ps, "host-") || !strings.HasSuffix(ps, ".example.invalid") || r.Host(strings.ToUpper(h)) != ps {
			t.Errorf("Host(%s) = %s", h, ps)
		}
	}
	if r.Host("db01") != RedactedHost || r.Host("DB01.example.com") != RedactedHost || r.Host("example.com") != "example.invalid" {
		t.Error("the host's own names")
	}
}

func TestRedactorShortHostName(t *testing.T) {
	r := NewRedactor("db.corp.example.org")
	got := r.Line("db dbus db-1 db.corp.example.org corp.example.org example.org x.example.org")
	want := "redacted-host dbus redacted-host-1 redacted-host example.invalid example.invalid " + r.Host("x.example.org")
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// A domain of one label (a top-level domain, "localdomain") is no
	// secret and is kept.
	r = NewRedactor("box.localdomain")
	if got := r.Line("127.0.0.1 localhost.localdomain box.localdomain"); got != "127.0.0.1 localhost.localdomain redacted-host" {
		t.Errorf("got %q", got)
	}
}

func TestRedactorLongLine(t *testing.T) {
	r := NewRedactor()
	var in strings.Builder
	for in.Len() < 3<<20 {
		in.WriteString("10.1.2.3:8080 2a00:1450:4001:82a::200e ")
	}
	in.WriteString("\r\nlast 10.1.2.3\n")
	var out bytes.Buffer
	if err := r.Text(&out, strings.NewReader(in.String())); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); strings.Contains(s, "10.1.2.3") || strings.Contains(s, "2a00:") || !strings.HasSuffix(s, "\r\nlast "+r.Addr(netip.MustParseAddr("10.1.2.3")).String()+"\n") {
		t.Errorf("an over-long line leaked (%d bytes in, %d out): ...%q", in.Len(), out.Len(), s[len(s)-80:])
	}
}

// BenchmarkRedactorText redacts 100k lines of ss -tanpoeim output with
// 50k distinct peers in 2k /24s.
func BenchmarkRedactorText(b *testing.B) {
	var in strings.Builder
	for i := 0; i < 50000; i++ {
		fmt.Fprintf(&in, "ESTAB 0 0 10.1.2.3:8080 198.%d.%d.%d:%d users:((\"java\",pid=123,fd=%d)) timer:(keepalive,10sec,0) uid:1000 ino:%d sk:ffff8881%08x cgroup:/system.slice/app.service <->\n",
			51+i%8, i/256%256, i%256, 1024+i%60000, i, 100000+i, i)
		fmt.Fprintf(&in, "\t skmem:(r0,rb131072,t0,tb87040,f0,w0,o0,bl0,d0) ts sack cubic wscale:7,7 rto:204 rtt:0.029/0.014 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:10 bytes_acked:%d segs_out:2 segs_in:1 lastsnd:1560 lastrcv:1560 lastack:1560\n", i)
	}
	data := in.String()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := NewRedactor("db01.example.com").Text(io.Discard, strings.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRedactorProcNetTCP(t *testing.T) {
	r := NewRedactor()
	var out bytes.Buffer
	if err := r.ProcNetTCP(&out, strings.NewReader(fakeTCP+fakeTCP6)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	orig := strings.Split(fakeTCP+fakeTCP6, "\n")
	if len(lines) != len(orig) {
		t.Fatal("line count changed")
	}
	for i := range lines {
		if len(lines[i]) != len(orig[i]) {
			t.Errorf("line %d width changed:\n%s\n%s", i, orig[i], lines[i])
		}
	}
	a := r.Addr(netip.MustParseAddr("10.1.2.3")).String()
	f := strings.Fields(lines[1])
	if got := hexToAddr(t, strings.TrimSuffix(f[1], ":1F90")); got != a {
		t.Errorf("hex local %s decodes to %s, want %s", f[1], got, a)
	}
	if f := strings.Fields(lines[3]); f[1] != "0100007F:0016" {
		t.Errorf("loopback changed: %s", f[1])
	}
	f6 := strings.Fields(lines[5])
	if got := hexToAddr(t, strings.TrimSuffix(f6[1], ":01BB")); got != "::ffff:"+a {
		t.Errorf("tcp6 mapped local decodes to %s, want ::ffff:%s", got, a)
	}
	// Round trip with an identity-like check: decoding what we encode.
	if f[0] != "0:" || strings.Fields(lines[0])[1] != "local_address" {
		t.Error("header or slot changed")
	}
}

// TestRedactorGlued puts addresses and names in odd company: glued to
// words, in ranges, after labels. None may survive; what is not an
// address stays.
func TestRedactorGlued(t *testing.T) {
	r := NewRedactor("db01.example.com")
	for _, c := range []struct{ in, gone, kept string }{
		{"inet addr:10.1.2.3 Bcast:10.1.2.255", "10.1.2.3", "inet addr:"},
		{"eth0:fe80::a00:27ff:fe4e:66a1/64", "fe80::a00:27ff:fe4e:66a1", "eth0:"},
		{"db01:2001:db8::1", "2001:db8::1", ""},
		{"range 2a00:1450::1-2a00:1450::2", "2a00:1450::2", "range "},
		{"v10.1.2.3 x-10.1.2.3 10.1.2.3-10.1.2.9", "10.1.2.3", ""},
		{"peer=[10.1.2.3", "10.1.2.3", "peer=["},
		{"sk:ffff8881abcd cafe deadbeef ino:1001 rtt:0.029/0.014", "", "sk:ffff8881abcd cafe deadbeef ino:1001 rtt:0.029/0.014"},
		{"mysql-db01.example.com.backup db01prod", "db01", ""},
	} {
		got := r.Line(c.in)
		if c.gone != "" && strings.Contains(strings.ToLower(got), strings.ToLower(c.gone)) || !strings.Contains(got, c.kept) {
			t.Errorf("Line(%q) = %q", c.in, got)
		}
	}
}

// TestRedactorRandomLines writes random addresses in random spellings and
// company and checks that none survives in any spelling the test can
// parse back.
func TestRedactorRandomLines(t *testing.T) {
	r := NewRedactor()
	rng := mathrand.New(mathrand.NewPCG(3, 4))
	before := []string{" ", "", "=", "x-", "(", "[", "addr:", "src=", "\t", ",", "->", "eth0:"}
	after := []string{" ", "", ":80", ".80", "]:443", "/24", ",", ")", "%eth0", ".", "->"}
	for i := 0; i < 20000; i++ {
		var a netip.Addr
		var text string
		switch rng.IntN(4) {
		case 0, 1:
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], rng.Uint32())
			a = netip.AddrFrom4(b)
			text = a.String()
		case 2:
			var b [16]byte
			binary.BigEndian.PutUint64(b[:], rng.Uint64())
			binary.BigEndian.PutUint64(b[8:], rng.Uint64()&0xffff)
			a = netip.AddrFrom16(b)
			text = a.String()
			if rng.IntN(2) == 0 {
				text = strings.ToUpper(a.StringExpanded())
			}
		default:
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], rng.Uint32())
			a = netip.AddrFrom4(b)
			text = "::ffff:" + a.String()
		}
		if a.IsLoopback() || a.IsUnspecified() {
			continue
		}
		line := "x" + before[rng.IntN(len(before))] + text + after[rng.IntN(len(after))] + "y"
		got := strings.ToLower(r.Line(line))
		for _, s := range []string{a.String(), a.StringExpanded()} {
			if a.Is4() {
				// 1.2.3.4 inside 1.2.3.45 is another address.
				if k := strings.Index(got, s); k >= 0 && (k+len(s) == len(got) || !isDigit(got[k+len(s)])) && (k == 0 || !isDigit(got[k-1])) {
					t.Fatalf("Line(%q) = %q", line, got)
				}
			} else if strings.Contains(got, strings.ToLower(s)) {
				t.Fatalf("Line(%q) = %q", line, got)
			}
		}
	}
}

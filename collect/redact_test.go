package collect

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
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

func TestRedactorClassesAndSubnets(t *testing.T) {
	r := NewRedactor()
	in := []string{
		"10.1.2.3", "10.1.2.4", "10.1.3.3", "192.168.1.10", "172.20.0.1",
		"8.8.8.8", "8.8.8.9", "8.8.4.4", "1.1.1.1", "100.64.1.1", "169.254.169.254",
		"127.0.0.1", "127.0.1.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
		"::1", "::", "fe80::1", "fe80::a00:27ff:fe4e:66a1", "fd12:3456:789a:1::5", "fd12:3456:789a:1::6",
		"2a00:1450:4001:82a::200e", "2a00:1450:4001:82a::200f", "2a00:1450:4001:82b::200e",
		"ff02::1", "::ffff:10.1.2.3",
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
	}
	for _, keep := range []string{"127.0.0.1", "0.0.0.0", "::1", "::", "ff02::1", "224.0.0.1", "255.255.255.255"} {
		if out[keep].String() != keep {
			t.Errorf("%s changed to %s", keep, out[keep])
		}
	}
	for _, pub := range []string{"8.8.8.8", "10.1.2.3", "2a00:1450:4001:82a::200e", "fd12:3456:789a:1::5"} {
		if out[pub].String() == pub {
			t.Errorf("%s not redacted", pub)
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
	if out["2a00:1450:4001:82a::200e"] == out["2a00:1450:4001:82b::200e"] {
		t.Error("distinct addresses merged")
	}
	if out["::ffff:10.1.2.3"].Unmap() != out["10.1.2.3"] {
		t.Errorf("mapped %s vs %s", out["::ffff:10.1.2.3"], out["10.1.2.3"])
	}
	if !strings.HasPrefix(out["2a00:1450:4001:82a::200e"].String(), "2001:db8:") {
		t.Errorf("public v6 not in the documentation range: %s", out["2a00:1450:4001:82a::200e"])
	}
	// Many public /24s stay distinct and public.
	seen := map[netip.Addr]bool{}
	for i := 0; i < 3000; i++ {
		a := netip.AddrFrom4([4]byte{50, byte(i >> 8), byte(i), 1})
		b := r.Addr(a)
		if seen[b] || class(b) != "public" {
			t.Fatalf("public %s → %s (dup %v)", a, b, seen[b])
		}
		seen[b] = true
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
		"Linux db01.example.com 6.1.0 #1 SMP; short name db01 and db01x",
	}
	got := make([]string, len(cases))
	for i, c := range cases {
		got[i] = r.Line(c)
	}
	a := r.Addr(netip.MustParseAddr("10.1.2.3")).String()
	p := r.Addr(netip.MustParseAddr("203.0.113.9")).String()
	v6 := r.Addr(netip.MustParseAddr("2a00:1450::1")).String()
	want := []string{
		"ESTAB 0 0 " + a + ":8080 " + p + ":54321 users:((\"java\",pid=123,fd=4)) ino:1001 sk:ffff8881abcd",
		"tcp6 0 0 :::22 :::* LISTEN 1/sshd",
		"tcp6 0 0 ::ffff:" + a + ":8080 ::ffff:" + p + ":54321 ESTABLISHED",
		"ESTAB 0 0 [" + v6 + "]:443 [fe80::1]%eth0:22",
		"tcp4 0 0 " + a + ".8080 " + p + ".54321 CLOSE_WAIT",
		"  TCP    " + a + ":8080   " + p + ":54321   TIME_WAIT   0",
		"Linux redacted-host 6.1.0 #1 SMP; short name redacted-host and db01x",
	}
	for i := range cases {
		if got[i] != want[i] {
			t.Errorf("Line(%q)\n got %q\nwant %q", cases[i], got[i], want[i])
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

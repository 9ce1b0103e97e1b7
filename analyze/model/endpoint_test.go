package model

import (
	"fmt"
	"testing"
)

func TestParseEndpoint(t *testing.T) {
	tests := []endpointCase{
		{in: "192.0.2.1:443", want: "192.0.2.1:443"},
		{in: "[2001:db8::1]:443", want: "[2001:db8::1]:443"},
		{in: ":::22", want: "[::]:22", wildcard: true},
		{in: "::1:25", want: "[::1]:25"},
		{in: "*:80", want: "0.0.0.0:80", wildcard: true},
		{in: "*:*", want: "0.0.0.0:0", wildcard: true, anyPort: true},
		{in: "0.0.0.0:*", want: "0.0.0.0:0", wildcard: true, anyPort: true},
		{in: "[::]:*", want: "[::]:0", wildcard: true, anyPort: true},
		{in: "[::ffff:192.0.2.1]:80", want: "192.0.2.1:80"},
		{in: "::ffff:192.0.2.1:80", want: "192.0.2.1:80"},
		{in: "127.0.0.53%lo:53", want: "127.0.0.53:53"},
		{in: "[fe80::1]%eth0:546", want: "[fe80::1]:546"},
		{in: "localhost:sunrpc", want: "127.0.0.1:111"},
		{in: "ec2-54-93-54-143.:56111", want: "ec2-54-93-54-143.:56111"},
		{in: "192.0.2.1.443", dot: true, want: "192.0.2.1:443"},
		{in: "*.22", dot: true, want: "0.0.0.0:22", wildcard: true},
		{in: "*.*", dot: true, want: "0.0.0.0:0", wildcard: true, anyPort: true},
		{in: "::1.8080", dot: true, want: "[::1]:8080"},
		{in: "fe80::1%lo0.123", dot: true, want: "[fe80::1]:123"},
		{in: "host.example.com.https", dot: true, want: "host.example.com:443"},
		{in: "192.0.2.1", bad: true},
		{in: "192.0.2.1:99999", bad: true},
		{in: "1.2.3.4:nosuchservice", bad: true},
		{in: "[::1]:x:y", bad: true},
		{in: "", bad: true},
	}
	checkEndpoints(t, tests)
}

// endpointCase is one ParseEndpoint table row.
type endpointCase struct {
	in       string
	dot      bool
	want     string // AddrPort.String(), or "name:port"
	wildcard bool
	anyPort  bool
	bad      bool
}

// checkEndpoints runs ParseEndpoint over table rows.
func checkEndpoints(t *testing.T, tests []endpointCase) {
	t.Helper()
	for _, tt := range tests {
		e, err := ParseEndpoint([]byte(tt.in), tt.dot)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseEndpoint(%q) = %+v, want error", tt.in, e)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseEndpoint(%q): %v", tt.in, err)
			continue
		}
		got := e.AddrPort.String()
		if e.Name != NoName {
			got = e.Name.String() + ":" + Itoa(int(e.AddrPort.Port()))
		}
		if got != tt.want || e.Wildcard != tt.wildcard || e.AnyPort != tt.anyPort {
			t.Errorf("ParseEndpoint(%q) = %s wildcard=%v anyPort=%v, want %s %v %v",
				tt.in, got, e.Wildcard, e.AnyPort, tt.want, tt.wildcard, tt.anyPort)
		}
	}
}

// TestEndpointCacheParsesAsParseEndpoint: whether a token comes from the
// cache, is parsed and cached, or is parsed while a full cache of misses
// rests, the result is ParseEndpoint's.
func TestEndpointCacheParsesAsParseEndpoint(t *testing.T) {
	var c EndpointCache
	check := func(tok string) {
		t.Helper()
		got, gerr := c.Parse([]byte(tok))
		want, werr := ParseEndpoint([]byte(tok), false)
		if got != want || (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: cache %+v %v, ParseEndpoint %+v %v", tok, got, gerr, want, werr)
		}
	}
	// Unique link-local IPv6 peers with a zone (plain IPv6 endpoints are
	// parsed before the cache) fill the cache and make it rest; repeated
	// local tokens, names, plain IPv6 and bad tokens are read the same
	// throughout.
	rested := 0
	for i := 0; i < 3*endpointCacheMax+2*endpointCacheRest; i++ {
		if c.skip > 0 {
			rested++
		}
		check(fmt.Sprintf("fe80::%x:%x%%eth0:%d", i>>16, i&0xffff, 443+i%3))
		if i%199 == 0 { // rarer than one lookup in 64: the cache may rest
			check("[::1]:8080")
			check(fmt.Sprintf("[2001:db8::%x:%x]:%d", i>>16, i&0xffff, 443+i%3))
			check("::1:8080")
			check(fmt.Sprintf("2001:db8::%x:%x:%d", i>>16, i&0xffff, 443+i%3))
			check("[fe80::1%eth0]:22")
			check("web01:http")
			check("[bad")
			check("10.0.0.1:22")
		}
		// Dotted tokens ParseEndpoint reads (a listener's peer), the same
		// one again and again, then another.
		check("0.0.0.0:*")
		check("0.0.0.0:*")
		if i%7 == 0 {
			check(fmt.Sprintf("10.0.%d.1:*", i%256))
			check("1.2.3.4:http")
			check("1.2.3:5")
		}
	}
	if rested == 0 {
		t.Error("a full cache that only missed never rested")
	}
}

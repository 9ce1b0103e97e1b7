package model

import "testing"

// TestParseEndpointNames covers endpoints printed with names instead of
// numbers (netstat without -n, lsof without -P, ss -r): the port given as
// a service name counts as a port whatever the host part, and host names
// cut by the column width (net-tools keeps "host:port" within 23
// characters and cuts the host, sometimes right after a dot) still give
// their port. Shapes from real tickets and public captures; see
// analyze/formats/testdata/SOURCES.md.
func TestParseEndpointNames(t *testing.T) {
	tests := []endpointCase{
		// net-tools / ss / lsof ("host:port").
		{in: "web01:http", want: "web01:80"},
		{in: "my_server_ip.static.:http", want: "my_server_ip.static.:80"},
		{in: "b3090792.crawl.yahoo.:58663", want: "b3090792.crawl.yahoo.:58663"},
		{in: "localhost.localdoma:ssh", want: "localhost.localdoma:22"},
		{in: "localhost.localdo:35450", want: "localhost.localdo:35450"},
		{in: "lb-192-30-255-112:https", want: "lb-192-30-255-112:443"},
		{in: "65.106.57.106.pt:telnet", want: "65.106.57.106.pt:23"}, // a cut name that looks like an address
		{in: "www.oreillynet.com:www", want: "www.oreillynet.com:80"},
		{in: "venus.euao.com:smtp", want: "venus.euao.com:25"},
		{in: "worker3.example.org:47790", want: "worker3.example.org:47790"},
		{in: "cdn-edge-12.example.net:https", want: "cdn-edge-12.example.net:443"},
		{in: "api.dinsafer.com:https", want: "api.dinsafer.com:443"},
		{in: "*:https", want: "0.0.0.0:443", wildcard: true},
		{in: "*:ssh", want: "0.0.0.0:22", wildcard: true},
		{in: "*:tproxy", want: "0.0.0.0:8081", wildcard: true},
		{in: "localhost:sunrpc", want: "127.0.0.1:111"},
		{in: "localhost:smtp", want: "127.0.0.1:25"},
		{in: "localhost:ipp", want: "127.0.0.1:631"},
		{in: "localhost:domain", want: "127.0.0.1:53"},
		{in: "localhost.localdomain:ssh", want: "127.0.0.1:22"},
		{in: "[::]:ssh", want: "[::]:22", wildcard: true},
		{in: "[::]:*", want: "[::]:0", wildcard: true, anyPort: true},
		{in: "0.0.0.0:ssh", want: "0.0.0.0:22", wildcard: true},
		{in: "192.0.2.10:mysql", want: "192.0.2.10:3306"},
		{in: "192.0.2.10:postgresql", want: "192.0.2.10:5432"},
		{in: "192.0.2.10:ms-wbt-server", want: "192.0.2.10:3389"},
		{in: "192.0.2.10:microsoft-ds", want: "192.0.2.10:445"},
		{in: "192.0.2.10:netbios-ssn", want: "192.0.2.10:139"},
		{in: "db-1:redis", want: "db-1:6379"},
		{in: "proxy:webcache", want: "proxy:8080"},
		{in: "proxy:http-alt", want: "proxy:8080"},
		{in: "mail:submission", want: "mail:587"},
		{in: "mail:imaps", want: "mail:993"},
		{in: "mail:pop3s", want: "mail:995"},
		{in: "dc1:ldaps", want: "dc1:636"},
		{in: "nas:nfs", want: "nas:2049"},
		{in: "ws:x11", want: "ws:6000"},
		// BSD, macOS ("host.port"), service names as macOS prints them.
		{in: "kbrazil-mac.attl.62979", dot: true, want: "kbrazil-mac.attl:62979"},
		{in: "lb-198-51-100-25.https", dot: true, want: "lb-198-51-100-25:443"},
		{in: "on-in-x6d.1e100..imaps", dot: true, want: "on-in-x6d.1e100.:993"},
		{in: "198.51.100.100.b.dsf", dot: true, want: "198.51.100.100.b:555"},
		{in: "localhost.ldgateway", dot: true, want: "127.0.0.1:9592"},
		{in: "localhost.socks", dot: true, want: "127.0.0.1:1080"},
		{in: "localhost.terabase", dot: true, want: "127.0.0.1:4000"},
		{in: "192.168.71.1.ssh", dot: true, want: "192.168.71.1:22"},
		{in: "*.syslog", dot: true, want: "0.0.0.0:514", wildcard: true},
		{in: "*.hbci", dot: true, want: "0.0.0.0:3000", wildcard: true},
		{in: "*.commplex-main", dot: true, want: "0.0.0.0:5000", wildcard: true},
		{in: "*.afpovertcp", dot: true, want: "0.0.0.0:548", wildcard: true},
		{in: "*.microsoft-ds", dot: true, want: "0.0.0.0:445", wildcard: true},
		{in: "2001:db8:42::132.https", dot: true, want: "[2001:db8:42::132]:443"},
		// Not ports.
		{in: "web01:nosuchservice", bad: true},
		{in: "web01:", bad: true},
		{in: "web 01:http", bad: true},
		{in: "*.sunpr", dot: true, bad: true}, // a cut service name: the BSD parser reads it
	}
	checkEndpoints(t, tests)
}

func TestServicePortPrefix(t *testing.T) {
	tests := []struct {
		in   string
		want uint16
		ok   bool
	}{
		{"sunpr", 8081, true},      // sunproxyadmin, cut by macOS netstat
		{"afpov", 548, true},       // afpovertcp
		{"ldgate", 9592, true},     // ldgateway
		{"https", 0, false},        // https or https-alt: callers try whole names first
		{"cplscrambler", 0, false}, // -lg, -in, -al: three ports
		{"ht", 0, false},           // too short to tell
		{"nosuch", 0, false},
	}
	for _, tt := range tests {
		got, ok := ServicePortPrefix(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ServicePortPrefix(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestServicesTable pins the numbers of the names tickets show most.
func TestServicesTable(t *testing.T) {
	want := map[string]uint16{
		"http": 80, "https": 443, "ssh": 22, "smtp": 25, "domain": 53, "sunrpc": 111,
		"mysql": 3306, "postgresql": 5432, "redis": 6379, "http-alt": 8080, "webcache": 8080,
		"ldap": 389, "ldaps": 636, "imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995,
		"submission": 587, "ftp": 21, "telnet": 23, "ms-wbt-server": 3389, "microsoft-ds": 445,
		"netbios-ssn": 139, "nfs": 2049, "x11": 6000, "hbci": 3000, "ncube-lm": 1521,
		"cslistener": 9000, "wap-wsp": 9200, "rfb": 5900, "sun-sr-https": 6443,
	}
	for name, port := range want {
		if got, ok := ServicePort(name); !ok || got != port {
			t.Errorf("ServicePort(%q) = %d, %v; want %d", name, got, ok, port)
		}
	}
}

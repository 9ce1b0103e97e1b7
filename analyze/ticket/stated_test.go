package ticket

import (
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

func TestTitleLine(t *testing.T) {
	body := "\n\nThe text of the ticket.\n"
	tests := []struct {
		first, want string
	}{
		// Titles as trackers, forums and mails give them.
		{"huge amount of TIME_WAIT tcp connections on windows", "huge amount of TIME_WAIT tcp connections on windows"},
		{"What are CLOSE_WAIT and TIME_WAIT states?", "What are CLOSE_WAIT and TIME_WAIT states?"},
		{"Windows: stale tailscaled Bound TCP sockets exhaust Winsock", "Windows: stale tailscaled Bound TCP sockets exhaust Winsock"},
		{"# nf_conntrack table full", "nf_conntrack table full"},
		{"Subject: Too many open files on app01", "Too many open files on app01"},
		{"tcp连接数过多", "tcp连接数过多"},
		// First lines that are the text, not a title.
		{"Overnight the production tomcat stopped serving requests with the logs full of \"Too many open files in system\".", ""},
		{"The default backlog in syscall listen(2) is 50. This is too small", ""},
		{"Security scan flagged 'many open connections' on db01. Is this normal?", ""},
		{"Hello, guys", ""},
		{"Dear awesome people!", ""},
		{"### Describe the bug", ""},
		{"## Root cause of the outage", ""},
		{"`dmesg | tail`", ""},
		{"@someone asked me to open this", ""},
		{"As the image goes.![img](https://i.imgur.com/x.png)", ""},
		{"Here is the output:", ""},
		{"nf_conntrack: table full, dropping packet", ""},                         // a log line
		{"Mar 29 00:45:52 fw kernel: sonewconn: Listen queue overflow", ""},       // a log line
		{"kernel: [9615729] sonewconn: pcb 0xfffff801ca667a80: Listen queue", ""}, // a log line
		{"$ ss -tanp state close-wait", ""},                                       // a prompt
		{"netstat -an | grep TIME_WAIT | wc -l", ""},                              // a command
		{"tcp 0 0 10.0.0.1:51584 10.0.0.2:80 CLOSE_WAIT", ""},                     // a row
		{"   indented text is not a title", ""},
	}
	for _, tt := range tests {
		t.Run(tt.first, func(t *testing.T) {
			if got := TitleLine([]byte(tt.first + body)); got != tt.want {
				t.Errorf("TitleLine = %q, want %q", got, tt.want)
			}
		})
	}
	// A title stands alone above more text.
	for _, text := range []string{"many TIME_WAIT connections", "many TIME_WAIT connections\n", "many TIME_WAIT connections\nand more\n", "many TIME_WAIT connections\n\n\n"} {
		if got := TitleLine([]byte(text)); got != "" {
			t.Errorf("TitleLine(%q) = %q, want none", text, got)
		}
	}
}

func TestManyClaims(t *testing.T) {
	tests := []struct {
		line  string
		state string // "" for no claim
		words string
	}{
		{"netstat -an reports a lot of `TIME_WAIT` connections.", "TIME_WAIT", "a lot of TIME_WAIT"},
		{"huge amount of TIME_WAIT tcp connections on windows", "TIME_WAIT", "huge amount of TIME_WAIT"},
		{"Lot's of sockets in CLOSE-WAIT", "CLOSE_WAIT", "Lot's of sockets in CLOSE-WAIT"},
		{"Agents leaving behind numerous 'TIME_WAIT' connections", "TIME_WAIT", "numerous TIME_WAIT"},
		{"Many tcp connections left in TIMED_WAIT mode", "TIME_WAIT", "Many tcp connections left in TIMED_WAIT"},
		{"Important amount of CLOSE_WAIT tcp connections", "CLOSE_WAIT", "Important amount of CLOSE_WAIT"},
		{"tons of FIN_WAIT2 sockets", "FIN_WAIT2", "tons of FIN_WAIT2"},
		{"Too many CLOSE_WAIT connections", "CLOSE_WAIT", "Too many CLOSE_WAIT"},
		// Not a claim of many sockets in a state.
		{"the JVM uses a lot of memory", "", ""},
		{"there are not many connections in TIME_WAIT", "", ""},
		{"no huge amount of TIME_WAIT here", "", ""},
		{"how many TIME_WAIT sockets are too many", "", ""},
		{"in many cases TIME_WAIT is normal", "", ""},
		{"lots of connections, all ESTABLISHED fine", "", ""},
		{"a lot of requests per second", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got := manyClaims(tt.line)
			if tt.state == "" {
				if len(got) != 0 {
					t.Fatalf("got %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].State != tt.state || !got[0].Many || got[0].N != 0 || got[0].Kind != model.EvStated || got[0].Value != tt.words {
				t.Fatalf("got %+v, want a many-claim of %s in %q (no number)", got, tt.state, tt.words)
			}
		})
	}
}

func TestStatedRates(t *testing.T) {
	tests := []struct {
		line    string
		rate    float64 // 0: none
		unit    string
		atLeast bool
	}{
		{"running perfectly at 1000reqs/second total in front of 3 php5-fpm servers", 1000, "requests", false},
		{"the server could not serve more than 750reqs/sec", 750, "requests", false}, // a ceiling
		{"we open over 2,000 connections per second to the cache", 2000, "connections", true},
		{"peaks of 1.5k req/s", 1500, "requests", false},
		{"when sending more than 1k rps.", 1000, "requests", true},
		{"All done 1200 calls 10.504 ms avg, 397.5 qps", 397.5, "requests", false},
		{"qps 400; 24 connections; 3s", 400, "requests", false},
		{"about 300 new connections/s from the workers", 300, "connections", false},
		// Times, sizes and totals are no rates.
		{"the p99 is 750 ms", 0, "", false},
		{"10.504 ms avg", 0, "", false},
		{"total traffic does not exceed 100mbits", 0, "", false},
		{"1000 requests in total, then it stops", 0, "", false},
		{"4000 calls and 10 connections", 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got := statedRates(tt.line)
			if tt.rate == 0 {
				if len(got) != 0 {
					t.Fatalf("got %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].Rate != tt.rate || got[0].Unit != tt.unit || got[0].AtLeast != tt.atLeast || got[0].N != 0 {
				t.Fatalf("got %+v, want %v %s/s (at least %v)", got, tt.rate, tt.unit, tt.atLeast)
			}
		})
	}
}

// TestRateCeilings: a rate that is a limit the host cannot pass, not a
// load it carries.
func TestRateCeilings(t *testing.T) {
	tests := []struct {
		line    string
		ceiling bool
	}{
		{"But, the server could not serve more than 750reqs/sec.", true},
		{"haproxy tops out at 2000 req/s no matter how many backends we add", true},
		{"throughput is capped at 1200 requests per second", true},
		{"it maxes out at 5k rps", true},
		{"we can do at most 900 req/s", true},
		{"running perfectly at 1000reqs/second total", false},
		{"peaks of 1.5k req/s", false},                 // a load seen, not a limit
		{"traffic peaks at 3000 req/s at noon", false}, // the same
		{"we open over 2,000 connections per second to the cache", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got := statedRates(tt.line)
			if len(got) != 1 || (got[0].Name == model.RateCeiling) != tt.ceiling {
				t.Fatalf("got %+v, want one rate, ceiling %v", got, tt.ceiling)
			}
		})
	}
}

// TestUpstreamClaim: a proxy that forwards to upstreams over TCP.
func TestUpstreamClaim(t *testing.T) {
	tests := []struct {
		line, text string
		proc       string // "" for none
	}{
		{"We had 2 nginx servers running perfectly at 1000reqs/second total in front of 3 php5-fpm servers with TCP connections.", "", "nginx"},
		{"proxy_pass http://10.0.0.5:8080; for every location", "haproxy is not involved; nginx is", "haproxy"}, // the first proxy named
		{"the backends listen on 127.0.0.1:9000", "our varnish setup", "varnish"},
		{"nginx in front of php-fpm", "", ""},                                       // over what, it does not say
		{"upstreams over TCP", "nginx talks to php-fpm over a unix socket too", ""}, // unix sockets take no ports
		{"three backends over TCP", "our own server", ""},                           // no proxy named
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			e, ok := upstreamClaim(tt.line, upstreamProxy([]byte(tt.line+"\n"+tt.text)))
			switch {
			case tt.proc == "" && ok:
				t.Fatalf("got %+v, want none", e)
			case tt.proc != "" && (!ok || e.Process != tt.proc || e.Name != model.UpstreamTCP):
				t.Fatalf("got %+v %v, want %s", e, ok, tt.proc)
			}
		})
	}
}

// TestEstablishedStaysClaim: connections that outlive what should have
// ended them, in a ticket whose sockets are all ESTABLISHED.
func TestEstablishedStaysClaim(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"when stop ossecSvc or wazuhSvc service, the tcp connection still cannot be release,", true},
		{"after we kill the process the connections are not closed", true},
		{"the connections are never closed", false},                     // pooling does that: no stop
		{"we stopped the service and the connections went away", false}, // they did go
		{"connections cannot be released", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			if _, ok := establishedStaysClaim(tt.line); ok != tt.want {
				t.Fatalf("got %v, want %v", ok, tt.want)
			}
		})
	}
	if !establishedOnly([]byte("TCP 192.168.0.135:1101 192.168.0.232:1514 ESTABLISHED")) {
		t.Error("an ESTABLISHED-only paste is not seen as such")
	}
	if establishedOnly([]byte("ESTABLISHED 3\nCLOSE_WAIT 40")) {
		t.Error("a paste with CLOSE_WAIT is seen as ESTABLISHED-only")
	}
}

// TestFindEvidenceStated: titles, words without numbers, messages without
// their colon, and what each rests on.
func TestFindEvidenceStated(t *testing.T) {
	type want struct {
		kind    model.EvidenceKind
		message string
		state   string
		many    bool
		title   bool
		where   string
		process string
		side    string
	}
	tests := []struct {
		name, text string
		want       []want
	}{
		{"a message in the title", "Cannot create socket due to too many open files\n\nulimit is 1024, see screenshot\n",
			[]want{{kind: model.EvMessage, message: model.MsgEMFILE, title: true, where: "title t.txt:1"}}},
		{"the same words in the text", "Server down\n\naccept() failed: Too many open files\n",
			[]want{{kind: model.EvMessage, message: model.MsgEMFILE, where: "t.txt:3"}}},
		{"conntrack without its colon", "nf_conntrack table full\n\nmasscan --rate 15000\n",
			[]want{{kind: model.EvMessage, message: model.MsgConntrack, title: true, where: "title t.txt:1"}}},
		{"conntrack with its colon", "Feb 1 10:00:00 fw kernel: nf_conntrack: table full, dropping packet\n",
			[]want{{kind: model.EvMessage, message: model.MsgConntrack, where: "t.txt:1"}}},
		{"a conntrack table that is not full", "we checked: the nf_conntrack table is not full at all\n", nil},
		{"a quantity in the title", "huge amount of TIME_WAIT tcp connections\n\nsee below\n",
			[]want{{kind: model.EvStated, state: "TIME_WAIT", many: true, title: true, where: "title t.txt:1"}}},
		{"not closing, CLOSE_WAIT in the title", "tcp connections in CLOSE_WAIT status\n\nWe see google_auth_proxy not closing connections properly.\n",
			[]want{{kind: model.EvMessage, message: model.MsgCloseWaitGrows, where: "t.txt:3", process: "google_auth_proxy"}}},
		{"not closing, CLOSE_WAIT in the text", "Leak\n\nnginx is not closing upstream connections; they sit in CLOSE_WAIT\n",
			[]want{{kind: model.EvMessage, message: model.MsgCloseWaitGrows, where: "t.txt:3", process: "nginx"}}},
		{"not closing, no CLOSE_WAIT anywhere", "Slow proxy\n\nthe proxy is not closing connections properly\n", nil},
		{"not closing, about TIME_WAIT", "CLOSE_WAIT and TIME_WAIT\n\nthe client is not closing connections, so TIME_WAIT piles up\n", nil},
		{"a side-less count on a loopback service", "url: [::1]:8080/fetch\n$ netstat -na | grep 8080 | grep TIME | wc -l\n1248\n",
			[]want{{kind: model.EvCount, state: "TIME_WAIT", where: "t.txt:3", side: "loopback"}}},
		{"a side-less count elsewhere", "upstream 10.0.0.5:8080\n$ netstat -na | grep 8080 | grep TIME | wc -l\n1248\n",
			[]want{{kind: model.EvCount, state: "TIME_WAIT", where: "t.txt:3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FindEvidence("t.txt", []byte(tt.text), nil)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d pieces of evidence %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if w.message == model.MsgCloseWaitGrows && strings.Contains(tt.text, "CLOSE_WAIT status") && !strings.Contains(g.Text, "[under the title: ") {
					t.Errorf("evidence %d does not quote the title it needs: %q", i, g.Text)
				}
				if g.Kind != w.kind || g.Message != w.message || g.State != w.state || g.Many != w.many || g.Title != w.title ||
					g.Where() != w.where || g.Process != w.process || g.Side != w.side || g.Text == "" {
					t.Errorf("evidence %d = %+v (where %q), want %+v", i, g, g.Where(), w)
				}
			}
		})
	}
}

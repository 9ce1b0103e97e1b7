package ticket

import (
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/parse"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

func TestListenerFacts(t *testing.T) {
	type fact struct {
		name string
		n    int64
		port int
	}
	b, q := model.ListenBacklog, model.ListenAcceptQueue
	tests := []struct {
		line string
		want []fact
	}{
		{"The default backlog in syscall listen(2) is 50. This is too small.", []fact{{b, 50, 0}}},
		{"nginx runs with backlog 511 on port 443", []fact{{b, 511, 443}}},
		{"listen 80 backlog=4096;", []fact{{b, 4096, 0}}},
		{"the listen backlog of **128** is the default", []fact{{b, 128, 0}}},
		{"`app.listen(PORT)` with no backlog argument caps the kernel accept queue at Node's default **511**", []fact{{b, 511, 0}}},
		{"The listen socket's accept queue pegs at ~512 while the event loop idles", []fact{{q, 512, 0}}},
		{"i try lookup in `netstat/ss` Recv-Q are 129 and all connection would be slow", []fact{{q, 129, 0}}},
		{"ss -ltn shows Recv-Q 37 on the listener for port 8080", []fact{{q, 37, 8080}}},
		// Not facts about a listener's queue:
		{"Recv-Q is 3412 on the client connection", nil},  // bytes on a connection
		{"we should raise the backlog to 4096", nil},      // advice
		{"I would set the backlog = 1024 next time", nil}, // advice
		{"net.ipv4.tcp_max_syn_backlog = 8192", nil},      // the SYN queue's setting
		{"the SYN backlog is 1024", nil},                  // another queue
		{"our backlog of tickets is 50 items long", nil},  // another kind of backlog
		{"there is a backlog in the accept queue", nil},   // no number
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got := listenerFacts(tt.line)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i, w := range tt.want {
				if got[i].Name != w.name || got[i].N != w.n || got[i].Port != w.port || got[i].Kind != model.EvStated {
					t.Errorf("fact %d = %+v, want %+v", i, got[i], w)
				}
			}
		})
	}
}

func TestSettingsInWords(t *testing.T) {
	tests := []struct {
		line       string
		name, want string
	}{
		{"regardless of the VM's `somaxconn` (4096 on Fly)", "net.core.somaxconn", "4096"},
		{"net.core.somaxconn = 128 on the old kernel", "net.core.somaxconn", "128"},
		{"nf_conntrack_max is 262144", "net.netfilter.nf_conntrack_max", "262144"},
		{"fs.file-max: 51200", "fs.file-max", "51200"},
		{"raise somaxconn to 4096", "", ""},         // advice, and "to" is a target
		{"you should set somaxconn = 4096", "", ""}, // advice
		{"somaxconn matters here", "", ""},          // no value
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got := settingsInWords(tt.line)
			if tt.name == "" {
				if len(got) != 0 {
					t.Fatalf("got %+v, want nothing", got)
				}
				return
			}
			if len(got) != 1 || got[0].Name != tt.name || got[0].Value != tt.want || got[0].Kind != model.EvSetting {
				t.Fatalf("got %+v, want %s = %s", got, tt.name, tt.want)
			}
		})
	}
}

func TestFindEvidenceWords(t *testing.T) {
	tests := []struct {
		name, text string
		want       []model.Evidence // Kind, Message, Name, N compared
	}{
		{"conntrack drops in words", "During load testing seeing lots of nf_conntrack dropped packets which manifest as 503s",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgConntrack}}},
		{"conntrack table full in words", "the conntrack table was full again at noon",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgConntrack}}},
		{"a link's title is no message", "http://example.net/resolving-nf_conntrack-table-full-dropping-packet-flood/", nil},
		{"a conntrack question is no message", "how do I stop nf_conntrack dropping packets?", nil},
		{"proc alias", "$ cat /proc/sys/net/nf_conntrack_max\n262144\n",
			[]model.Evidence{{Kind: model.EvSetting, Name: "net.netfilter.nf_conntrack_max"}}},
		{"FIN_WAIT2 permanently", "this results in connections _permanently_ (not temporarily) in FIN_WAIT2 (netstat -nop):",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgFinWait2Stays}}},
		{"FIN_WAIT2 stays for hours", "sockets in FIN-WAIT-2 stay for hours after the test",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgFinWait2Stays}}},
		{"FIN_WAIT2 that goes away is not reported", "a few FIN_WAIT2 that time out after a minute", nil},
		{"ESTABLISHED forever after closing", "lots of sockets are not closed and stay in ESTABLISHED status forever.",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgEstablishedStays}}},
		{"ESTABLISHED forever is what pools do", "our pool keeps connections ESTABLISHED forever, which is fine", nil},
		{"CLOSE_WAIT until a restart", "the connections are in CLOSE_WAIT state. My program sleeps in read. Only after i terminate and restart my program, they go back to ESTABLISHED.",
			[]model.Evidence{{Kind: model.EvMessage, Message: model.MsgCloseWaitGrows}}},
		{"a backlog in words", "The default backlog in syscall listen(2) is 50.",
			[]model.Evidence{{Kind: model.EvStated, Name: model.ListenBacklog, N: 50}}},
		{"a backlog in a question is no fact", "Is the backlog of 50 too small?", nil},
		{"themed prompt", "~ ❯ ulimit -Sn\n1024\n", []model.Evidence{{Kind: model.EvSetting, Name: "ulimit -Sn"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FindEvidence("t.txt", []byte(tt.text), nil)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d pieces of evidence %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Kind != w.Kind || g.Message != w.Message || g.Name != w.Name || g.N != w.N {
					t.Errorf("evidence %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestThemedPrompts(t *testing.T) {
	for line, want := range map[string]string{
		"~ ❯ ulimit -Hn":                  "ulimit -Hn",
		"❯ ss -tanp":                      "ss -tanp",
		"~/src/app ❯ netstat -ant":        "netstat -ant",
		"➜  ~ ss -s":                      "ss -s",
		"➜  app git:(main) ✗ lsof -i :80": "lsof -i :80",
		"a ❯ in prose ❯ is":               "",
		"1 ❯ 2":                           "",
	} {
		cmd, _, ok := PromptCommand(line)
		if ok != (want != "") || cmd != want {
			t.Errorf("PromptCommand(%q) = %q, %v; want %q", line, cmd, ok, want)
		}
	}
}

func TestAboutTCPWords(t *testing.T) {
	for text, want := range map[string]bool{
		"I forwarded ports 80 and 443. Today two IPs were connected to port 443 idling.": true,
		"Is this a port scan of my sockets?":                                             true,
		"My printer stopped working after the update.":                                   false,
		"Open port 8080 in your browser.":                                                false,
		// nscp#706 and verdaccio#3458: a held port, a connection kept open.
		"Port Is not getting released after stopping nscp service. The port is still being used, even through the service is not active.": true,
		"Connection to registry.npmjs.org not closed after fetching package. verdaccio keeps connection to registry.npmjs.org open":       true,
		"The connection pool is not closed properly in the docs example.":                                                                 false,
	} {
		if got := AboutTCP([]byte(text)); got != want {
			t.Errorf("AboutTCP(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestNeedsExtractionProse(t *testing.T) {
	listing := []string{
		"Active Internet connections (servers and established)",
		"Proto Recv-Q Send-Q Local Address           Foreign Address         State",
		"tcp        0      0 10.0.0.1:80             10.0.0.2:51234          ESTABLISHED",
	}
	best := &parse.Detection{Score: 95}
	if NeedsExtraction(listing, best) {
		t.Error("a clean netstat listing with its title went to the splitter")
	}
	ticket := append([]string{"Hi, I love using node and it mostly works well.", "Sometimes the client does not respond well to the close."}, listing[1:]...)
	if !NeedsExtraction(ticket, best) {
		t.Error("sentences above a listing did not make it a ticket")
	}
}

func TestStallFacts(t *testing.T) {
	tests := []struct {
		line string
		want int64 // 0: none
	}{
		{"There is no error on accepting a socket, it's simply hangs for a while after the first (roughly) 16000, waiting -- I assume -- for the OS to release a socket.", 16000},
		{"the load test stalls after about 28,000 connections", 28000},
		{"After 16384 requests the client hangs for 15 seconds", 16384},
		{"connect() fails after ~32000 new connections", 32000},
		{"it times out after roughly 28231 requests", 28231},
		{"After 28225 successful connections the following errors show up in the logs:", 28225},
		{"max connections limited to 28225 - connection failed due to eaddrinuse", 28225},
		{"the clients are capped at 16,384 on the Mac", 16384},
		// Not a ceiling of connections:
		{"it hangs after 30 seconds", 0},                     // a time, and too small
		{"after 2019 the service was moved", 0},              // no stall
		{"The server hangs. After 16000 we restarted it", 0}, // another sentence
		{"it stopped after 5000 ms", 0},                      // no stall verb before, no connections after
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got := stallFacts(tt.line, false)
			switch {
			case tt.want == 0 && len(got) > 0:
				t.Fatalf("got %+v, want none", got)
			case tt.want > 0 && (len(got) != 1 || got[0].N != tt.want || got[0].Name != model.StallAfter):
				t.Fatalf("got %+v, want %d", got, tt.want)
			}
		})
	}
}

// TestStallUnderTitle: a title that says it hangs after many requests
// lets the text's "after about N requests" give the count.
func TestStallUnderTitle(t *testing.T) {
	title := "'ab' program freezes after lots of requests, why?"
	line := "After about 13500 requests, system CPU usage drops to 0%."
	if !StallTitle(title) {
		t.Fatalf("StallTitle(%q) = false", title)
	}
	if got := stallFacts(line, true); len(got) != 1 || got[0].N != 13500 {
		t.Fatalf("under the title: got %+v, want 13500", got)
	}
	if got := stallFacts(line, false); len(got) != 0 {
		t.Fatalf("without the title: got %+v, want none", got)
	}
	if StallTitle("Lots and lots of time_wait connections") {
		t.Error("a title without a stall says one")
	}
}

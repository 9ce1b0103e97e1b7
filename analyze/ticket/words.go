package ticket

import (
	"strconv"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// Facts in the reporter's words that no listing shows: a listener's
// backlog and accept queue ("the default backlog in listen(2) is 50",
// "Recv-Q are 129", "caps the accept queue at 511"), and settings
// stated in a sentence ("somaxconn (4096 on Fly)", "nf_conntrack_max is
// 262144"). Each needs its number next to its name; a suggestion ("raise
// the backlog to 4096", "set somaxconn=4096") is no fact.

var (
	// markupRE drops markdown emphasis and code marks around words and
	// numbers, and man-page sections ("listen(2)") whose digit is no value.
	markupRE  = lazyRegexp("\\*\\*|`|\\b(\\w+)\\(\\d\\)")
	valueLead = `\s*(?:\bis\b|\bwas\b|\bare\b|\bwere\b|==?|:|\bof\b|\bat\b|\()?\s*(?:only\s+|just\s+|about\s+|around\s+|~\s*)?(\d{1,7})\b`
	// "backlog of 50", "backlog 511", "backlog=511", "the default backlog
	// in syscall listen is 50", "listen backlog (somaxconn) is 128".
	backlogRE = lazyRegexp(`(?i)\b(?:listen(?:ing)?\s+)?backlog\b(?:\s+(?:argument|parameter|value|size|setting|limit))?(?:\s+(?:in|of|for|on)\s+(?:\S+\s+){0,2}?\S+?)??` + valueLead)
	// "caps the kernel accept queue at Node's default 511".
	capRE = lazyRegexp(`(?i)\b(?:caps?|capped|capping|limits?|limited|bounds?|bounded)\s+(?:the\s+)?(?:kernel(?:'s)?\s+|listen(?:er's)?\s+|socket's\s+)?(?:accept\s+queue|listen\s+queue|backlog)\s+(?:at|to)\s+(?:[A-Za-z][\w'.]*\s+){0,3}?(\d{1,7})\b`)
	// "Recv-Q are 129", "Recv-Q of 4097 on the listener".
	recvQRE = lazyRegexp(`(?i)\bRecv-?Q\b(?:\s+(?:column|value|field))?` + valueLead)
	// "the accept queue pegs at ~512", "accept queue is full at 129".
	acceptQRE    = lazyRegexp(`(?i)\baccept[- ]?queue\b\s+(?:\w+\s+){0,1}?(?:pegs|pegged|sits|sat|stays|stayed|stuck|is|was|reaches|reached|hits|hit|holds|held|full)\s+(?:full\s+)?(?:at\s+|of\s+)?(?:~\s*|about\s+|around\s+)?(\d{1,7})\b`)
	listenCtxRE  = lazyRegexp(`(?i)\b(listen(?:er|ing)?|LISTEN|accept(?:\(\)|ed|ing)?|backlog)\b`)
	socketCtxRE  = lazyRegexp(`(?i)\b(listen\w*|accept\w*|sockets?|somaxconn|queue|connections?|server|port|SYN)\b`)
	otherQueueRE = lazyRegexp(`(?i)\b(syn|netdev|receive|rx)[\s_-]*$`)
	portWordRE   = lazyRegexp(`(?i)\bport\s+(\d{2,5})\b`)
	// A suggestion or a change, not a fact about the host.
	adviceRE = lazyRegexp(`(?i)\b(set|setting|raise|raising|increase|increasing|bump|change|changing|recommend\w*|suggest\w*|should|could|would|make it|configure|configurable)\b[^.]{0,40}$`)
)

// commonBacklogs are the backlogs programs and kernels default to: a
// listener's Recv-Q one above one of them is the signature of a full
// accept queue (Linux shows a full queue as backlog+1).
var commonBacklogs = map[int64]bool{5: true, 50: true, 100: true, 128: true, 200: true, 244: true, 256: true, 511: true, 1024: true, 2048: true, 4096: true, 8192: true, 65535: true}

// listenerFacts reads a listener's backlog and accept queue from a
// sentence.
func listenerFacts(line string) []model.Evidence {
	l := markupRE.ReplaceAllString(line, "$1")
	var out []model.Evidence
	port := 0
	if m := portWordRE.FindStringSubmatch(l); m != nil {
		port, _ = strconv.Atoi(m[1])
	}
	fact := func(name string, re *lazyRE, ok func(n int64, before string) bool) {
		for _, ix := range re.FindAllStringSubmatchIndex(l, -1) {
			n, err := strconv.ParseInt(l[ix[2]:ix[3]], 10, 64)
			before := tail(l[:ix[0]], 96) // the words just before: see tail
			if err != nil || n == 0 || adviceRE.MatchString(before) || (ok != nil && !ok(n, before)) {
				continue
			}
			out = append(out, model.Evidence{Kind: model.EvStated, Name: name, N: n, Port: port})
			return
		}
	}
	if socketCtxRE.MatchString(l) { // a backlog of tickets is no listener's
		fact(model.ListenBacklog, backlogRE, func(_ int64, before string) bool {
			return !otherQueueRE.MatchString(before) // the SYN backlog is another queue
		})
	}
	if len(out) == 0 {
		fact(model.ListenBacklog, capRE, nil)
	}
	fact(model.ListenAcceptQueue, acceptQRE, nil)
	if len(out) == 0 || out[len(out)-1].Name != model.ListenAcceptQueue {
		// A Recv-Q is a listener's only where the sentence says so, or
		// where it is one above a common backlog (129, 513, 4097).
		fact(model.ListenAcceptQueue, recvQRE, func(n int64, _ string) bool {
			return commonBacklogs[n-1] || listenCtxRE.MatchString(l)
		})
	}
	return out
}

var (
	stallNum = `\(?(?:roughly|about|around|approximately|approx\.?|some|~)?\)?\s*(?:roughly|about|around|approximately|some|~)?\s*(\d{1,3}(?:,\d{3})+|\d{4,6})\b`
	// "hangs for a while after the first (roughly) 16000", "stalls after
	// about 28,000 connections", "fails after ~16k requests"
	stallAfterRE = lazyRegexp(`(?i)\b(?:hang(?:s|ed|ing)?|hung|stall(?:s|ed|ing)?|freez(?:es|ing)|froze|block(?:s|ed)|stuck|time[sd]? out|timing out|fail(?:s|ed|ing)?|stop(?:s|ped)? (?:working|accepting|connecting))\b[^.;]{0,40}?\bafter (?:the first |about |around |roughly )?` + stallNum + `(?:\s*(?:connections|requests|sockets|conns))?`)
	// "after (about) 16,000 connections it hangs"
	afterStallRE = lazyRegexp(`(?i)\bafter ` + stallNum + `\s+(?:new\s+|short\s+|tcp\s+|outgoing\s+|successful\s+)?(?:connections|requests|sockets|conns)\b[^.;]{0,40}?\b(?:hang(?:s|ed)?|hung|stall(?:s|ed)?|freez(?:es)?|froze|block(?:s|ed)|stuck|time[sd]? out|fail(?:s|ed)?|errors?\s+(?:show up|shows up|appear|occur|start))\b`)
	// "max connections limited to 28225", "connections are capped at 16384"
	limitedRE = lazyRegexp(`(?i)\b(?:max(?:imum)?\s+)?(?:connections|clients|sockets|conns)\s+(?:is\s+|are\s+)?(?:limited|capped|topping out)\s+(?:to|at)\s+` + stallNum)
)

// StallTitle reports whether a ticket's title says that something hangs
// or fails after a number of connections it does not give.
func StallTitle(title string) bool { return stallTitleRE.MatchString(title) }

var (
	stallTitleRE = lazyRegexp(`(?i)\b(?:hang(?:s|ing)?|hung|freez(?:es|ing)?|froze|stall(?:s|ing)?|block(?:s|ing)?|stuck|fail(?:s|ing)?|stops?)\b.{0,30}\bafter\s+(?:lots of|many|thousands of|a (?:lot|number) of|some|a few thousand)\s+(?:requests|connections|sockets)\b`)
	afterCountRE = lazyRegexp(`(?i)\bafter ` + stallNum + `\s+(?:new\s+|short\s+|tcp\s+|outgoing\s+|successful\s+)?(?:connections|requests|sockets|conns)\b`)
)

// unitAfterRE is a unit after a number: a time or a size, not a count
// of connections ("after 30000 ms").
var unitAfterRE = lazyRegexp(`(?i)^\s*(?:ms|msec|milliseconds?|s|secs?|seconds?|min|minutes?|h|hours?|[kmg]i?b|bytes?|rows?|lines?)\b`)

// stallFacts reads the number of connections after which, the sentence
// says, new ones hang or fail (model.StallAfter).
//
// Under a title that already says new connections hang after many
// ("'ab' program freezes after lots of requests"), "after about 13500
// requests" is the count, whatever the sentence goes on to say.
func stallFacts(line string, titleStalls bool) []model.Evidence {
	l := markupRE.ReplaceAllString(line, "$1")
	res := []*lazyRE{stallAfterRE, afterStallRE, limitedRE}
	if titleStalls {
		res = append(res, afterCountRE)
	}
	for _, re := range res {
		if ix := re.FindStringSubmatchIndex(l); ix != nil {
			n, err := strconv.ParseInt(strings.ReplaceAll(l[ix[2]:ix[3]], ",", ""), 10, 64)
			if err == nil && n >= 1000 && !unitAfterRE.MatchString(l[ix[3]:]) {
				return []model.Evidence{{Kind: model.EvStated, Name: model.StallAfter, N: n}}
			}
		}
	}
	return nil
}

// settingWords maps the names people write in sentences to sysctl names.
var settingWords = map[string]string{
	"somaxconn":           "net.core.somaxconn",
	"tcp_max_syn_backlog": "net.ipv4.tcp_max_syn_backlog",
	"nf_conntrack_max":    "net.netfilter.nf_conntrack_max",
	"nf_conntrack_count":  "net.netfilter.nf_conntrack_count",
	"tcp_max_tw_buckets":  "net.ipv4.tcp_max_tw_buckets",
	"tcp_max_orphans":     "net.ipv4.tcp_max_orphans",
	"file-max":            "fs.file-max",
}

var settingWordRE = lazyRegexp(`(?i)\b((?:net\.(?:core|ipv4|netfilter)\.|net\.|fs\.)?(somaxconn|tcp_max_syn_backlog|nf_conntrack_max|nf_conntrack_count|tcp_max_tw_buckets|tcp_max_orphans|file-max))\b` + valueLead)

// settingsInWords reads settings a sentence states with their value.
func settingsInWords(line string) []model.Evidence {
	l := markupRE.ReplaceAllString(line, "$1")
	var out []model.Evidence
	seen := map[string]bool{}
	for _, ix := range settingWordRE.FindAllStringSubmatchIndex(l, -1) {
		name := settingWords[strings.ToLower(l[ix[4]:ix[5]])]
		if name == "" || seen[name] || adviceRE.MatchString(tail(l[:ix[0]], 96)) {
			continue
		}
		seen[name] = true
		out = append(out, model.Evidence{Kind: model.EvSetting, Name: name, Value: l[ix[6]:ix[7]]})
	}
	return out
}

// sysctlAliases are /proc/sys paths that name a setting under another
// name: /proc/sys/net/nf_conntrack_max is net.netfilter.nf_conntrack_max.
var sysctlAliases = map[string]string{
	"net.nf_conntrack_max": "net.netfilter.nf_conntrack_max",
}

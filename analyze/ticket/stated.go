package ticket

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// The reporter's words beyond numbers: a ticket's title, quantities
// without a number ("a lot of TIME_WAIT"), rates ("750reqs/sec"), and
// "X is not closing connections" under a ticket about CLOSE_WAIT. Each is
// evidence with its line; none makes up a number.

// maxTitle bounds a title's length: an issue tracker's or a mail
// subject's, not a paragraph.
const maxTitle = 160

var (
	// Log lines are what the system printed, not a title: a time, a
	// dmesg stamp, "program[pid]: message", "program: message".
	logLineRE = lazyRegexp(`^\[\s*\d+\.\d+\]|^\d{4}[-/]\d{2}[-/]\d{2}|^[a-z_][\w./-]*(?:\[\d+\])?:\s|^[\w./-]+\[\d+\]:|^[A-Z0-9_]+:\s|^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d`)
	// "# Title" is a document's title; "## Section" and "### Describe
	// the bug" (an issue template's) are headings inside the text.
	headingRE   = lazyRegexp(`^#\s+`)
	subjectRE   = lazyRegexp(`^(?i)(?:subject|title|re|fwd?):\s+`)
	titleWordRE = lazyRegexp(`[A-Za-z\p{Han}]{2,}`)
	// The first line of a text that has no title: a sentence or more of
	// it ("Overnight the production tomcat stopped ... system\"."), a
	// greeting, a mention, a link or a code span.
	sentencesRE = lazyRegexp(`[.!?]["')]?\s+[A-Z]`)
	greetingRE  = lazyRegexp(`(?i)^(?:hello|hi|hey|dear|greetings|good (?:morning|afternoon|evening)|thanks?)\b`)
)

// TitleLine returns the ticket's title: its first line when that line
// stands alone above the text (a blank line follows, more text after
// it), is short, and is neither a command, a listing row, a log line, a
// fence, a table, the colon that introduces a paste, a sentence ending
// in a full stop, several sentences, a greeting, a mention, a link nor a
// section heading ("## ...", an issue template's "### ..."). Issue trackers,
// forums and mails put the reporter's one-line summary there ("huge
// amount of TIME_WAIT tcp connections on windows"); a support engineer
// reads it first, and weighs it below the text. "# " (a markdown
// heading) and "Subject: " are dropped.
func TitleLine(text []byte) string {
	lines := textLines(text)
	if !hasTitle(lines) {
		return ""
	}
	return titleText(lines[0])
}

func titleText(l string) string {
	t := strings.TrimSpace(l)
	t = headingRE.ReplaceAllString(t, "")
	return subjectRE.ReplaceAllString(t, "")
}

func hasTitle(lines []string) bool {
	if len(lines) < 3 || strings.TrimSpace(lines[1]) != "" {
		return false
	}
	more := false
	for _, l := range lines[2:] {
		if strings.TrimSpace(l) != "" {
			more = true
			break
		}
	}
	raw := strings.TrimRight(lines[0], " \t\r")
	if !more || raw == "" || raw != strings.TrimLeft(raw, " \t") || utf8.RuneCountInString(raw) > maxTitle {
		return false
	}
	if _, _, ok := PromptCommand(raw); ok {
		return false
	}
	if strings.HasPrefix(raw, "##") {
		return false
	}
	t := titleText(raw)
	switch {
	case t == "", strings.HasPrefix(t, ">"), strings.HasPrefix(t, "|"), strings.HasPrefix(t, "- "), strings.HasPrefix(t, "* "),
		strings.HasPrefix(t, "@"), strings.HasPrefix(t, "`"), strings.HasPrefix(t, "_"), strings.Contains(t, "]("),
		strings.HasSuffix(t, "."), strings.HasSuffix(t, "!"), sentencesRE.MatchString(t), greetingRE.MatchString(t),
		fenceRE.MatchString(t), bareCmdRE.MatchString(t), isRowLike(timeRE.ReplaceAllString(t, " ")),
		timeRE.MatchString(t), logLineRE.MatchString(t), strings.HasSuffix(t, ":"), strings.HasSuffix(t, ","):
		return false
	}
	return len(titleWordRE.FindAllStringIndex(t, 2)) >= 2 || strings.ContainsFunc(t, func(r rune) bool { return r >= 0x3000 })
}

var (
	quantityAlt = `(?:a\s+(?:lot|ton|bunch|heap)\s+of|lots\s+(?:and\s+lots\s+)?of|lot'?s\s+of|tons\s+of|loads\s+of|plenty\s+of|` +
		`(?:so\s+|too\s+|very\s+|way\s+too\s+|really\s+)?many|numerous|countless|` +
		`(?:an?\s+)?(?:huge|large|big|great|high|massive|enormous|important|significant|insane|crazy)\s+(?:amount|number|count|quantity)s?\s+of)`
	manyRE = lazyRegexp(`(?i)(?:^|[^\w'])(` + quantityAlt + `)\s+` + filler + stateAlt + `\b`)
	// "not many", "no huge amount of", "how many", "without many": no
	// claim, or a question.
	notManyRE = lazyRegexp(`(?i)\b(?:not|no|without|how|never|n't|hardly|barely)\s*$`)
	// Quotes around words go; an apostrophe inside one ("Lot's") stays.
	quotesRE = lazyRegexp("[`\"“”‘’*]+|\\B'|'\\B")
)

// manyClaims finds quantities stated without a number: "a lot of
// TIME_WAIT connections", "huge amount of TIME_WAIT", "Lot's of sockets
// in CLOSE-WAIT". Each is evidence that the reporter sees many sockets
// in the state, with N 0: no number is invented.
func manyClaims(line string) []model.Evidence {
	l := quotesRE.ReplaceAllString(markupRE.ReplaceAllString(line, "$1"), "")
	var out []model.Evidence
	seen := map[string]bool{}
	for _, ix := range manyRE.FindAllStringSubmatchIndex(l, -1) {
		if notManyRE.MatchString(tail(l[:ix[2]], 64)) {
			continue
		}
		st, ok := stateOfWords(l[ix[4]:ix[5]])
		if !ok || seen[st.String()] {
			continue
		}
		seen[st.String()] = true
		// Value keeps the words themselves: a clipped line may hide them.
		out = append(out, model.Evidence{Kind: model.EvStated, State: st.String(), Many: true, Value: strings.TrimSpace(l[ix[2]:ix[1]])})
	}
	return out
}

var (
	num       = `(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(k)?`
	rateLead  = `(?i)(?:^|[^\w.,])(over|more than|above|about|around|approx(?:imately)?\.?|~|up to|at most|only)?\s*`
	rateRE    = lazyRegexp(rateLead + num + `\s*(req(?:uest)?s?|hits?|calls?|queries|connections?|conns?|new connections?)\s*(?:/|per\s+|a\s+)\s*(?:s|sec|secs|second)\b`)
	rateAbbRE = lazyRegexp(rateLead + num + `\s*(qps|rps|tps|cps|req/s|conn/s)\b`)
	rateFstRE = lazyRegexp(`(?i)\b(qps|rps|cps)\s*[:=]?\s*(\d+(?:\.\d+)?)\b`)
	notMoreRE = lazyRegexp(`(?i)\b(?:not|n't|never|no)\b[^.]{0,30}$`)
	// "maxes out at", "tops out at", "is capped at", "stuck at": the rate
	// that follows is a ceiling.
	ceilingRE = lazyRegexp(`(?i)\b(?:max(?:es|ed)? out|tops? out|topped out|capped|stuck|plateau(?:s|ed)?|saturates?|saturated|limited)\s+(?:at|to)?\s*$`)
	// A sentence that says the host forwards to upstreams over TCP.
	upstreamRE = lazyRegexp(`(?i)\b(?:in front of|upstreams?|backends?|proxy_pass|fastcgi_pass|uwsgi_pass|reverse[- ]prox(?:y|ies))\b`)
	overTCPRE  = lazyRegexp(`(?i)\bTCP\b|\b\d{1,3}(?:\.\d{1,3}){3}:\d{2,5}\b|\blocalhost:\d{2,5}\b`)
	unixSockRE = lazyRegexp(`(?i)\bunix(?: domain)? sockets?\b|\bunix:/`)
	proxyRE    = lazyRegexp(`(?i)\b(nginx|haproxy|envoy|traefik|varnish|squid|caddy|apache2?|httpd)\b`)
)

// upstreamProxy returns the proxy a text names ("nginx"), read once per
// text; "" when it names none, or speaks of unix sockets, which take no
// ports.
func upstreamProxy(text []byte) string {
	if unixSockRE.Match(text) {
		return ""
	}
	if m := proxyRE.FindSubmatch(text); m != nil {
		return strings.ToLower(string(m[1]))
	}
	return ""
}

// upstreamClaim reads a sentence that says the host forwards to upstreams
// over TCP, in a text whose proxy is proxy (upstreamProxy; "" for none):
// model.UpstreamTCP.
func upstreamClaim(line, proxy string) (model.Evidence, bool) {
	if proxy == "" || !upstreamRE.MatchString(line) || !overTCPRE.MatchString(line) {
		return model.Evidence{}, false
	}
	return model.Evidence{Kind: model.EvStated, Name: model.UpstreamTCP, Process: proxy}, true
}

// statedRates finds rates per second in the reporter's words or a
// tool's summary: "1000reqs/second", "750 req/s", "2000 connections per
// second", "397.5 qps", "qps 400". Times ("750 ms") and sizes are no
// rates.
func statedRates(line string) []model.Evidence {
	var out []model.Evidence
	add := func(lead, n, k, unit string, before string) {
		v, err := strconv.ParseFloat(strings.ReplaceAll(n, ",", ""), 64)
		if err != nil || v <= 0 {
			return
		}
		if k != "" {
			v *= 1000
		}
		u := "requests"
		switch strings.ToLower(unit) {
		case "cps", "conn/s":
			u = "connections"
		default:
			if strings.HasPrefix(strings.ToLower(unit), "conn") || strings.Contains(strings.ToLower(unit), "connection") {
				u = "connections"
			}
		}
		lead = strings.ToLower(lead)
		// "could not serve more than 750reqs/sec" is a ceiling, not a
		// lower bound.
		more := lead == "over" || lead == "more than" || lead == "above"
		at := more && !notMoreRE.MatchString(tail(before, 64))
		e := model.Evidence{Kind: model.EvStated, Rate: v, Unit: u, AtLeast: at}
		if more && !at || lead == "at most" || ceilingRE.MatchString(tail(before, 64)) {
			e.Name = model.RateCeiling
		}
		out = append(out, e)
	}
	for _, m := range rateRE.FindAllStringSubmatchIndex(line, -1) {
		add(sub(line, m, 1), sub(line, m, 2), sub(line, m, 3), sub(line, m, 4), line[:m[0]])
	}
	if len(out) == 0 {
		for _, m := range rateAbbRE.FindAllStringSubmatchIndex(line, -1) {
			add(sub(line, m, 1), sub(line, m, 2), sub(line, m, 3), sub(line, m, 4), line[:m[0]])
		}
	}
	if len(out) == 0 {
		for _, m := range rateFstRE.FindAllStringSubmatch(line, -1) {
			add("", m[2], "", m[1], "")
		}
	}
	return out
}

func sub(s string, m []int, i int) string {
	if m[2*i] < 0 {
		return ""
	}
	return s[m[2*i]:m[2*i+1]]
}

var (
	// "the google_auth_proxy not closing connections properly", "our
	// service does not close its sockets", "nginx isn't closing
	// upstream connections".
	notClosingRE = lazyRegexp(`(?i)\b([a-z][\w.-]{1,40})\s+(?:is\s+|are\s+|was\s+|were\s+)?(?:not|never|doesn't|does not|don't|do not|isn't|aren't|wasn't|won't|didn't|did not)\s+(?:properly\s+|correctly\s+)?(?:clos(?:e|es|ing)|releas(?:e|es|ing)|free(?:s|ing)?)\s+(?:its\s+|the\s+|their\s+|his\s+|our\s+|all\s+)?(?:tcp\s+|upstream\s+|client\s+|idle\s+|proxied\s+|backend\s+)?(?:connections?|sockets?)\b`)
	// A compound name is a program's ("google_auth_proxy",
	// "wazuh-modulesd", "kube-proxy"); plain words ("server", "app")
	// name none.
	compoundNameRE = lazyRegexp(`^[a-z][a-z0-9]*(?:[_.-][a-z0-9]+)+$`)
	knownProgramRE = lazyRegexp(`^(?:nginx|haproxy|java|node|python\d?|php-fpm|httpd|apache2?|postgres|mysqld|redis-server|envoy|gunicorn|uwsgi|squid|memcached|mongod|varnishd|tomcat|dotnet|ruby|puma|unicorn|traefik|caddy)$`)
	closeWaitRE    = lazyRegexp(`(?i)\bCLOSE[_ -]?WAIT\b|\bCloseWait\b`)
	otherStateRE   = lazyRegexp(`(?i)\b(TIME[_ -]?WAIT|FIN[_ -]?WAIT\S*|LAST[_ -]?ACK|SYN[_ -]?SENT)\b`)
)

// notClosingClaim reads "X is not closing connections" in a ticket that
// names CLOSE_WAIT: the reporter says the program leaves the sockets its
// peers closed — CLOSE_WAIT, which only the program ends. It is the
// CLOSE_WAIT_GROWS message of the line (the claim is the text's; the
// title, when only it says CLOSE_WAIT, names the state and is quoted in
// the evidence's text), with X as its process when X is a program's
// name.
func notClosingClaim(line string, closeWaitInText, closeWaitInTitle bool) (e model.Evidence, withTitle bool, ok bool) {
	if !closeWaitInText && !closeWaitInTitle || otherStateRE.MatchString(line) {
		return model.Evidence{}, false, false
	}
	m := notClosingRE.FindStringSubmatch(markupRE.ReplaceAllString(line, "$1"))
	if m == nil {
		return model.Evidence{}, false, false
	}
	e = model.Evidence{Kind: model.EvMessage, Message: model.MsgCloseWaitGrows}
	if p := strings.ToLower(strings.Trim(m[1], ".-")); compoundNameRE.MatchString(p) || knownProgramRE.MatchString(p) {
		e.Process = p
	}
	return e, !closeWaitInText, true
}

var (
	// "the tcp connection still cannot be released", "connections are
	// never closed": a claim that connections outlive what should end
	// them; stopRE, on the same line, says what should have.
	staysClaimRE = lazyRegexp(`(?i)\bconnections?\b.{0,40}?\b(?:still\s+)?(?:cannot|can not|can't|could not|couldn't|won't|will not|never|do not|don't|does not|doesn't|are not|aren't|is not|isn't)\s+(?:be\s+|get\s+)?(?:releas(?:e|ed)|closed?|freed|go(?:ne)? away|disappear(?:ed)?)\b`)
	stopRE       = lazyRegexp(`(?i)\b(?:stop(?:s|ped|ping)?|kill(?:s|ed|ing)?|exit(?:s|ed)?|shut ?down|terminat\w+|crash\w*|uninstall\w*)\b`)
	estRE        = lazyRegexp(`(?i)\bESTABLISHED\b`)
)

// establishedOnly reports whether a text speaks of ESTABLISHED sockets
// and of no other state (its rows or its words): what its claims that
// connections stay are about.
func establishedOnly(text []byte) bool {
	return estRE.Match(text) && !closeWaitRE.Match(text) && !otherStateRE.Match(text) && !synRE.Match(text)
}

var synRE = lazyRegexp(`(?i)\bSYN[_ -]?(?:RECV|RECEIVED|RCVD)\b|\bLISTEN(?:ING)?\b`)

// establishedStaysClaim reads "when I stop the service, the tcp
// connection still cannot be released" in a ticket whose sockets are all
// ESTABLISHED: connections that outlive the program that should end them
// — peers or owners gone, nothing detecting it. A claim without the
// stop is what pooled connections do, and no report.
func establishedStaysClaim(line string) (model.Evidence, bool) {
	if !staysClaimRE.MatchString(line) || !stopRE.MatchString(line) {
		return model.Evidence{}, false
	}
	return model.Evidence{Kind: model.EvMessage, Message: model.MsgEstablishedStays}, true
}

var loopbackEndpointRE = lazyRegexp(`(?i)(?:\[::1\]|\blocalhost|\b127\.\d{1,3}\.\d{1,3}\.\d{1,3}):(\d{1,5})\b`)

// loopbackEndpoint returns the endpoint by which the ticket shows the
// port as a service of this host reached over loopback ("[::1]:8080",
// "localhost:8080", "127.0.0.1:8080"), "" when it shows none.
func loopbackEndpoint(text string, port int) string {
	for _, m := range loopbackEndpointRE.FindAllStringSubmatch(text, -1) {
		if n, _ := strconv.Atoi(m[1]); n == port {
			return m[0]
		}
	}
	return ""
}

package ticket

import (
	"strconv"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// FindEvidence reads a ticket for what it states outside its socket
// tables: the counts shell pipelines printed, error and kernel messages,
// counter lines, settings and the reporter's own numbers. skip marks the
// lines (1-based) that belong to listings already parsed; no evidence is
// taken from them. Nothing is guessed: a number is taken only where the
// text gives it.
func FindEvidence(path string, text []byte, skip func(line int) bool) []model.Evidence {
	lines := textLines(text)
	var out []model.Evidence
	// The title is the reporter's summary: its evidence is marked, and
	// weighs below the text's (see model.Evidence.Title).
	title := hasTitle(lines)
	add := func(e model.Evidence, i int) {
		e.Path, e.Line, e.Text = path, i+1, model.Clip(strings.TrimSpace(lines[i]))
		if title && i == 0 {
			e.Title, e.Text = true, model.Clip(titleText(lines[0]))
		}
		out = append(out, e)
	}
	estOnly := establishedOnly(text)
	titleStalls := title && StallTitle(lines[0])
	upstreamSeen := false
	proxy, proxyRead := "", false // upstreamProxy(text), read at the first line that needs it
	cwTitle := title && closeWaitRE.MatchString(lines[0])
	cwText := false
	for i, l := range lines {
		if (i > 0 || !title) && closeWaitRE.MatchString(l) {
			cwText = true
			break
		}
	}
	for i := 0; i < len(lines); i++ {
		if skip != nil && skip(i+1) {
			continue
		}
		raw := lines[i]
		line := unquote(raw)
		if line == "" {
			continue
		}
		// Commands: a prompt line, a bare command line, or `inline code`.
		for _, cmd := range commandsIn(line) {
			p, ok := ParsePipeline(cmd)
			if !ok {
				if e, ok := settingOf(cmd, lines, i); ok {
					add(e, i)
				}
				continue
			}
			if !p.Count {
				continue
			}
			n, at, ok := countAfter(lines, i)
			if !ok {
				continue
			}
			e := model.Evidence{Kind: model.EvCount, Command: cmd, N: n, AtLeast: p.Head}
			p.Describe(&e)
			lb := ""
			if e.State == model.TimeWait.String() && e.Port > 0 && e.Side == "" && e.Number == 0 {
				lb = loopbackEndpoint(string(text), e.Port)
			}
			if lb != "" {
				// grep 8080 matches either end; on a service this host
				// reaches over loopback both ends are here and each
				// connection leaves one TIME_WAIT: the count measures
				// connections to the port (model.Evidence.Side).
				e.Side = "loopback"
			}
			// `ss ... state X | wc -l` and unfiltered listings count their
			// header lines too.
			if len(p.Filters) == 0 && !p.flag('H') {
				switch p.Base {
				case "ss":
					e.N--
				case "netstat":
					e.N -= 2
				case "lsof":
					e.N--
				}
				if e.N < 0 {
					e.N = 0
				}
			}
			add(e, at)
			out[len(out)-1].Text = model.Clip(strings.TrimSpace(cmd) + " → " + strings.TrimSpace(lines[at]))
			if lb != "" {
				out[len(out)-1].Text += "; either end, of connections to " + lb + ", a service of this host"
			}
		}
		// Times (10:22:33) look like address:port: they are neither.
		bare := timeRE.ReplaceAllString(line, " ")
		if isRowLike(bare) {
			continue
		}
		hypothetical := isHypothetical(line)
		// A link's words ("resolving-nf_conntrack-table-full-...") are
		// a page's title, not what the host logged.
		said := urlRE.ReplaceAllString(line, " ")
		found := false
		for _, m := range messages {
			if hypothetical || !mayHoldMessage(said) || !m.re.MatchString(said) {
				continue
			}
			if persistKinds[m.kind] && notLeakRE.MatchString(line) || m.also != nil && !m.also.MatchString(said) {
				continue
			}
			e := model.Evidence{Kind: model.EvMessage, Message: m.kind}
			if m.kind == model.MsgEADDRINUSE && connectRE.MatchString(said) && !bindRE.MatchString(said) {
				e.Message = model.MsgEADDRINUSEConnect
			}
			if m.port != nil {
				if pm := lastSubmatch(m.port, bare); pm != nil {
					e.Port, _ = strconv.Atoi(pm[1])
				}
			}
			if rm := remoteRE.FindStringSubmatch(bare); rm != nil && (m.kind == model.MsgEADDRNOTAVAIL || m.kind == model.MsgTimeout) {
				e.Remote = rm[1]
				if j := strings.LastIndexByte(rm[1], ':'); j >= 0 {
					e.Port, _ = strconv.Atoi(rm[1][j+1:])
				}
			}
			if pm := procMsgRE.FindStringSubmatch(line); pm != nil {
				e.Process = pm[1]
			}
			if m.kind == model.MsgListenQueue {
				// "N already in queue awaiting acceptance": the accept
				// queue's length when the kernel dropped a connection.
				if qm := inQueueRE.FindStringSubmatch(said); qm != nil {
					e.N, _ = strconv.ParseInt(qm[1], 10, 64)
				}
			}
			add(e, i)
			found = true
			break
		}
		if !found && !hypothetical && !notLeakRE.MatchString(line) {
			if e, withTitle, ok := notClosingClaim(said, cwText, cwTitle && i > 0); ok {
				add(e, i)
				if withTitle && i > 0 {
					// The state is the title's: say so where the claim is quoted.
					out[len(out)-1].Text += " [under the title: " + model.Clip(titleText(lines[0])) + "]"
				}
			} else if estOnly {
				if e, ok := establishedStaysClaim(said); ok {
					add(e, i)
				}
			}
		}
		for _, c := range counterLines {
			if m := c.re.FindStringSubmatch(line); m != nil {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				add(model.Evidence{Kind: model.EvCounter, Name: c.name, N: n, Value: m[1]}, i)

			}
		}
		lower := strings.ToLower(bare)
		if containsAny(lower, stallHints) {
			// A paragraph is one line: its sentences are judged apart
			// ("... hangs after the first 16000. This shouldn't happen").
			for _, sent := range sentenceRE.Split(bare, -1) {
				if !isHypothetical(sent) {
					for _, e := range stallFacts(sent, titleStalls) {
						add(e, i)
						out[len(out)-1].Text = model.Clip(strings.TrimSpace(sent))
					}
				}
			}
		}
		if hypothetical {
			continue
		}
		// Cheap tests before the expressions: a stated count or quantity
		// names a state (or "these"), a rate a unit per second.
		numbered := map[string]bool{}
		if containsAny(lower, stateHints) {
			for _, e := range statedNumbers(bare) {
				numbered[e.State] = true
				add(e, i)
			}
			for _, e := range manyClaims(bare) {
				if !numbered[e.State] { // "thousands of TIME_WAIT" has its number
					add(e, i)
				}
			}
		}
		if containsAny(lower, rateHints) {
			for _, e := range statedRates(said) {
				add(e, i)
				if e.Name == model.RateCeiling {
					out[len(out)-1].Text = model.Clip(sentenceWith(said, func(s string) bool {
						for _, r := range statedRates(s) {
							if r.Name == model.RateCeiling {
								return true
							}
						}
						return false
					}))
				}
			}
		}
		if !upstreamSeen && upstreamRE.MatchString(said) {
			if !proxyRead {
				proxy, proxyRead = upstreamProxy(text), true
			}
			if e, ok := upstreamClaim(said, proxy); ok {
				add(e, i)
				out[len(out)-1].Text = model.Clip(sentenceWith(said, func(s string) bool { _, ok := upstreamClaim(s, proxy); return ok }))
				upstreamSeen = true
			}
		}
		for _, e := range listenerFacts(bare) {
			add(e, i)
		}
		for _, e := range settingsInWords(bare) {
			add(e, i)
		}

	}
	os := osOfText(text)
	if os == "" && title {
		os = osOfTitle(lines[0])
	}
	if os == "" {
		os = osOfReporter(text)
	}
	if os != "" {
		out = append(out, model.Evidence{Kind: model.EvSetting, Path: path, Line: 1, Name: "tcpsnap.os", Value: os, Text: "the ticket names " + os})
	}
	return out
}

var osWordRE = map[string]*lazyRE{
	"darwin":  lazyRegexp(`\b((?i:macos)|Mac ?OS(?: X)?|OS X|OSX|Darwin)\b|(?i:\bapple-darwin)|\b(?i:mac) 1[0-5]\.\d{1,2}\b|(?:^|[\s"'(])/Users/\w`),
	"freebsd": lazyRegexp(`\b(FreeBSD|pfSense|OPNsense|TrueNAS CORE|FreeNAS)\b`),
	"windows": lazyRegexp(`\bWindows(?: Server| 10| 11| 7| build|\.| machine| host)|\bnetstat -ano\b|\bPowerShell\b`),
	"solaris": lazyRegexp(`\b(Solaris|SunOS|illumos|OpenIndiana|OmniOS)\b|\b(ndd|pfiles|ipadm|dladm|truss)\b`),
	"linux":   lazyRegexp(`\b(Linux|Ubuntu|Debian|CentOS|RHEL|Red Hat|Fedora|Alpine|Amazon Linux|SUSE)\b`),
}

var solarisOnlyRE = lazyRegexp(`\b(Solaris|SunOS|illumos|OpenIndiana|OmniOS|ndd|pfiles|ipadm|dladm)\b`)

// osOfText names the system a ticket speaks of when it names exactly one
// (macOS, FreeBSD, Windows, Solaris): rules then use that system's ports, timers
// and fixes. Linux is what an unknown system is judged as anyway.
func osOfText(text []byte) string {
	found := ""
	for _, os := range []string{"darwin", "freebsd", "windows", "solaris", "linux"} {
		if osWordRE[os].Match(text) {
			if found != "" {
				return ""
			}
			found = os
		}
	}
	if found != "" && len(osWordRE[found].FindAllIndex(text, 2)) < 2 {
		return "" // a passing mention ("locally on my macOS laptop") is no host
	}
	if found == "solaris" && !solarisOnlyRE.Match(text) {
		return "" // truss alone: AIX has it too
	}
	if found == "linux" {
		return ""
	}
	return found
}

// osOfTitle names the system a ticket's title names, when it names
// exactly one other than Linux: "Does Mac OS X throttle the rate of
// socket creation?" is about macOS, whatever the text compares it with
// ("it works fine on Ubuntu").
func osOfTitle(title string) string {
	found := ""
	for _, os := range []string{"darwin", "freebsd", "windows", "solaris", "linux"} {
		if osWordRE[os].MatchString(title) {
			if found != "" {
				return ""
			}
			found = os
		}
	}
	if found == "linux" || found == "solaris" && !solarisOnlyRE.MatchString(title) {
		return ""
	}
	return found
}

var selfOSRE = lazyRegexp(`(?i)\b(?:I'm|I am|we're|we are)\s+(?:using|running|on)\s+`)

// osOfReporter names the system the reporter says they use ("I'm using
// OS X Leopard. I've seen similar behavior on Linux as well") when the
// text names several and its title none: what the reporter runs is the
// host; the others are comparisons. Only when every such statement
// names the same one system.
func osOfReporter(text []byte) string {
	found := ""
	for _, ix := range selfOSRE.FindAllIndex(text, -1) {
		after := text[ix[1]:min(len(text), ix[1]+40)]
		for _, os := range []string{"darwin", "freebsd", "windows", "solaris", "linux"} {
			if m := osWordRE[os].FindIndex(after); m != nil && m[0] == 0 {
				if found != "" && found != os {
					return ""
				}
				found = os
			}
		}
	}
	if found == "linux" || found == "solaris" && !solarisOnlyRE.Match(text) {
		return ""
	}
	return found
}

// unquote strips mail and markdown quoting and list markers.
func unquote(l string) string {
	l = strings.TrimSpace(l)
	for strings.HasPrefix(l, ">") && !strings.HasPrefix(l, ">=") {
		l = strings.TrimSpace(l[1:])
	}
	return l
}

var (
	inlineCodeRE = lazyRegexp("`([^`]+)`")
	bareCmdRE    = lazyRegexp(`^(?:sudo\s+)?(?:ss|netstat|lsof|sockstat|ulimit|cat|sysctl|Get-NetTCPConnection|\(Get-NetTCPConnection)\b.*$`)
	numberLineRE = lazyRegexp(`^\s*(?:Count\s*:\s*)?(\d{1,9})\s*$`)
)

// commandsIn returns the command lines a line holds.
func commandsIn(line string) []string {
	if cmd, _, ok := PromptCommand(line); ok && cmd != "" {
		return []string{cmd}
	}
	if bareCmdRE.MatchString(line) {
		return []string{line}
	}
	var out []string
	for _, m := range inlineCodeRE.FindAllStringSubmatch(line, -1) {
		if bareCmdRE.MatchString(strings.TrimSpace(m[1])) {
			out = append(out, strings.TrimSpace(m[1]))
		}
	}
	return out
}

// countAfter finds the number a counting command printed: the next
// non-blank line (fences skipped), if it is a number alone.
func countAfter(lines []string, i int) (n int64, at int, ok bool) {
	for j := i + 1; j < len(lines) && j <= i+3; j++ {
		t := unquote(lines[j])
		if t == "" || strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			continue
		}
		m := numberLineRE.FindStringSubmatch(t)
		if m == nil {
			return 0, 0, false
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		return v, j, err == nil
	}
	return 0, 0, false
}

// Describe fills in what the pipeline's filters select: state, port,
// pid, a number that may be either, process.
func (p Pipeline) Describe(e *model.Evidence) {
	if st, ok := model.CanonicalState(stateArg(p.Args)); ok && p.Base == "ss" {
		e.State = st.String()
	}
	if m := ssPortExprRE.FindStringSubmatch(strings.Join(p.Args, " ")); m != nil && p.Base == "ss" {
		e.Port, _ = strconv.Atoi(m[2])
		e.Side = map[string]string{"sport": "local", "src": "local", "dport": "remote", "dst": "remote"}[m[1]]
	}
	for _, f := range p.Filters {
		if f.Invert {
			continue
		}
		if st, ok := filterState(f); ok {
			if e.State == "" {
				e.State = st.String()
			}
			continue
		}
		if n, port, ok := filterNumber(f); ok {
			switch {
			case port || f.Field > 0:
				e.Port = n
				// netstat and ss print the local address in field 4 and
				// the peer in field 5.
				switch f.Field {
				case 4:
					e.Side = "local"
				case 5:
					e.Side = "remote"
				}
			case n > 65535:
				e.PID = n
			case p.owners():
				e.Number = n // a port or a pid: the rows will tell
			default:
				e.Port = n
			}
			continue
		}
		if proc, ok := filterProcess(f, p); ok && e.Process == "" {
			e.Process = proc
		}
	}
}

// stateArg returns the state of an ss state filter ("state close-wait").
func stateArg(args []string) string {
	for i, a := range args {
		if a == "state" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// settingOf reads `ulimit -n` and `cat /proc/sys/...` with their output.
func settingOf(cmd string, lines []string, i int) (model.Evidence, bool) {
	w := shellWords(cmd)
	for len(w) > 0 && w[0] == "sudo" {
		w = w[1:]
	}
	var name string
	switch {
	case len(w) >= 2 && w[0] == "ulimit" && (w[1] == "-n" || w[1] == "-Sn" || w[1] == "-Hn"):
		name = "ulimit -" + strings.TrimPrefix(w[1], "-")
	case len(w) == 2 && w[0] == "cat" && strings.HasPrefix(w[1], "/proc/sys/"):
		name = strings.ReplaceAll(strings.TrimPrefix(w[1], "/proc/sys/"), "/", ".")
		if a, ok := sysctlAliases[name]; ok {
			name = a
		}
	default:
		return model.Evidence{}, false
	}
	for j := i + 1; j < len(lines) && j <= i+2; j++ {
		t := unquote(lines[j])
		if t == "" || strings.HasPrefix(t, "```") {
			continue
		}
		if len(t) > 64 || strings.ContainsAny(t, "$#:=") {
			return model.Evidence{}, false
		}
		return model.Evidence{Kind: model.EvSetting, Name: name, Value: strings.Join(strings.Fields(t), " ")}, true
	}
	return model.Evidence{}, false
}

// isRowLike reports whether a line looks like a row of a listing: two
// fields or more that are endpoints (address:port, name.port, *:*). Rows
// carry no prose, and their numbers are not the reporter's.
var endpointFieldRE = lazyRegexp(`^(?:\[?[0-9a-fA-F:.]*[0-9a-fA-F]\]?|\*|[\w.-]+)[:.](?:\d{1,5}|\*)$`)

func isRowLike(l string) bool {
	n := 0
	for _, f := range strings.Fields(l) {
		if endpointFieldRE.MatchString(f) {
			n++
		}
	}
	return n >= 2
}

type messageRule struct {
	kind string
	re   *lazyRE
	port *lazyRE // the port the message names, if any
	also *lazyRE // a second thing the line must say, if any
}

var (
	inQueueRE = lazyRegexp(`(?i)\b(\d{1,6}) already in queue awaiting acceptance`)
	remoteRE  = lazyRegexp(`(?:dial tcp|connect(?:\(\))?(?: to)?|to)\s+\[?((?:\d{1,3}\.){3}\d{1,3}:\d{1,5})`)
	procMsgRE = lazyRegexp(`^(?:\S+\s+){0,4}?(nginx|haproxy|java|node|python\d?|php-fpm|httpd|apache2|postgres|mysqld|redis-server|envoy|gunicorn|uwsgi|squid|memcached|mongod|varnishd|tomcat|dotnet|ruby|puma|unicorn)(?:\[\d+\])?:`)
	messages  = []messageRule{
		{model.MsgENFILE, lazyRegexp(`(?i)too many open files in system|\bENFILE\b|file-max limit \d+ reached`), nil, nil},
		{model.MsgEMFILE, lazyRegexp(`(?i)too many (?:open )?files(?: opened)?|\bEMFILE\b|\(24: |errno 24\b|error 24\b`), nil, nil},
		{model.MsgEADDRNOTAVAIL, lazyRegexp(`(?i)(cannot|can't|can not) assign requested address|\bEADDRNOTAVAIL\b|errno 99\b|\(99: `), nil, nil},
		{model.MsgWSAEADDRINUSE, lazyRegexp(`(?i)(only one usage of each socket address.*(connect|dial))|((connect|dial).*only one usage of each socket address)|\bWSAENOBUFS\b|(?:error|errno|WSA\w*|code)\W{0,3}10055\b|lacked sufficient buffer space|queue was full|failed to establish an outgoing connection because the selected local endpoint was recently used|TCP/IP failed to establish an outgoing connection|Event ID:? ?42(27|31)\b`), nil, nil},
		{model.MsgEADDRINUSE, lazyRegexp(`(?i)address already in use|\bEADDRINUSE\b|errno 98\b|\(98: |only one usage of each socket address|\bWSAEADDRINUSE\b`), lazyRegexp(`(?i)(?:port\s+|:)(\d{2,5})\b`), nil},
		{model.MsgSYNFlood, lazyRegexp(`(?i)possible SYN flooding on port`), lazyRegexp(`(?i)possible SYN flooding on port (?:\[?[\d.:a-f]*\]?:)?(\d{1,5})`), nil},
		{model.MsgTWBucket, lazyRegexp(`(?i)time ?wait bucket table overflow`), nil, nil},
		{model.MsgConntrack, lazyRegexp(`(?i)(nf|ip)_conntrack:?\s*table (?:is |was |got |gets |became |being )?full|\b(nf|ip)_conntrack\b.{0,40}\bdrop(ped|ping|s)?\b.{0,20}\bpackets?\b|\bconntrack table (?:is |was |got |gets |became |being )?(?:full|exhausted)\b`), nil, nil},
		{model.MsgListenQueue, lazyRegexp(`(?i)listen(?:\(\))? queue overflow`), lazyRegexp(`(?i)(?:port |:)(\d{2,5})\b`), nil},
		{model.MsgOrphans, lazyRegexp(`(?i)too many orphaned sockets`), nil, nil},
		{model.MsgTCPMemory, lazyRegexp(`(?i)TCP: out of memory`), nil, nil},
		{model.MsgCloseWaitGrows, lazyRegexp(`(?i)CLOSE[_ -]?WAIT.{0,100}(accumulat|pil(e|ing) up|keeps? (growing|increasing|accumulating|rising)|growing|increasing|never (go|goes|went) away|never (get )?(closed?|disappears?|released)|(doesn't|don't|does not|do not|didn't|did not|won't|will not|are not|aren't|is not|isn't|never) (go away|disappear|get closed|close|released|cleared|freed)|for (hours|days)|until (we|I|you|the) ?(re)?start|only (a )?restart|growth|grows|increases|increased)|(accumulat|pil(e|ing) up|keeps? (growing|increasing|accumulating)|growing number of|leak(s|ing)?|increase|growth|more and more|rising number|permanent|stuck).{0,60}CLOSE[_ -]?WAIT|CLOSE[_ -]?WAIT.{0,200}\bonly (?:after|when|once)\b.{0,40}\b(?:re)?start`), nil, nil},
		{model.MsgFinWait2Stays, lazyRegexp(`(?i)FIN[_ -]?WAIT[_ -]?2.{0,100}(permanent|forever|indefinite|never (go|goes|went) away|for (hours|days)|until (we|I|you|the) ?(re)?start|never (get )?(closed?|disappears?|released|times? out))|(permanent(ly)?|forever|indefinitely|pil(e|ing) up|accumulat\w*|keeps? (growing|increasing)).{0,60}FIN[_ -]?WAIT[_ -]?2`), nil, nil},
		// ESTABLISHED for a long time is what pooled connections do: it is
		// a report only where the sockets should have gone (closed, peer
		// gone).
		{model.MsgEstablishedStays, lazyRegexp(`(?i)ESTABLISHED.{0,60}\b(forever|permanently|indefinitely|never (go|goes|went) away|for (?:\d+ |many |several )?(?:hours|days))|\b(forever|permanently|indefinitely) (in|as) ESTABLISHED`),
			nil, lazyRegexp(`(?i)\b(not|never|n't) (be )?closed\b|\b(already|were|was|have|had) closed\b|\bclosed them\b|\b(clients?|peers?) (are |were |have |had )?(gone|vanish\w*|disappear\w*|disconnect\w*)|\bhalf[- ]open\b|\b(?:clients?|peers?|hosts?)\s+(?:\w+\s+)?crash\w*|\bnetwork (?:is |was |gets |got )?(?:broken|down|lost|fail\w*)`)},
		{model.MsgTimeout, lazyRegexp(`(?i)connect(ion)?\s+timed out|\bETIMEDOUT\b|connect timeout`), nil, nil},
		{model.MsgReset, lazyRegexp(`(?i)connection reset by peer|\bECONNRESET\b`), nil, nil},
	}
	counterLines = []struct {
		name string
		re   *lazyRE
	}{
		{"TcpExt.ListenOverflows", lazyRegexp(`^\s*(\d+) times the listen queue of a socket overflowed`)},
		{"TcpExt.ListenDrops", lazyRegexp(`^\s*(\d+) SYNs to LISTEN sockets (?:dropped|ignored)`)},
		{"Tcp.ListenQueueOverflows", lazyRegexp(`^\s*(\d+) listen queue overflows?\b`)},
		{"TcpExt.TCPTimeWaitOverflow", lazyRegexp(`^\s*TCPTimeWaitOverflow:?\s+(\d+)`)},
	}
)

var (
	stateAlt   = `(CLOSE[_ -]?WAIT|TIME[_ -]?WAIT|TIMED[_ -]WAIT|FIN[_ -]?WAIT[_ -]?[12]|FIN[_ -]?WAIT|SYN[_ -]?SENT|SYN[_ -]?RECV|SYN[_ -]?RECEIVED|SYN[_ -]?RCVD|LAST[_ -]?ACK|ESTABLISHED|CloseWait|TimeWait)`
	filler     = `(?:(?:tcp|open|sockets?|connections?|conns?|ports?|entries|in|of|are|were|is|stuck|hanging|the|state|status|with|on|at|still|left|remaining|[a-z]+ing)\s+){0,4}`
	numStateRE = lazyRegexp(`(?i)(?:^|[^\w:./-])(about|around|over|more than|nearly|almost|approx(?:imately)?\.?|some|~|>)?\s*(\d{1,3}(?:,\d{3})+|\d{1,7})(k)?\s+` + filler + stateAlt + `\b`)
	theseRE    = lazyRegexp(`(?i)(?:^|[^\w:./-])(about|around|over|more than|nearly|almost|some|~)?\s*(\d{1,3}(?:,\d{3})+|\d{1,7})(?:\s*(?:-|–|to)\s*(?:\d{1,3}(?:,\d{3})+|\d{1,7}))?\s+(?:of\s+)?(?:these|those|such (?:lines|rows|entries|connections|sockets)|(?:lines|rows|entries|connections|sockets) like (?:this|these|that|the following))\b`)
	wordsRE    = lazyRegexp(`(?i)\b(tens of thousands|hundreds of thousands|thousands|hundreds)\s+of\s+` + filler + stateAlt + `\b`)
)

// statedNumbers finds numbers of sockets in a state in the reporter's
// words. "thousands of TIME_WAIT" is a lower bound of 1,000, never more.
func statedNumbers(line string) []model.Evidence {
	var out []model.Evidence
	for _, ix := range numStateRE.FindAllStringSubmatchIndex(line, -1) {
		m := submatches(line, ix)
		st, ok := stateOfWords(m[4])
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(m[2], ",", ""), 10, 64)
		if err != nil || n == 0 || n > 10_000_000 {
			continue
		}
		if m[3] != "" {
			n *= 1000
		}
		if notACount(line[:ix[4]], m[0], m[2]) {
			continue
		}
		lower := strings.ToLower(m[1])
		out = append(out, model.Evidence{Kind: model.EvStated, State: st.String(), N: n, AtLeast: lower == "over" || lower == "more than" || lower == ">"})
	}
	for _, m := range theseRE.FindAllStringSubmatch(line, -1) {
		// "I see about 1500-2500 of these": the rows shown, many times
		// over; the state is the rows' (see group.ApplyEvidence).
		n, err := strconv.ParseInt(strings.ReplaceAll(m[2], ",", ""), 10, 64)
		if err != nil || n == 0 {
			continue
		}
		range_ := strings.ContainsAny(m[0], "-–") || strings.Contains(m[0], " to ")
		lower := strings.ToLower(m[1])
		out = append(out, model.Evidence{Kind: model.EvStated, N: n, AtLeast: range_ || lower == "over" || lower == "more than"})
	}
	for _, m := range wordsRE.FindAllStringSubmatch(line, -1) {
		st, ok := stateOfWords(m[2])
		if !ok {
			continue
		}
		n := map[string]int64{"tens of thousands": 10000, "hundreds of thousands": 100000, "thousands": 1000, "hundreds": 100}[strings.ToLower(m[1])]
		out = append(out, model.Evidence{Kind: model.EvStated, State: st.String(), N: n, AtLeast: true})
	}
	return out
}

// stateOfWords reads a state as people write it: CLOSE WAIT, TIMEWAIT,
// TimeWait, TIMED_WAIT, FIN_WAIT — whole words of the stateWords table
// with their separators dropped.
func stateOfWords(w string) (model.State, bool) {
	u := squashState(w)
	for _, sw := range stateWords {
		if squashState(sw.prefix) == u {
			return sw.state, true
		}
	}
	return 0, false
}

func squashState(w string) string {
	return strings.NewReplacer(" ", "", "-", "", "_", "").Replace(strings.ToUpper(w))
}

var tcpWordsRE = lazyRegexp(`(?i)\b(CLOSE[_ -]?WAIT|TIME[_ -]?WAIT|TIMED[_ -]WAIT|FIN[_ -]?WAIT|SYN[_ -]?(SENT|RECV)|ESTABLISHED|netstat|lsof|ss -[a-z]+|Get-NetTCPConnection|ephemeral port|tcp connections?|sockets?|ports? \d{2,5}|port scan\w*|keep-?alives?|(?:the |a )?port (?:is |was )?(?:not (?:getting |being )?(?:released|closed|freed)|still (?:in use|being used|open|held))|connections? (?:[\w.:-]+ ){0,6}?(?:is |are |was |were )?not (?:being |getting )?(?:closed|released)|keeps? (?:the |its |a )?connections? (?:[\w.:-]+ ){0,4}?open|keep alives?)\b`)

// AboutTCP reports whether a text that holds no listing is a ticket about
// TCP sockets (and so deserves a report that says what it lacks, rather
// than "not a listing").
func AboutTCP(text []byte) bool {
	return len(tcpWordsRE.FindAllIndex(text, 3)) >= 2 || toolWordRE.Match(text)
}

var toolWordRE = lazyRegexp(`\b(netstat|lsof) -[a-zA-Z]+|\bss -[a-zA-Z]*t|Get-NetTCPConnection`)

var (
	urlRE  = lazyRegexp(`\b(?:https?|ftp)://\S+`)
	timeRE = lazyRegexp(`\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b`)
	// An answer or a documentation quote talks about a message without
	// reporting it: "you would only need to worry if you see ...".
	hypotheticalRE = lazyRegexp(`(?i)\b(worry if|if you (?:see|get)|might|could cause|should not|shouldn't)\b`)
	notLeakRE      = lazyRegexp(`(?i)\b(not|no|isn't|aren't) (?:a )?leak|\bis normal\b|\bare normal\b|\bno (?:more |further )?(?:increase|growth|accumulation|leak)s? (?:of|in)\b`)
	messageWords   = []string{"too many", "assign", "in use", "addrinuse", "addrnotavail", "flooding", "bucket", "conntrack",
		"queue", "orphan", "out of memory", "timed out", "timeout", "etimedout", "reset", "close", "wait", "10048", "10055",
		"wsae", "errno", "establish", "(24", "(98", "(99", "emfile", "enfile", "file-max", "local endpoint", "tcp/ip", "event id"}
)

// connectRE and bindRE tell an outgoing connection's error from a
// server's: "connection to \"localhost\":1883 failed due to eaddrinuse",
// "dial tcp ...: bind: address already in use" (a bind before connect).
var (
	connectRE = lazyRegexp(`(?i)\bconnect(?:ion)?\s+to\b|\bconnect\(|\bconnect:|\bdial(?:ing)?\b|\boutgoing\b|\bconnecting to\b`)
	bindRE    = lazyRegexp(`(?i)\blisten(?:ing|er)?\b|\bstart(?:ing)? (?:the )?server\b|\bserve\b`)
)

// isHypothetical reports whether a line or sentence asks or supposes
// rather than reports: a question, "worry if", "might", "should not".
func isHypothetical(s string) bool {
	return strings.HasSuffix(strings.TrimSpace(s), "?") || hypotheticalRE.MatchString(s)
}

// sentenceRE splits a paragraph into sentences, keeping a sentence's
// question mark ("Is it the OS? It hangs after ...").
var sentenceRE = lazyRegexp(`[.!]\s+|\?\s+`)

// sentenceWith returns the first sentence of a line that ok accepts, or
// the whole line: the words a basis quotes.
func sentenceWith(line string, ok func(string) bool) string {
	for _, s := range sentenceRE.Split(line, -1) {
		if ok(s) {
			return strings.TrimSpace(s)
		}
	}
	return strings.TrimSpace(line)
}

// persistKinds are the messages that say sockets stay: "not a leak" or
// "is normal" on the line takes them back.
var persistKinds = map[string]bool{model.MsgCloseWaitGrows: true, model.MsgFinWait2Stays: true, model.MsgEstablishedStays: true}

// stateHints and rateHints are words without which no stated count,
// quantity or rate can match (see FindEvidence): a state's spelling
// ("wait", "estab", "syn", "fin", "clos", "last", "listen", "timewait"),
// the "these" and "those" of an excerpt's count; a rate's unit.
var (
	stateHints = []string{"wait", "estab", "syn", "fin", "clos", "last", "listen", "these", "those", "such", " like "}
	rateHints  = []string{"/", "per", "ps", " a s"}
	stallHints = []string{"after ", "limited", "capped", "topping"}
)

// containsAny reports whether s contains one of words.
func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// mayHoldMessage is a cheap test run before the message expressions:
// most lines of a long ticket name none of them.
func mayHoldMessage(line string) bool {
	l := strings.ToLower(line)
	for _, w := range messageWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// lastSubmatch returns the last match of re in s: a port a message names
// comes after the addresses and times that precede it.
func lastSubmatch(re *lazyRE, s string) []string {
	all := re.FindAllStringSubmatch(s, -1)
	if len(all) == 0 {
		return nil
	}
	return all[len(all)-1]
}

// tail is the last n bytes of s, or s: the words just before a match,
// where a pattern ending in $ looks (matching it against the whole
// prefix costs the prefix's length for every match, quadratic in a long
// line of a hostile paste).
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// submatches is FindStringSubmatch's result from its index form.
func submatches(s string, ix []int) []string {
	m := make([]string, len(ix)/2)
	for k := range m {
		if ix[2*k] >= 0 {
			m[k] = s[ix[2*k]:ix[2*k+1]]
		}
	}
	return m
}

var beforeNumberRE = lazyRegexp(`(?i)\b(port|ports|since|from|in|on|at|to|version|v|kernel|redis|mysql|postgres|postgresql|mongodb|memcached|elasticsearch)\s*$`)

// notACount reports a number that names something else: a port ("on port
// 8080 in TIME_WAIT"), a year ("since 2023 connections ..."), a version
// or a product's port ("Redis 6379 connections"). before is the line up
// to the number.
func notACount(before, match, num string) bool {
	if beforeNumberRE.MatchString(tail(strings.TrimRight(before, " (~"), 64)) {
		return true
	}
	if len(num) == 4 && (strings.HasPrefix(num, "19") || strings.HasPrefix(num, "20")) && !strings.Contains(strings.ToLower(match), "connection") && !strings.Contains(strings.ToLower(match), "socket") {
		return true
	}
	return false
}

var ssPortExprRE = lazyRegexp(`\b(sport|dport|src|dst)\s*(?:=|==|eq)\s*[^:\s]*:(\d{1,5})\b`)

package ticket

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/tcpsnap/tcpsnap/analyze/formats"
	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/formats/unix"
	"github.com/tcpsnap/tcpsnap/analyze/formats/windows"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// Extraction: whole tickets, forum posts and multi-command text files.
//
// A customer rarely attaches one clean listing. They paste a ticket: prose,
// a shell prompt, the output of `ss -tan`, more prose, a `netstat -s`, a
// `sysctl` excerpt, quoted with "> ", indented by markdown or fenced with
// ```. Collectors do the same in one file: supportconfig's network.txt
// puts "#==[ Command ]===" blocks one after another, pt-stalk separates
// one-second samples with "TS <epoch> <date>" lines and OSWatcher with
// "zzz ***<date>".
//
// extractSegments normalizes such a text line by line (one output line per
// input line, so line numbers stay the input's), splits it into blocks at
// hard boundaries (fences, prompts, quoting changes, collector separators)
// and blank lines, detects every block, and returns the runs of blocks
// that score as segments. Prose scores nothing and is dropped.
//
// It runs only on texts under maxExtractBytes whose head does not already
// detect cleanly (see needsExtraction): a clean listing of a million lines
// keeps the single-format fast path.

// MaxExtractBytes bounds the texts the splitter looks at.
const MaxExtractBytes = 4 << 20

// A segment is one listing found inside a larger text.
type Segment struct {
	First, Last int      // 1-based line range in the original text, inclusive
	Lines       []string // normalized lines First..Last (len = Last-First+1)
	Format      *parse.Format
	Score       int
	Command     string // the command that printed it, when a prompt or header said so
	// Series is the sample index inside a time series (pt-stalk TS
	// blocks, OSWatcher zzz blocks), -1 when the text is not one.
	Series int
	Time   time.Time
	// Collector names the tool whose layout was recognized ("pt-stalk",
	// "oswatcher", "supportconfig"), "" for a pasted text.
	Collector string
}

// Text returns the segment as input for a parser.
func (s *Segment) Text() []byte {
	var b bytes.Buffer
	for _, l := range s.Lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

var (
	fenceRE = lazyRegexp("^\\s*(```|~~~)")
	// Prompts: "$ cmd", "% cmd", "user@host:~$ cmd", "[root@db1 ~]# cmd",
	// "PS C:\Users\x> cmd", "C:\>cmd". "# cmd" only for known commands
	// (a lone "#" is also a markdown heading or a comment).
	promptRE = lazyRegexp(`^\s*(?:\[[^\]]{1,80}\]\s?|[\w.-]{1,40}@[\w.-]{1,80}(?::[^\s$#]*)?\s?)[$#]\s*(.*)$`)
	dollarRE = lazyRegexp(`^\s*[$%]\s+(\S.*)$`)
	hashRE   = lazyRegexp(`^\s*#\s*(\S.*)$`)
	// Themed shell prompts: starship and pure ("~/src ❯ cmd", "❯ cmd"),
	// oh-my-zsh ("➜  ~ cmd", "➜  app git:(main) ✗ cmd").
	arrowPromptRE = lazyRegexp(`^\s*(?:[~/][\w./-]{0,60}\s+)?❯\s+(\S.*)$`)
	zshPromptRE   = lazyRegexp(`^\s*➜\s+(?:~\S*|[\w.-]+)(?:\s+git:\(\S+\))?(?:\s+✗)?\s+(\S.*)$`)
	winPromptRE   = lazyRegexp(`^\s*(?:PS )?[A-Za-z]:\\[^>]{0,200}>\s*(.*)$`)
	supportRE     = lazyRegexp(`^#==\[ *(.*?) *\]=+#?\s*$`)
	ptStalkTSRE   = lazyRegexp(`^TS (\d{9,11})(?:\.\d+)?(?: (.*))?$`)
	oswZzzRE      = lazyRegexp(`^zzz \*{3}(.*)$`)
	// watch(1): "Every 2.0s: ss -tn        web01: Fri Dec  4 14:35:07 2026"
	watchRE      = lazyRegexp(`^Every\s+\d+(?:\.\d+)?s:\s+(.+?)(?:\s{2,}\S+:\s+(\w{3} \w{3}\s+\d.*?))?\s*$`)
	uniqCommand  = lazyRegexp(`\buniq\s+-c\b`)
	knownCommand = lazyRegexp(`^(?:sudo\s+)?(?:ss|netstat|cat|sysctl|lsof|nstat|awk|grep|uniq|ndd|ipadm|Get-NetTCPConnection|/\S*/(?:ss|netstat|sysctl|lsof|nstat))\b`)
)

// PromptCommand returns the command of a shell prompt line.
func PromptCommand(line string) (cmd string, win, ok bool) {
	t := strings.TrimLeft(line, " \t")
	if t == "" {
		return "", false, false
	}
	// Cheap guards first: most lines of a long paste are rows.
	if strings.Contains(t, ":\\") {
		if m := winPromptRE.FindStringSubmatch(line); m != nil {
			return strings.TrimSpace(m[1]), true, true
		}
	}
	if strings.Contains(t, "❯") {
		if m := arrowPromptRE.FindStringSubmatch(line); m != nil {
			return strings.TrimSpace(m[1]), false, true
		}
	}
	if strings.HasPrefix(t, "➜") {
		if m := zshPromptRE.FindStringSubmatch(line); m != nil {
			return strings.TrimSpace(m[1]), false, true
		}
	}
	if t[0] == '[' || strings.IndexByte(t, '@') >= 0 {
		if m := promptRE.FindStringSubmatch(line); m != nil {
			return strings.TrimSpace(m[1]), false, true
		}
	}
	switch t[0] {
	case '$', '%':
		if m := dollarRE.FindStringSubmatch(line); m != nil {
			return strings.TrimSpace(m[1]), false, true
		}
	case '#':
		if m := hashRE.FindStringSubmatch(line); m != nil && knownCommand.MatchString(m[1]) {
			return strings.TrimSpace(m[1]), false, true
		}
	}
	return "", false, false
}

// CommandFormats names the formats a command line prints, best first
// (nil when it says nothing, or prints something tcpsnap does not read).
func CommandFormats(cmd string, win bool) []*parse.Format {
	if cmd == "" {
		return nil
	}
	if uniqCommand.MatchString(cmd) {
		return []*parse.Format{formats.UniqCountsFormat}
	}
	fs := strings.Fields(cmd)
	for len(fs) > 0 && (fs[0] == "sudo" || strings.HasPrefix(fs[0], "-")) {
		fs = fs[1:]
	}
	if len(fs) == 0 {
		return nil
	}
	name := fs[0]
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	args := strings.Join(fs[1:], " ")
	hasFlag := func(c byte) bool {
		for _, a := range fs[1:] {
			if a == "|" {
				break
			}
			if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a[1:], c) >= 0 {
				return true
			}
		}
		return false
	}
	switch strings.ToLower(name) {
	case "ss":
		if hasFlag('s') {
			return []*parse.Format{linux.SSSummaryFormat}
		}
		return []*parse.Format{linux.SSFormat}
	case "netstat", "netstat.exe":
		if hasFlag('s') && !win {
			return nil // protocol statistics: not read
		}
		if win {
			return []*parse.Format{windows.NetstatWindowsFormat}
		}
		return []*parse.Format{linux.NetstatLinuxFormat, unix.NetstatBSDFormat, unix.NetstatBSDListenFormat, unix.NetstatSolarisFormat}
	case "cat", "head", "tail", "less", "more":
		switch {
		case strings.Contains(args, "/proc/net/tcp"):
			return []*parse.Format{linux.ProcNetTCPFormat}
		case strings.Contains(args, "/proc/net/sockstat"):
			return []*parse.Format{linux.ProcSockstatFormat}
		case strings.Contains(args, "/proc/net/snmp"), strings.Contains(args, "/proc/net/netstat"):
			return []*parse.Format{linux.ProcSNMPFormat}
		}
	case "sysctl":
		return []*parse.Format{linux.SysctlFormat, unix.SysctlBSDFormat}
	case "nstat":
		return []*parse.Format{linux.ProcSNMPFormat}
	case "lsof":
		return []*parse.Format{unix.LsofFormat}
	case "get-nettcpconnection":
		return []*parse.Format{windows.GetNetTCPFormat}
	case "ndd", "ipadm":
		return []*parse.Format{unix.NDDFormat}
	}
	return nil
}

// NeedsExtraction reports whether a text should go through the splitter:
// its head does not detect cleanly, or it shows pasted or collector
// structure (quotes, fences, prompts, separators) or sentences in its
// first lines.
func NeedsExtraction(head []string, best *parse.Detection) bool {
	if best == nil || best.Score < 90 {
		return true
	}
	prose := 0
	for i, l := range head {
		if i < 8 && LooksProse(l) {
			prose++ // a listing has one sentence at most (netstat's "Active Internet connections ...")
		}
		if prose >= 2 {
			return true
		}
		if i >= 8 {
			break
		}
		if _, _, ok := PromptCommand(l); ok {
			return true
		}
		t := strings.TrimLeft(l, " \t")
		if strings.HasPrefix(t, ">") || fenceRE.MatchString(l) || supportRE.MatchString(l) || ptStalkTSRE.MatchString(l) || oswZzzRE.MatchString(l) || watchRE.MatchString(t) {
			return true
		}
	}
	return false
}

// lineKind classifies a normalized line.
type lineKind int

const (
	kText    lineKind = iota
	kBlank            // empty or whitespace: a soft boundary
	kFence            // ``` or ~~~: a hard boundary, dropped
	kPrompt           // a shell prompt: a hard boundary, sets the command
	kCommand          // a collector's command header: like a prompt
	kSeries           // a time-series separator: a hard boundary, next sample
	kDropped          // collector noise lines (e.g. "# /bin/ss -nap" after a supportconfig header)
)

type xline struct {
	text    string
	kind    lineKind
	quote   int    // ">" quoting depth
	command string // kPrompt / kCommand
	windows bool
	series  int
	time    time.Time
	coll    string
}

// normalize strips quoting and classifies every line of data.
func normalize(data []byte) []xline {
	raw := textLines(data)
	if len(raw) > 0 && raw[len(raw)-1] == "" {
		raw = raw[:len(raw)-1]
	}
	out := make([]xline, len(raw))
	series := -1
	for i, l := range raw {
		l = strings.TrimRight(l, "\r")
		x := xline{}
		// "> " quoting, possibly nested ("> > ", ">> ").
		t := strings.TrimLeft(l, " ")
		for strings.HasPrefix(t, ">") && len(l)-len(t) < 4 {
			x.quote++
			t = strings.TrimPrefix(t[1:], " ")
			l = t
			t = strings.TrimLeft(l, " ")
		}
		x.text = l
		switch {
		case strings.TrimSpace(l) == "":
			x.kind = kBlank
		case (strings.Contains(l, "```") || strings.Contains(l, "~~~")) && fenceRE.MatchString(l):
			x.kind = kFence
		case strings.HasPrefix(l, "#==[") && supportRE.MatchString(l):
			x.kind, x.coll = kCommand, "supportconfig"
			x.command = supportRE.FindStringSubmatch(l)[1]
		case strings.HasPrefix(l, "TS ") && ptStalkTSRE.MatchString(l):
			m := ptStalkTSRE.FindStringSubmatch(l)
			series++
			x.kind, x.series, x.coll = kSeries, series, "pt-stalk"
			if sec, err := strconv.ParseInt(m[1], 10, 64); err == nil {
				x.time = time.Unix(sec, 0).UTC()
			}
		case strings.HasPrefix(t, "Every ") && watchRE.MatchString(t):
			m := watchRE.FindStringSubmatch(t)
			series++
			x.kind, x.series, x.coll, x.command = kSeries, series, "watch", strings.TrimSpace(m[1])
			x.time = parseOSWTime(m[2])
		case strings.HasPrefix(l, "zzz ") && oswZzzRE.MatchString(l):
			series++
			x.kind, x.series, x.coll = kSeries, series, "oswatcher"
			x.time = parseOSWTime(oswZzzRE.FindStringSubmatch(l)[1])
		default:
			if cmd, win, ok := PromptCommand(l); ok {
				x.kind, x.command, x.windows = kPrompt, cmd, win
			}
		}
		out[i] = x
	}
	// supportconfig writes "# /bin/ss -nap" (the command) right after the
	// block header; it names the command better than the header does.
	for i := range out {
		if out[i].kind == kCommand && i+1 < len(out) {
			n := strings.TrimSpace(out[i+1].text)
			if strings.HasPrefix(n, "# ") {
				out[i].command = strings.TrimSpace(n[2:])
				out[i+1].kind = kDropped
			}
		}
	}
	return out
}

// oswTimeLayouts are the date(1) spellings OSWatcher writes after "zzz ***".
var oswTimeLayouts = []string{
	"Mon Jan _2 15:04:05 MST 2006",
	"Mon Jan _2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 2006",
}

func parseOSWTime(s string) time.Time {
	s = strings.Join(strings.Fields(s), " ")
	for _, layout := range oswTimeLayouts {
		if t, err := time.Parse(strings.Join(strings.Fields(layout), " "), s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// A block is a run of lines between boundaries.
type block struct {
	first, last int // 0-based indexes into the normalized lines, inclusive
	command     string
	windows     bool
	afterBlank  bool // separated from the previous block by blank lines only
	series      int
	time        time.Time
	coll        string
	format      *parse.Format
	score       int
}

// maxSegments bounds how many segments one text may yield, maxBlocks how
// many blocks one text may be split into (each is detected: a text of
// thousands of one-line paragraphs is not a ticket).
const (
	maxSegments = 1000
	maxBlocks   = 5000
)

// ExtractSegments finds the listings in a text. It never fails; a text
// with no listing yields none.
func ExtractSegments(data []byte) []Segment {
	lines := normalize(data)
	var blocks []*block
	cmd, win, series, coll := "", false, -1, ""
	var when time.Time
	var cur *block
	blank := false
	flush := func() {
		if cur != nil {
			blocks = append(blocks, cur)
			cur = nil
		}
	}
	for i := range lines {
		x := &lines[i]
		switch x.kind {
		case kBlank:
			flush()
			blank = true
			continue
		case kDropped:
			continue
		case kFence:
			flush()
			blank = false
			continue
		case kPrompt, kCommand:
			flush()
			cmd, win, blank = x.command, x.windows, false
			if x.coll != "" {
				coll = x.coll
			}
			continue
		case kSeries:
			flush()
			series, when, coll, cmd, blank = x.series, x.time, x.coll, x.command, false
			continue
		}
		if cur != nil && lines[cur.first].quote != x.quote {
			flush()
		}
		if cur == nil {
			cur = &block{first: i, command: cmd, windows: win, afterBlank: blank, series: series, time: when, coll: coll}
			blank = false
		}
		cur.last = i
	}
	flush()
	if len(blocks) > maxBlocks {
		return nil // not a ticket: let the whole text go to the single-format path
	}
	texts := make([]string, len(lines))
	for i := range lines {
		texts[i] = lines[i].text
	}
	for _, b := range blocks {
		stripIndent(texts, b.first, b.last)
		b.detect(texts)
	}
	// Join runs: a short undetected block right before a detected one with
	// only blank lines between ("Active Connections" above the Windows
	// header), and detected blocks of the same format and command.
	var segs []Segment
	var prev *block
	var open *Segment
	for i, b := range blocks {
		if b.format == nil {
			if next := nextBlock(blocks, i); next != nil && next.format != nil && next.afterBlank &&
				b.last-b.first < 3 && next.command == b.command && next.series == b.series && !LooksProse(texts[b.first]) {
				next.first = b.first
				next.afterBlank = b.afterBlank
			}
			prev, open = nil, nil
			continue
		}
		if open != nil && prev != nil && b.afterBlank && b.format == prev.format && b.command == prev.command && b.series == prev.series {
			open.Last = b.last + 1
			prev = b
			continue
		}
		if len(segs) >= maxSegments {
			break
		}
		segs = append(segs, Segment{First: b.first + 1, Last: b.last + 1, Format: b.format, Score: b.score,
			Command: b.command, Series: b.series, Time: b.time, Collector: b.coll})
		open, prev = &segs[len(segs)-1], b
	}
	for i := range segs {
		s := &segs[i]
		s.Lines = append([]string(nil), texts[s.First-1:s.Last]...)
		for j := range s.Lines {
			if k := lines[s.First-1+j].kind; k != kText {
				s.Lines[j] = "" // blank, dropped or boundary lines inside a joined run
			}
		}
	}
	segs = splitRepeats(segs)
	markSeries(segs)
	return segs
}

func nextBlock(blocks []*block, i int) *block {
	if i+1 < len(blocks) {
		return blocks[i+1]
	}
	return nil
}

// stripIndent removes markdown indentation (four spaces or a tab common
// to every line of a block), keeping deeper indentation a format may need
// (Windows netstat rows start with two spaces).
func stripIndent(texts []string, first, last int) {
	common := -1
	tab := true
	for i := first; i <= last; i++ {
		t := texts[i]
		if !strings.HasPrefix(t, "\t") {
			tab = false
		}
		n := len(t) - len(strings.TrimLeft(t, " "))
		if common < 0 || n < common {
			common = n
		}
	}
	strip := 0
	switch {
	case tab:
		strip = 1
	case common >= 4:
		strip = 4
	}
	if strip == 0 {
		return
	}
	for i := first; i <= last; i++ {
		texts[i] = texts[i][strip:]
	}
}

// maxLeadTrim is how many leading lines of a block may be prose glued to
// the listing ("Here is the output:" on the line above the header).
const maxLeadTrim = 6

// detect picks the block's format: the command's formats when one scores,
// else the best detection; leading prose lines are trimmed when that
// raises the score, trailing prose lines are dropped.
func (b *block) detect(texts []string) {
	for b.last > b.first && LooksProse(texts[b.last]) {
		b.last--
	}
	hint := CommandFormats(b.command, b.windows)
	bestK, bestScore := 0, 0
	var bestF *parse.Format
	for k := 0; k <= maxLeadTrim && b.first+k <= b.last; k++ {
		if k > 0 && !LooksProse(texts[b.first+k-1]) {
			break // only prose is trimmed
		}
		head := parse.HeadLines([]byte(strings.Join(texts[b.first+k:min(b.last+1, b.first+k+parse.DetectLines)], "\n")))
		f, sc := pickFormat(head, hint)
		// A sentence glued above the header ("... in FIN_WAIT2 (netstat
		// -nop):") is dropped even when the score stays: it is not a
		// row, and its words are the ticket's. A listing's own title
		// (netstat's "Active Internet connections (...)") stays.
		if f != nil && (sc > bestScore || k > 0 && sc == bestScore && bestF == f && endsSentence(texts[b.first+k-1])) {
			bestK, bestScore, bestF = k, sc, f
		}
	}
	if bestF == nil || bestScore < 30 {
		return
	}
	b.first += bestK
	b.format, b.score = bestF, bestScore
}

// pickFormat detects a head, preferring the command's formats when one of
// them scores at all: the prompt said what the text is.
func pickFormat(head []string, hint []*parse.Format) (*parse.Format, int) {
	for _, f := range hint {
		if f.Detect == nil {
			continue
		}
		if sc := f.Detect(head); sc >= 10 {
			return f, max(sc, 60)
		}
	}
	best, _ := formats.Detect(head)
	if best == nil {
		return nil, 0
	}
	return best.Format, best.Score
}

// LooksProse reports whether a line reads like a sentence rather than a
// listing row or header: several words, mostly lower-case letters, no
// numbers, or ending like a sentence.
func LooksProse(line string) bool {
	fs := strings.Fields(line)
	if len(fs) == 0 {
		return false
	}
	words, lower, digits := 0, 0, 0
	for _, f := range fs {
		hasDigit, letters := false, 0
		for _, c := range f {
			switch {
			case c >= '0' && c <= '9':
				hasDigit = true
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
				letters++
			}
		}
		if hasDigit {
			digits++
			continue
		}
		if letters > 0 && letters >= len(f)-2 {
			words++
			if f[0] >= 'a' && f[0] <= 'z' {
				lower++
			}
		}
	}
	last := fs[len(fs)-1]
	sentence := strings.HasSuffix(last, ".") || strings.HasSuffix(last, "?") || strings.HasSuffix(last, "!") || strings.HasSuffix(last, ":") || strings.HasSuffix(last, ",")
	if len(fs) >= 4 && lower >= 3 && digits*3 <= len(fs) && words*4 >= len(fs)*3 {
		return true
	}
	return sentence && len(fs) >= 3 && lower >= 2 && digits*3 <= len(fs)
}

// endsSentence reports whether a line ends like a sentence or the
// colon that introduces a paste.
func endsSentence(line string) bool {
	t := strings.TrimRight(line, " \t")
	return strings.HasSuffix(t, ".") || strings.HasSuffix(t, ":") || strings.HasSuffix(t, "!") || strings.HasSuffix(t, "?")
}

// splitRepeats cuts a segment where its header line comes again: a loop
// pasted as one block (while :; do ss -tn; sleep 1; done) is several
// listings, not one with every socket twice.
func splitRepeats(segs []Segment) []Segment {
	var out []Segment
	for _, sg := range segs {
		head := strings.TrimSpace(sg.Lines[0])
		start := 0
		for k := 1; k < len(sg.Lines); k++ {
			if strings.TrimSpace(sg.Lines[k]) != head || len(head) < 10 {
				continue
			}
			part := sg
			part.First, part.Last, part.Lines = sg.First+start, sg.First+k-1, sg.Lines[start:k]
			out = append(out, part)
			start = k
		}
		if start == 0 {
			out = append(out, sg)
			continue
		}
		part := sg
		part.First, part.Lines = sg.First+start, sg.Lines[start:]
		out = append(out, part)
	}
	return out
}

// markSeries numbers as samples of one time series the consecutive
// listings of one format and command that show mostly the same
// connections: one socket watched over time is a series of its queues,
// not duplicates.
func markSeries(segs []Segment) {
	for i := 0; i < len(segs); {
		j := i + 1
		for j < len(segs) && segs[j].Series < 0 && segs[i].Series < 0 && segs[j].Collector == "" &&
			segs[j].Format == segs[i].Format && segs[j].Command == segs[i].Command &&
			overlap(endpointPairs(segs[j-1].Lines), endpointPairs(segs[j].Lines)) {
			j++
		}
		if j-i > 1 {
			for k := i; k < j; k++ {
				segs[k].Series = k - i
			}
		}
		i = j
	}
}

// endpointPairs returns, per row, its address:port fields joined: the
// connection, whatever its queues say.
func endpointPairs(lines []string) map[string]bool {
	out := map[string]bool{}
	for _, l := range lines {
		var eps []string
		for _, f := range strings.Fields(l) {
			if strings.Count(f, ":") >= 1 && strings.ContainsAny(f, "0123456789") && !strings.HasPrefix(f, "users:") && !strings.HasPrefix(f, "timer:") {
				eps = append(eps, f)
			}
		}
		if len(eps) >= 2 {
			out[strings.Join(eps, " ")] = true
		}
	}
	return out
}

// overlap reports whether most connections of b are in a.
func overlap(a, b map[string]bool) bool {
	if len(b) == 0 {
		return false
	}
	n := 0
	for k := range b {
		if a[k] {
			n++
		}
	}
	return n*2 > len(b)
}

// textLines splits a pasted text into lines: a BOM dropped, lines ending
// at \n, \r\n or a lone \r (old Mac text, some paste paths). Extraction
// and evidence number lines alike.
func textLines(data []byte) []string {
	text := strings.TrimPrefix(string(data), "\ufeff")
	if strings.IndexByte(text, '\r') >= 0 {
		text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	}
	return strings.Split(text, "\n")
}

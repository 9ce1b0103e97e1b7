package analyze

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tcpsnap/tcpsnap/analyze/formats"
	"github.com/tcpsnap/tcpsnap/analyze/formats/linux"
	"github.com/tcpsnap/tcpsnap/analyze/group"
	"github.com/tcpsnap/tcpsnap/analyze/input"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
	"github.com/tcpsnap/tcpsnap/analyze/ticket"
	"github.com/tcpsnap/tcpsnap/collect"
)

// Options control Load.
type Options struct {
	Stdin  io.Reader    // read for the input "-"
	Limits input.Limits // zero value means DefaultLimits
	// InputFormat forces the format of every listing file instead of
	// detecting it ("" = detect).
	InputFormat string
	// OnListing, when set, is called with every parsed listing and the
	// source it came from, in input order, before samples are merged
	// (tcpsnap parse streams sockets from it). It must not keep l.
	OnListing func(src model.Source, l *model.Listing) error
	// LoadOnly says the snapshot is read to be printed, not analyzed
	// (tcpsnap parse): nothing is made ahead for grouping.
	LoadOnly bool
}

// maxProblemsPerFile bounds how many bad lines one file reports one by one.
const maxProblemsPerFile = 20

// Load reads every input argument (bundle, folder, listing file, or "-")
// as one snapshot of one host. It fails only when an input cannot be read
// at all or holds nothing tcpsnap recognizes; partial damage is recorded in
// Snapshot.Problems.
func Load(args []string, opt Options) (*model.Snapshot, error) {
	if len(args) == 0 {
		return nil, errors.New("no input given")
	}
	if opt.Limits == (input.Limits{}) {
		opt.Limits = input.DefaultLimits
	}
	var forced *parse.Format
	if opt.InputFormat != "" {
		if forced = formats.FormatByName(opt.InputFormat); forced == nil {
			return nil, fmt.Errorf("unknown input format %q (see tcpsnap formats)", opt.InputFormat)
		}
	}
	ld := &loader{
		lines: input.NewLineBudget(opt.Limits.MaxLines),
		snap: &model.Snapshot{
			Sysctls:   map[string]string{},
			Processes: map[int]*model.Process{},
			Files:     map[string]string{},
		},
		samples: map[int]*sampleBuild{},
		forced:  forced,
		lim:     opt.Limits,
		onList:  opt.OnListing,
		ahead:   !opt.LoadOnly,
	}
	for _, arg := range args {
		ld.arg = arg
		before := len(ld.snap.Sources)
		skip := func(display, why string) {
			ld.snap.Problems = append(ld.snap.Problems, model.Problem{Path: display, Message: "skipped: " + why})
		}
		if err := input.WalkInput(arg, opt.Stdin, opt.Limits, ld.handle, skip); err != nil {
			return nil, err
		}
		if len(ld.snap.Sources) == before && !ld.sawManifest {
			return nil, fmt.Errorf("%s: no files in it", arg)
		}
	}
	if err := ld.finish(); err != nil {
		return nil, err
	}
	return ld.snap, nil
}

type loader struct {
	ahead       bool // the latest sample will be aggregated: see group.InferOwnersOfLatest
	snap        *model.Snapshot
	samples     map[int]*sampleBuild
	forced      *parse.Format
	lim         input.Limits
	arg         string
	manifest    *collect.Manifest
	sawManifest bool
	onList      func(model.Source, *model.Listing) error
	collector   string          // a foreign bundle's layout: "sosreport", "supportconfig", ...
	namespaces  map[string]bool // sosreport network namespaces seen (not analyzed)
	head        []byte          // the start of the listing being parsed (coverage hints)
	lines       *input.LineBudget
	fromTicket  bool // the listing being parsed comes from a text given as an input, not from a bundle's file
}

type sampleBuild struct {
	listenersShown bool
	listings       []*sourceListing
	counters       map[string]int64
	time           time.Time // from a collector's time-series separator
	stateCounts    map[string]int
	ownerCounts    map[string]map[string]int
}

type sourceListing struct {
	src     int // index into Snapshot.Sources
	listing *model.Listing
}

// sampleOf returns the sample index a bundle path belongs to: N for
// ".../samples/N/...", else 0.
func sampleOf(rel string) int {
	parts := strings.Split(rel, "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "samples" {
			if n, err := strconv.Atoi(parts[i+1]); err == nil && n >= 0 && n < 10000 {
				return n
			}
		}
	}
	return 0
}

// depth is the number of folders above a bundle path.
func depth(rel string) int { return strings.Count(rel, "/") }

// auxFiles are small host files kept verbatim for the rules.
var auxFiles = []string{"etc/nsswitch.conf", "etc/netsvc.conf", "etc/sysctl.conf", "etc/hosts"}

func (ld *loader) handle(f input.File) error {
	base := path.Base(f.Rel)
	if c := collectorOfPath(f.Rel); c != "" && ld.collector == "" {
		ld.collector = c
	}
	if ns, ok := sosNamespace(f.Rel); ok {
		// Each namespace is a host of its own; only the root one is
		// analyzed for now (finish lists the others in a note).
		if ld.namespaces == nil {
			ld.namespaces = map[string]bool{}
		}
		ld.namespaces[ns] = true
		return nil
	}
	switch {
	case base == collect.ManifestPath && depth(f.Rel) <= 1 && collectorOfPath(f.Rel) == "":
		m, err := collect.ReadManifest(f.R)
		if err != nil {
			ld.problem(f.Display, 0, err.Error())
			return nil
		}
		ld.manifest, ld.sawManifest = m, true
		return nil
	case base == collect.ProcessesPath && depth(f.Rel) <= 1:
		ld.readProcessesJSON(f)
		return nil
	case base == "processes.txt" && depth(f.Rel) <= 1:
		ld.readProcessesText(f)
		return nil
	}
	for _, aux := range auxFiles {
		if f.Rel == aux || strings.HasSuffix(f.Rel, "/"+aux) {
			data, _ := io.ReadAll(io.LimitReader(f.R, ld.lim.MaxAuxFileBytes))
			ld.snap.Files[aux] = string(data)
			ld.addSource(model.Source{Path: f.Display, Format: "host-file", Confidence: 100, Sample: -1})
			return nil
		}
	}
	if strings.Contains(f.Rel, "etc/sysctl.d/") {
		data, _ := io.ReadAll(io.LimitReader(f.R, ld.lim.MaxAuxFileBytes))
		ld.snap.Files["etc/sysctl.d/"+path.Base(f.Rel)] = string(data)
		ld.addSource(model.Source{Path: f.Display, Format: "host-file", Confidence: 100, Sample: -1})
		return nil
	}
	if name, ok := linux.SysctlFromProcPath(f.Rel); ok {
		data, _ := io.ReadAll(io.LimitReader(f.R, 4096))
		v := strings.Join(strings.Fields(string(data)), " ")
		sample := sampleOf(f.Rel)
		if strings.HasSuffix(name, "nf_conntrack_count") {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				ld.sample(sample).counters["Conntrack.count"] = n
			}
		}
		ld.snap.Sysctls[name] = v
		ld.addSource(model.Source{Path: f.Display, Format: "proc-sys", Confidence: 100, Sample: sample})
		return nil
	}
	return ld.readListing(f)
}

func (ld *loader) sample(n int) *sampleBuild {
	sb := ld.samples[n]
	if sb == nil {
		sb = &sampleBuild{counters: map[string]int64{}}
		ld.samples[n] = sb
	}
	return sb
}

func (ld *loader) addSource(s model.Source) int {
	ld.snap.Sources = append(ld.snap.Sources, s)
	return len(ld.snap.Sources) - 1
}

func (ld *loader) problem(p string, line int, msg string) {
	ld.snap.Problems = append(ld.snap.Problems, model.Problem{Path: p, Line: line, Message: msg})
}

// readListing detects and parses one listing file.
func (ld *loader) readListing(f input.File) error {
	ld.fromTicket = f.Rel == ""
	var br io.Reader
	var head []byte
	if m, ok := f.R.(*input.Mapped); ok {
		// A mapped file: its bytes as they are, no copy.
		data := m.Bytes()
		charge := ld.lines.Charge
		if len(data) >= input.ReleaseMin {
			// A big mapping: the passes that count and parse it give
			// back the pages behind them (see parse.Behind).
			parse.RegisterMapped(data)
			defer parse.UnregisterMapped(data)
			charge = func(data []byte, name string) error {
				return ld.lines.ChargeSteps(data, name, func(half []byte) func([]byte) {
					behind := parse.NewBehind(half)
					return behind.Reached
				})
			}
		}
		if err := charge(data, f.Display); err != nil {
			return err
		}
		br, head = parse.NewMemText(data), data[:min(len(data), 64<<10)]
	} else {
		b := bufio.NewReaderSize(ld.lines.Reader(f.R, f.Display), 64<<10)
		var err error
		head, err = b.Peek(64 << 10)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("%s: %w", f.Display, err)
		}
		br = b
	}
	if f.Rel != "" && input.IsArchive(head) {
		ld.addSource(model.Source{Path: f.Display, Sample: -1})
		ld.problem(f.Display, 0, "an archive inside the archive: not opened (extract it and give it as an input of its own)")
		return nil
	}
	r := br
	if _, mapped := br.(interface{ Bytes() []byte }); f.Size > 0 && !mapped {
		r = parse.NewSizedReader(br, f.Size)
	}
	if needsDecoding(head) {
		if input.LooksBinary(head) {
			// Zeros, an image, an executable: say so at once instead of
			// reading up to the decoding limit first.
			ld.addSource(model.Source{Path: f.Display, Sample: -1})
			ld.problem(f.Display, 0, "skipped: binary file, not text")
			if f.Rel == "" {
				return fmt.Errorf("%s: a binary file, not a listing or a ticket", f.Display)
			}
			return nil
		}
		// Decoding needs the whole text in memory: bounded, and loudly.
		limit := ld.lim.MaxDecode
		data, err := io.ReadAll(input.NewCapReader(br, limit, "more than "+input.SizeString(limit)+" of text to decode (UTF-16 or a legacy code page)"))
		if err != nil {
			return fmt.Errorf("%s: %w", f.Display, err)
		}
		text, _, err := input.DecodeText(data)
		if err != nil {
			ld.addSource(model.Source{Path: f.Display, Sample: -1})
			ld.problem(f.Display, 0, "cannot decode text: "+err.Error())
			return nil
		}
		head, r = text, parse.NewMemText(text)
		if len(head) > 64<<10 {
			head = head[:64<<10]
		}
	}
	rel := strings.TrimSuffix(f.Rel, ".tailed")
	if rel != f.Rel && strings.Contains(f.Rel, "sos_strings/") {
		ld.problem(f.Display, 0, "cut at sosreport's size limit (sos kept only the tail): counts from it are lower bounds")
	}
	fmtv, conf := ld.forced, 100
	if fmtv == nil {
		if fmtv = formats.FormatByPath(rel); fmtv == nil {
			hl := parse.HeadLines(head)
			best, all := formats.Detect(hl)
			var text []byte // the whole text, when it may be a ticket
			if ticket.NeedsExtraction(hl, best) {
				// A pasted ticket or a multi-command file: split it
				// (ticket.ExtractSegments). Large texts keep the
				// single-format path.
				data, err := io.ReadAll(io.LimitReader(r, ticket.MaxExtractBytes+1))
				if err != nil {
					return fmt.Errorf("%s: %w", f.Display, err)
				}
				if len(data) <= ticket.MaxExtractBytes {
					segs := ticket.ExtractSegments(data)
					if useSegments(segs, data) {
						if f.Rel == "" { // a pasted ticket, not a bundle's file
							ld.addEvidence(f.Display, data, segs)
						}
						return ld.readSegments(f, segs)
					}
					r, text = parse.NewMemText(data), data
				} else {
					r = io.MultiReader(bytes.NewReader(data), r)
				}
			}
			if best == nil || best.Score < 30 {
				if f.Rel == "" && text != nil && (ld.addEvidence(f.Display, text, nil) > 0 || ticket.AboutTCP(text)) {
					// No listing, but the text states counts, messages or
					// numbers: a ticket in words.
					ld.addSource(model.Source{Path: f.Display, Format: "ticket-text", Sample: -1})
					return nil
				}
				if f.Rel == "" { // a file named on the command line, or stdin
					return fmt.Errorf("%s: not a listing tcpsnap recognizes; %s", f.Display, describeScores(all, hl))
				}
				ld.addSource(model.Source{Path: f.Display, Sample: -1})
				return nil
			}
			fmtv, conf = best.Format, best.Score
		}
	}
	ld.head = head
	return ld.parseListing(r, fmtv, model.Source{Path: f.Display, Format: fmtv.Name, Confidence: conf, Sample: sampleOf(f.Rel)}, f.Display, 0, "", time.Time{})
}

// formatOS names the system of formats only one system prints, so that
// rules speak its language (Windows ports, timers and fixes, not Linux's).
var formatOS = map[string]string{
	"netstat-windows":      "windows",
	"get-nettcpconnection": "windows",
	"netstat-solaris":      "solaris",
	"ndd":                  "solaris",
}

// addEvidence reads a ticket for counts, messages, settings and stated
// numbers outside the listings segs cover, and returns how many it found.
func (ld *loader) addEvidence(display string, text []byte, segs []ticket.Segment) int {
	ev := ticket.FindEvidence(display, text, func(line int) bool {
		for i := range segs {
			if line >= segs[i].First && line <= segs[i].Last {
				return true
			}
		}
		return false
	})
	ld.snap.Evidence = append(ld.snap.Evidence, ev...)
	return len(ev)
}

// useSegments reports whether extraction found more than the whole text
// as one listing: several listings, prose around one, or collector
// structure. One clean listing keeps the ordinary path (and its name).
func useSegments(segs []ticket.Segment, data []byte) bool {
	switch {
	case len(segs) == 0:
		return false
	case len(segs) > 1 || segs[0].Series >= 0 || segs[0].Collector != "" || segs[0].Command != "":
		return true
	}
	s := segs[0]
	orig := strings.Split(string(data), "\n")
	first, last := 0, len(orig)-1
	for first < len(orig) && strings.TrimSpace(orig[first]) == "" {
		first++
	}
	for last > first && strings.TrimSpace(orig[last]) == "" {
		last--
	}
	if s.First != first+1 || s.Last < last+1 {
		return true
	}
	for i, l := range s.Lines {
		o := strings.TrimRight(orig[s.First-1+i], "\r")
		if l != o && strings.TrimSpace(o) != "" {
			return true
		}
	}
	return false
}

// readSegments parses the listings extracted from one text, each as its
// own source "path#segment-N"; problems keep the text's line numbers.
func (ld *loader) readSegments(f input.File, segs []ticket.Segment) error {
	base := sampleOf(f.Rel)
	for i, sg := range segs {
		if sg.Collector != "" && ld.collector == "" {
			ld.collector = sg.Collector
		}
		sample := base
		if sg.Series >= 0 {
			sample = base + sg.Series
		}
		src := model.Source{Path: fmt.Sprintf("%s#segment-%d", f.Display, i+1), Format: sg.Format.Name, Confidence: sg.Score,
			Sample: sample, Lines: fmt.Sprintf("%d-%d", sg.First, sg.Last), Command: sg.Command}
		ld.head = sg.Text()
		if err := ld.parseListing(parse.NewMemText(sg.Text()), sg.Format, src, f.Display, sg.First-1, sg.Command, sg.Time); err != nil {
			return err
		}
	}
	return nil
}

// parseListing parses one listing into the sample src names. Problems are
// reported against problemPath, their lines shifted by lineOff (segments).
func (ld *loader) parseListing(r io.Reader, fmtv *parse.Format, src model.Source, problemPath string, lineOff int, command string, when time.Time) error {
	if fmtv.Parse == nil {
		src.Sample = -1
		ld.addSource(src)
		ld.problem(src.Path, 0, "format "+fmtv.Name+" is recognized but not parsed yet")
		return nil
	}
	var l model.Listing
	if err := formats.ParseFormat(fmtv, r, &l); err != nil {
		if errors.Is(err, input.ErrLimit) {
			return err
		}
		src.Sample = -1
		ld.addSource(src)
		ld.problem(src.Path, 0, fmt.Sprintf("not parsed as %s: %v", fmtv.Name, err))
		return nil
	}
	if st, ok := model.CanonicalState(formats.StateOfCommand(command)); ok {
		// "ss -tan state close-wait" prints no State column.
		for i := range l.Sockets {
			if l.Sockets[i].State == model.Unknown {
				l.Sockets[i].State = st
			}
		}
	}
	if ld.forced != nil && len(l.Sockets) == 0 && len(l.Counters) == 0 && len(l.Sysctls) == 0 && len(l.StateCounts) == 0 && len(l.OwnerCounts) == 0 {
		msg := "read nothing as " + fmtv.Name + " (forced with --input-format)"
		if best, _ := formats.Detect(parse.HeadLines(ld.head)); best != nil && best.Format != fmtv {
			msg += "; it looks like " + best.Format.Name
		}
		ld.problem(src.Path, 0, msg)
	}
	if os := formatOS[fmtv.Name]; os != "" && l.Sysctls["tcpsnap.os"] == "" && len(l.Sockets) > 0 {
		l.SetSysctl("tcpsnap.os", os)
	}
	sample := src.Sample
	src.Sockets = len(l.Sockets)
	idx := ld.addSource(src)
	if ld.onList != nil {
		if err := ld.onList(src, &l); err != nil {
			return err
		}
	}
	for i, p := range l.Problems {
		if i == maxProblemsPerFile {
			ld.problem(src.Path, 0, fmt.Sprintf("%d more lines could not be parsed", len(l.Problems)-i))
			break
		}
		line := p.Line
		if line > 0 {
			line += lineOff
		}
		ld.problem(problemPath, line, p.Message)
	}
	sb := ld.sample(sample)
	if len(l.Sockets) > 0 && showsListeners(fmtv.Name, command, ld.head, &l) {
		sb.listenersShown = true
	}
	ld.head = nil
	if !when.IsZero() && sb.time.IsZero() {
		sb.time = when
	}
	for k, v := range l.Counters {
		sb.counters[k] = v
	}
	for k, v := range l.Sysctls {
		ld.snap.Sysctls[k] = v
	}
	if len(l.StateCounts) > 0 || len(l.OwnerCounts) > 0 {
		if p, ok := ticket.ParsePipeline(command); ok && p.Uniq && len(l.OwnerCounts) == 0 && ld.fromTicket {
			var e model.Evidence
			p.Describe(&e)
			if e.Port > 0 || e.PID > 0 || e.Number > 0 || e.Process != "" {
				// Counts of a filtered listing (awk '$5 ~ /:9000/' ...):
				// claims about what the filter selects, not the host.
				for _, st := range model.SortedKeys(l.StateCounts) {
					c := e
					c.Kind, c.State, c.N, c.Command = model.EvCount, st, int64(l.StateCounts[st]), command
					c.Path, c.Line, c.Text = problemPath, lineOff+1, model.Clip(command)
					ld.snap.Evidence = append(ld.snap.Evidence, c)
				}
				l.StateCounts = nil
			}
		}
		if len(l.StateCounts) > 0 || len(l.OwnerCounts) > 0 {
			ld.addCounts(sb, &l, command, src.Path)
		}
	}
	if len(l.Families) > 0 {
		sb.listings = append(sb.listings, &sourceListing{src: idx, listing: &l})
	}
	return nil
}

// addCounts adds a uniq -c summary to a sample. Owner counts take their
// state from the command that made them ("grep CLOSE_WAIT").
func (ld *loader) addCounts(sb *sampleBuild, l *model.Listing, command, path string) {
	if sb.stateCounts == nil {
		sb.stateCounts, sb.ownerCounts = map[string]int{}, map[string]map[string]int{}
	}
	for st, n := range l.StateCounts {
		sb.stateCounts[st] += n
	}
	for st, m := range l.OwnerCounts {
		if st == "" {
			st = formats.StateOfCommand(command)
		}
		if st == "" {
			ld.problem(path, 0, "counts per owner without their state: paste the command line (e.g. netstat -apn | grep CLOSE_WAIT | ...) with them, or run ss -tanp")
			continue
		}
		dst := sb.ownerCounts[st]
		if dst == nil {
			dst = map[string]int{}
			sb.ownerCounts[st] = dst
		}
		for o, n := range m {
			dst[o] += n
		}
	}
}

// needsDecoding reports whether the start of a file is not plain UTF-8 /
// ASCII text: a BOM, NUL bytes (UTF-16 or binary), or invalid UTF-8.
func needsDecoding(head []byte) bool {
	if bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}) || bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}) {
		return true
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	// Invalid UTF-8 (a legacy code page); ignore a rune cut at the end.
	for i := 0; i < len(head); {
		c := head[i]
		if c < 0x80 {
			i++
			continue
		}
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size <= 1 {
			return len(head)-i >= 4
		}
		i += size
	}
	return false
}

// describeScores explains why no format took an input: every format that
// scored, with its score and the first line that lowered it, then the
// formats that did not match at all.
func describeScores(all []parse.Detection, head []string) string {
	if len(all) == 0 {
		return "no format to try"
	}
	sorted := append([]parse.Detection(nil), all...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Score > sorted[j].Score })
	var b strings.Builder
	b.WriteString("tried (a score of 30 or more is needed):")
	var zero []string
	for i, d := range sorted {
		if d.Score == 0 {
			zero = append(zero, d.Format.Name)
			continue
		}
		fmt.Fprintf(&b, "\n  %-22s score %3d", d.Format.Name, d.Score)
		if i < 3 {
			if why := rejectReason(d.Format, head); why != "" {
				b.WriteString("  " + why)
			}
		}
	}
	if len(zero) > 0 {
		fmt.Fprintf(&b, "\n  score 0 (nothing of theirs matched): %s", strings.Join(zero, ", "))
		if len(head) > 0 {
			fmt.Fprintf(&b, "; the first line %q fits none of them", model.Clip(head[0]))
		}
	}
	b.WriteString("\n(see tcpsnap formats, or force one with --input-format)")
	return b.String()
}

// rejectReason finds the first head line that lowers a format's score:
// the shortest prefix of the head that scores less than the line before.
func rejectReason(f *parse.Format, head []string) string {
	if f.Detect == nil {
		return ""
	}
	best := 0
	for n := 1; n <= len(head) && n <= 12; n++ {
		sc := f.Detect(head[:n])
		if n > 1 && sc < best {
			return fmt.Sprintf("line %q did not fit", model.Clip(head[n-1]))
		}
		best = max(best, sc)
	}
	if best == 0 {
		return fmt.Sprintf("first line %q did not fit", model.Clip(head[0]))
	}
	return ""
}

func (ld *loader) readProcessesJSON(f input.File) {
	var procs []collect.Process
	dec := json.NewDecoder(io.LimitReader(f.R, 64<<20))
	if err := dec.Decode(&procs); err != nil {
		ld.problem(f.Display, 0, "decoding process table: "+err.Error())
		return
	}
	for _, p := range procs {
		ld.snap.Processes[p.PID] = &model.Process{PID: p.PID, Name: p.Name, Cmdline: p.Cmdline, UID: p.UID,
			FDs: p.FDs, FDLimit: p.FDLimit, Inodes: p.SocketInodes}
	}
	ld.addSource(model.Source{Path: f.Display, Format: "process-table", Confidence: 100, Sample: -1})
}

// readProcessesText reads "pid name fds fd_limit" lines (the reproduction
// harness writes them).
func (ld *loader) readProcessesText(f input.File) {
	sc := parse.NewLineScanner(io.LimitReader(f.R, 16<<20))
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		pid, err := strconv.Atoi(fs[0])
		if err != nil || len(fs) < 2 {
			if sc.Line() > 1 { // allow a header line
				ld.problem(f.Display, sc.Line(), "expected: pid name fds fd_limit")
			}
			continue
		}
		p := &model.Process{PID: pid, Name: fs[1], UID: -1, FDs: -1, FDLimit: -1}
		if len(fs) >= 3 {
			p.FDs, _ = strconv.Atoi(fs[2])
		}
		if len(fs) >= 4 {
			if n, err := strconv.Atoi(fs[3]); err == nil {
				p.FDLimit = n
			}
		}
		ld.snap.Processes[pid] = p
	}
	ld.addSource(model.Source{Path: f.Display, Format: "process-table", Confidence: 100, Sample: -1})
}

// finish builds the samples: picks the socket tables to count, fills in
// fields from the others, infers owners, and sorts everything.
func (ld *loader) finish() error {
	s := ld.snap
	if m := ld.manifest; m != nil {
		s.Host = model.Host{Name: m.Host.Hostname, OS: m.Host.OS, Kernel: m.Host.Kernel, Redacted: m.Redacted,
			NonRoot: !m.Root, Collector: "tcpsnap " + m.Version}
		s.Notes = append(manifestNotes(m), s.Notes...)
		for _, it := range m.Sources {
			if it.Error != "" {
				what := it.Command
				if what == "" {
					what = it.File
				}
				s.Problems = append(s.Problems, model.Problem{Path: "manifest.json", Message: "collector: " + what + ": " + it.Error})
			}
		}
	}
	if os := s.Sysctls["tcpsnap.os"]; os != "" && s.Host.OS == "" {
		s.Host.OS = os
	}
	if v := s.Sysctls["kernel.osrelease"]; v != "" && s.Host.Kernel == "" {
		s.Host.Kernel = v
	}
	if v := s.Sysctls["kernel.hostname"]; v != "" && s.Host.Name == "" {
		s.Host.Name = v
	}
	idx := make([]int, 0, len(ld.samples))
	for n := range ld.samples {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	for _, n := range idx {
		sb := ld.samples[n]
		smp := &model.Sample{Counters: sb.counters, ListenersShown: sb.listenersShown}
		ld.mergeSockets(smp, sb)
		smp.Time = sb.time
		if m := ld.manifest; m != nil {
			for _, ms := range m.Samples {
				if ms.Index == n {
					smp.Time = ms.Time
				}
			}
		}
		if len(sb.stateCounts) > 0 || len(sb.ownerCounts) > 0 {
			smp.StateCounts, smp.OwnerCounts = sb.stateCounts, sb.ownerCounts
			if len(smp.Sockets) > 0 {
				s.Notes = append(s.Notes, "state counts (uniq -c) were not used: the socket listing of the same sample says more")
			}
		}
		s.Samples = append(s.Samples, smp)
	}
	if len(s.Samples) == 0 {
		s.Samples = []*model.Sample{{Counters: map[string]int64{}}}
	}
	if s.Host.OS == "" && len(s.Latest().Sockets) > 0 {
		s.Host.OS = "linux"
		for _, src := range s.Sources {
			if src.Format != "" && !strings.HasPrefix(src.Format, "ss") && !strings.HasPrefix(src.Format, "proc") && src.Format != "netstat-linux" && src.Format != "sysctl" && src.Format != "process-table" && src.Format != "host-file" {
				s.Host.OS = ""
			}
		}
	}
	ld.finishCollector() // after mergeSockets: it drops sources
	big := false
	for i, smp := range s.Samples {
		if i == len(s.Samples)-1 && ld.ahead { // the one analyzed: see engine.GroupsOf
			group.InferOwnersOfLatest(smp, s.Processes)
		} else {
			group.InferOwners(smp, s.Processes)
		}
		big = big || len(smp.Sockets) >= bigSample
	}
	if big {
		// Owner inference's temporaries (a million sockets' keys, their
		// partitions; not the listener index it keeps in the sample for
		// aggregation) go back to the heap for aggregation to reuse:
		// fresh memory costs a page fault a page, on a virtual machine a
		// millisecond or more a megabyte, and at this heap size no
		// collection would come before the analysis ends.
		runtime.GC()
	}
	applyEvidenceFacts(s)
	recognized := false
	for _, src := range s.Sources {
		if src.Format != "" {
			recognized = true
		}
	}
	if !recognized {
		msg := "no input holds anything tcpsnap recognizes (see tcpsnap formats)"
		var why []string
		for _, p := range s.Problems {
			if len(why) == 5 {
				why = append(why, fmt.Sprintf("and %d more", len(s.Problems)-5))
				break
			}
			why = append(why, p.String())
		}
		if len(why) > 0 {
			msg += ": " + strings.Join(why, "; ")
		}
		return errors.New(msg)
	}
	sort.SliceStable(s.Sources, func(i, j int) bool { return s.Sources[i].Path < s.Sources[j].Path })
	sort.SliceStable(s.Problems, func(i, j int) bool {
		a, b := s.Problems[i], s.Problems[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Line < b.Line
	})
	return nil
}

// bigSample is the number of sockets past which the loader collects
// garbage between owner inference and aggregation.
const bigSample = 1 << 18

// NoteNonRoot is the report note of a bundle collected without root.
const NoteNonRoot = "process ownership incomplete: collected without root, so sockets of other users' processes have no pid or process name, and findings about them cannot name their owner"

// manifestNotes turns the collector's notes into report notes: what it
// could not collect and why. The platform descriptions (what is gathered
// on each system) are left out; a non-root collection gets NoteNonRoot
// instead of the collector's own wording.
func manifestNotes(m *collect.Manifest) []string {
	var out []string
	if !m.Root {
		out = append(out, NoteNonRoot)
	}
	for _, n := range m.Notes {
		n = strings.TrimSpace(n)
		if n == "" || strings.HasPrefix(n, "platform ") || strings.HasPrefix(n, "not running as root") {
			continue
		}
		out = append(out, "collector: "+n)
	}
	return out
}

// mergeSockets counts each socket once: for each address family the
// richest table that covers it is primary; the others only fill in
// fields the primary lacks (process, timer, inode, tcp_info).
func (ld *loader) mergeSockets(smp *model.Sample, sb *sampleBuild) {
	// The richest listing of each family is counted; the others fill in
	// what it lacks. A listing most of whose rows lost their addresses (a
	// mangled paste) is never preferred to one whose rows are whole.
	primary := map[int]*sourceListing{} // family -> listing
	whole := map[*sourceListing]bool{}
	if len(sb.listings) > 1 { // one listing is chosen whatever it holds: no scan of its million rows
		for _, sl := range sb.listings {
			whole[sl] = mostlyWhole(sl.listing)
		}
	}
	for _, sl := range sb.listings {
		for _, fam := range sl.listing.Families {
			cur := primary[fam]
			if cur == nil || whole[sl] && !whole[cur] || whole[sl] == whole[cur] && sl.listing.Richness > cur.listing.Richness {
				primary[fam] = sl
			}
		}
	}
	chosen := map[*sourceListing][]int{}
	for fam, sl := range primary {
		chosen[sl] = append(chosen[sl], fam)
	}
	var secondary []*sourceListing
	for _, sl := range sb.listings {
		fams, ok := chosen[sl]
		if !ok {
			secondary = append(secondary, sl)
			ld.snap.Sources[sl.src].Role = "merged"
			continue
		}
		ld.snap.Sources[sl.src].Role = "primary"
		smp.SocketSources = append(smp.SocketSources, ld.snap.Sources[sl.src].Path)
		if len(fams) == len(sl.listing.Families) {
			if smp.Sockets == nil {
				// The usual case: one table, no copy.
				smp.Sockets, smp.Infos = sl.listing.Sockets, sl.listing.Infos
				continue
			}
			model.AppendTable(&smp.Sockets, &smp.Infos, sl.listing.Sockets, sl.listing.Infos)
			continue
		}
		for i := range sl.listing.Sockets {
			for _, f := range fams {
				if s := &sl.listing.Sockets[i]; int(s.Family) == f {
					smp.Sockets = append(smp.Sockets, *s)
					if in := sl.listing.Info(s); in != nil {
						model.SetInfo(&smp.Infos, &smp.Sockets[len(smp.Sockets)-1], *in)
					}
				}
			}
		}
	}
	sort.Strings(smp.SocketSources)
	if len(secondary) == 0 {
		return
	}
	type key struct {
		l, r  model.AddrPort
		state model.State
	}
	index := make(map[key]int, len(smp.Sockets))
	for i := range smp.Sockets {
		k := key{smp.Sockets[i].Local, smp.Sockets[i].Remote, smp.Sockets[i].State}
		if _, dup := index[k]; dup {
			index[k] = -1 // ambiguous (e.g. wildcard listeners): do not enrich
			continue
		}
		index[k] = i
	}
	for _, sl := range secondary {
		// Duplicates are proven, not assumed: a listing that shares few
		// of its sockets with the counted ones shows other sockets (another
		// filter, another moment of a pasted ticket), and they count too.
		matched, usable := 0, 0
		for j := range sl.listing.Sockets {
			o := &sl.listing.Sockets[j]
			if !o.Local.IsValid() || o.State == model.TimeWait {
				continue // TIME_WAIT turns over within a minute: no proof either way
			}
			usable++
			if _, ok := index[key{o.Local, o.Remote, o.State}]; ok {
				matched++
			}
		}
		// Only for listings pasted in one text: a collector's listings of
		// one instant differ only by the sockets that came and went.
		distinct := usable > 0 && matched*2 < usable && ld.snap.Sources[sl.src].Lines != ""
		if distinct {
			ld.snap.Sources[sl.src].Role = "primary"
			smp.SocketSources = append(smp.SocketSources, ld.snap.Sources[sl.src].Path)
			sort.Strings(smp.SocketSources)
		}
		for j := range sl.listing.Sockets {
			o := &sl.listing.Sockets[j]
			i, ok := index[key{o.Local, o.Remote, o.State}]
			if !ok && distinct && o.Local.IsValid() {
				smp.Sockets = append(smp.Sockets, *o)
				if in := sl.listing.Info(o); in != nil {
					model.SetInfo(&smp.Infos, &smp.Sockets[len(smp.Sockets)-1], *in)
				}
				index[key{o.Local, o.Remote, o.State}] = -1
				continue
			}
			if !ok || i < 0 {
				continue
			}
			enrich(&smp.Sockets[i], o)
			if in := sl.listing.Info(o); in != nil && !smp.Sockets[i].HasInfo() {
				model.SetInfo(&smp.Infos, &smp.Sockets[i], *in)
			}
		}
	}
}

// mostlyWhole reports whether most of a listing's sockets have their
// local address: a paste whose addresses were stripped has none.
func mostlyWhole(l *model.Listing) bool {
	n := 0
	for i := range l.Sockets {
		if l.Sockets[i].Local.IsValid() {
			n++
		}
	}
	return n > 0 && n*2 >= len(l.Sockets)
}

// enrich fills fields of s that o knows and s does not (tcp_info is
// the caller's: it lives in the tables).
func enrich(s, o *model.Socket) {
	if s.PID == 0 && o.PID != 0 {
		s.PID, s.Process, s.FD = o.PID, o.Process, o.FD
	}
	if s.Process == model.NoName && o.Process != model.NoName {
		s.Process = o.Process
	}
	if s.UID < 0 {
		s.UID = o.UID
	}
	if s.Inode == 0 {
		s.Inode = o.Inode
	}
	if s.Timer == model.TimerNone && s.TimerMS < 0 && (o.Timer != model.TimerNone || o.TimerMS >= 0) {
		s.Timer, s.TimerMS, s.Retransmits = o.Timer, o.TimerMS, o.Retransmits
	}
	if s.State == model.Listen && !s.BacklogKnown && o.BacklogKnown {
		s.SendQ, s.BacklogKnown = o.SendQ, true
	}
}

// applyEvidenceFacts takes counter lines and settings a ticket states
// (`netstat -s | grep -i listen`, `ulimit -n`, `cat /proc/sys/...`) into
// the snapshot where no listing gave them.
func applyEvidenceFacts(s *model.Snapshot) {
	smp := s.Latest()
	for _, e := range s.Evidence {
		switch e.Kind {
		case model.EvCounter:
			if smp.Counters == nil {
				smp.Counters = map[string]int64{}
			}
			if _, ok := smp.Counters[e.Name]; !ok {
				smp.Counters[e.Name] = e.N
			}
		case model.EvSetting:
			name := e.Name
			if name == "tcpsnap.os" {
				if s.Host.OS == "" && s.Sysctls[name] == "" {
					s.Host.OS = e.Value
				}
				continue
			}
			if strings.HasPrefix(name, "ulimit") {
				// The soft limit is the one EMFILE hits: ulimit -n and -Sn
				// print it, -Hn the ceiling it may be raised to.
				if name == "ulimit -Hn" {
					name = "tcpsnap.ulimit_nofile_hard"
				} else {
					name = "tcpsnap.ulimit_nofile"
				}
			}
			if _, ok := s.Sysctls[name]; !ok {
				s.Sysctls[name] = e.Value
			}
		}
	}
}

var (
	listenersHeaderRE = regexp.MustCompile(`\((servers and established|only servers)\)`)
	filterStageRE     = regexp.MustCompile(`(?i)\b(grep|egrep|fgrep|findstr|find|select-string|sls|awk|head|tail|where-object)\b`)
	ssStateRE         = regexp.MustCompile(`(?i)\bstate\s+([\w-]+)`)
	listenFlagRE      = regexp.MustCompile(`(?:^|\s)-[a-zA-Z]*[al][a-zA-Z]*\b|\s(?:state|-State)\s+(?:all|listen(?:ing)?)\b`)
)

// showsListeners reports whether a socket listing would show listening
// sockets if there were any (see model.Sample.ListenersShown).
func showsListeners(format, command string, head []byte, l *model.Listing) bool {
	switch format {
	case "proc-net-tcp":
		return true
	}
	if listenersHeaderRE.Match(head) { // first: it spares a scan of a million rows
		return true
	}
	for i := range l.Sockets {
		switch st := l.Sockets[i].State; {
		case st == model.Listen:
			return true
		case format == "ss" && (st == model.TimeWait || st == model.SynRecv):
			return true // ss hides these without -a
		}
	}
	if command != "" {
		base, rest, piped := strings.Cut(command, "|")
		if piped && filterStageRE.MatchString(rest) {
			return false // grep CLOSE_WAIT, awk '$6 == ...': listeners filtered out
		}
		if m := ssStateRE.FindStringSubmatch(base); m != nil && !strings.EqualFold(m[1], "all") && !strings.HasPrefix(strings.ToLower(m[1]), "listen") {
			return false // ss ... state established: one state only
		}
		if f := strings.Fields(base); len(f) > 0 && (strings.HasSuffix(f[0], "ss") || strings.HasSuffix(f[0], "netstat") || strings.HasSuffix(f[0], "netstat.exe")) {
			return listenFlagRE.MatchString(base)
		}
	}
	return false
}

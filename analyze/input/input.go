package input

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Limits bound what one input may cost. Customer bundles are untrusted:
// every limit is enforced with an error that names the input, never by
// silently truncating.
type Limits struct {
	MaxCompressed   int64 // bytes of one compressed archive
	MaxTotal        int64 // decompressed bytes of one archive, folder or stream
	MaxFile         int64 // bytes of one file
	MaxEntries      int   // files in one archive or folder
	MaxNameLen      int   // bytes of one entry name
	MaxAuxFileBytes int64 // bytes kept of small text files (nsswitch.conf, ...)
	// MaxDecode bounds a file that must be decoded (UTF-16, a legacy code
	// page) before parsing: decoding holds it whole in memory.
	MaxDecode int64
	// MaxLines bounds the lines of text one analysis reads, over all its
	// inputs: each line can become a socket, so this is the memory budget
	// of the socket tables (about 500 bytes a line at worst, growth and
	// garbage collection included: 4,000,000 lines stay under 2 GB). A stream
	// has no size to check up front; this holds it anyway.
	MaxLines int64
	// FIFOIdle is how long a FIFO argument may stay silent (no writer, or
	// a writer that stopped) before reading it fails; 0 means 30 s.
	FIFOIdle time.Duration
}

func (l Limits) fifoIdle() time.Duration {
	if l.FIFOIdle > 0 {
		return l.FIFOIdle
	}
	return 30 * time.Second
}

// kindOf names a special file's kind for messages.
func kindOf(m fs.FileMode) string {
	switch {
	case m&os.ModeCharDevice != 0:
		return "character device"
	case m&os.ModeDevice != 0:
		return "device"
	case m&os.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// idleReader reads a FIFO opened without blocking: until a writer comes
// an empty read is no end of file, and a read that waits longer than idle
// for data fails.
type idleReader struct {
	f      *os.File
	idle   time.Duration
	name   string
	opened bool // a writer has written: an empty read is the end
}

func (r *idleReader) Read(p []byte) (int, error) {
	deadline := time.Now().Add(r.idle)
	for {
		if err := r.f.SetReadDeadline(deadline); err != nil {
			return r.f.Read(p) // not pollable: read as a plain file
		}
		n, err := r.f.Read(p)
		switch {
		case n > 0:
			r.opened = true
			return n, err
		case errors.Is(err, os.ErrDeadlineExceeded):
			return 0, fmt.Errorf("%s: nothing to read for %v (a FIFO whose writer is gone or never came)", r.name, r.idle)
		case err == io.EOF && !r.opened:
			if time.Now().After(deadline) {
				return 0, fmt.Errorf("%s: no writer opened the FIFO within %v", r.name, r.idle)
			}
			time.Sleep(20 * time.Millisecond) // no writer yet
			continue
		}
		return n, err
	}
}

// DefaultLimits suit a 1,000,000-socket listing with room to spare.
var DefaultLimits = Limits{
	MaxCompressed:   1 << 30,
	MaxTotal:        4 << 30,
	MaxFile:         2 << 30,
	MaxEntries:      20000,
	MaxNameLen:      1024,
	MaxAuxFileBytes: 256 << 10,
	MaxDecode:       256 << 20,
	MaxLines:        4_000_000,
}

// ErrLimit is wrapped by errors for inputs over a limit.
var ErrLimit = errors.New("input exceeds a limit")

// CapReader returns an error, not a silent EOF, when more than n bytes
// are read: a bomb must not turn into a truncated but "valid" file.
type CapReader struct {
	r    io.Reader
	n    int64
	what string
}

// NewCapReader reads r, failing with an ErrLimit error that says what
// was too large once more than n bytes have been read.
func NewCapReader(r io.Reader, n int64, what string) *CapReader {
	return &CapReader{r: r, n: n, what: what}
}

func (c *CapReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		// Allow a clean EOF exactly at the limit.
		var one [1]byte
		if k, err := c.r.Read(one[:]); k == 0 && err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("%w: %s", ErrLimit, c.what)
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// A file is one member of an input: Rel is its path inside the input
// (slash-separated, cleaned; "" for a plain file or stdin) and Display is
// how reports name it.
type File struct {
	Rel     string
	Display string
	R       io.Reader
	Size    int64 // bytes, 0 when unknown
}

// WalkInput calls fn for every regular file of one input argument: a
// .tar, .tar.gz, .tgz or .zip archive, a folder, a plain file, or "-"
// for stdin. Archive members are streamed, never extracted. Links,
// devices and unsafe names are skipped and reported through skip.
func WalkInput(arg string, stdin io.Reader, lim Limits, fn func(File) error, skip func(display, why string)) error {
	if arg == "-" {
		return fn(File{Rel: "", Display: "<stdin>", R: &CapReader{stdin, lim.MaxFile, "<stdin>: more than " + SizeString(lim.MaxFile)}})
	}
	st, err := os.Stat(arg)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return walkDir(arg, lim, fn, skip)
	}
	var f *os.File
	var src io.Reader
	switch mode := st.Mode(); {
	case mode&os.ModeNamedPipe != 0:
		// A FIFO (or a shell's <(cmd)): opened without waiting for a
		// writer, and read with an idle deadline, never waited on forever.
		if f, err = openFIFO(arg); err != nil {
			return err
		}
		src = &idleReader{f: f, idle: lim.fifoIdle(), name: arg}
	case mode&(os.ModeDevice|os.ModeCharDevice|os.ModeSocket|os.ModeIrregular) != 0:
		return fmt.Errorf("%s is a %s, not a file: give a listing, a folder, an archive or - for standard input", arg, kindOf(mode))
	default:
		if f, err = os.Open(arg); err != nil {
			return err
		}
		src = f
	}
	defer f.Close()
	if !st.Mode().IsRegular() {
		// A stream has no size to check up front: cap what is read.
		src = &CapReader{src, lim.MaxFile, arg + ": more than " + SizeString(lim.MaxFile)}
	}
	br := bufio.NewReaderSize(src, 64<<10)
	magic, _ := br.Peek(512)
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		if st.Size() > lim.MaxCompressed {
			return fmt.Errorf("%w: %s is %s compressed (limit %s)", ErrLimit, arg, SizeString(st.Size()), SizeString(lim.MaxCompressed))
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", arg, err)
		}
		defer zr.Close()
		body := bufio.NewReaderSize(&CapReader{zr, lim.MaxTotal, arg + ": more than " + SizeString(lim.MaxTotal) + " decompressed"}, 64<<10)
		inner, _ := body.Peek(512)
		if isTar(inner) {
			return walkTar(arg, body, lim, fn, skip)
		}
		// A gzipped single listing.
		return fn(File{Rel: "", Display: arg, R: body})
	case isTar(magic):
		return walkTar(arg, &CapReader{br, lim.MaxTotal, arg + ": more than " + SizeString(lim.MaxTotal)}, lim, fn, skip)
	case bytes.HasPrefix(magic, zipMagic) || bytes.HasPrefix(magic, []byte("PK\x05\x06")):
		return walkZip(arg, f, st.Size(), lim, fn, skip)
	}
	if st.Size() > lim.MaxFile {
		return fmt.Errorf("%w: %s is %s (limit %s)", ErrLimit, arg, SizeString(st.Size()), SizeString(lim.MaxFile))
	}
	if m, unmap, ok := openMapped(f, st.Size()); ok {
		defer unmap()
		return Guarded(arg, m.b, func() error { return fn(File{Rel: "", Display: arg, R: m, Size: st.Size()}) })
	}
	return fn(File{Rel: "", Display: arg, R: br, Size: st.Size()})
}

// IsArchive reports gzip, zip or tar magic at the start of a file.
func IsArchive(head []byte) bool {
	return bytes.HasPrefix(head, gzipMagic) || bytes.HasPrefix(head, zipMagic) || isTar(head)
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zipMagic  = []byte("PK\x03\x04")
)

func isTar(b []byte) bool {
	return len(b) >= 262 && (bytes.Equal(b[257:262], []byte("ustar")))
}

// cleanMember validates an archive member name and returns it cleaned.
func cleanMember(name string, lim Limits) (string, error) {
	if len(name) > lim.MaxNameLen {
		return "", fmt.Errorf("name longer than %d bytes", lim.MaxNameLen)
	}
	if strings.ContainsAny(name, "\x00\\") {
		return "", errors.New("name contains a NUL or backslash")
	}
	if strings.HasPrefix(name, "/") {
		return "", errors.New("absolute path")
	}
	c := path.Clean(strings.TrimPrefix(name, "./"))
	if c == ".." || strings.HasPrefix(c, "../") || c == "." {
		return "", errors.New("path leaves the archive")
	}
	return c, nil
}

func walkTar(arg string, r io.Reader, lim Limits, fn func(File) error, skip func(string, string)) error {
	tr := tar.NewReader(r)
	entries := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return fmt.Errorf("%s: reading archive: %w", arg, err)
		}
		entries++
		if entries > lim.MaxEntries {
			return fmt.Errorf("%w: %s has more than %d entries", ErrLimit, arg, lim.MaxEntries)
		}
		display := arg + ":" + hdr.Name
		name, err := cleanMember(hdr.Name, lim)
		if err != nil {
			skip(display, "unsafe member name: "+err.Error())
			continue
		}
		display = arg + ":" + name
		switch hdr.Typeflag {
		case tar.TypeReg:
		case tar.TypeDir:
			continue
		case tar.TypeSymlink, tar.TypeLink:
			skip(display, "link to "+hdr.Linkname+" not followed")
			continue
		default:
			skip(display, "not a regular file")
			continue
		}
		if hdr.Size > lim.MaxFile {
			return fmt.Errorf("%w: %s is %s (limit %s)", ErrLimit, display, SizeString(hdr.Size), SizeString(lim.MaxFile))
		}
		if err := fn(File{Rel: name, Display: display, R: io.LimitReader(tr, hdr.Size), Size: hdr.Size}); err != nil {
			return err
		}
	}
}

func walkZip(arg string, f *os.File, size int64, lim Limits, fn func(File) error, skip func(string, string)) error {
	if size > lim.MaxCompressed {
		return fmt.Errorf("%w: %s is %s compressed (limit %s)", ErrLimit, arg, SizeString(size), SizeString(lim.MaxCompressed))
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return fmt.Errorf("%s: %w", arg, err)
	}
	if len(zr.File) > lim.MaxEntries {
		return fmt.Errorf("%w: %s has more than %d entries", ErrLimit, arg, lim.MaxEntries)
	}
	var total int64
	for _, zf := range zr.File {
		name := strings.ReplaceAll(zf.Name, "\\", "/") // Compress-Archive writes backslashes
		display := arg + ":" + name
		clean, err := cleanMember(name, lim)
		if err != nil {
			skip(display, "unsafe member name: "+err.Error())
			continue
		}
		display = arg + ":" + clean
		mode := zf.Mode()
		if mode.IsDir() {
			continue
		}
		if !mode.IsRegular() {
			skip(display, "not a regular file")
			continue
		}
		if zf.UncompressedSize64 > uint64(lim.MaxFile) {
			return fmt.Errorf("%w: %s is %s (limit %s)", ErrLimit, display, SizeString(int64(zf.UncompressedSize64)), SizeString(lim.MaxFile))
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", display, err)
		}
		// The declared size can lie: cap what is actually inflated.
		left := lim.MaxTotal - total
		cr := &CapReader{rc, min(left, lim.MaxFile), display + ": more than declared or allowed"}
		err = fn(File{Rel: clean, Display: display, R: cr, Size: int64(zf.UncompressedSize64)})
		total += min(left, lim.MaxFile) - cr.n
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func walkDir(root string, lim Limits, fn func(File) error, skip func(string, string)) error {
	var names []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			skip(p, err.Error())
			return nil
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			skip(p, "not a regular file (links are not followed)")
			return nil
		}
		names = append(names, p)
		if len(names) > lim.MaxEntries {
			return fmt.Errorf("%w: %s has more than %d files", ErrLimit, root, lim.MaxEntries)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	var total int64
	for _, p := range names {
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		f, err := os.Open(p)
		if err != nil {
			skip(p, err.Error())
			continue
		}
		st, err := f.Stat()
		if err == nil && st.Size() > lim.MaxFile {
			f.Close()
			return fmt.Errorf("%w: %s is %s (limit %s)", ErrLimit, p, SizeString(st.Size()), SizeString(lim.MaxFile))
		}
		if err == nil {
			total += st.Size()
			if total > lim.MaxTotal {
				f.Close()
				return fmt.Errorf("%w: %s holds more than %s", ErrLimit, root, SizeString(lim.MaxTotal))
			}
		}
		var size int64
		if st != nil {
			size = st.Size()
		}
		if m, unmap, ok := openMapped(f, size); ok && st.Mode().IsRegular() {
			err = Guarded(filepath.ToSlash(p), m.b, func() error { return fn(File{Rel: rel, Display: filepath.ToSlash(p), R: m, Size: size}) })
			unmap()
		} else {
			err = fn(File{Rel: rel, Display: filepath.ToSlash(p), R: f, Size: size})
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func SizeString(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// A LineBudget is what is left of Limits.MaxLines in one analysis.
type LineBudget struct {
	left, max int64
}

// NewLineBudget returns a budget of n lines (no bound when n <= 0).
func NewLineBudget(n int64) *LineBudget { return &LineBudget{left: n, max: n} }

// Charge counts the lines of data (a mapped file, read without a Reader)
// against the budget.
func (b *LineBudget) Charge(data []byte, name string) error {
	if b == nil || b.max <= 0 {
		return nil
	}
	return (&lineCapReader{b: b, name: name}).count(data)
}

// ReleaseMin is the size from which a mapped file is mapped page by
// page rather than entered whole, for its reader to give the pages back
// behind each pass over it (parse.Behind): kept whole, a 600 MB listing
// was most of the process's resident size.
const ReleaseMin = 256 << 20

// ChargeSteps is Charge counting data in two halves at once, each in
// steps of a few MB: pass(half) starts a pass over a half and returns
// the function to call with its rest after each step (a reader of a big
// mapping gives back the pages behind it). One core counted 600 MB
// while the other waited.
func (b *LineBudget) ChargeSteps(data []byte, name string, pass func(half []byte) (reached func(rest []byte))) error {
	if b == nil || b.max <= 0 {
		return nil
	}
	count := func(half []byte) int {
		n, reached := 0, pass(half)
		for rest := half; len(rest) > 0; {
			k := min(len(rest), 4<<20)
			n += bytes.Count(rest[:k], []byte{'\n'})
			rest = rest[k:]
			reached(rest)
		}
		return n
	}
	lines := inHalves(data, count)
	if lines == 0 { // as count: a text of lone '\r' line ends
		lines = bytes.Count(data, []byte{'\r'})
	}
	return b.spend(lines, name)
}

// Reader counts the lines read through r against the budget and fails,
// naming the input, once it is spent.
func (b *LineBudget) Reader(r io.Reader, name string) io.Reader {
	if b == nil || b.max <= 0 {
		return r
	}
	return &lineCapReader{r: r, b: b, name: name}
}

type lineCapReader struct {
	r    io.Reader
	b    *LineBudget
	name string
}

func (c *lineCapReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if cerr := c.count(p[:n]); cerr != nil {
		return n, cerr
	}
	return n, err
}

// countNewlines counts the '\n' in p, a big p in two halves at once (a
// mapped listing of 100 MB is counted before it is parsed).
func countNewlines(p []byte) int {
	count := func(b []byte) int { return bytes.Count(b, []byte{'\n'}) }
	if len(p) < 8<<20 {
		return count(p)
	}
	return inHalves(p, count)
}

// inHalves returns count of the two halves of data, counted at once: the
// second on a goroutine whose memory faults (a mapped file cut short)
// come back to the caller's goroutine, where Guarded turns them into
// ErrChanged — the caller waits for it whatever happens, never leaving it
// reading a mapping about to be unmapped. (parse.GoGuarded does the same
// for the parsers; input imports nothing of tcpsnap.)
func inHalves(data []byte, count func([]byte) int) int {
	mid := len(data) / 2
	var second int
	var fault any
	done := make(chan struct{})
	go func() {
		defer close(done)
		old := debug.SetPanicOnFault(true)
		defer func() {
			debug.SetPanicOnFault(old)
			if r := recover(); r != nil {
				if _, ok := r.(interface{ Addr() uintptr }); !ok {
					panic(r) // a bug, not a fault
				}
				fault = r
			}
		}()
		second = count(data[mid:])
	}()
	first := func() int {
		defer func() { <-done }()
		return count(data[:mid])
	}()
	if fault != nil {
		panic(fault)
	}
	return first + second
}

// count charges the lines in p.
func (c *lineCapReader) count(p []byte) error {
	// A line ends at \n, \r\n or a lone \r (old Mac text: no \n at all).
	lines := countNewlines(p)
	if lines == 0 {
		lines = bytes.Count(p, []byte{'\r'})
	}
	return c.b.spend(lines, c.name)
}

// spend takes lines from the budget, failing once it is spent.
func (b *LineBudget) spend(lines int, name string) error {
	if b.left -= int64(lines); b.left < 0 {
		return fmt.Errorf("%w: %s: more than %d lines of listings in this analysis (the memory budget of the socket tables)", ErrLimit, name, b.max)
	}
	return nil
}

package formats

import (
	"bytes"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// piecesPerCore is how many pieces a big listing is cut into per core:
// the cores take them in turn, so that one core running slower (on a
// virtual machine, one held up by page faults the host serves one at a
// time) leaves the other more pieces, not a wait at the end.
const piecesPerCore = 8

// piecesMinBytes is the size from which a listing of a format that can be
// cut (Format.Cut) is parsed in pieces on several cores. Below it one
// core is faster than starting the others.
const piecesMinBytes = 4 << 20

// cutSearchMax bounds the search for a line a piece may start at: a text
// without one near the planned cut is parsed whole.
const cutSearchMax = 1 << 20

// ParseFormat parses r as f into out: whole, or — for a large input of a
// format that can be cut, with two cores or more — read into memory and
// parsed in pieces (piecesPerCore a core) the cores take in turn, joined
// in order. Both give the same Listing.
func ParseFormat(f *parse.Format, r io.Reader, out *model.Listing) error {
	n := parse.SizeOf(r)
	procs := runtime.GOMAXPROCS(0)
	pieces := min(piecesPerCore*procs, n/piecesMinBytes+1)
	if f.Cut == nil || pieces < 2 || procs < 2 { // one core: pieces one after another are only overhead
		return f.Parse(r, out)
	}
	if m, ok := r.(interface{ Bytes() []byte }); ok { // in memory already
		return parsePieces(f, m.Bytes(), pieces, out)
	}
	// A read error (a truncated archive member, a size limit) is the
	// parse's error, as it is when streaming.
	data := make([]byte, 0, n+1)
	model.AdviseHugePages(data) // 100 MB read from an archive: a fault a page otherwise
	for {
		if len(data) == cap(data) { // longer than it said: keep the rest too
			data = append(data, 0)[:len(data)]
		}
		m, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return parsePieces(f, data, pieces, out)
}

// parsePieces parses data as f in up to n pieces cut before lines f.Cut
// accepts. A piece the parser refuses sends the whole text back to one
// parse, so the result never depends on where the cuts fell.
func parsePieces(f *parse.Format, data []byte, n int, out *model.Listing) error {
	starts := []int{0}
	if f.CutWhole == nil || !f.CutWhole(data) {
		starts = cutPoints(f.Cut, data, n)
	}
	if len(starts) < 2 {
		return f.Parse(parse.NewMemText(data), out)
	}
	bounds := append(starts, len(data))
	// Lines before each piece (for problem line numbers) and in it (an
	// upper bound on its sockets, so that no piece's table grows).
	lines := make([]int, len(starts))
	parallelEach(len(starts), func(k int) {
		lines[k] = parse.LineEnds(data[bounds[k]:bounds[k+1]]) + 1
	})
	total := 0
	for _, c := range lines {
		total += c
	}
	// One table for all: piece k fills its own window, and joining moves
	// each piece down over the gaps its lines without sockets left.
	table := make([]model.Socket, 0, total)
	model.AdviseHugePages(table)
	parts := make([]model.Listing, len(starts))
	errs := make([]error, len(starts))
	windows := make([]int, len(starts)+1) // piece k's window: table[windows[k]:windows[k+1]]
	for k := range parts {
		windows[k+1] = windows[k] + lines[k]
		parts[k].Sockets = table[windows[k]:windows[k]:windows[k+1]]
	}
	parallelEach(len(starts), func(k int) {
		errs[k] = f.Parse(parse.NewMemText(data[bounds[k]:bounds[k+1]]), &parts[k])
	})
	for _, err := range errs {
		if err != nil {
			return f.Parse(parse.NewMemText(data), out)
		}
	}
	*out = parts[0]
	if n := len(out.Sockets); cap(out.Sockets) > 0 && &out.Sockets[:1][0] == &table[:1][0] {
		out.Sockets = table[:n] // the whole table's capacity (piece 0 may hold none): the others fit after it
	}
	// The tcp_info tables (ss -i) are joined into one, grown once.
	infos := 0
	for k := range parts {
		infos += len(parts[k].Infos)
	}
	out.Infos = slices.Grow(out.Infos, infos-len(out.Infos))
	sockets := 0
	for k := range parts {
		sockets += len(parts[k].Sockets)
	}
	lineOff := 0
	for k := 1; k < len(parts); k++ {
		lineOff += lines[k-1] - 1
		moved := len(parts[k].Sockets)
		model.JoinListing(out, &parts[k], lineOff)
		// What the piece's window held past where all the sockets will
		// end is garbage no piece moves onto: its pages go back at once
		// (ss -i has two lines a socket: the windows are half full, and
		// the later pieces' would otherwise stay touched, 50 MB a
		// million sockets).
		if from := max(windows[k], sockets); windows[k]+moved > from && &out.Sockets[:1][0] == &table[:1][0] {
			model.ReleasePages(table[from : windows[k]+moved])
		}
	}
	return nil
}

// cutPoints returns the offsets the pieces start at: 0, then for each
// planned cut the start of the first line at or after it that cut
// accepts. It returns fewer pieces where no such line is near.
//
// Pieces start after a '\n' only: a lone '\r' ends a line too (see
// parse.LineScanner), but a text cut after one could have its "\r\n"
// split in two. A line checked with cut ends at its first '\r' or '\n'.
func cutPoints(cut func([]byte) bool, data []byte, n int) []int {
	starts := []int{0}
	for k := 1; k < n; k++ {
		at := len(data) * k / n
		if at <= starts[len(starts)-1] {
			continue
		}
		// Start of the next line after at.
		nl := bytes.IndexByte(data[at:], '\n')
		if nl < 0 {
			break
		}
		pos := at + nl + 1
		found := -1
		for pos < len(data) && pos-at < cutSearchMax {
			end := bytes.IndexByte(data[pos:], '\n')
			line := data[pos:]
			if end >= 0 {
				line = data[pos : pos+end]
			}
			if cr := bytes.IndexByte(line, '\r'); cr >= 0 {
				line = line[:cr]
			}
			if cut(line) {
				found = pos
				break
			}
			if end < 0 {
				break
			}
			pos += end + 1
		}
		if found > starts[len(starts)-1] {
			starts = append(starts, found)
		}
	}
	return starts
}

// parallelEach runs fn(0..n-1) on up to GOMAXPROCS goroutines, each
// taking the next k as it finishes one.
func parallelEach(n int, fn func(k int)) {
	var wg sync.WaitGroup
	var next atomic.Int64
	faults := make([]any, n)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int(next.Add(1) - 1); k < n; k = int(next.Add(1) - 1) {
				// A mapped input cut short faults here: pass it to the
				// caller's goroutine, which input.Guarded covers.
				if f := parse.GoGuarded(func() { fn(k) }); f != nil {
					faults[k] = f
				}
			}
		}()
	}
	wg.Wait()
	for _, f := range faults {
		if f != nil {
			panic(f)
		}
	}
}

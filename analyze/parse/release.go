package parse

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// releaseStep is how far a pass reads between two releases.
const releaseStep = 8 << 20

// released holds the live mappings whose pages passes give back: the
// big listings the loader maps page by page (input.ReleaseMin), whose
// line count, line count per piece and parse give back the pages behind
// them (a text of lone '\r' line ends counted again, or a pasted ticket
// read whole, keeps its pages). A file's pages stay in the page cache;
// touched again, they come back from it. Kept whole, a 586 MB
// ss -tanpoeim of a million sockets made a peak resident size of 720 MB;
// given back, 207 MB. It costs time — each pass enters the pages again,
// on a virtual machine 1.0 -> 1.36 s for that listing — so smaller
// listings are entered whole and kept.
var released struct {
	sync.Mutex
	ranges []memRange
}

type memRange struct{ start, end uintptr }

func rangeOf(b []byte) memRange {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return memRange{p, p + uintptr(len(b))}
}

// RegisterMapped records b, a read-only shared mapping of a file, as one
// whose pages Release may give back; UnregisterMapped forgets it before
// it is unmapped.
func RegisterMapped(b []byte) {
	if len(b) == 0 {
		return
	}
	released.Lock()
	released.ranges = append(released.ranges, rangeOf(b))
	released.Unlock()
}

// UnregisterMapped forgets b (see RegisterMapped).
func UnregisterMapped(b []byte) {
	if len(b) == 0 {
		return
	}
	r := rangeOf(b)
	released.Lock()
	for i, x := range released.ranges {
		if x == r {
			released.ranges = append(released.ranges[:i], released.ranges[i+1:]...)
			break
		}
	}
	released.Unlock()
}

// Release gives back the whole pages of b when b lies in a registered
// mapping, and does nothing otherwise (memory of the heap is never
// given back: its contents would be lost).
func Release(b []byte) {
	if len(b) < 1<<20 {
		return
	}
	r := rangeOf(b)
	released.Lock()
	defer released.Unlock() // held: the mapping is not unregistered, then unmapped, meanwhile
	if registered(r) {
		releasePages(r)
		releasedCalls.Add(1)
	}
}

// releasedCalls counts the Release calls that gave pages back (tests).
var releasedCalls atomic.Int64

// Mapped reports whether b lies in a registered mapping.
func Mapped(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	released.Lock()
	defer released.Unlock()
	return registered(rangeOf(b))
}

// registered reports whether r lies in a registered mapping; the caller
// holds released's lock.
func registered(r memRange) bool {
	for _, x := range released.ranges {
		if r.start >= x.start && r.end <= x.end {
			return true
		}
	}
	return false
}

// Behind is a pass's record of how far it has given pages back.
type Behind struct {
	on   bool
	from []byte // the bytes not given back yet, from the pass's start
}

// NewBehind starts a pass over b that gives back pages behind it when b
// lies in a registered mapping.
func NewBehind(b []byte) Behind { return Behind{on: Mapped(b), from: b} }

// Reached says the pass has read everything before rest, the unread tail
// of the bytes it started on; every releaseStep bytes it gives them back.
func (p *Behind) Reached(rest []byte) {
	if !p.on {
		return
	}
	if done := len(p.from) - len(rest); done >= releaseStep {
		Release(p.from[:done])
		p.from = rest
	}
}

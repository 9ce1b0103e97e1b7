package input

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"unsafe"
)

// mapMinBytes is the size from which a plain file is mapped into memory
// instead of read: a million-socket listing read into a fresh buffer
// costs a page fault per 4 KiB of it (0.28 s for 100 MB on a virtual
// machine), mapped from the page cache a tenth of that.
const mapMinBytes = 1 << 20

// Mapped is a file's whole content, mapped read-only. It reads like a
// bytes.Reader; Bytes gives the unread rest without a copy. Code that
// reads it runs inside Guarded, so that a file cut short while mapped
// (SIGBUS on the missing pages) is an error, not a crash.
type Mapped struct {
	b   []byte
	off int
}

func (m *Mapped) Read(p []byte) (int, error) {
	if m.off >= len(m.b) {
		return 0, io.EOF
	}
	n := copy(p, m.b[m.off:])
	m.off += n
	return n, nil
}

// Len returns the number of unread bytes.
func (m *Mapped) Len() int { return len(m.b) - m.off }

// Bytes returns the unread bytes, valid until the walk moves to the next
// file: keep copies, never the slice.
func (m *Mapped) Bytes() []byte { return m.b[m.off:] }

// openMapped maps a regular file of size bytes when that is worth it and
// possible; unmap releases it. ok is false when the file is to be read.
func openMapped(f *os.File, size int64) (m *Mapped, unmap func(), ok bool) {
	if size < mapMinBytes || size > 1<<40 {
		return nil, nil, false
	}
	b, unmap, err := mapFile(f, int(size))
	if err != nil {
		return nil, nil, false
	}
	return &Mapped{b: b}, unmap, true
}

// ErrChanged is returned when a mapped file shrank while it was read.
var ErrChanged = errors.New("the file changed (shrank) while it was read")

// Guarded runs fn, turning a memory fault — a mapped file truncated by
// another process while tcpsnap reads it — into ErrChanged. Goroutines fn
// starts must pass their faults back to it (parse.GoGuarded, inHalves).
func Guarded(name string, region []byte, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			if faultIn(r, region) {
				err = fmt.Errorf("%s: %w", name, ErrChanged)
				return
			}
			panic(r)
		}
	}()
	return fn()
}

// faultIn reports whether a recovered value is a memory fault inside
// region; any other panic (a nil pointer is a bug) goes on.
func faultIn(r any, region []byte) bool {
	e, ok := r.(interface{ Addr() uintptr })
	if !ok || len(region) == 0 {
		return false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(region)))
	return e.Addr() >= base && e.Addr() < base+uintptr(len(region))
}

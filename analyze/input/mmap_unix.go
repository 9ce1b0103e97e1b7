//go:build unix

package input

import (
	"os"
	"syscall"
)

// mapFile maps f read-only, its pages entered at once (MAP_POPULATE on
// Linux; elsewhere the flag is 0 and pages come on first touch); a file
// of ReleaseMin or more page by page.
func mapFile(f *os.File, size int) ([]byte, func(), error) {
	flags := syscall.MAP_SHARED | mapPopulate
	if size >= ReleaseMin {
		flags = syscall.MAP_SHARED
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, flags)
	if err != nil {
		return nil, nil, err
	}
	return b, func() { unmap(b) }, nil
}

// unmap unmaps b: a big mapping on a goroutine of its own, so that the
// analysis goes on while the kernel takes its pages apart (10 ms for a
// 90 MB listing, single-threaded, between parsing and grouping). Nothing
// reads b once it is released, as with an unmap that waits.
func unmap(b []byte) {
	if len(b) < 16<<20 {
		_ = syscall.Munmap(b)
		return
	}
	go func() { _ = syscall.Munmap(b) }()
}

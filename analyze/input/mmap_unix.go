//go:build unix

package input

import (
	"os"
	"syscall"
)

// mapFile maps f read-only, its pages entered at once (MAP_POPULATE on
// Linux; elsewhere the flag is 0 and pages come on first touch).
func mapFile(f *os.File, size int) ([]byte, func(), error) {
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED|mapPopulate)
	if err != nil {
		return nil, nil, err
	}
	return b, func() { _ = syscall.Munmap(b) }, nil
}

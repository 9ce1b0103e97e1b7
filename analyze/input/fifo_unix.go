//go:build unix

package input

import (
	"os"
	"syscall"
)

// openFIFO opens a FIFO for reading without blocking until a writer
// comes; reads then wait on the runtime poller, with deadlines.
func openFIFO(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

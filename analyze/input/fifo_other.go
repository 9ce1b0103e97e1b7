//go:build !unix

package input

import "os"

// openFIFO opens a named pipe; systems without O_NONBLOCK open it as a file.
func openFIFO(path string) (*os.File, error) { return os.Open(path) }

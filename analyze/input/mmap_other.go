//go:build !unix

package input

import (
	"errors"
	"os"
)

// mapFile is not available here: files are read.
func mapFile(*os.File, int) ([]byte, func(), error) {
	return nil, nil, errors.New("no mmap on this system")
}

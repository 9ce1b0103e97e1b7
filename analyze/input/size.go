package input

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// compressedRatio is how many bytes of text a byte of a gzip or zip
// archive is taken to hold: listings compress about ten to one.
const compressedRatio = 8

// sizeWalkMax bounds the entries TextBytes looks at in a folder.
const sizeWalkMax = 10_000

// TextBytes estimates how many bytes of text an input argument holds,
// without reading it: a file's size (a compressed archive's times
// compressedRatio), a folder's regular files summed as WalkInput would
// read them (hidden folders skipped; the first sizeWalkMax entries), 0
// for "-", streams and what cannot be opened. It never blocks and
// reports nothing: WalkInput names the problems when it reads.
func TextBytes(arg string) int64 {
	if arg == "-" {
		return 0
	}
	st, err := os.Stat(arg)
	switch {
	case err != nil:
		return 0
	case st.IsDir():
		var n int64
		seen := 0
		_ = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			switch seen++; {
			case seen > sizeWalkMax:
				return filepath.SkipAll
			case err != nil:
				return nil // unreadable: skipped, as walkDir does
			case d.IsDir() && p != arg && strings.HasPrefix(d.Name(), "."):
				return filepath.SkipDir
			case d.Type().IsRegular():
				n += fileBytes(p)
			}
			return nil
		})
		return n
	case st.Mode().IsRegular():
		return fileBytes(arg)
	}
	return 0
}

// fileBytes is TextBytes of one regular file: opened without waiting (a
// file swapped for a FIFO meanwhile), and 0 unless it is still regular.
func fileBytes(p string) int64 {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	var magic [4]byte
	n, _ := f.Read(magic[:])
	if m := magic[:n]; bytes.HasPrefix(m, gzipMagic) || bytes.HasPrefix(m, zipMagic) {
		return st.Size() * compressedRatio
	}
	return st.Size()
}

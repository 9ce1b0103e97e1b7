package input

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
)

// compressedRatio is how many bytes of text a byte of a gzip or zip
// archive is taken to hold: listings compress about ten to one.
const compressedRatio = 8

// sizeWalkMax bounds the entries TextBytes looks at in a folder.
const sizeWalkMax = 10_000

// TextBytes estimates how many bytes of text an input argument holds,
// without reading it: a file's size (a compressed archive's times
// compressedRatio), a folder's regular files summed (the first
// sizeWalkMax entries), 0 for "-", streams and what cannot be opened.
// Nothing is reported: WalkInput names the problems when it reads.
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
			if seen++; err != nil || seen > sizeWalkMax {
				return filepath.SkipAll
			}
			if d.Type().IsRegular() {
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

// fileBytes is TextBytes of one regular file.
func fileBytes(p string) int64 {
	f, err := os.Open(p)
	if err != nil {
		return 0
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	var magic [4]byte
	n, _ := f.Read(magic[:])
	if m := magic[:n]; bytes.HasPrefix(m, gzipMagic) || bytes.HasPrefix(m, zipMagic) {
		return st.Size() * compressedRatio
	}
	return st.Size()
}

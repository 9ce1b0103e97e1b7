package collect

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"time"
)

// errCapReached marks a source skipped because the bundle is full.
var errCapReached = errors.New("skipped: bundle size cap reached")

// bundle writes tar entries with per-file and total caps. Content streams
// through spool files so that a large command output is held neither in
// memory nor twice in memory.
type bundle struct {
	gz       *gzip.Writer
	tw       *tar.Writer
	prefix   string
	maxFile  int64
	maxTotal int64
	reserve  int64 // kept free for the manifest
	written  int64
	mtime    time.Time
	tmpDir   string
	raw, red *os.File // spools: raw content, redacted content
	redactor *Redactor
}

func newBundle(w io.Writer, o *Options, red *Redactor) *bundle {
	gz := gzip.NewWriter(w)
	return &bundle{
		gz: gz, tw: tar.NewWriter(gz), prefix: o.Prefix,
		maxFile: o.MaxFileBytes, maxTotal: o.MaxBytes, reserve: 1 << 20,
		mtime: o.Now().UTC().Truncate(time.Second), tmpDir: o.TempDir, redactor: red,
	}
}

// room is how much the next file may hold.
func (b *bundle) room() int64 {
	r := b.maxTotal - b.reserve - b.written - 1024 // tar header and padding
	if r > b.maxFile {
		r = b.maxFile
	}
	return r
}

// spool returns the raw spool file, emptied.
func (b *bundle) spool(f **os.File, name string) (*os.File, error) {
	if *f == nil {
		t, err := os.CreateTemp(b.tmpDir, "tcpsnap-"+name+"-*")
		if err != nil {
			return nil, err
		}
		*f = t
	}
	if err := (*f).Truncate(0); err != nil {
		return nil, err
	}
	if _, err := (*f).Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return *f, nil
}

func (b *bundle) close() error {
	for _, f := range []*os.File{b.raw, b.red} {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
	if err := b.tw.Close(); err != nil {
		return err
	}
	return b.gz.Close()
}

// redactKind says how to redact a file.
type redactKind int

const (
	redactText redactKind = iota
	redactProcNetTCP
	redactNone
)

// addStreamIf fills one entry at name from fill, which writes the raw
// content to the writer it is given. The content is capped (cut at the last
// newline before the cap), redacted when the bundle redacts, and written.
// When keep says no, nothing is written. It returns the bytes written and whether the content was truncated;
// fillErr is fill's own error, reported but not fatal.
func (b *bundle) addStreamIf(name string, kind redactKind, fill func(w io.Writer) error, keep func(size int64, fillErr error) bool) (n int64, truncated bool, fillErr, err error) {
	limit := b.room()
	if limit <= 0 {
		// Still run nothing: the caller records the skip.
		return 0, true, errCapReached, nil
	}
	raw, err := b.spool(&b.raw, "raw")
	if err != nil {
		return 0, false, nil, err
	}
	cw := &capWriter{w: raw, left: limit}
	fillErr = fill(cw)
	if cw.err != nil {
		return 0, false, fillErr, cw.err
	}
	truncated = cw.dropped
	if truncated {
		if err := cutAtNewline(raw, limit); err != nil {
			return 0, false, fillErr, err
		}
	}
	src := raw
	if b.redactor != nil && kind != redactNone {
		red, err := b.spool(&b.red, "red")
		if err != nil {
			return 0, false, fillErr, err
		}
		if _, err := raw.Seek(0, io.SeekStart); err != nil {
			return 0, false, fillErr, err
		}
		rw := &capWriter{w: red, left: limit}
		if kind == redactProcNetTCP {
			err = b.redactor.ProcNetTCP(rw, raw)
		} else {
			err = b.redactor.Text(rw, raw)
		}
		if err != nil {
			return 0, false, fillErr, err
		}
		if rw.err != nil {
			return 0, false, fillErr, rw.err
		}
		if rw.dropped {
			truncated = true
			if err := cutAtNewline(red, limit); err != nil {
				return 0, false, fillErr, err
			}
		}
		src = red
	}
	size, err := src.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, truncated, fillErr, err
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return 0, truncated, fillErr, err
	}
	if !keep(size, fillErr) {
		return 0, truncated, fillErr, nil
	}
	if err := b.header(name, size); err != nil {
		return 0, truncated, fillErr, err
	}
	if _, err := io.CopyN(b.tw, src, size); err != nil {
		return 0, truncated, fillErr, fmt.Errorf("writing %s: %w", name, err)
	}
	b.written += size + 1024
	return size, truncated, fillErr, nil
}

// addBytes writes a small generated entry. Generated entries are not
// redacted here: their producers redact.
func (b *bundle) addBytes(name string, data []byte, force bool) (int64, bool, error) {
	truncated := false
	if !force {
		limit := b.room()
		if limit <= 0 {
			return 0, true, errCapReached
		}
		if int64(len(data)) > limit {
			data = data[:limit]
			if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
				data = data[:i+1]
			}
			truncated = true
		}
	}
	if err := b.header(name, int64(len(data))); err != nil {
		return 0, truncated, err
	}
	if _, err := b.tw.Write(data); err != nil {
		return 0, truncated, err
	}
	b.written += int64(len(data)) + 1024
	return int64(len(data)), truncated, nil
}

func (b *bundle) header(name string, size int64) error {
	return b.tw.WriteHeader(&tar.Header{
		Name: path.Join(b.prefix, name), Mode: 0o644, Size: size,
		ModTime: b.mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX,
	})
}

// capWriter passes on the first left bytes and swallows the rest, so a
// command never blocks on a full pipe.
type capWriter struct {
	w       io.Writer
	left    int64
	dropped bool
	err     error
}

func (c *capWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	q := p
	if int64(len(q)) > c.left {
		q = q[:c.left]
		c.dropped = true
	}
	if len(q) > 0 {
		n, err := c.w.Write(q)
		c.left -= int64(n)
		if err != nil {
			c.err = err
			return n, err
		}
	}
	return len(p), nil
}

// cutAtNewline shortens f to end after its last newline, so a truncated
// listing still ends with a whole line.
func cutAtNewline(f *os.File, size int64) error {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if end > size {
		end = size
	}
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	for pos := end; pos > 0; {
		start := pos - chunk
		if start < 0 {
			start = 0
		}
		n, err := f.ReadAt(buf[:pos-start], start)
		if err != nil && err != io.EOF {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return f.Truncate(start + int64(i) + 1)
		}
		pos = start
	}
	return f.Truncate(0)
}

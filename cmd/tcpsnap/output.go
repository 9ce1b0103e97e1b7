package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// createOutput creates an output file (-o, --profile) for every command
// alike: an existing file is refused unless force, so a report never
// replaces a bundle or another report by accident.
func createOutput(path string, force bool) (*os.File, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%s exists: use --force to overwrite it", path)
	}
	return f, err
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// useColor decides --color: always, never, or auto — a terminal, and
// neither NO_COLOR (https://no-color.org) nor TERM=dumb.
func useColor(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	return isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// severityColors are the ANSI colours of the text report's severity tags.
var severityColors = map[string]string{
	"[CRITICAL]": "\x1b[1;31m", // bold red
	"[WARNING]":  "\x1b[1;33m", // bold yellow
	"[INFO]":     "\x1b[1;36m", // bold cyan
}

// colorWriter colours the severity tag at the start of a line. The report
// is laid out first; colour codes are added after, so they never count
// toward its 80 columns.
type colorWriter struct {
	w   io.Writer
	buf []byte
}

func (c *colorWriter) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	for {
		i := bytes.IndexByte(c.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if err := c.line(c.buf[:i+1]); err != nil {
			return len(p), err
		}
		c.buf = c.buf[i+1:]
	}
}

func (c *colorWriter) line(l []byte) error {
	s := string(l)
	for tag, code := range severityColors {
		if strings.HasPrefix(s, tag) {
			s = code + tag + "\x1b[0m" + s[len(tag):]
			break
		}
	}
	_, err := io.WriteString(c.w, s)
	return err
}

// Flush writes a last line without a newline.
func (c *colorWriter) Flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	err := c.line(c.buf)
	c.buf = nil
	return err
}

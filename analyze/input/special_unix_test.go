//go:build unix

package input

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSpecialFiles: a FIFO argument is read when a writer comes and fails
// with a clear error when none does, instead of hanging; devices are
// refused by name instead of read until a limit.
func TestSpecialFiles(t *testing.T) {
	lim := DefaultLimits
	lim.FIFOIdle = 300 * time.Millisecond
	read := func(arg string) (string, error) {
		var got string
		err := WalkInput(arg, nil, lim, func(f File) error {
			b, err := io.ReadAll(f.R)
			got = string(b)
			return err
		}, func(string, string) {})
		return got, err
	}

	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no mkfifo:", err)
	}
	start := time.Now()
	_, err := read(fifo)
	if err == nil || !strings.Contains(err.Error(), "FIFO") || !strings.Contains(err.Error(), fifo) {
		t.Errorf("FIFO without a writer: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("FIFO without a writer took %v", d)
	}

	go func() {
		time.Sleep(100 * time.Millisecond)
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.WriteString("State Recv-Q Send-Q Local Address:Port Peer Address:Port\n")
		f.Close()
	}()
	got, err := read(fifo)
	if err != nil || !strings.HasPrefix(got, "State") {
		t.Errorf("FIFO with a writer: %q, %v", got, err)
	}

	if _, err := os.Stat("/dev/zero"); err == nil {
		_, err := read("/dev/zero")
		if err == nil || !strings.Contains(err.Error(), "device") {
			t.Errorf("/dev/zero: %v", err)
		}
	}
}

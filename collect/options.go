package collect

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// A Runner runs one command with its output going to stdout and stderr.
// It returns the exit status (-1 when the command did not start or was
// killed) and an error when the command did not run to a zero exit. Tests
// pass a fake; ExecRunner runs real programs.
type Runner func(ctx context.Context, stdout, stderr io.Writer, name string, args ...string) (exitStatus int, err error)

// ExecRunner runs name with args under ctx, in the C locale, with no stdin.
// It never goes through a shell.
func ExecRunner(ctx context.Context, stdout, stderr io.Writer, name string, args ...string) (int, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	cmd.WaitDelay = time.Second // do not wait forever on grandchildren holding the pipes
	err := cmd.Run()
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ctx.Err() != nil {
			return ee.ExitCode(), ctx.Err()
		}
		return ee.ExitCode(), err
	}
	return -1, err
}

// Options configure Collect. The zero value of every field but Output
// selects the default.
type Options struct {
	// Output receives the gzip-compressed tar bundle.
	Output io.Writer
	// Root is the host's file system, rooted at "/" (paths "proc/net/tcp",
	// "etc/nsswitch.conf"). Default os.DirFS("/"). It must implement
	// fs.ReadLinkFS for process ownership (os.DirFS and fstest.MapFS do).
	Root fs.FS
	// Run runs commands. Default ExecRunner.
	Run Runner
	// GOOS selects the platform's sources. Default runtime.GOOS.
	GOOS string
	// Samples is the number of passes over the per-instant sources
	// (default 2), Interval the pause between their starts (default 5s).
	Samples  int
	Interval time.Duration
	// MaxBytes caps the uncompressed size of the whole bundle (default
	// 512 MiB), MaxFileBytes each file in it (default 128 MiB). Files cut
	// at a cap are marked Truncated in the manifest.
	MaxBytes     int64
	MaxFileBytes int64
	// CommandTimeout bounds every command (default 30s).
	CommandTimeout time.Duration
	// Redact pseudonymises addresses, host names and command lines.
	Redact bool
	// Now is the clock (default time.Now); Sleep waits for d or until ctx
	// is done (default a timer). Tests inject both.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// IsRoot reports whether the collector runs with root privileges
	// (default: effective uid 0).
	IsRoot func() bool
	// Hostname overrides the host name (default /proc/sys/kernel/hostname,
	// then os.Hostname).
	Hostname string
	// Version is written to the manifest.
	Version string
	// Prefix, when set, is a folder that every entry of the tar sits under.
	Prefix string
	// TempDir holds the spool files command output streams through
	// (default os.TempDir()).
	TempDir string
}

// Defaults.
const (
	DefaultSamples        = 2
	DefaultInterval       = 5 * time.Second
	DefaultMaxBytes       = 512 << 20
	DefaultMaxFileBytes   = 128 << 20
	DefaultCommandTimeout = 30 * time.Second
	// cmdlineCap bounds a process command line in processes.json.
	cmdlineCap = 256
)

func (o *Options) setDefaults() {
	if o.Root == nil {
		o.Root = os.DirFS("/")
	}
	if o.Run == nil {
		o.Run = ExecRunner
	}
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.Samples <= 0 {
		o.Samples = DefaultSamples
	}
	if o.Interval < 0 {
		o.Interval = 0
	} else if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = DefaultCommandTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.IsRoot == nil {
		o.IsRoot = func() bool { return os.Geteuid() == 0 }
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cappedBuffer keeps the first max bytes written to it and drops the rest.
type cappedBuffer struct {
	bytes.Buffer
	max int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.Buffer.Len(); room > 0 {
		if len(p) > room {
			c.Buffer.Write(p[:room])
		} else {
			c.Buffer.Write(p)
		}
	}
	return len(p), nil
}

package collect

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// ssVariants are tried in order until ss accepts one; older ss lacks -M
// style options and busybox ss lacks most. -n is always there: no name is
// ever resolved.
var ssVariants = [][]string{
	{"-tanpoeim"},
	{"-tanpoe"},
	{"-tanpo"},
	{"-tan"},
}

// Notes recorded in the manifest.
const (
	noteNotRoot       = "not running as root: the pids and fds of other users' sockets are missing"
	noteNoSSNoNetstat = "ss and netstat unavailable: the socket table is /proc/net/tcp{,6} alone (owners from /proc/*/fd)"
)

type collector struct {
	ctx    context.Context
	o      Options
	b      *bundle
	m      *Manifest
	red    *Redactor
	t0     time.Time
	inodes map[uint64]bool // TCP socket inodes seen in any sample
	// method is the socket-table source chosen in the first sample:
	// "ss", "netstat" or "proc".
	method string
	ssArgs []string
}

// Collect gathers the host's TCP state into a bundle written to
// o.Output, and returns its manifest (also written into the bundle). An
// error means the bundle could not be written; sources that fail are
// recorded in the manifest instead. When ctx is done (an interrupt),
// Collect stops at once and returns an error: what it wrote to o.Output
// is then incomplete, and the caller discards it (CollectFile does).
func Collect(ctx context.Context, o Options) (*Manifest, error) {
	if o.Output == nil {
		return nil, errors.New("collect: no output")
	}
	o.setDefaults()
	c := &collector{ctx: ctx, o: o, inodes: map[uint64]bool{}}
	host := o.Hostname
	if host == "" && o.GOOS == "linux" {
		host = strings.TrimSpace(string(mustRead(o.Root, "proc/sys/kernel/hostname")))
	}
	if host == "" {
		host, _ = os.Hostname()
	}
	if o.Redact {
		c.red = NewRedactor(host)
	}
	c.t0 = o.Now()
	c.m = &Manifest{
		Format: BundleFormat, Version: o.Version,
		Host:  Host{Hostname: host, OS: o.GOOS, Arch: runtime.GOARCH},
		Start: c.t0.UTC(), Root: o.IsRoot(), Redacted: o.Redact,
	}
	if o.Redact {
		c.m.Host.Hostname = RedactedHost
	}
	c.note(PlatformNote(o.GOOS))
	if !c.m.Root {
		c.note(noteNotRoot)
	}
	c.b = newBundle(o.Output, &o, c.red)
	err := c.run()
	if cerr := c.b.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return c.m, err
	}
	return c.m, nil
}

func (c *collector) note(s string) { c.m.Notes = append(c.m.Notes, s) }

func (c *collector) run() error {
	if c.o.GOOS == "linux" {
		if err := c.linuxHost(); err != nil {
			return err
		}
	} else if err := c.tableSources(false, -1); err != nil {
		return err
	}
	for i := 0; i < c.o.Samples; i++ {
		if i > 0 {
			wait := time.Duration(i)*c.o.Interval - c.o.Now().Sub(c.t0)
			if err := c.o.Sleep(c.ctx, wait); err != nil {
				if c.ctx.Err() != nil {
					return c.interrupted()
				}
				return fmt.Errorf("waiting for sample %d: %w", i, err)
			}
		}
		now := c.o.Now()
		c.m.Samples = append(c.m.Samples, Sample{
			Index: i, Dir: sampleDir(i), Time: now.UTC(),
			Elapsed: now.Sub(c.t0).Seconds(),
		})
		var err error
		if c.o.GOOS == "linux" {
			err = c.linuxSample(i)
		} else {
			err = c.tableSources(true, i)
		}
		if err != nil {
			return err
		}
	}
	if c.o.GOOS == "linux" {
		if err := c.processes(); err != nil {
			return err
		}
	}
	if c.ctx.Err() != nil {
		return c.interrupted()
	}
	c.m.End = c.o.Now().UTC()
	if c.red != nil {
		// Commands' error output names hosts too ("sudo: unable to
		// resolve host db01").
		for i := range c.m.Sources {
			c.m.Sources[i].Error = c.red.Line(c.m.Sources[i].Error)
		}
		for i := range c.m.Notes {
			c.m.Notes[i] = c.red.Line(c.m.Notes[i])
		}
	}
	data, err := json.MarshalIndent(c.m, "", "  ")
	if err != nil {
		return err
	}
	_, _, err = c.b.addBytes(ManifestPath, append(data, '\n'), true)
	return err
}

func sampleDir(i int) string { return "samples/" + strconv.Itoa(i) }

// interrupted is the error of a collection stopped because its context is
// done; it names the cause (for signal.NotifyContext, the signal).
func (c *collector) interrupted() error {
	return fmt.Errorf("collect: interrupted: %w", context.Cause(c.ctx))
}

// add streams one entry and records it. When keepOnErr is false, output of
// a failed fill is dropped (a fallback will fill the path instead). Output
// of a failed fill is always dropped when empty.
func (c *collector) add(it Item, kind redactKind, keepOnErr bool, fill func(io.Writer) error) (Item, error) {
	if c.ctx.Err() != nil {
		return it, c.interrupted()
	}
	start := c.o.Now()
	name := it.Path
	var dropped bool
	n, truncated, fillErr, err := c.b.addStreamIf(name, kind, fill,
		func(size int64, fe error) bool {
			dropped = fe != nil && (!keepOnErr || size == 0)
			return !dropped
		})
	it.DurationMS = float64(c.o.Now().Sub(start).Microseconds()) / 1000
	if err != nil {
		return it, err
	}
	if c.ctx.Err() != nil {
		// The source was cut short by the interrupt, not by its own fault.
		return it, c.interrupted()
	}
	it.Bytes, it.Truncated = n, truncated
	if fillErr != nil {
		it.Error = fillErr.Error()
		if it.ExitStatus == 0 && !errors.Is(fillErr, errCapReached) && it.Command != "" {
			it.ExitStatus = -1
		}
	}
	if dropped || errors.Is(fillErr, errCapReached) {
		it.Path = ""
		it.Bytes = 0
	}
	c.m.Sources = append(c.m.Sources, it)
	return it, nil
}

// command runs one command into an entry.
func (c *collector) command(bpath string, sample int, kind redactKind, keepOnErr bool, argv ...string) (Item, error) {
	it := Item{Path: bpath, Command: strings.Join(argv, " "), Sample: sample}
	var status int
	it, err := c.add(it, kind, keepOnErr, func(w io.Writer) error {
		ctx, cancel := context.WithTimeout(c.ctx, c.o.CommandTimeout)
		defer cancel()
		stderr := &cappedBuffer{max: 2048}
		var err error
		status, err = c.o.Run(ctx, w, stderr, argv[0], argv[1:]...)
		if err != nil {
			if msg := strings.TrimSpace(stderr.String()); msg != "" {
				err = fmt.Errorf("%w: %s", err, firstLine(msg))
			}
		}
		return err
	})
	if it.Error != "" || status != 0 {
		it.ExitStatus = status
		c.m.Sources[len(c.m.Sources)-1].ExitStatus = status
	}
	return it, err
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// file copies one host file into an entry.
func (c *collector) file(bpath, src string, sample int, kind redactKind, tee func(line string)) (Item, error) {
	it := Item{Path: bpath, File: "/" + src, Sample: sample}
	return c.add(it, kind, true, func(w io.Writer) error {
		f, err := c.o.Root.Open(src)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return errors.New("not present")
			}
			return err
		}
		defer f.Close()
		if tee == nil {
			_, err = io.Copy(w, f)
			return err
		}
		br := bufio.NewReaderSize(f, 256<<10)
		for {
			line, err := br.ReadSlice('\n')
			if len(line) > 0 {
				tee(string(line))
				if _, werr := w.Write(line); werr != nil {
					return werr
				}
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
}

// generated writes content made by the collector.
func (c *collector) generated(bpath, from string, data []byte, kind redactKind) error {
	it := Item{Path: bpath, File: from, Sample: -1}
	_, err := c.add(it, kind, true, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	return err
}

// linuxHost gathers the host-level Linux sources.
func (c *collector) linuxHost() error {
	fsys := c.o.Root
	release := strings.TrimSpace(string(mustRead(fsys, "proc/sys/kernel/osrelease")))
	c.m.Host.Kernel = release
	ostype := strings.TrimSpace(string(mustRead(fsys, "proc/sys/kernel/ostype")))
	if ostype == "" {
		ostype = "Linux"
	}
	version := strings.TrimSpace(string(mustRead(fsys, "proc/sys/kernel/version")))
	uname := strings.Join(strings.Fields(strings.Join([]string{ostype, c.m.Host.Hostname, release, version, unameArch()}, " ")), " ") + "\n"
	if err := c.generated("uname.txt", "/proc/sys/kernel/{ostype,hostname,osrelease,version}", []byte(uname), redactText); err != nil {
		return err
	}
	up := mustRead(fsys, "proc/uptime")
	if f := strings.Fields(string(up)); len(f) > 0 {
		c.m.Host.Uptime, _ = strconv.ParseFloat(f[0], 64)
	}
	if _, err := c.file("uptime.txt", "proc/uptime", -1, redactNone, nil); err != nil {
		return err
	}
	if err := c.generated("sysctl.txt", "/proc/sys", sysctlText(fsys), redactText); err != nil {
		return err
	}
	etc := []string{"etc/nsswitch.conf", "etc/sysctl.conf"}
	if ents, err := fs.ReadDir(fsys, "etc/sysctl.d"); err == nil {
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".conf") && !e.IsDir() {
				etc = append(etc, "etc/sysctl.d/"+e.Name())
			}
		}
	}
	for _, p := range etc {
		if _, err := c.file(p, p, -1, redactText, nil); err != nil {
			return err
		}
	}
	return nil
}

func unameArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	}
	return runtime.GOARCH
}

// linuxSample gathers one Linux sample.
func (c *collector) linuxSample(i int) error {
	dir := sampleDir(i) + "/"
	if err := c.socketTable(i, dir); err != nil {
		return err
	}
	tee := func(line string) { inodeOf(line, c.inodes) }
	for _, f := range []string{"tcp", "tcp6"} {
		if _, err := c.file(dir+"proc/net/"+f, "proc/net/"+f, i, redactProcNetTCP, tee); err != nil {
			return err
		}
	}
	for _, f := range []string{"snmp", "netstat", "sockstat", "sockstat6"} {
		if _, err := c.file(dir+"proc/net/"+f, "proc/net/"+f, i, redactText, nil); err != nil {
			return err
		}
	}
	const ct = "proc/sys/net/netfilter/nf_conntrack_count"
	if exists(c.o.Root, ct) || i == 0 {
		if _, err := c.file(dir+ct, ct, i, redactNone, nil); err != nil {
			return err
		}
	}
	return nil
}

// socketTable writes the sample's socket listing: ss when it is safe and
// works, else netstat, else nothing (the /proc copies are always there).
func (c *collector) socketTable(i int, dir string) error {
	if c.method == "" {
		note, why := diagState(c.o.Root)
		if n := tcpSocketCount(c.o.Root); note == "" && n > bigHostSockets {
			// ss -p walks every process's descriptors for each socket and
			// takes ~10 s at 100,000 sockets; the /proc copies plus the
			// collector's own descriptor walk (processes.json) carry the
			// same sockets, timers and owners in a second or two.
			note = fmt.Sprintf("%d TCP sockets: read /proc/net/tcp and tcp6 and mapped owners from /proc/*/fd (processes.json) instead of running ss or netstat, which take many seconds on a host this busy", n)
			c.method = "proc"
		}
		if note != "" {
			c.note(note)
		} else {
			if why != "" {
				c.note("ss used: " + why)
			}
			for _, v := range ssVariants {
				argv := append([]string{"ss"}, v...)
				it, err := c.command(dir+"ss-tanpoeim.txt", i, redactText, false, argv...)
				if err != nil {
					return err
				}
				if it.Error == "" && it.Path != "" {
					c.method, c.ssArgs = "ss", v
					break
				}
			}
		}
		if c.method == "" {
			it, err := c.command(dir+"netstat-antpo.txt", i, redactText, false, "netstat", "-antpo")
			if err != nil {
				return err
			}
			if it.Error == "" && it.Path != "" {
				c.method = "netstat"
			} else {
				c.method = "proc"
				c.note(noteNoSSNoNetstat)
			}
		}
		if c.method == "ss" && len(c.ssArgs) > 0 && c.ssArgs[0] != ssVariants[0][0] {
			c.note("ss rejected -tanpoeim: used ss " + strings.Join(c.ssArgs, " "))
		}
	} else {
		switch c.method {
		case "ss":
			if _, err := c.command(dir+"ss-tanpoeim.txt", i, redactText, true, append([]string{"ss"}, c.ssArgs...)...); err != nil {
				return err
			}
		case "netstat":
			if _, err := c.command(dir+"netstat-antpo.txt", i, redactText, true, "netstat", "-antpo"); err != nil {
				return err
			}
		}
	}
	if c.method == "ss" {
		if _, err := c.command(dir+"ss-s.txt", i, redactText, true, "ss", "-s"); err != nil {
			return err
		}
	}
	return nil
}

// inodeOf records the inode column of a /proc/net/tcp line.
func inodeOf(line string, into map[uint64]bool) {
	f := strings.Fields(line)
	if len(f) < 10 || f[0] == "sl" {
		return
	}
	if ino, err := strconv.ParseUint(f[9], 10, 64); err == nil && ino != 0 {
		into[ino] = true
	}
}

// processes writes processes.json from the /proc/*/fd walk.
func (c *collector) processes() error {
	if c.ctx.Err() != nil {
		return c.interrupted()
	}
	start := c.o.Now()
	procs, st, err := walkProcesses(c.o.Root, c.inodes)
	it := Item{Path: ProcessesPath, File: "/proc/*/fd", Sample: -1}
	if err != nil {
		it.Error = err.Error()
	}
	if procs == nil {
		procs = []Process{}
	}
	if c.red != nil {
		for i := range procs {
			procs[i].Cmdline = procs[i].Name
		}
	}
	if st.denied > 0 {
		c.note(fmt.Sprintf("the descriptors of %d of %d processes were unreadable: their sockets have no owner", st.denied, st.procs))
	}
	data, err := json.MarshalIndent(procs, "", " ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	n, truncated, err := c.b.addBytes(ProcessesPath, data, false)
	if errors.Is(err, errCapReached) {
		it.Path, it.Error, it.Truncated = "", err.Error(), true
	} else if err != nil {
		return err
	}
	it.Bytes, it.Truncated = n, it.Truncated || truncated
	it.DurationMS = float64(c.o.Now().Sub(start).Microseconds()) / 1000
	c.m.Sources = append(c.m.Sources, it)
	return nil
}

// tableSources gathers the Platforms row of a non-Linux GOOS.
func (c *collector) tableSources(perSample bool, i int) error {
	prefix := ""
	if perSample {
		prefix = sampleDir(i) + "/"
	}
	for _, s := range Platforms[c.o.GOOS] {
		if s.PerSample != perSample {
			continue
		}
		bpath := prefix + s.Path
		switch {
		case c.o.GOOS == "solaris" && s.Path == "sysctl.txt":
			if err := c.solarisNdd(); err != nil {
				return err
			}
		case s.Convert != "":
			if err := c.converted(bpath, s); err != nil {
				return err
			}
		case len(s.Command) > 0:
			if _, err := c.command(bpath, i, redactText, true, s.Command...); err != nil {
				return err
			}
		case s.File != "":
			if _, err := c.file(bpath, strings.TrimPrefix(s.File, "/"), i, redactText, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// converted runs a command whose output is rewritten into "name = value"
// lines; the raw output is kept beside it.
func (c *collector) converted(bpath string, s Source) error {
	var raw cappedBuffer
	raw.max = 4 << 20
	ctx, cancel := context.WithTimeout(c.ctx, c.o.CommandTimeout)
	start := c.o.Now()
	status, err := c.o.Run(ctx, &raw, io.Discard, s.Command[0], s.Command[1:]...)
	cancel()
	it := Item{Path: bpath, Command: strings.Join(s.Command, " "), ExitStatus: status, Sample: -1}
	if err != nil {
		it.Error = err.Error()
	}
	var out string
	switch s.Convert {
	case convertColonSysctl:
		out = colonToEquals(raw.String())
	case convertRegQuery:
		out = regQueryToEquals(raw.String())
	}
	if out == "" {
		it.Path = ""
		it.DurationMS = float64(c.o.Now().Sub(start).Microseconds()) / 1000
		c.m.Sources = append(c.m.Sources, it)
		return nil
	}
	_, err = c.add(it, redactText, true, func(w io.Writer) error {
		_, err := io.WriteString(w, out)
		return err
	})
	return err
}

// colonToEquals turns BSD "name: value" sysctl output into "name = value".
func colonToEquals(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			continue
		}
		fmt.Fprintf(&b, "%s = %s\n", name, strings.TrimSpace(val))
	}
	return b.String()
}

// regQueryToEquals turns `reg query` output ("    Name    REG_DWORD    0x1e")
// into "Name = 30" lines.
func regQueryToEquals(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || !strings.HasPrefix(f[1], "REG_") {
			continue
		}
		val := strings.Join(f[2:], " ")
		if f[1] == "REG_DWORD" || f[1] == "REG_QWORD" {
			if n, err := strconv.ParseUint(strings.TrimPrefix(val, "0x"), 16, 64); err == nil {
				val = strconv.FormatUint(n, 10)
			}
		}
		fmt.Fprintf(&b, "%s = %s\n", f[0], val)
	}
	return b.String()
}

// solarisNdd reads the TCP tunables one by one into sysctl.txt.
func (c *collector) solarisNdd() error {
	var b strings.Builder
	for _, p := range solarisNdd {
		var out cappedBuffer
		out.max = 4096
		ctx, cancel := context.WithTimeout(c.ctx, c.o.CommandTimeout)
		status, err := c.o.Run(ctx, &out, io.Discard, "ndd", "-get", "/dev/tcp", p)
		cancel()
		if err != nil {
			c.m.Sources = append(c.m.Sources, Item{Command: "ndd -get /dev/tcp " + p, ExitStatus: status, Error: err.Error(), Sample: -1})
			continue
		}
		fmt.Fprintf(&b, "%s = %s\n", p, strings.TrimSpace(out.String()))
	}
	return c.generated("sysctl.txt", "ndd -get /dev/tcp", []byte(b.String()), redactText)
}

package collect

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// This file reads a Linux /proc through an fs.FS rooted at "/". It has no
// build tags: tests run it against fstest.MapFS on every platform.

// readSmall reads at most max bytes of a (pseudo-)file.
func readSmall(fsys fs.FS, name string, max int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}

// diagState says whether running ss is safe: ss asks the kernel over
// NETLINK_SOCK_DIAG, which autoloads inet_diag and tcp_diag when they are
// modules not yet loaded. It returns "" when safe, else the note to record.
func diagState(fsys fs.FS) (note, reason string) {
	mods, err := readSmall(fsys, "proc/modules", 4<<20)
	if errors.Is(err, fs.ErrNotExist) {
		// No /proc/modules: the kernel has no loadable module support, so
		// nothing can be loaded.
		return "", "kernel without loadable modules (/proc/modules absent): ss is safe"
	}
	if err != nil {
		return "cannot read /proc/modules (" + err.Error() + "): used /proc/net/tcp instead of ss to avoid loading a kernel module", ""
	}
	loaded := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(mods))
	for sc.Scan() {
		if name, _, ok := strings.Cut(sc.Text(), " "); ok {
			loaded[name] = true
		}
	}
	release := strings.TrimSpace(string(mustRead(fsys, "proc/sys/kernel/osrelease")))
	builtin := ""
	if release != "" {
		builtin = string(mustRead(fsys, "lib/modules/"+release+"/modules.builtin"))
	}
	var why []string
	for _, m := range []string{"inet_diag", "tcp_diag"} {
		switch {
		case loaded[m]:
			why = append(why, m+" loaded")
		case exists(fsys, "sys/module/"+m):
			why = append(why, m+" built in")
		case strings.Contains(builtin, "/"+m+".ko"):
			why = append(why, m+" built in (modules.builtin)")
		default:
			return m + " not loaded: used /proc/net/tcp instead of ss to avoid loading a kernel module", ""
		}
	}
	return "", strings.Join(why, ", ")
}

func mustRead(fsys fs.FS, name string) []byte {
	b, _ := readSmall(fsys, name, 1<<20)
	return b
}

// walkStats reports what the process walk could not see.
type walkStats struct {
	procs, denied int
}

// walkProcesses lists the processes holding any of the TCP socket inodes,
// from /proc/PID/fd. Descriptor links are only read with ReadLink, never
// opened or followed.
func walkProcesses(fsys fs.FS, tcp map[uint64]bool) ([]Process, walkStats, error) {
	var st walkStats
	ents, err := fs.ReadDir(fsys, "proc")
	if err != nil {
		return nil, st, err
	}
	var out []Process
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		st.procs++
		dir := path.Join("proc", e.Name())
		fds, err := fs.ReadDir(fsys, dir+"/fd")
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				st.denied++
			}
			continue
		}
		var inodes []uint64
		for _, fd := range fds {
			target, err := fs.ReadLink(fsys, dir+"/fd/"+fd.Name())
			if err != nil || !strings.HasPrefix(target, "socket:[") {
				continue
			}
			ino, err := strconv.ParseUint(strings.TrimSuffix(target[len("socket:["):], "]"), 10, 64)
			if err == nil && tcp[ino] {
				inodes = append(inodes, ino)
			}
		}
		if len(inodes) == 0 {
			continue
		}
		sort.Slice(inodes, func(i, j int) bool { return inodes[i] < inodes[j] })
		p := Process{PID: pid, FDs: len(fds), FDLimit: -1, UID: -1, SocketInodes: inodes}
		p.Name = strings.TrimSpace(string(mustRead(fsys, dir+"/comm")))
		p.Cmdline = cmdline(mustReadN(fsys, dir+"/cmdline", cmdlineCap))
		p.UID = statusUID(mustRead(fsys, dir+"/status"))
		p.FDLimit = nofileSoft(mustRead(fsys, dir+"/limits"))
		out = append(out, p)
	}
	return out, st, nil
}

func mustReadN(fsys fs.FS, name string, n int64) []byte {
	b, _ := readSmall(fsys, name, n)
	return b
}

// cmdline turns a NUL-separated, capped command line into text.
func cmdline(b []byte) string {
	if len(b) > cmdlineCap {
		b = b[:cmdlineCap]
	}
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// statusUID is the real uid from /proc/PID/status ("Uid:\treal\teff...").
func statusUID(b []byte) int {
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				if n, err := strconv.Atoi(f[0]); err == nil {
					return n
				}
			}
		}
	}
	return -1
}

// nofileSoft is the soft "Max open files" of /proc/PID/limits; -1 when
// unknown or unlimited.
func nofileSoft(b []byte) int {
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				if n, err := strconv.Atoi(f[0]); err == nil {
					return n
				}
			}
		}
	}
	return -1
}

// sysctlNames lists the /proc/sys files written to sysctl.txt, relative
// to proc/sys. Directories are expanded with a name prefix filter.
var sysctlFixed = []string{
	"net/ipv4/ip_local_port_range", "net/ipv4/ip_local_reserved_ports",
	"net/core/somaxconn", "net/core/netdev_max_backlog",
	"net/netfilter/nf_conntrack_max", "net/netfilter/nf_conntrack_buckets",
	"net/netfilter/nf_conntrack_count",
	"fs/file-nr", "fs/file-max", "fs/nr_open",
	"kernel/osrelease",
}

var sysctlPrefixed = []struct{ dir, prefix string }{
	{"net/ipv4", "tcp_"},
	{"net/netfilter", "nf_conntrack_tcp_timeout_"},
}

// sysctlText reads the sysctls into "name = value" lines, sorted.
func sysctlText(fsys fs.FS) []byte {
	names := map[string]bool{}
	for _, n := range sysctlFixed {
		names[n] = true
	}
	for _, p := range sysctlPrefixed {
		ents, err := fs.ReadDir(fsys, "proc/sys/"+p.dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !e.IsDir() && strings.HasPrefix(e.Name(), p.prefix) {
				names[p.dir+"/"+e.Name()] = true
			}
		}
	}
	keys := make([]string, 0, len(names))
	for n := range names {
		keys = append(keys, n)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	for _, n := range keys {
		v, err := readSmall(fsys, "proc/sys/"+n, 64<<10)
		if err != nil {
			continue
		}
		val := strings.TrimRight(string(v), "\n")
		val = strings.ReplaceAll(val, "\n", " ")
		buf.WriteString(strings.ReplaceAll(n, "/", "."))
		buf.WriteString(" = ")
		buf.WriteString(val)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// bigHostSockets is the TCP socket count above which the collector reads
// /proc instead of running ss or netstat (see socketTable).
const bigHostSockets = 50000

// tcpSocketCount returns the TCP sockets of this network namespace from
// /proc/net/sockstat and sockstat6 (inuse + tw), or 0 when unknown.
func tcpSocketCount(fsys fs.FS) int {
	n := 0
	for _, f := range []string{"proc/net/sockstat", "proc/net/sockstat6"} {
		data, err := readSmall(fsys, f, 64<<10)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) == 0 || (fs[0] != "TCP:" && fs[0] != "TCP6:") {
				continue
			}
			for k := 1; k+1 < len(fs); k += 2 {
				if fs[k] == "inuse" || fs[k] == "tw" {
					v, _ := strconv.Atoi(fs[k+1])
					n += v
				}
			}
		}
	}
	return n
}

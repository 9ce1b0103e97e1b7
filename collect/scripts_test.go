package collect

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// manifestKeys are the JSON keys of the manifest types, which the scripts
// must write by hand.
func manifestKeys() []string {
	var keys []string
	for _, v := range []any{Manifest{}, Host{}, Sample{}, Item{}} {
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if tag != "" && tag != "-" && tag != "redacted" && tag != "truncated" && tag != "error" {
				keys = append(keys, tag)
			}
		}
	}
	return keys
}

func readScript(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustContain(t *testing.T, script, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q", script, w)
		}
	}
}

func TestShellScript(t *testing.T) {
	const name = "tcpsnap-collect.sh"
	s := readScript(t, name)
	if !strings.HasPrefix(s, "#!/bin/sh\n") {
		t.Error("not a /bin/sh script")
	}
	if _, err := exec.LookPath("dash"); err == nil {
		if out, err := exec.Command("dash", "-n", name).CombinedOutput(); err != nil {
			t.Errorf("dash -n: %v\n%s", err, out)
		}
	}
	if _, err := exec.LookPath("shellcheck"); err == nil {
		if out, err := exec.Command("shellcheck", "-s", "sh", name).CombinedOutput(); err != nil {
			t.Errorf("shellcheck: %v\n%s", err, out)
		}
	}
	mustContain(t, name, s,
		// contract paths
		"ss-tanpoeim.txt", "netstat-antpo.txt", "ss-s.txt", `"samples/$s/proc/net/$f"`,
		"nf_conntrack_count", "sysctl.txt", "processes.json", "manifest.json", "etc/nsswitch.conf",
		"uname.txt", "uptime.txt", "netstat-an.txt", "/etc/sysctl.d/*.conf",
		// safety
		"/proc/modules", "/sys/module/", "modules.builtin",
		"for m in inet_diag tcp_diag", "not loaded: used /proc/net/tcp instead of ss to avoid loading a kernel module",
		"timeout \"$TIMEOUT\"", "not running as root",
		// platforms
		"ndd -get /dev/tcp", "no -a", "sysctl \"$@\"", "netstat -anv -p tcp",
		// output
		`BASE="tcpsnap-$SAFEHOST-$STAMP"`, "date -u +%Y%m%dT%H%M%SZ", "gzip -c", "tcpsnap.bundle/v1",
		// whole bundle or nothing
		`gzip -c >"$TMPOUT"`, `ln "$TMPOUT" "$OUT"`, `mv "$TMPOUT" "$OUT"`, "trap cleanup EXIT",
		"' INT\n", "' TERM\n", "' HUP\n",
	)
	if strings.Contains(s, `>"$OUT"`) {
		t.Errorf("%s writes straight into the output", name)
	}
	for _, k := range manifestKeys() {
		if !strings.Contains(s, `"`+k+`"`) {
			t.Errorf("%s does not write manifest key %q", name, k)
		}
	}
	// Every netstat and ss listing is numeric.
	for _, m := range regexp.MustCompile(`\b(ss|netstat) (-[A-Za-z]+)`).FindAllStringSubmatch(s, -1) {
		if m[2] != "-s" && !strings.Contains(m[2], "n") {
			t.Errorf("%s runs %q, which may resolve names", name, m[0])
		}
	}
	for _, bad := range []string{"nslookup", "getent hosts", "dig ", "modprobe", "insmod"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s uses %q", name, bad)
		}
	}
}

func TestPowerShellScript(t *testing.T) {
	const name = "tcpsnap-collect.ps1"
	s := readScript(t, name)
	mustContain(t, name, s,
		"'netstat' @('-ano')", "Get-NetTCPConnection", "ConvertTo-Csv",
		"'dynamicport', 'tcp'", "'excludedportrange', 'protocol=tcp'",
		"TcpTimedWaitDelay", "MaxUserPort", "HandleCount", "Compress-Archive",
		"$sd/netstat-ano.txt", "'sysctl.txt'", "'processes.json'", "'manifest.json'",
		`"samples/$i"`, `$Base = "tcpsnap-$SafeHost-$Stamp"`, "yyyyMMddTHHmmssZ", ".zip",
		"'tcpsnap.bundle/v1'", "WaitForExit($Timeout * 1000)",
		// whole bundle or nothing
		"-DestinationPath $TmpOut", "$fs.Flush($true)", "[IO.File]::Move($TmpOut, $Output)",
		"Remove-Item -LiteralPath $TmpOut",
	)
	// Everything from the work folder's creation to the move runs inside
	// the try whose finally removes the work folder and the temporary zip.
	tryAt := strings.Index(s, "\ntry {\n")
	if mk := strings.Index(s, "New-Item -ItemType Directory -Path $Dir"); tryAt < 0 || mk < tryAt || strings.Index(s, "[IO.File]::Move(") < tryAt {
		t.Errorf("%s: the collection does not run inside the try that cleans up", name)
	}
	if strings.Contains(s, "-DestinationPath $Output") {
		t.Errorf("%s compresses straight into the output", name)
	}
	if BundleFormat != "tcpsnap.bundle/v1" {
		t.Error("BundleFormat changed: update the scripts")
	}
	for _, k := range manifestKeys() {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(k) + ` = `).MatchString(s) {
			t.Errorf("%s does not write manifest key %q", name, k)
		}
	}
	for _, bad := range []string{"Resolve-DnsName", "nslookup", "-ResolveNames", "netstat -a "} {
		if strings.Contains(s, bad) {
			t.Errorf("%s uses %q", name, bad)
		}
	}
	// Rough structure check: braces and parentheses balance outside strings
	// and comments.
	depth := map[byte]int{}
	inStr := byte(0)
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for i := 0; i < len(line); i++ {
			c := line[i]
			switch {
			case inStr != 0:
				if c == inStr {
					inStr = 0
				}
			case c == '\'' || c == '"':
				inStr = c
			case c == '{' || c == '(':
				depth[c]++
			case c == '}':
				depth['{']--
			case c == ')':
				depth['(']--
			}
		}
		inStr = 0
	}
	if depth['{'] != 0 || depth['('] != 0 {
		t.Errorf("%s: unbalanced braces %d or parentheses %d", name, depth['{'], depth['('])
	}
}

// shellCode is the script's lines without blank and comment lines.
func shellCode(s string) []string {
	var code []string
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			code = append(code, l)
		}
	}
	return code
}

// shellProse matches what names a command without running it: the text of
// a note or message, command -v, the word list of a for loop, and a test
// without command substitution ([ "$METHOD" = ss ]).
var shellProse = regexp.MustCompile(`\b(?:note|echo) "(?:[^"\\]|\\.)*"|\bcommand -v \S+|\bfor \w+ in [^;]*;|\[ (?:[^]$]|\$[^(])*\]`)

// shellValues are the values a shell variable takes: the words of its
// "for NAME in" lists and its assignments, with $OTHER followed.
func shellValues(code []string, name string, seen map[string]bool) []string {
	if seen[name] {
		return nil
	}
	seen[name] = true
	forList := regexp.MustCompile(`\bfor ` + name + ` in ([^;]*);`)
	assign := regexp.MustCompile(`(?:^|[\s;])` + name + `=("[^"]*"|\S*)`)
	var vals []string
	for _, l := range code {
		if m := forList.FindStringSubmatch(l); m != nil {
			vals = append(vals, strings.Fields(m[1])...)
		}
		for _, m := range assign.FindAllStringSubmatch(l, -1) {
			v := strings.Trim(m[1], `"`)
			if strings.HasPrefix(v, "$") {
				vals = append(vals, shellValues(code, strings.Trim(v, "${}"), seen)...)
			} else {
				vals = append(vals, v)
			}
		}
	}
	return vals
}

// TestShellScriptNoNameLookups checks statically that the sh collector
// runs nothing that looks up user, group or host names: long ls listings
// are numeric, tar stores numeric owners, and ss, netstat and lsof get
// their numeric flags, also through the variables that hold them.
func TestShellScriptNoNameLookups(t *testing.T) {
	const name = "tcpsnap-collect.sh"
	code := shellCode(readScript(t, name))
	cmdStart := `(?:^|[\s;|&(!])`
	lsCmd := regexp.MustCompile(cmdStart + `ls((?:\s+-[A-Za-z]+)*)`)
	// tar followed by an option, a variable or old-style keys (tar cf).
	tarCmd := regexp.MustCompile(cmdStart + `tar\s+((?:-|\$|[Acrtux][A-Za-z]*\s).*)`)
	listing := regexp.MustCompile(cmdStart + `(ss|netstat|lsof)(?:\s|$)`)
	idCmd := regexp.MustCompile(`\bid\b((?:\s+-[A-Za-z]+)*)`)
	numericOwner := false
	for _, l := range code {
		if strings.Contains(l, "NUMERIC_OWNER=--numeric-owner") {
			numericOwner = true
		}
		src := strings.TrimSpace(l)
		l = shellProse.ReplaceAllString(l, "")
		for _, m := range lsCmd.FindAllStringSubmatch(l, -1) {
			if opts := m[1]; strings.ContainsAny(opts, "lgo") && !strings.Contains(opts, "n") {
				t.Errorf("%s: %q lists owners by name (use ls -n)", name, src)
			}
		}
		if m := tarCmd.FindStringSubmatch(l); m != nil && !strings.HasPrefix(m[1], "--version ") {
			if !strings.Contains(m[1], "--numeric-owner") && !strings.Contains(m[1], "$NUMERIC_OWNER") {
				t.Errorf("%s: %q: tar without --numeric-owner looks up owner names", name, src)
			}
		}
		for _, m := range listing.FindAllStringSubmatchIndex(l, -1) {
			// The command's words run to the end of the simple command.
			rest := l[m[3]:]
			if i := strings.IndexAny(rest, "|;&)>"); i >= 0 {
				rest = rest[:i]
			}
			words := append([]string{l[m[2]:m[3]]}, strings.Fields(rest)...)
			for _, opts := range shellInvocations(t, code, words[1:]) {
				if !numericListing(words[0], opts) {
					t.Errorf("%s: %q runs %s %s, which may resolve names", name, src, words[0], strings.Join(opts, " "))
				}
			}
		}
		for _, m := range idCmd.FindAllStringSubmatch(l, -1) {
			if opts := m[1]; !regexp.MustCompile(`^\s+-[ug]$`).MatchString(opts) {
				t.Errorf("%s: %q: id other than id -u or id -g prints names", name, src)
			}
		}
		for _, bad := range []string{`\bgetent\b`, `\bwhoami\b`, `\bhostname\s+-`, `\bps\s+-`, `\bps\s+aux\b`, `\bstat\s+-c`, `-user\b`, `\bfinger\b`, `\blogname\b`} {
			if regexp.MustCompile(bad).MatchString(l) {
				t.Errorf("%s: %q looks up names (%s)", name, src, bad)
			}
		}
	}
	if !numericOwner {
		t.Errorf("%s never sets NUMERIC_OWNER=--numeric-owner", name)
	}
}

// shellInvocations expands a command's arguments into the option lists it
// may run with: each value a variable argument takes is one invocation.
func shellInvocations(t *testing.T, code, args []string) [][]string {
	t.Helper()
	runs := [][]string{nil}
	for _, a := range args {
		a = strings.Trim(a, `"`)
		switch {
		case strings.HasPrefix(a, "-"):
			for i := range runs {
				runs[i] = append(runs[i], a)
			}
		case strings.HasPrefix(a, "$"):
			var vals []string
			for _, v := range shellValues(code, strings.Trim(a, "${}"), map[string]bool{}) {
				if v != "" {
					vals = append(vals, v)
				}
			}
			if len(vals) == 0 {
				t.Errorf("cannot tell the values of %s", a)
			}
			var next [][]string
			for _, r := range runs {
				for _, v := range vals {
					next = append(next, append(append([]string(nil), r...), v))
				}
			}
			runs = next
		}
	}
	return runs
}

// numericListing reports whether ss, netstat or lsof with these options
// resolves no names: -n (lsof: -n and -P), or ss -s and netstat -s, which
// print counters.
func numericListing(cmd string, opts []string) bool {
	has := func(flag string) bool {
		for _, o := range opts {
			if o == "-s" && cmd != "lsof" {
				return true
			}
			if strings.HasPrefix(o, "-") && !strings.HasPrefix(o, "--") && strings.Contains(o, flag) {
				return true
			}
		}
		return false
	}
	if cmd == "lsof" {
		return has("n") && has("P")
	}
	return has("n")
}

// TestShellScriptNoNameLookupsTraced runs the sh collector under strace
// and checks that no process of it consults the name service: no
// /etc/passwd or /etc/group, no NSS module, no nscd or sssd socket, and
// /etc/nsswitch.conf read only by the cat that copies it into the bundle.
// It also checks that the bundle's tar entries carry no owner names.
func TestShellScriptNoNameLookupsTraced(t *testing.T) {
	const name = "tcpsnap-collect.sh"
	if runtime.GOOS != "linux" {
		t.Skip("collects this host: Linux only in tests")
	}
	if _, err := exec.LookPath("dash"); err != nil {
		t.Skip("needs dash")
	}
	traced := true
	if _, err := exec.LookPath("strace"); err != nil {
		traced = false
	} else if out, err := exec.Command("strace", "-qq", "-o", os.DevNull, "true").CombinedOutput(); err != nil {
		t.Logf("strace cannot trace here (%v: %s): the bundle is checked untraced", err, bytes.TrimSpace(out))
		traced = false
	}
	dir, tmp := t.TempDir(), t.TempDir()
	out := filepath.Join(dir, "b.tar.gz")
	log := filepath.Join(t.TempDir(), "strace.log")
	argv := []string{"dash", name, "-o", out, "-n", "1", "-i", "0", "-t", "20"}
	if traced {
		argv = append([]string{"strace", "-f", "-qq", "-o", log, "-e", "trace=execve,open,openat,connect"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, output)
	}
	if left := lsA(t, dir); len(left) != 1 || left[0] != "b.tar.gz" {
		t.Errorf("output folder holds %q, want the bundle alone", left)
	}
	if left := lsA(t, tmp); len(left) > 0 {
		t.Errorf("left in TMPDIR: %q", left)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tarVersion, _ := exec.Command("tar", "--version").Output()
	numeric := bytes.Contains(tarVersion, []byte("GNU tar")) || bytes.Contains(tarVersion, []byte("bsdtar"))
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if numeric && (h.Uname != "" || h.Gname != "") {
			t.Errorf("%s: owner %q group %q: tar looked up names", h.Name, h.Uname, h.Gname)
		}
	}
	if !traced {
		t.Skip("no strace: name-service accesses not checked")
	}
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	execRe := regexp.MustCompile(`^(\d+) execve\("([^"]*)"`)
	pathRe := regexp.MustCompile(`^(\d+) (?:open|openat|connect)\(.*?"(/[^"]*)"`)
	prog := map[string]string{}
	var bad []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if m := execRe.FindStringSubmatch(l); m != nil {
			prog[m[1]] = filepath.Base(m[2])
			continue
		}
		m := pathRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		who, p := prog[m[1]], m[2]
		switch {
		case p == "/etc/passwd", p == "/etc/group", p == "/etc/shadow", p == "/etc/gshadow",
			strings.Contains(p, "libnss_"), strings.Contains(p, "nscd"), strings.Contains(p, "/sss/"),
			strings.Contains(p, "nslcd"), strings.Contains(p, "/run/systemd/userdb"):
			bad = append(bad, fmt.Sprintf("%s: %s", who, l))
		case p == "/etc/nsswitch.conf" && who != "cat":
			bad = append(bad, fmt.Sprintf("%s: %s", who, l))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("name-service access: %s", b)
	}
}

// sleepingChild reports whether process pid has a child running
// "sleep SECONDS" (Linux /proc).
func sleepingChild(pid int, seconds string) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 || f[1] != fmt.Sprint(pid) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(st), "cmdline"))
		if string(cmdline) == "sleep\x00"+seconds+"\x00" {
			return true
		}
	}
	return false
}

// TestShellScriptInterrupted signals the sh collector while it collects,
// during the pause between samples and during a sample: it must stop at
// once (not after the pause or command under way), say so, exit with
// 128+signal, and leave no bundle, no temporary bundle and no work folder.
func TestShellScriptInterrupted(t *testing.T) {
	const name = "tcpsnap-collect.sh"
	if runtime.GOOS != "linux" {
		t.Skip("collects this host: Linux only in tests")
	}
	if _, err := exec.LookPath("dash"); err != nil {
		t.Skip("needs dash")
	}
	cases := []struct {
		sig  syscall.Signal
		when string
	}{
		{syscall.SIGTERM, "pause"}, {syscall.SIGINT, "pause"}, {syscall.SIGHUP, "pause"},
		{syscall.SIGTERM, "sample"},
	}
	for _, tc := range cases {
		t.Run(tc.sig.String()+" in "+tc.when, func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			out := filepath.Join(dir, "b.tar.gz")
			// Two samples a minute apart.
			cmd := exec.Command("dash", name, "-o", out, "-n", "2", "-i", "60", "-t", "20")
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.WaitDelay = time.Second // a leftover child must not hold Wait
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() { cmd.Process.Kill() })
			ready := func() bool { return sleepingChild(cmd.Process.Pid, "60") }
			if tc.when == "sample" {
				ready = func() bool {
					m, _ := filepath.Glob(filepath.Join(tmp, "tcpsnap.*", "tcpsnap-*", "samples", "0"))
					return len(m) > 0
				}
			}
			deadline := time.Now().Add(60 * time.Second)
			for !ready() {
				select {
				case err := <-done:
					t.Fatalf("exited before the %s: %v\n%s", tc.when, err, stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("no %s after 60s", tc.when)
				}
			}
			if tc.when == "sample" {
				time.Sleep(200 * time.Millisecond)
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Errorf("still running 10s after %v", tc.sig)
			}
			if code, want := cmd.ProcessState.ExitCode(), 128+int(tc.sig); code != want {
				t.Errorf("exit status %d (%v), want %d", code, cmd.ProcessState, want)
			}
			if msg := stderr.String(); !strings.Contains(msg, "interrupted") || !strings.Contains(msg, "no bundle written") {
				t.Errorf("stderr does not say it was interrupted and wrote nothing: %q", msg)
			}
			if left := lsA(t, dir); len(left) > 0 {
				t.Errorf("left in the output folder: %q", left)
			}
			if left := lsA(t, tmp); len(left) > 0 {
				t.Errorf("left in TMPDIR: %q", left)
			}
		})
	}
}

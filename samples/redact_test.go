package samples_test

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/collect"
)

// redactFolder writes a copy of the capture folder src into dst with
// every file passed through the collector's Redactor, as tcpsnap collect
// --redact would have written it.
func redactFolder(t *testing.T, src, dst string, red *collect.Redactor) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		if base := filepath.Base(p); strings.Contains(filepath.ToSlash(rel), "proc/net/") && (base == "tcp" || base == "tcp6") {
			return red.ProcNetTCP(f, in)
		}
		return red.Text(f, in)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRedactionKeepsDiagnosis redacts each shipped capture through the
// collector's Redactor and checks that the analyzer finds the same things
// (rules, severities, counts and other numeric evidence, ports); only
// names and addresses may differ.
func TestRedactionKeepsDiagnosis(t *testing.T) {
	rs := compileRules(t)
	quiet := map[string]bool{} // scenarios expected to find nothing
	for name, es := range readExpectations(t) {
		for _, e := range es {
			quiet[name] = quiet[name] || e.none
		}
	}
	for _, name := range scenarios(t) {
		t.Run(name, func(t *testing.T) {
			dst := t.TempDir()
			red := collect.NewRedactor("tcpsnap-" + name)
			redactFolder(t, name, dst, red)
			raw := analyzeInputs(t, rs, name)
			got := analyzeInputs(t, rs, dst)
			a, b := diagnosis(raw), diagnosis(got)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("redaction changed the diagnosis:\nraw:\n%s\nredacted:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
			if !reflect.DeepEqual(raw.Summary, got.Summary) {
				t.Errorf("summary: raw %+v, redacted %+v", raw.Summary, got.Summary)
			}
			if len(a) == 0 && !quiet[name] {
				t.Errorf("no finding on %s", name)
			}
		})
	}
}

// TestRedactionKeepsDiagnosisPrivate does the same on the CLOSE_WAIT and
// port-exhaustion captures moved from loopback to private addresses
// (which the Redactor does rewrite): the findings must survive the new
// addresses too.
func TestRedactionKeepsDiagnosisPrivate(t *testing.T) {
	rs := compileRules(t)
	for _, name := range []string{"closewait-leak", "timewait-churn", "stalled-reader"} {
		t.Run(name, func(t *testing.T) {
			moved := t.TempDir()
			err := filepath.WalkDir(name, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				s := strings.ReplaceAll(string(data), "127.0.0.1", "192.168.40.7")
				s = strings.ReplaceAll(s, "0100007F", "0728A8C0") // /proc/net/tcp, little-endian
				rel, _ := filepath.Rel(name, p)
				out := filepath.Join(moved, rel)
				if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
					return err
				}
				return os.WriteFile(out, []byte(s), 0o644)
			})
			if err != nil {
				t.Fatal(err)
			}
			dst := t.TempDir()
			redactFolder(t, moved, dst, collect.NewRedactor())
			if data, _ := os.ReadFile(filepath.Join(dst, "ss-tan.txt")); strings.Contains(string(data), "192.168.40.7") {
				t.Fatal("the Redactor kept the private address")
			}
			raw := analyzeInputs(t, rs, moved)
			got := analyzeInputs(t, rs, dst)
			a, b := diagnosis(raw), diagnosis(got)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("redaction changed the diagnosis:\nraw:\n%s\nredacted:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
			if len(a) == 0 {
				t.Errorf("no finding on the moved %s capture", name)
			}
			t.Logf("diagnosis kept:\n%s", strings.Join(a, "\n"))
		})
	}
}

// TestRedactionLeavesNoOriginal is the guarantee of --redact: after
// redaction no file holds, anywhere in its bytes, an address of the
// unredacted input (loopback and unspecified aside) or one of the host's
// names, in any of the encodings the collected sources use: dotted IPv4,
// IPv6 text in any spelling, IPv4-mapped IPv6, /proc/net/tcp{,6} hex
// words, reverse-DNS names, addresses written with dashes in host names.
// It runs on every shipped capture as is, and on copies moved off
// loopback and the documentation range onto private, public and IPv6
// addresses, with the host's names and the other encodings added.
func TestRedactionLeavesNoOriginal(t *testing.T) {
	for _, name := range scenarios(t) {
		t.Run(name, func(t *testing.T) {
			host := "tcpsnap-" + name
			dst := t.TempDir()
			redactFolder(t, name, dst, collect.NewRedactor(host))
			checkNoSurvivor(t, name, dst, []string{host})
		})
	}
	rs := compileRules(t)
	for _, name := range []string{"closewait-leak", "closewait-two-samples", "syn-sent-dropped", "healthy-partial"} {
		t.Run("moved-"+name, func(t *testing.T) {
			moved := t.TempDir()
			moveCapture(t, name, moved)
			dst := t.TempDir()
			redactFolder(t, moved, dst, collect.NewRedactor(movedHost))
			checkNoSurvivor(t, moved, dst, []string{movedHost, "corp.example.com", "example.com", "db01",
				"api.corp.example.com", "10-0-1-9.corp.example.com"})
			raw := analyzeInputs(t, rs, moved)
			got := analyzeInputs(t, rs, dst)
			if a, b := diagnosis(raw), diagnosis(got); !reflect.DeepEqual(a, b) {
				t.Errorf("redaction changed the diagnosis:\nraw:\n%s\nredacted:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
		})
	}
}

const movedHost = "db01.corp.example.com"

// moveCapture copies the capture src into dst with 127.0.0.1 moved to
// 10.0.0.5, 192.0.2.0/24 to 54.85.222.0/24 and ::1 to
// 2a00:1450:4001:82a::200e (text and /proc/net/tcp{,6} hex alike), and
// adds to scenario.txt the host's names and the other encodings.
func moveCapture(t *testing.T, src, dst string) {
	t.Helper()
	v6 := netip.MustParseAddr("2a00:1450:4001:82a::200e")
	loop6 := regexp.MustCompile(`(^|[^0-9A-Fa-f:])::1([^0-9A-Fa-f]|$)`)
	doc := regexp.MustCompile(`192\.0\.2\.(\d{1,3})`)
	docHex := regexp.MustCompile(`([0-9A-F]{2})0200C0`)
	extra := strings.Join([]string{
		"host: db01.corp.example.com (DB01), resolv.conf: search corp.example.com example.com",
		"peers: api.corp.example.com:443 ip-10-0-0-5.ec2.internal ec2-54-85-222-2.compute-1.amazonaws.com 10-0-1-9.corp.example.com",
		"ptr: 5.0.0.10.in-addr.arpa. 2.222.85.54.IN-ADDR.ARPA " + nibbles(v6) + " 1.0.10.in-addr.arpa",
		"ifconfig: eth0: inet addr:10.0.1.9  Bcast:10.0.1.255  Mask:255.255.255.0",
		"ifconfig: inet6 addr: 2A00:1450:4001:082A:0000:0000:0000:200E/64 Scope:Global",
		"other: 2a00:1450:4001:82a:0:0:0:200e ::ffff:54.85.222.2 [::ffff:10.0.0.5]:8080 10.0.0.5.8080 eth0:10.0.1.9 x-10.0.1.10 10.0.1.11-10.0.1.12",
		"pasted /proc/net/tcp row:",
		"   9: " + hexAddr(netip.MustParseAddr("10.0.0.5")) + ":1F90 " + hexAddr(netip.MustParseAddr("10.0.1.9")) + ":0050 01 00000000:00000000 00:00000000 00000000  1000        0 424242 1",
		"",
	}, "\n")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := strings.ReplaceAll(string(data), "127.0.0.1", "10.0.0.5")
		s = strings.ReplaceAll(s, hexAddr(netip.MustParseAddr("127.0.0.1")), hexAddr(netip.MustParseAddr("10.0.0.5")))
		s = doc.ReplaceAllString(s, "54.85.222.$1")
		s = docHex.ReplaceAllString(s, "${1}DE5536")
		s = loop6.ReplaceAllString(s, "${1}"+v6.String()+"${2}")
		s = strings.ReplaceAll(s, hexAddr(netip.IPv6Loopback()), hexAddr(v6))
		if filepath.Base(p) == "scenario.txt" {
			s += extra
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, []byte(s), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hexAddr spells a as /proc/net/tcp (IPv4) or tcp6 (IPv6) does: the
// address's 32-bit words in host order, in upper-case hex.
func hexAddr(a netip.Addr) string {
	mem := a.AsSlice()
	enc := make([]byte, len(mem))
	for w := 0; w < len(mem)/4; w++ {
		binary.BigEndian.PutUint32(enc[w*4:], binary.NativeEndian.Uint32(mem[w*4:]))
	}
	return strings.ToUpper(hex.EncodeToString(enc))
}

func nibbles(a netip.Addr) string {
	b := a.As16()
	var out []string
	for i := 15; i >= 0; i-- {
		out = append(out, fmt.Sprintf("%x", b[i]&0xf), fmt.Sprintf("%x", b[i]>>4))
	}
	return strings.Join(out, ".") + ".ip6.arpa"
}

var (
	dottedRE = regexp.MustCompile(`\d{1,3}(?:\.\d{1,3}){3}`)
	v6RE     = regexp.MustCompile(`[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*`)
	dashRE   = regexp.MustCompile(`(?:^|[^0-9A-Za-z])(\d{1,3}(?:-\d{1,3}){3})(?:$|[^0-9])`)
	rev4RE   = regexp.MustCompile(`(?i)((?:\d{1,3}\.){4})in-addr\.arpa`)
	rev6RE   = regexp.MustCompile(`(?i)((?:[0-9a-f]\.){32})ip6\.arpa`)
	procRE   = regexp.MustCompile(`^\s*\d+: ([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):[0-9A-Fa-f]{4} ([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):[0-9A-Fa-f]{4} `)
)

// addrsIn lists the addresses spelt in one line, in every encoding.
func addrsIn(line string) []netip.Addr {
	var out []netip.Addr
	add := func(s string) {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a)
		}
	}
	for _, m := range dottedRE.FindAllStringIndex(line, -1) {
		// Not the labels of a reverse-DNS name ("5.0.0.10.in-addr.arpa",
		// "...e.0.0.2.0.0.0.0.ip6.arpa"): they are read below.
		if (m[0] == 0 || !isDigit(line[m[0]-1]) && line[m[0]-1] != '.') &&
			(m[1] == len(line) || !isDigit(line[m[1]]) && !(line[m[1]] == '.' && m[1]+1 < len(line) && !isDigit(line[m[1]+1]))) {
			add(line[m[0]:m[1]])
		}
	}
	for _, run := range v6RE.FindAllString(line, -1) {
		run = strings.TrimRight(run, ".")
		for {
			// netstat's "::1:9100" is ::1 port 9100 (as the Redactor reads
			// it), not ::1:9100.
			if k := strings.LastIndexByte(run, ':'); k > 0 && allDigits(run[k+1:]) && parses(run[:k]) {
				add(run[:k])
				break
			}
			if parses(run) {
				add(run)
				break
			}
			k := strings.IndexByte(run, ':')
			if k <= 0 || strings.Count(run[k+1:], ":") < 2 {
				break
			}
			run = run[k+1:] // "eth0:fe80::1", "addr:..."
		}
	}
	for _, m := range dashRE.FindAllStringSubmatch(line, -1) {
		add(strings.ReplaceAll(m[1], "-", "."))
	}
	for _, m := range rev4RE.FindAllStringSubmatch(line, -1) {
		l := strings.Split(strings.TrimSuffix(m[1], "."), ".")
		add(l[3] + "." + l[2] + "." + l[1] + "." + l[0])
	}
	for _, m := range rev6RE.FindAllStringSubmatch(line, -1) {
		l := strings.Split(strings.TrimSuffix(m[1], "."), ".")
		var b strings.Builder
		for i := len(l) - 1; i >= 0; i-- {
			b.WriteString(l[i])
			if i%4 == 0 && i > 0 {
				b.WriteByte(':')
			}
		}
		add(b.String())
	}
	if m := procRE.FindStringSubmatch(line); m != nil {
		for _, h := range m[1:] {
			raw, _ := hex.DecodeString(h)
			mem := make([]byte, len(raw))
			for w := 0; w < len(raw)/4; w++ {
				binary.NativeEndian.PutUint32(mem[w*4:], binary.BigEndian.Uint32(raw[w*4:]))
			}
			if a, ok := netip.AddrFromSlice(mem); ok {
				out = append(out, a)
			}
		}
	}
	var all []netip.Addr
	for _, a := range out {
		all = append(all, a)
		if a.Is4In6() {
			all = append(all, a.Unmap())
		}
	}
	return all
}

func parses(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// spellings lists the lower-case ways a is written in the sources.
func spellings(a netip.Addr) []string {
	if a.Is4() {
		b := a.As4()
		return []string{
			a.String(),
			fmt.Sprintf("%d-%d-%d-%d", b[0], b[1], b[2], b[3]),
			fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa", b[3], b[2], b[1], b[0]),
			strings.ToLower(hexAddr(a)),
		}
	}
	b := a.As16()
	var full []string
	for i := 0; i < 16; i += 2 {
		full = append(full, fmt.Sprintf("%02x%02x", b[i], b[i+1]))
	}
	return []string{a.String(), strings.Join(full, ":"), strings.ToLower(hexAddr(a)), nibbles(a)}
}

// checkNoSurvivor fails for every address of the files under raw, and
// every one of names, that the files under red still spell.
func checkNoSurvivor(t *testing.T, raw, red string, names []string) {
	t.Helper()
	secret := map[netip.Addr]bool{}
	err := filepath.WalkDir(raw, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return eachLine(p, func(_ int, line string) {
			for _, a := range addrsIn(line) {
				if a = a.WithZone(""); !a.IsLoopback() && !a.IsUnspecified() && !a.Unmap().IsLoopback() && !a.Unmap().IsUnspecified() {
					secret[a] = true
				}
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	type needle struct {
		s    string
		what string
	}
	var needles []needle
	for a := range secret {
		for _, s := range spellings(a) {
			needles = append(needles, needle{strings.ToLower(s), a.String()})
		}
	}
	for _, n := range names {
		needles = append(needles, needle{strings.ToLower(n), "host name"})
	}
	sort.Slice(needles, func(i, j int) bool { return needles[i].s < needles[j].s })
	var list []string
	for a := range secret {
		list = append(list, a.String())
	}
	sort.Strings(list)
	t.Logf("%d addresses looked for: %s", len(list), strings.Join(list, " "))
	leaks := 0
	err = filepath.WalkDir(red, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(red, p)
		return eachLine(p, func(n int, line string) {
			low := strings.ToLower(line)
			report := func(what, how string) {
				if leaks++; leaks <= 20 {
					t.Errorf("%s:%d: %s survives as %q: %s", rel, n, what, how, line)
				}
			}
			for _, nd := range needles {
				for k := 0; ; {
					x := strings.Index(low[k:], nd.s)
					if x < 0 {
						break
					}
					x += k
					e := x + len(nd.s)
					k = x + 1
					// 10.0.0.5 is not in 110.0.0.5 or 10.0.0.51, and the
					// host db01 is not in a pseudonym's hex digits
					// (host-9adb01a5b5): a name is a whole label.
					inside := isDigit
					if nd.what == "host name" {
						inside = isLabelChar
					}
					if x > 0 && inside(low[x-1]) || e < len(low) && inside(low[e]) {
						continue
					}
					report(nd.what, nd.s)
					break
				}
			}
			for _, a := range addrsIn(line) {
				if secret[a.WithZone("")] {
					report(a.String(), "parsed")
				}
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if leaks > 20 {
		t.Errorf("%d survivors in all", leaks)
	}
}

// isLabelChar reports a byte that may stand inside a host name's label.
func isLabelChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
}

func eachLine(path string, f func(n int, line string)) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		f(n, sc.Text())
	}
	return sc.Err()
}

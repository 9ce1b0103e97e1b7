package analyze

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/input"
	"github.com/tcpsnap/tcpsnap/analyze/model"
)

const ssListing = "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n" +
	"LISTEN 0      128          0.0.0.0:8443      0.0.0.0:*     users:((\"java\",pid=8166,fd=5))\n" +
	"CLOSE-WAIT 0  0          10.0.0.1:8443   198.51.100.7:50814 users:((\"java\",pid=8166,fd=9))\n"

type tarEntry struct {
	name     string
	body     string
	typeflag byte
	link     string
	size     int64 // declared size when body is empty
}

func writeTarGz(t *testing.T, path string, entries []tarEntry) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typeflag, Linkname: e.link, Size: int64(len(e.body))}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func problemsText(s *model.Snapshot) string {
	var b strings.Builder
	for _, p := range s.Problems {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

// TestHostileTarball: unsafe members are skipped and reported, never
// followed or extracted; the safe listing is still read.
func TestHostileTarball(t *testing.T) {
	path := filepath.Join(t.TempDir(), "evil.tgz")
	writeTarGz(t, path, []tarEntry{
		{name: "../../etc/passwd", body: "root:x:0:0\n"},
		{name: "/etc/shadow", body: "x\n"},
		{name: "snap/../../escape", body: "x\n"},
		{name: "snap/link", typeflag: tar.TypeSymlink, link: "/etc/passwd"},
		{name: "snap/hard", typeflag: tar.TypeLink, link: "../../etc/passwd"},
		{name: "snap/dev", typeflag: tar.TypeChar},
		{name: "./snap/ss.txt", body: ssListing},
	})
	s, err := Load([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Latest().Sockets); n != 2 {
		t.Errorf("got %d sockets, want 2", n)
	}
	probs := problemsText(s)
	for _, want := range []string{"../../etc/passwd: skipped: unsafe member name", "/etc/shadow: skipped: unsafe member name",
		"snap/../../escape: skipped", "snap/link: skipped: link to /etc/passwd not followed",
		"snap/hard: skipped: link", "snap/dev: skipped: not a regular file"} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems lack %q:\n%s", want, probs)
		}
	}
}

// TestBombsAndLimits: oversized members, too many entries and a
// decompression bomb fail with an error naming the input, instead of
// being truncated silently.
func TestBombsAndLimits(t *testing.T) {
	dir := t.TempDir()
	lim := input.DefaultLimits
	lim.MaxFile, lim.MaxTotal, lim.MaxEntries = 1<<20, 2<<20, 50

	big := filepath.Join(dir, "big.tgz")
	writeTarGz(t, big, []tarEntry{{name: "ss.txt", body: strings.Repeat("0", 2<<20)}})
	if _, err := Load([]string{big}, Options{Limits: lim}); !errors.Is(err, input.ErrLimit) || !strings.Contains(err.Error(), "big.tgz:ss.txt") {
		t.Errorf("oversized member: err = %v, want a limit error naming big.tgz:ss.txt", err)
	}

	many := filepath.Join(dir, "many.tgz")
	var entries []tarEntry
	for i := 0; i < 60; i++ {
		entries = append(entries, tarEntry{name: "f" + model.Itoa(i), body: "x\n"})
	}
	writeTarGz(t, many, entries)
	if _, err := Load([]string{many}, Options{Limits: lim}); !errors.Is(err, input.ErrLimit) || !strings.Contains(err.Error(), "many.tgz") {
		t.Errorf("too many entries: err = %v", err)
	}

	// A gzip bomb: a single gzipped "listing" that inflates past MaxTotal.
	bomb := filepath.Join(dir, "bomb.gz")
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for i := 0; i < 8; i++ {
		zw.Write(zero)
	}
	zw.Close()
	os.WriteFile(bomb, buf.Bytes(), 0o644)
	if _, err := Load([]string{bomb}, Options{Limits: lim}); err == nil || !strings.Contains(err.Error(), "bomb.gz") {
		t.Errorf("gzip bomb: err = %v, want an error naming bomb.gz", err)
	}
}

// TestDecodeLimit: a file that must be decoded before parsing (here
// UTF-16) and is larger than the limit fails with an error naming it,
// instead of being cut.
func TestDecodeLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "netstat-ano.txt")
	var b bytes.Buffer
	b.Write([]byte{0xff, 0xfe})
	row := "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1012\r\n"
	for b.Len() < 3<<20 {
		for _, r := range row {
			b.WriteByte(byte(r))
			b.WriteByte(0)
		}
	}
	os.WriteFile(path, b.Bytes(), 0o644)
	lim := input.DefaultLimits
	lim.MaxFile, lim.MaxDecode = 4<<20, 4<<20
	if _, err := Load([]string{path}, Options{Limits: lim}); err != nil {
		t.Fatalf("under the limit: %v", err)
	}
	lim.MaxDecode = 1 << 20
	_, err := Load([]string{path}, Options{Limits: lim})
	if !errors.Is(err, input.ErrLimit) || !strings.Contains(err.Error(), "netstat-ano.txt") {
		t.Errorf("over the limit: err = %v, want a limit error naming netstat-ano.txt", err)
	}
}

// TestHugeLine: a line longer than MaxLineBytes is cut and reported with
// its line number; the rest of the listing is read.
func TestHugeLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ss.txt")
	data := ssListing + "ESTAB 0 0 10.0.0.1:1 192.0.2.1:2 " + strings.Repeat("A", 1<<20) + "\n" +
		"ESTAB 0 0 10.0.0.1:3 192.0.2.1:443\n"
	os.WriteFile(path, []byte(data), 0o644)
	s, err := Load([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Latest().Sockets); n < 3 {
		t.Errorf("got %d sockets, want the rows around the huge line", n)
	}
	if !strings.Contains(problemsText(s), "ss.txt:4:") {
		t.Errorf("no problem names line 4:\n%s", problemsText(s))
	}
}

// TestZipAndGzipAndStdin: the other containers read the same listing.
func TestZipAndGzipAndStdin(t *testing.T) {
	dir := t.TempDir()
	zpath := filepath.Join(dir, "bundle.zip")
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create(`samples\0\netstat-ano.txt`) // Compress-Archive writes backslashes
	w.Write([]byte(ssListing))
	w, _ = zw.Create("../evil.txt")
	w.Write([]byte("x"))
	zw.Close()
	os.WriteFile(zpath, zbuf.Bytes(), 0o644)

	gpath := filepath.Join(dir, "ss.txt.gz")
	var gbuf bytes.Buffer
	gz := gzip.NewWriter(&gbuf)
	gz.Write([]byte(ssListing))
	gz.Close()
	os.WriteFile(gpath, gbuf.Bytes(), 0o644)

	for _, tc := range []struct {
		args  []string
		stdin string
	}{{[]string{zpath}, ""}, {[]string{gpath}, ""}, {[]string{"-"}, ssListing}} {
		s, err := Load(tc.args, Options{Stdin: strings.NewReader(tc.stdin)})
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if n := len(s.Latest().Sockets); n != 2 {
			t.Errorf("%v: got %d sockets, want 2", tc.args, n)
		}
	}
}

// TestUnrecognized: a file that is no listing gives an error naming it
// and the formats tried; a missing file names the path.
func TestUnrecognized(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "notes.txt")
	os.WriteFile(path, []byte("Dear support,\nour server is slow since Tuesday.\n"), 0o644)
	_, err := Load([]string{path}, Options{})
	if err == nil || !strings.Contains(err.Error(), "notes.txt") || !strings.Contains(err.Error(), "netstat-linux") {
		t.Errorf("err = %v, want one naming notes.txt and the formats tried", err)
	}
	if _, err := Load([]string{filepath.Join(dir, "missing.txt")}, Options{}); err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("missing file: err = %v", err)
	}
	bin := filepath.Join(dir, "core")
	os.WriteFile(bin, []byte{0x7f, 'E', 'L', 'F', 0, 0, 0, 1, 2, 3}, 0o644)
	if _, err := Load([]string{bin}, Options{}); err == nil {
		t.Errorf("binary file: want an error")
	}
}

// FuzzLoad feeds arbitrary bytes to the loader as a file: it must never
// panic, whatever the content (archive, listing or garbage).
func FuzzLoad(f *testing.F) {
	f.Add([]byte(ssListing))
	f.Add([]byte("\x1f\x8b\x08\x00garbage"))
	f.Add([]byte("PK\x03\x04garbage"))
	for _, glob := range []string{"testdata/*/*.txt", "formats/testdata/*/*.txt"} {
		files, _ := filepath.Glob(glob)
		for i, p := range files {
			if i%7 == 0 { // a sample of every kind keeps the seed corpus small
				if data, err := os.ReadFile(p); err == nil {
					f.Add(data)
				}
			}
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "input")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Skip()
		}
		lim := input.DefaultLimits
		lim.MaxTotal, lim.MaxFile = 16<<20, 16<<20
		s, err := Load([]string{path}, Options{Limits: lim})
		if err != nil {
			return
		}
		for _, p := range s.Problems {
			if p.Path == "" {
				t.Fatalf("problem without a path: %s", p)
			}
		}
	})
}

// A listing large enough to be mapped gives the same report as the same
// bytes read from standard input.
func TestMappedListingSameAsStdin(t *testing.T) {
	var b strings.Builder
	b.WriteString("State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n")
	b.WriteString(`LISTEN 0 128 0.0.0.0:8443 0.0.0.0:* users:(("java",pid=8166,fd=5))` + "\n")
	for i := 0; b.Len() < 3<<20; i++ {
		st := []string{"ESTAB", "TIME-WAIT", "CLOSE-WAIT"}[i%3]
		fmt.Fprintf(&b, "%s 0 0 10.0.0.1:8443 192.0.2.%d:%d users:((\"java\",pid=8166,fd=%d))\n", st, 1+i%250, 20000+i%40000, 10+i)
	}
	path := filepath.Join(t.TempDir(), "ss.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rs := builtinRulesForTest(t)
	report := func(snap *model.Snapshot) string {
		var out bytes.Buffer
		if err := WriteJSON(&out, engine.Run(snap, rs)); err != nil {
			t.Fatal(err)
		}
		return strings.ReplaceAll(out.String(), `\u003cstdin\u003e`, path)
	}
	mapped, err := Load([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := Load([]string{"-"}, Options{Stdin: strings.NewReader(b.String())})
	if err != nil {
		t.Fatal(err)
	}
	if a, s := report(mapped), report(streamed); a != s {
		al, sl := strings.Split(a, "\n"), strings.Split(s, "\n")
		for i := range min(len(al), len(sl)) {
			if al[i] != sl[i] {
				t.Errorf("the mapped file's report differs from stdin's at line %d:\n%s\nvs\n%s", i+1, al[i], sl[i])
				break
			}
		}
	}
}

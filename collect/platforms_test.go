package collect

import (
	"os"
	"path"
	"strings"
	"testing"
)

func TestPlatformsTable(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "freebsd", "solaris", "aix", "windows"} {
		srcs, ok := Platforms[goos]
		if !ok {
			t.Errorf("%s missing", goos)
			continue
		}
		listing := false
		seen := map[string]bool{}
		for _, s := range srcs {
			if s.Path == "" || strings.HasPrefix(s.Path, "/") || path.Clean(s.Path) != strings.TrimSuffix(s.Path, "/") || strings.Contains(s.Path, "..") {
				t.Errorf("%s: bad path %q", goos, s.Path)
			}
			key := s.Path + map[bool]string{true: "@sample"}[s.PerSample]
			if seen[key] {
				t.Errorf("%s: %s twice", goos, s.Path)
			}
			seen[key] = true
			if (len(s.Command) == 0) == (s.File == "") {
				t.Errorf("%s %s: needs exactly one of Command and File", goos, s.Path)
			}
			if len(s.Command) > 0 && (s.Command[0] == "netstat" || s.Command[0] == "ss") {
				numeric := false
				for _, a := range s.Command[1:] {
					if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "n") {
						numeric = true
					}
					if a == "-s" {
						numeric = true // counters: no addresses
					}
				}
				if !numeric {
					t.Errorf("%s: %q may resolve names", goos, s.Command)
				}
				if s.PerSample && (strings.HasPrefix(s.Path, "netstat-an") || strings.HasPrefix(s.Path, "ss-tan")) {
					listing = true
				}
			}
			for _, a := range s.Command {
				if strings.ContainsAny(a, "|;&$`") {
					t.Errorf("%s: shell syntax in %q", goos, s.Command)
				}
			}
		}
		if !listing {
			t.Errorf("%s: no per-sample numeric socket listing", goos)
		}
		if !seen["sysctl.txt"] {
			t.Errorf("%s: no sysctl.txt", goos)
		}
		if note := PlatformNote(goos); !strings.HasPrefix(note, "platform "+goos+": per sample ") {
			t.Errorf("note %q", note)
		}
	}
	// The paths the contract (doc.go) names for each platform.
	want := map[string]string{"windows": "netstat-ano.txt", "darwin": "netstat-an.txt", "freebsd": "netstat-an.txt",
		"solaris": "netstat-an.txt", "aix": "netstat-an.txt", "linux": "ss-tanpoeim.txt"}
	for goos, p := range want {
		found := false
		for _, s := range Platforms[goos] {
			found = found || (s.PerSample && s.Path == p)
		}
		if !found {
			t.Errorf("%s lacks %s", goos, p)
		}
	}
	if !strings.Contains(PlatformNote("plan9"), "not supported") {
		t.Error("unknown platform not reported")
	}
}

func TestConversions(t *testing.T) {
	if got := colonToEquals("net.inet.tcp.msl: 15000\nnot a line\nkern.ipc.somaxconn: 128\n"); got != "net.inet.tcp.msl = 15000\nkern.ipc.somaxconn = 128\n" {
		t.Errorf("colonToEquals = %q", got)
	}
	if got := regQueryToEquals("    MaxUserPort    REG_DWORD    0xfffe\r\n    TcpTimedWaitDelay    REG_DWORD    0x1e\r\n"); got != "MaxUserPort = 65534\nTcpTimedWaitDelay = 30\n" {
		t.Errorf("regQueryToEquals = %q", got)
	}
}

// TestDocListsEveryPath keeps the bundle layout in doc.go in step with
// what the collectors write: every path of the Platforms table and every
// file the scripts write is named there.
func TestDocListsEveryPath(t *testing.T) {
	data, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	want := map[string]bool{}
	for _, srcs := range Platforms {
		for _, s := range srcs {
			p := strings.TrimSuffix(s.Path, "/")
			if s.PerSample {
				p = "samples/N/" + p
			}
			want[p] = true
		}
	}
	// Files only the scripts write.
	for _, p := range []string{"etc/netsvc.conf", "samples/N/get-nettcpconnection.csv", "samples/N/netstat-an.txt"} {
		want[p] = true
	}
	for p := range want {
		// "samples/N/proc/net/tcp, tcp6" lists tcp6 after a comma.
		dir, base := path.Split(p)
		if !strings.Contains(doc, p) && !strings.Contains(doc, dir) || !strings.Contains(doc, base) {
			t.Errorf("doc.go does not list %s", p)
		}
	}
}

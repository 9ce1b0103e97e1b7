package analyze

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/collect"
)

// TestWindowsBundleSettings runs the Go collector for Windows with a fake
// runner that answers like Windows, and checks that the analyzer takes the
// ephemeral port range from netsh-dynamicport.txt and the TIME_WAIT
// duration from the registry values in sysctl.txt.
func TestWindowsBundleSettings(t *testing.T) {
	netstat, err := os.ReadFile(filepath.Join("formats", "testdata", "netstat-windows", "ano-en.txt"))
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{
		"netstat -ano": string(netstat),
		"netsh int ipv4 show dynamicport tcp": "\r\nProtocol tcp Dynamic Port Range\r\n---------------------------------\r\n" +
			"Start Port      : 10000\r\nNumber of Ports : 55535\r\n\r\n",
		`reg query HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`: "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters\r\n" +
			"    NV Hostname    REG_SZ    WIN-APP01\r\n    TcpTimedWaitDelay    REG_DWORD    0x1e\r\n    MaxUserPort    REG_DWORD    0xfffe\r\n\r\n",
	}
	run := func(ctx context.Context, stdout, stderr io.Writer, name string, args ...string) (int, error) {
		out, ok := answers[strings.Join(append([]string{name}, args...), " ")]
		if !ok {
			io.WriteString(stderr, "not on this fake host")
			return 1, os.ErrNotExist
		}
		io.WriteString(stdout, out)
		return 0, nil
	}
	var buf bytes.Buffer
	_, err = collect.Collect(context.Background(), collect.Options{
		Output: &buf, GOOS: "windows", Run: run, Root: fstest.MapFS{}, Samples: 1,
		Hostname: "WIN-APP01", Version: "test", IsRoot: func() bool { return true },
		Sleep: func(context.Context, time.Duration) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "win.tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := Load([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := engine.NewFacts(snap)
	if f.OS != "windows" || f.PortRangeAssumed || f.PortRangeLow != 10000 || f.PortRangeHigh != 65534 {
		t.Errorf("port range: os %s, %d-%d (assumed %v), want windows 10000-65534 from netsh-dynamicport.txt; sources %v",
			f.OS, f.PortRangeLow, f.PortRangeHigh, f.PortRangeAssumed, snap.Sources)
	}
	if f.TimeWaitAssumed || f.TimeWaitSeconds != 30 {
		t.Errorf("TIME_WAIT: %v s (assumed %v), want 30 from TcpTimedWaitDelay; sysctls %v", f.TimeWaitSeconds, f.TimeWaitAssumed, snap.Sysctls)
	}
	if snap.Sysctls["windows.MaxUserPort"] != "65534" {
		t.Errorf("windows.MaxUserPort = %q", snap.Sysctls["windows.MaxUserPort"])
	}
	if len(snap.Latest().Sockets) == 0 {
		t.Errorf("no sockets from netstat -ano: %v", snap.Sources)
	}
}

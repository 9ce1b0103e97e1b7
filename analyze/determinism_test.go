package analyze

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReportsIndependentOfCores: the whole analysis — reading, parsing
// in pieces, grouping on every core, rules, rendering — gives
// byte-identical reports with GOMAXPROCS 1, 2 and 8, on every shipped
// sample and on listings large enough to be parsed in pieces (with the
// sections and noise that once made pieces differ from the whole).
func TestReportsIndependentOfCores(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	rs := builtinRulesForTest(t)
	inputs, _ := filepath.Glob(filepath.Join("..", "samples", "*", "scenario.txt"))
	for i := range inputs {
		inputs[i] = filepath.Dir(inputs[i])
	}
	dir := t.TempDir()
	// A netstat listing of 6 MB with a UNIX domain section between tcp rows,
	// and an ss listing with noise lines and CR-only line ends.
	var ns, ss strings.Builder
	ns.WriteString("Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State\n")
	for i := 0; ns.Len() < 3<<20; i++ {
		fmt.Fprintf(&ns, "tcp        0      0 10.0.%d.%d:8443        10.1.%d.%d:%d        CLOSE_WAIT\n", i%200, i%250, i%100, i%240, 30000+i%30000)
	}
	ns.WriteString("Active UNIX domain sockets (servers and established)\nProto RefCnt Flags       Type       State         I-Node   Path\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&ns, "unix  3      [ ]         STREAM     CONNECTED     %d     /run/x.sock\n", 100000+i)
	}
	for i := 0; ns.Len() < 6<<20; i++ {
		fmt.Fprintf(&ns, "tcp        0      0 10.2.%d.%d:5432        10.3.%d.%d:%d        ESTABLISHED\n", i%200, i%250, i%100, i%240, 30000+i%30000)
	}
	ss.WriteString("State Recv-Q Send-Q Local Address:Port Peer Address:Port\r")
	for i := 0; ss.Len() < 5<<20; i++ {
		if i%1000 == 0 {
			ss.WriteString("Failed to find cgroup2 mount\r")
		}
		fmt.Fprintf(&ss, "TIME-WAIT 0 0 10.4.%d.%d:%d 10.5.%d.%d:443\r", i%200, i%250, 30000+i%30000, i%7, i%3)
	}
	for name, text := range map[string]string{"netstat-sections.txt": ns.String(), "ss-cr-noise.txt": ss.String()} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, p)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, in := range inputs {
		var want []byte
		for _, procs := range []int{1, 2, 8} {
			runtime.GOMAXPROCS(procs)
			snap, err := Load([]string{in}, Options{})
			if err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			var b bytes.Buffer
			if err := WriteJSON(&b, Run(snap, rs)); err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = b.Bytes()
				continue
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("%s: the report with GOMAXPROCS=%d differs from GOMAXPROCS=1", filepath.Base(in), procs)
			}
		}
	}
}

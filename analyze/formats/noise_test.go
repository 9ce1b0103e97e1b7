package formats

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// A line a parser cannot read after its table started may have held a
// socket: it is reported with its line number, not dropped without a
// word. What comes before the table (a prompt, the command) and the
// messages the tools print themselves are not problems.
func TestNoiseInsideTableReported(t *testing.T) {
	for _, tc := range []struct {
		format, in string
		problems   []int
	}{
		{"ss", "$ ss -tan\n" +
			"State Recv-Q Send-Q Local Address:Port Peer Address:Port\n" +
			"ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000\n" +
			"Failed to find cgroup2 mount\n" +
			"LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n" +
			"this line was mangled by a pager\n" +
			"$ exit\n", []int{6, 7}},
		{"ss", "State Recv-Q Send-Q Local Address:Port\n" + // a narrow terminal wraps the header
			"      Peer Address:Port\n" +
			"    Process\n" +
			"u_str ESTAB 0 0 /run/a 12 * 13\n" +
			"      /a/wrapped/path\n" + // the wrapped part of a skipped (unix) record
			"ESTAB 0 0 10.0.0.1:22\n" +
			"      10.0.0.2:5000\n", nil},
		{"netstat-linux", "$ netstat -antp\n" +
			"(Not all processes could be identified, non-owned process info\n" +
			" will not be shown, you would have to be root to see it all.)\n" +
			"Active Internet connections (servers and established)\n" +
			"Proto Recv-Q Send-Q Local Address Foreign Address State PID/Program name\n" +
			"tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN 812/sshd\n" +
			"tcp 0 0 10.0.0.1:22 10.0.0.2:50000 ESTABLISHED 900/sshd\n" +
			"~~~ garbage ~~~\n" +
			"Active UNIX domain sockets (servers and established)\n" +
			"Proto RefCnt Flags Type State I-Node PID/Program name Path\n" +
			"unix 2 [ ACC ] STREAM LISTENING 12345 1/systemd /run/systemd/private\n" +
			"    a unix path with a newline in it\n" +
			"tcp 0 0 10.0.0.1:22 10.0.0.3:50001 ESTABLISHED 901/sshd\n" +
			"Ip:\n" + // netstat -s after the listing (OSWatcher)
			"    1041227 total packets received\n" +
			"Tcp:\n" +
			"    7 active connection openings\n", []int{8}},
		{"netstat-bsd", "Active Internet connections (including servers)\n" +
			"Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)\n" +
			"tcp4       0      0  192.0.2.5.8443         198.51.100.7.51000     CLOSE_WAIT\n" +
			"this line is garbage that should be reported\n" +
			"tcp4       0      0  *.8443                 *.*                    LISTEN\n", []int{4}},
		{"lsof", "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\n" +
			"java 42 app 10u IPv4 1 0t0 TCP 192.0.2.5:8443->198.51.100.7:51000 (CLOSE_WAIT)\n" +
			"java 42 app 11r REG 8,1 100 200 /opt/app/lib.jar\n" + // a file: skipped on purpose
			"not an lsof row at all\n", []int{4}},
		{"netstat-windows", "C:\\>netstat -anob\r\n" +
			"\r\n" +
			"Active Connections\r\n" +
			"\r\n" +
			"  Proto  Local Address          Foreign Address        State           PID\r\n" +
			"  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1012\r\n" +
			"  RpcSs\r\n" +
			" [svchost.exe]\r\n" +
			"  TCP    0.0.0.0:445            0.0.0.0:0              LISTENING       4\r\n" +
			" Can not obtain ownership information\r\n" +
			"  TCP    192.0.2.10:50123       198.51.100.7:443       ESTABLISHED     4312\r\n" +
			"garbage after the table\r\n" +
			"  indented, but after garbage\r\n" +
			"\r\n" +
			"C:\\>\r\n", []int{12, 13, 15}},
	} {
		var l model.Listing
		if err := FormatByName(tc.format).Parse(strings.NewReader(tc.in), &l); err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		var lines []int
		for _, p := range l.Problems {
			lines = append(lines, p.Line)
		}
		if fmt.Sprint(lines) != fmt.Sprint(tc.problems) && len(lines)+len(tc.problems) > 0 {
			t.Errorf("%s: problems at lines %v, want %v:\n%s", tc.format, lines, tc.problems, l.String())
		}
	}
}

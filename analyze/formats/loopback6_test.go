package formats

import "testing"

// TestLoopbackNameOnV6Socket: a resolved listing prints ::1 as "localhost"
// (the name /etc/hosts gives it), so "localhost" in a tcp6 row is ::1, not
// the 127.0.0.1 the name means in a tcp row. Before the fix both
// netstat-linux and netstat-bsd made these rows v4 127.0.0.1 sockets: a
// second "127.0.0.1:25" listener beside the real one, and a v4 socket
// whose peer was [::]. lsof already read them as ::1.
func TestLoopbackNameOnV6Socket(t *testing.T) {
	tests := []struct{ format, in, want string }{
		// kellyjonbrazil/jc tests/fixtures/centos-7.7/netstat-sudo-aeep.out
		// lines 2-8 (testdata/netstat-linux/centos-7.7-aeep-localhost6.txt).
		{"netstat-linux",
			"tcp6       0      0 localhost:smtp          [::]:*                  LISTEN      root       22607      1489/master         ",
			"v6 LISTEN [::1]:25 -> [::]:0 q=0/0 proc=\"master\" pid=1489 ino=22607"},
		{"netstat-linux",
			"tcp6       0      0 localhost:ssh           localhost:38134         ESTABLISHED root       63129      6492/sshd: kbrazil  ",
			"v6 ESTABLISHED [::1]:22 -> [::1]:38134 q=0/0 proc=\"sshd: kbrazil\" pid=6492 ino=63129"},
		// The same name in a tcp row stays 127.0.0.1.
		{"netstat-linux",
			"tcp        0      0 localhost:smtp          0.0.0.0:*               LISTEN      root       22606      1489/master         ",
			"v4 LISTEN 127.0.0.1:25 -> 0.0.0.0:0 q=0/0 proc=\"master\" pid=1489 ino=22606"},
		// A cut name is a name, whatever the proto.
		{"netstat-linux",
			"tcp6       0      0 localhost.localdoma:ssh 192.168.71.1:58727      ESTABLISHED",
			"v4 ESTABLISHED localhost.localdoma:22 -> 192.168.71.1:58727 q=0/0"},
		// macOS `netstat -ap tcp | grep -i listen`, a public notes page
		// (code-search file id 28444172206) whose `lsof -PiTCP` of the same
		// machine shows postgres and redis on IPv6 localhost.
		{"netstat-bsd",
			"tcp6       0      0  localhost.postgresql   *.*                    LISTEN",
			"v6 LISTEN [::1]:5432 -> [::]:0 q=0/0"},
		{"netstat-bsd",
			"tcp4       0      0  localhost.postgresql   *.*                    LISTEN",
			"v4 LISTEN 127.0.0.1:5432 -> 0.0.0.0:0 q=0/0"},
		// macOS `netstat -a | grep 55555`, a public C source comment
		// (code-search file id 69138919).
		{"netstat-bsd",
			"tcp6       0      0  localhost.55555        localhost.58623        TIME_WAIT",
			"v6 TIME_WAIT [::1]:55555 -> [::1]:58623 q=0/0"},
	}
	for _, tt := range tests {
		l := parseWith(t, tt.format, tt.in+"\n")
		if got := socketLines(l); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s %q:\n got  %q\n want %q", tt.format, tt.in, got, tt.want)
		}
	}
}

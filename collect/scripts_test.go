package collect

import (
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"
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
	)
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
	)
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

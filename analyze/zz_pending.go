package analyze

// Placeholders until the parser branches land; deleted at merge.

import (
	"bytes"
	"strings"
)

func DecodeText(data []byte) ([]byte, string, error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, "binary", nil
	}
	return bytes.TrimPrefix(data, []byte{0xef, 0xbb, 0xbf}), "utf-8", nil
}

func SysctlFromProcPath(p string) (string, bool) {
	i := strings.Index(p, "proc/sys/")
	if i < 0 || (i > 0 && p[i-1] != '/') {
		return "", false
	}
	return strings.ReplaceAll(p[i+len("proc/sys/"):], "/", "."), true
}

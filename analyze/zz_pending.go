package analyze

// Placeholders until the parser branches land; deleted at merge.

import (
	"bytes"
)

func DecodeText(data []byte) ([]byte, string, error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, "binary", nil
	}
	return bytes.TrimPrefix(data, []byte{0xef, 0xbb, 0xbf}), "utf-8", nil
}

package input

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

func TestTextBytes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	listing := bytes.Repeat([]byte("ESTAB 0 0 192.0.2.1:40000 192.0.2.2:443\n"), 1000)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(listing)
	zw.Close()
	plain := write("ss.txt", listing)
	packed := write("ss.txt.gz", gz.Bytes())
	write("bundle/a/ss.txt", listing)
	write("bundle/netstat.txt", listing[:100])
	write("bundle/.git/objects/pack", listing) // hidden: WalkInput skips it
	for _, tt := range []struct {
		arg  string
		want int64
	}{
		{plain, int64(len(listing))},
		{packed, int64(gz.Len()) * compressedRatio},
		{filepath.Join(dir, "bundle"), int64(len(listing)) + 100},
		{"-", 0},
		{filepath.Join(dir, "missing"), 0},
		{write("empty", nil), 0},
	} {
		if got := TextBytes(tt.arg); got != tt.want {
			t.Errorf("TextBytes(%s) = %d, want %d", filepath.Base(tt.arg), got, tt.want)
		}
	}
}

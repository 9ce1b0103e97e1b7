package collect

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
)

// procStates are the kernel's TCP state numbers as /proc/net/tcp prints them.
var procStates = map[string]string{
	"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
	"05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
	"09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING", "0C": "NEW_SYN_RECV",
}

// StateCounts counts sockets by state name.
type StateCounts map[string]int

// String is "N sockets: 3 ESTABLISHED, 2 LISTEN", most frequent first.
func (c StateCounts) String() string {
	total := 0
	names := make([]string, 0, len(c))
	for k, v := range c {
		total += v
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if c[names[i]] != c[names[j]] {
			return c[names[i]] > c[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%d %s", c[n], n)
	}
	s := fmt.Sprintf("%d sockets", total)
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

// CountProcNetTCP adds the sockets of a /proc/net/tcp or tcp6 listing.
func (c StateCounts) CountProcNetTCP(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[0] == "sl" {
			continue
		}
		if name, ok := procStates[strings.ToUpper(f[3])]; ok {
			c[name]++
		}
	}
	return sc.Err()
}

// netstatStates maps state words of native netstat listings.
var netstatStates = map[string]string{
	"ESTABLISHED": "ESTABLISHED", "SYN_SENT": "SYN_SENT", "SYN_RECEIVED": "SYN_RECV",
	"SYN_RCVD": "SYN_RECV", "SYN_RECV": "SYN_RECV", "FIN_WAIT_1": "FIN_WAIT1",
	"FIN_WAIT1": "FIN_WAIT1", "FIN_WAIT_2": "FIN_WAIT2", "FIN_WAIT2": "FIN_WAIT2",
	"TIME_WAIT": "TIME_WAIT", "CLOSE_WAIT": "CLOSE_WAIT", "LAST_ACK": "LAST_ACK",
	"LISTEN": "LISTEN", "LISTENING": "LISTEN", "CLOSING": "CLOSING", "BOUND": "BOUND",
	"IDLE": "IDLE",
}

// CountNetstat adds the sockets of a native netstat listing (one state
// word per TCP row).
func (c StateCounts) CountNetstat(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		for _, f := range strings.Fields(sc.Text()) {
			if name, ok := netstatStates[strings.ToUpper(f)]; ok {
				c[name]++
				break
			}
		}
	}
	return sc.Err()
}

// BundleStates counts sockets by state in the last sample of a bundle
// (tar.gz, tar or zip, given whole in data or streamed from r): from
// proc/net/tcp{,6} when present, else from the native netstat listing.
func BundleStates(r io.Reader) (StateCounts, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(4)
	var files map[string][]byte
	var err error
	switch {
	case bytes.HasPrefix(head, []byte("PK")):
		var data []byte
		if data, err = io.ReadAll(br); err == nil {
			files, err = lastSampleZip(data)
		}
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		var gz *gzip.Reader
		if gz, err = gzip.NewReader(br); err == nil {
			files, err = lastSampleTar(gz)
		}
	default:
		files, err = lastSampleTar(br)
	}
	if err != nil {
		return nil, err
	}
	c := StateCounts{}
	if tcp, ok := files["proc/net/tcp"]; ok {
		c.CountProcNetTCP(bytes.NewReader(tcp))
		c.CountProcNetTCP(bytes.NewReader(files["proc/net/tcp6"]))
		return c, nil
	}
	for _, name := range []string{"netstat-ano.txt", "netstat-an.txt", "netstat-antpo.txt"} {
		if data, ok := files[name]; ok {
			return c, c.CountNetstat(bytes.NewReader(data))
		}
	}
	return c, fmt.Errorf("no socket listing in the last sample")
}

// sampleFile splits "[prefix/]samples/N/rest" into N and rest.
func sampleFile(name string) (int, string, bool) {
	name = strings.TrimPrefix(path.Clean(name), "./")
	i := strings.Index(name, "samples/")
	if i < 0 || (i > 0 && name[i-1] != '/') {
		return 0, "", false
	}
	rest := name[i+len("samples/"):]
	num, file, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, "", false
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return 0, "", false
	}
	return n, file, true
}

const maxStateFile = 256 << 20

func lastSampleTar(r io.Reader) (map[string][]byte, error) {
	tr := tar.NewReader(r)
	last := -1
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		n, file, ok := sampleFile(strings.ReplaceAll(h.Name, "\\", "/"))
		if !ok || n < last || !wantedStateFile(file) {
			continue
		}
		if n > last {
			last, files = n, map[string][]byte{}
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxStateFile))
		if err != nil {
			return nil, err
		}
		files[file] = data
	}
}

func lastSampleZip(data []byte) (map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	last := -1
	files := map[string][]byte{}
	for _, f := range zr.File {
		n, file, ok := sampleFile(strings.ReplaceAll(f.Name, "\\", "/"))
		if !ok || n < last || !wantedStateFile(file) {
			continue
		}
		if n > last {
			last, files = n, map[string][]byte{}
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxStateFile))
		rc.Close()
		if err != nil {
			return nil, err
		}
		files[file] = b
	}
	return files, nil
}

func wantedStateFile(f string) bool {
	switch f {
	case "proc/net/tcp", "proc/net/tcp6", "netstat-ano.txt", "netstat-an.txt", "netstat-antpo.txt":
		return true
	}
	return false
}

package analyze

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fleet fixtures: many bundles made from the shipped samples, with
// varied host names, addresses, kernels and sizes, and some broken ones.

// fleetSamples are the shipped samples the generated hosts are made of.
var fleetSamples = []string{"closewait-leak", "healthy", "timewait-churn", "port-exhaustion",
	"accept-queue-full", "orphan-finwait2", "rpc-churn", "syn-sent-dropped", "stalled-reader"}

// fleetFiles are the files taken from each sample (those it has).
var fleetFiles = []string{"ss-tanpoeim.txt", "netstat-antpo.txt", "sysctl.txt", "ss-s.txt", "processes.txt"}

type genFile struct {
	name string
	data []byte
}

func fleetManifest(host, kernel string) []byte {
	return []byte(`{"format": "tcpsnap.bundle/v1", "version": "test",
 "host": {"hostname": "` + host + `", "os": "linux", "kernel": "` + kernel + `"},
 "start": "2026-01-02T03:04:05Z", "end": "2026-01-02T03:04:06Z", "root": true,
 "samples": [{"index": 0, "dir": "samples/0", "time": "2026-01-02T03:04:05Z", "elapsed_seconds": 0}],
 "sources": []}
`)
}

func fleetTarGz(t testing.TB, files []genFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// shrink keeps the header and the first fraction (per mille) of a
// listing's lines.
func shrink(data []byte, permille int) []byte {
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) < 4 {
		return data
	}
	keep := 1 + (len(lines)-1)*permille/1000
	return []byte(strings.Join(lines[:keep], ""))
}

// genFleet writes n bundles into dir: host-NNNNN.tar.gz made from the
// samples (addresses 127.0.0.1 rewritten to one address per host, sizes
// 50-100% of the sample, three kernels), and every 25th a broken one
// (truncated gzip, not an archive, a path traversal member, in turn).
// It returns the number of broken bundles.
func genFleet(t testing.TB, dir string, n int) (broken int) {
	t.Helper()
	src := map[string][]genFile{}
	for _, s := range fleetSamples {
		for _, f := range fleetFiles {
			data, err := os.ReadFile(filepath.Join("..", "samples", s, f))
			if err != nil {
				continue
			}
			src[s] = append(src[s], genFile{f, data})
		}
	}
	kernels := []string{"5.15.0-91-generic", "6.1.0-18-amd64", "6.8.0-40-generic"}
	for i := 0; i < n; i++ {
		name := filepath.Join(dir, fmt.Sprintf("host-%05d.tar.gz", i))
		var data []byte
		if i%25 == 24 {
			broken++
			switch (i / 25) % 3 {
			case 0: // truncated gzip
				good := fleetTarGz(t, []genFile{{"manifest.json", fleetManifest(fmt.Sprintf("broken-%05d", i), kernels[0])}, {"ss-tanpoeim.txt", src["healthy"][0].data}})
				data = good[:len(good)/2]
			case 1: // not an archive at all
				data = bytes.Repeat([]byte{0x00, 0xff, 0x13, 0x37}, 1024)
			case 2: // a member that climbs out
				data = fleetTarGz(t, []genFile{{"../../../etc/evil.txt", []byte("State Recv-Q Send-Q Local Peer\n")}})
			}
		} else {
			s := fleetSamples[i%len(fleetSamples)]
			addr := fmt.Sprintf("10.%d.%d.%d", 1+i/62500, (i/250)%250, 1+i%250)
			files := []genFile{{"manifest.json", fleetManifest(fmt.Sprintf("host-%05d", i), kernels[i%len(kernels)])}}
			for _, f := range src[s] {
				d := bytes.ReplaceAll(f.data, []byte("127.0.0.1"), []byte(addr))
				if strings.HasPrefix(f.name, "ss-tan") || strings.HasPrefix(f.name, "netstat-ant") {
					d = shrink(d, 500+(i*37)%501)
				}
				files = append(files, genFile{f.name, d})
			}
			data = fleetTarGz(t, files)
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return broken
}

// genBothEnds writes a leaking server (10.0.0.5, from closewait-leak's
// CLOSE_WAIT sockets on :8443) and k clients (10.0.1.1...) holding the
// other ends in FIN_WAIT2, each a bundle of its own; it returns the
// number of CLOSE_WAIT sockets.
func genBothEnds(t testing.TB, dir string, k int) (closeWait int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "samples", "closewait-leak", "ss-tanpoeim.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	header := lines[0]
	server := []string{header}
	clients := make([][]string, k)
	for i := range clients {
		clients[i] = []string{header}
	}
	assigned := map[string]int{} // client port -> client, round robin on first sight
	clientOf := func(port string) int {
		c, ok := assigned[port]
		if !ok {
			c = len(assigned) % k
			assigned[port] = c
		}
		return c
	}
	for _, l := range lines[1:] {
		l = strings.ReplaceAll(l, "[::ffff:127.0.0.1]", "127.0.0.1")
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		local, peer := f[3], f[4]
		switch {
		case strings.HasSuffix(local, ":8443"):
			if strings.HasPrefix(f[0], "LISTEN") {
				server = append(server, strings.Replace(l, "127.0.0.1:8443", "10.0.0.5:8443", 1))
				continue
			}
			c := clientOf(peer[strings.LastIndex(peer, ":")+1:])
			l = strings.Replace(l, "127.0.0.1:8443", "10.0.0.5:8443", 1)
			l = strings.Replace(l, "127.0.0.1:", fmt.Sprintf("10.0.1.%d:", c+1), 1)
			server = append(server, l)
			if strings.HasPrefix(f[0], "CLOSE-WAIT") {
				closeWait++
			}
		case strings.HasSuffix(peer, ":8443"):
			c := clientOf(local[strings.LastIndex(local, ":")+1:])
			l = strings.Replace(l, "127.0.0.1:", fmt.Sprintf("10.0.1.%d:", c+1), 1)
			l = strings.Replace(l, "127.0.0.1:8443", "10.0.0.5:8443", 1)
			clients[c] = append(clients[c], l)
		}
	}
	write := func(host string, rows []string) {
		b := fleetTarGz(t, []genFile{{"manifest.json", fleetManifest(host, "6.1.0-18-amd64")}, {"ss-tanpoeim.txt", []byte(strings.Join(rows, ""))}})
		if err := os.WriteFile(filepath.Join(dir, host+".tar.gz"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("srv-1", server)
	for i, c := range clients {
		write(fmt.Sprintf("client-%02d", i+1), c)
	}
	return closeWait
}

package model

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// AdviseHugePages is advice: any slice, empty or large, stays usable.
func TestAdviseHugePages(t *testing.T) {
	AdviseHugePages([]Socket(nil))
	AdviseHugePages(make([]Socket, 0, 10))
	big := make([]Socket, 0, 100_000) // 12.8 MB
	AdviseHugePages(big)
	big = big[:cap(big)]
	for i := range big {
		big[i].PID = i
	}
	if big[99_999].PID != 99_999 {
		t.Fatal("the slice lost its contents")
	}
}

// TestHugeHeap runs TestHugeHeapChild in a process of its own: HugeHeap
// acts on a fresh heap, once.
func TestHugeHeap(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHugeHeapChild$", "-test.v")
	cmd.Env = append(os.Environ(), "TCPSNAP_HUGEHEAP_CHILD=1")
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil:
		t.Fatalf("%v\n%s", err, out)
	case bytes.Contains(out, []byte("--- SKIP")):
		t.Skipf("%s", out)
	case !bytes.Contains(out, []byte("--- PASS: TestHugeHeapChild")):
		t.Fatalf("the child did not run:\n%s", out)
	}
}

// TestHugeHeapChild: after HugeHeap, a big table and small allocations
// alike sit in memory Linux flags "hg" (huge pages on advice), and the
// big table is not cleared by the runtime (which would make it all
// resident at once).
func TestHugeHeapChild(t *testing.T) {
	if os.Getenv("TCPSNAP_HUGEHEAP_CHILD") == "" {
		t.Skip("run by TestHugeHeap")
	}
	if !HugeHeap(256 << 20) {
		t.Skip("no transparent huge pages on advice here")
	}
	if HugeHeap(256 << 20) {
		t.Error("HugeHeap acted twice")
	}
	before, err := residentBytes()
	if err != nil {
		t.Skip(err)
	}
	table := make([]byte, 64<<20)
	after, _ := residentBytes()
	if grew := after - before; grew > 16<<20 {
		t.Errorf("a 64 MB table made after HugeHeap made %d MB resident: the runtime cleared it", grew>>20)
	}
	small := make([][]byte, 64)
	for i := range small {
		small[i] = make([]byte, 64<<10)
	}
	for _, b := range [][]byte{table, small[len(small)-1]} {
		flags, err := vmFlags(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(strings.Fields(flags), "hg") {
			t.Errorf("a %d-byte allocation after HugeHeap is in a mapping with flags %q, want hg among them", len(b), flags)
		}
	}
	table[0] = 1
}

func TestHugeHeapSmall(t *testing.T) {
	if HugeHeap(1 << 20) {
		t.Error("HugeHeap acted for 1 MB")
	}
}

// vmFlags returns the VmFlags of the mapping of /proc/self/smaps that
// holds address p.
func vmFlags(p uintptr) (string, error) {
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return "", err
	}
	in := false
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(f[0], "-"); ok && !strings.HasSuffix(f[0], ":") {
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(p) >= a && uint64(p) < b
			continue
		}
		if in && f[0] == "VmFlags:" {
			return strings.Join(f[1:], " "), nil
		}
	}
	return "", fmt.Errorf("no mapping holds %#x", p)
}

// residentBytes reads the process's resident size from /proc/self/statm.
func residentBytes() (int64, error) {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0, fmt.Errorf("statm: %q", data)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize()), err
}

// ReleasePages gives a table's pages back: the resident size falls, the
// released part reads as zeros, the rest keeps its contents.
func TestReleasePages(t *testing.T) {
	table := make([]Socket, 700_000) // 67 MB
	for i := range table {
		table[i].PID = i + 1
	}
	before, err := residentBytes()
	if err != nil {
		t.Skip(err)
	}
	ReleasePages(table[200_000:])
	after, _ := residentBytes()
	if runtime.GOOS == "linux" && before-after < 32<<20 {
		t.Errorf("resident size fell by %d MB, want about 48", (before-after)>>20)
	}
	for _, i := range []int{0, 199_999} {
		if table[i].PID != i+1 {
			t.Errorf("socket %d lost its contents", i)
		}
	}
	if runtime.GOOS == "linux" && table[400_000].PID != 0 { // a whole page inside the released part
		t.Error("a released socket still reads its old contents")
	}
	ReleasePages(table[:1]) // less than a page: nothing to do
}

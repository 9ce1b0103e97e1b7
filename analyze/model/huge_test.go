package model

import (
	"bytes"
	"fmt"
	"os"
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

// HugeHeap leaves the memory the heap grows into advised for huge
// pages: a table allocated after it sits in a mapping Linux flags "hg".
func TestHugeHeap(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || bytes.Contains(mode, []byte("[never]")) {
		t.Skip("no transparent huge pages here")
	}
	if !HugeHeap(64 << 20) {
		t.Skip("the heap holds freed memory already")
	}
	table := make([]byte, 16<<20)
	flags, err := vmFlags(uintptr(unsafe.Pointer(unsafe.SliceData(table))))
	if err != nil {
		t.Skip(err)
	}
	if !slices.Contains(strings.Fields(flags), "hg") {
		t.Errorf("a table allocated after HugeHeap is in a mapping with flags %q, want hg among them", flags)
	}
	if HugeHeap(1 << 20) {
		t.Error("HugeHeap readied the heap for 1 MB")
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

// A table bigger than the holes HugeHeap leaves comes fresh: the runtime
// does not clear it (which would make all of it resident at once, on one
// core); the goroutines that fill it fault its pages in.
func TestHugeHeapBigTableFresh(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || bytes.Contains(mode, []byte("[never]")) {
		t.Skip("no transparent huge pages here")
	}
	runtime.GC()
	if !HugeHeap(256 << 20) {
		t.Skip("the heap holds freed memory already")
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
	table[0] = 1
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

package model

import (
	"bytes"
	"math"
	"os"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// AdviseHugePages asks Linux to back the memory of s (its whole capacity)
// with transparent huge pages, before it is first touched. Touching fresh
// memory costs a page fault per 4 KiB, which on a virtual machine made a
// million-socket table (128 MB) cost 0.4 s to fill; with huge pages, when
// the kernel has them, it took 20 ms. It does nothing for small slices
// and where the kernel says no.
func AdviseHugePages[T any](s []T) {
	n := uintptr(cap(s)) * unsafe.Sizeof(*new(T))
	if n < 4<<20 {
		return
	}
	base := unsafe.Pointer(unsafe.SliceData(s[:cap(s)]))
	adviseBytes(unsafe.Slice((*byte)(base), n))
}

// adviseBytes advises the whole pages of b for transparent huge pages;
// it reports whether the kernel took the advice.
func adviseBytes(b []byte) bool {
	w := wholePages(b)
	return len(w) > 0 && syscall.Madvise(w, syscall.MADV_HUGEPAGE) == nil
}

// wholePages returns the part of b made of whole pages of the system's.
func wholePages(b []byte) []byte {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	page := uintptr(os.Getpagesize())
	lo := int((start+page-1)&^(page-1) - start)
	hi := int((start+uintptr(len(b)))&^(page-1) - start)
	if hi <= lo {
		return nil
	}
	return b[lo:hi]
}

// HugeHeap readies the next n bytes of the Go heap for transparent huge
// pages: it takes them fresh from the system, advises them as
// AdviseHugePages does and hands them back to the system at once, so
// that the allocations the heap then places there — the small ones and
// the slabs too, not only the tables advised one by one — are backed by
// huge pages when first touched. On a virtual machine, where a fresh
// 4 KiB page costs a fault of about 10 µs, this took a seventh off the
// time of a million-socket analysis (geometric mean over 27 listings; up
// to a third on some).
//
// Nothing is touched, and nothing is kept: the resident size and the
// collector's pacing are as without it. The runtime clears an
// allocation that reuses freed memory, on the goroutine that makes it,
// unless all of it was given back to the system: so the bytes are given
// back (debug.FreeOSMemory), and the big tables placed there come
// cleared by the kernel, page by page as the goroutines filling them
// touch them.
//
// It acts once per process, only where Linux gives huge pages on advice
// (transparent_hugepage "madvise"), for n of 8 MB or more, and within
// half of a memory limit (GOMEMLIMIT). It reports whether it acted.
func HugeHeap(n int) bool {
	if n < 8<<20 || !hugeOnAdvice() || !hugeOnce.CompareAndSwap(false, true) {
		return false
	}
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
		n = min(n, int(limit/2))
	}
	debug.FreeOSMemory() // what the heap holds free now goes back first: the block comes whole from the system
	ok := adviseFresh(n)
	debug.FreeOSMemory() // the block is garbage: its pages go back to the system, advised
	return ok
}

var hugeOnce atomic.Bool

// hugeOnAdvice reports whether Linux backs memory with transparent huge
// pages when advised to, and only then ("always" does without advice).
func hugeOnAdvice() bool {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && bytes.Contains(mode, []byte("[madvise]"))
}

// adviseFresh allocates n bytes, advises them and drops them; it reports
// whether the kernel took the advice.
//
//go:noinline
func adviseFresh(n int) bool { return adviseBytes(make([]byte, n)) }

// ReleasePages gives the whole pages of s back to the system: they read
// as zeros afterwards, and cost a fault when written again. For a part of
// a pointer-free table whose contents are garbage.
func ReleasePages[T any](s []T) {
	n := uintptr(len(s)) * unsafe.Sizeof(*new(T))
	if w := wholePages(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), n)); len(w) > 0 {
		_ = syscall.Madvise(w, syscall.MADV_DONTNEED)
	}
}

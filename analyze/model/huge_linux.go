package model

import (
	"runtime"
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
	const page = 4096
	n := uintptr(cap(s)) * unsafe.Sizeof(*new(T))
	if n < 4<<20 {
		return
	}
	base := unsafe.Pointer(unsafe.SliceData(s[:cap(s)]))
	start := uintptr(base)
	end := start + n
	aligned := (start + page - 1) &^ (page - 1)
	end &^= page - 1
	if end <= aligned {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Add(base, aligned-start)), end-aligned)
	_ = syscall.Madvise(b, 14) // MADV_HUGEPAGE
}

// HugeHeap readies the next n bytes of the Go heap for transparent huge
// pages: it takes them fresh from the system in chunks, advises them as
// AdviseHugePages does and hands most chunks back at once (a
// collection), so that the allocations the heap then places there — the
// small ones and the slabs too, not only the tables advised one by one —
// are backed by huge pages when first touched. On a virtual machine,
// where a fresh 4 KiB page costs a fault of about 10 µs, this took a
// sixth off a million-socket analysis.
//
// The runtime clears an allocation that reuses freed memory, on the
// goroutine that makes it; fresh memory comes cleared by the system,
// page by page as the goroutines filling it touch it. So every
// hugeFence-th chunk is kept, never touched: the holes between them are
// too small for the big tables, which still come fresh (and are advised
// one by one), and only smaller allocations are cleared by the runtime.
// Nothing is touched here: the resident size does not grow.
//
// Call it once, first, while the heap is small; it does nothing for n
// under 8 MB, or when the heap already holds more freed memory than a
// chunk. It reports whether it readied the heap.
func HugeHeap(n int) bool {
	if n < 2*hugeChunk {
		return false
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapIdle-ms.HeapReleased > hugeChunk {
		return false // freed memory would be reused and cleared
	}
	hugeFences = adviseFresh(n / hugeChunk)
	runtime.GC() // the other chunks are garbage: their pages go back to the heap
	return true
}

const (
	hugeChunk = 4 << 20 // bytes taken at a time by HugeHeap
	hugeFence = 4       // of the chunks, HugeHeap keeps one in hugeFence
)

// hugeFences holds the chunks HugeHeap keeps.
var hugeFences [][]byte

// adviseFresh allocates k chunks of hugeChunk bytes, advises the range
// from the lowest to the highest (the heap grows into it in order; any
// other heap memory there only gets the same advice) and returns every
// hugeFence-th chunk and the highest.
//
//go:noinline
func adviseFresh(k int) [][]byte {
	lo, hi := ^uintptr(0), uintptr(0)
	chunks := make([][]byte, k)
	top := 0 // the chunk at the highest address
	for i := range chunks {
		chunks[i] = make([]byte, hugeChunk)
		p := uintptr(unsafe.Pointer(unsafe.SliceData(chunks[i])))
		if p+hugeChunk > hi {
			top = i
		}
		lo, hi = min(lo, p), max(hi, p+hugeChunk)
	}
	const page = 4096
	lo = (lo + page - 1) &^ (page - 1)
	hi &^= page - 1
	if hi > lo {
		// Only advice: a hole in the range is skipped (ENOMEM).
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, 14) // MADV_HUGEPAGE
	}
	// The highest chunk is kept too: a big table the heap places after
	// the chunks must not start in a freed one, or all of it is cleared.
	var kept [][]byte
	for i := range chunks {
		if i%hugeFence == hugeFence-1 || i == top {
			kept = append(kept, chunks[i])
		}
	}
	return kept
}

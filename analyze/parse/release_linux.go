package parse

import (
	"os"
	"syscall"
)

// releasePages gives back the whole pages inside r (MADV_DONTNEED: a
// file mapping's pages come back from the page cache when touched).
func releasePages(r memRange) {
	page := uintptr(os.Getpagesize())
	start := (r.start + page - 1) &^ (page - 1)
	end := r.end &^ (page - 1)
	if end <= start {
		return
	}
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, end-start, syscall.MADV_DONTNEED)
}

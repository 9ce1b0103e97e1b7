package parse

import (
	"runtime/debug"
)

// GoGuarded is for a goroutine that may read mapped memory: a fault in
// fn (a mapped file cut short) is returned instead of crashing the
// program, for the caller to panic with in its own goroutine, where
// input.Guarded turns it into an error. Other panics go on.
func GoGuarded(fn func()) (fault any) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			if !isMemoryFault(r) {
				panic(r)
			}
			fault = r
		}
	}()
	fn()
	return nil
}

// isMemoryFault reports whether a recovered value is a memory fault (or
// a nil dereference: the caller's guard tells them apart by address).
func isMemoryFault(r any) bool {
	_, ok := r.(interface{ Addr() uintptr })
	return ok
}

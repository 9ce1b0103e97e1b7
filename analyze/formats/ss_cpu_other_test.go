//go:build !unix

package formats

// cpuTime is not measured on this platform.
func cpuTime() int64 { return 0 }

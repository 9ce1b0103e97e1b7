package main

import (
	"os"
	"runtime/pprof"
)

// startDevProfile writes a CPU profile of the whole run to the file named
// by TCPSNAP_CPUPROFILE, for developers measuring speed on real listings
// (go tool pprof tcpsnap FILE). It returns the function that stops it.
func startDevProfile() func() {
	path := os.Getenv("TCPSNAP_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

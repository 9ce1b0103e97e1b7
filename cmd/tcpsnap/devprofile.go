package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startDevProfile writes a CPU profile of the whole run to the file named
// by TCPSNAP_CPUPROFILE, for developers measuring speed on real listings
// (go tool pprof tcpsnap FILE). It returns the function that stops it;
// a profile it cannot write is an error naming the file.
func startDevProfile() (stop func(), err error) {
	path := os.Getenv("TCPSNAP_CPUPROFILE")
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("TCPSNAP_CPUPROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("TCPSNAP_CPUPROFILE %s: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

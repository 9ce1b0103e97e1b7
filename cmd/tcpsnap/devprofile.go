package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// startDevProfile writes, for developers measuring speed on real
// listings, a CPU profile of the whole run to the file named by
// TCPSNAP_CPUPROFILE (go tool pprof tcpsnap FILE), an execution trace to
// the file named by TCPSNAP_TRACE (go tool trace FILE) and the run's
// allocations to the file named by TCPSNAP_MEMPROFILE. It returns the
// function that ends them all; a file it cannot write is an error naming
// it.
func startDevProfile() (stop func(), err error) {
	var memFile *os.File
	var stops []func()
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	for _, p := range []struct {
		env   string
		start func(*os.File) error
		stop  func()
	}{
		{"TCPSNAP_CPUPROFILE", func(f *os.File) error { return pprof.StartCPUProfile(f) }, pprof.StopCPUProfile},
		{"TCPSNAP_TRACE", func(f *os.File) error { return trace.Start(f) }, trace.Stop},
		{"TCPSNAP_MEMPROFILE", func(f *os.File) error { memFile = f; return nil }, func() {
			if memFile != nil {
				runtime.GC() // the profile holds what was allocated up to the last collection
				_ = pprof.Lookup("allocs").WriteTo(memFile, 0)
			}
		}},
	} {
		path := os.Getenv(p.env)
		if path == "" {
			continue
		}
		f, err := os.Create(path)
		if err != nil {
			stopAll()
			return nil, fmt.Errorf("%s: %w", p.env, err)
		}
		if err := p.start(f); err != nil {
			f.Close()
			stopAll()
			return nil, fmt.Errorf("%s %s: %w", p.env, path, err)
		}
		stop := p.stop
		stops = append(stops, func() { stop(); f.Close() })
	}
	return stopAll, nil
}

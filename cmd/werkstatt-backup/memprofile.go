package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// memProfileEnv names the file a heap profile is written to, for finding
// where a run's memory lives (make bench's memory section): the profile is
// taken whenever the live heap has grown by a tenth over the last one, so
// it shows the heap near its peak, and once more at the end.
const memProfileEnv = "ARCHIV_MEMPROFILE"

// cpuProfileEnv names the file a CPU profile of the whole run is written
// to (make bench's analysis of where a target is missed).
const cpuProfileEnv = "ARCHIV_CPUPROFILE"

// startMemProfile starts the profilers whose variables are set; the
// returned function stops them and writes the last profiles.
func startMemProfile() func() {
	stopCPU := startCPUProfile()
	path := os.Getenv(memProfileEnv)
	if path == "" {
		return stopCPU
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	write := func(name string) {
		f, err := os.Create(name)
		if err != nil {
			return
		}
		_ = pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
	go func() {
		defer close(stopped)
		var peak uint64
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				write(path + ".end")
				return
			case <-t.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak+peak/10 {
				peak = ms.HeapAlloc
				write(path)
			}
		}
	}()
	return func() { close(done); <-stopped; stopCPU() }
}

// startCPUProfile starts the CPU profiler if cpuProfileEnv is set.
func startCPUProfile() func() {
	path := os.Getenv(cpuProfileEnv)
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
	return func() { pprof.StopCPUProfile(); f.Close() }
}

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

// startMemProfile starts the profiler if memProfileEnv is set; the
// returned function stops it and writes the last profile.
func startMemProfile() func() {
	path := os.Getenv(memProfileEnv)
	if path == "" {
		return func() {}
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
	return func() { close(done); <-stopped }
}

package s3test

import (
	"fmt"
	"os"
)

// Launch starts a server outside of a test (a benchmark driver): its data
// goes below dir, stop ends it. Where Start would skip or fail a test (no
// versitygw, a server that does not come up) Launch returns the reason.
// The Server's methods that would fail a test (Location, Restart) panic
// instead.
func Launch(dir string) (srv *Server, stop func(), err error) {
	h := &launcher{dir: dir}
	defer func() {
		if p := recover(); p != nil {
			f, ok := p.(launchFailure)
			if !ok {
				panic(p)
			}
			h.runCleanups()
			srv, stop, err = nil, nil, f.err
		}
	}()
	return Start(h), h.runCleanups, nil
}

// launcher is the TB of Launch: Fatal and Skip panic with a
// launchFailure, which Launch recovers; Cleanup functions run on stop.
type launcher struct {
	dir      string
	cleanups []func()
}

type launchFailure struct{ err error }

func (h *launcher) Helper()                   {}
func (h *launcher) Fatal(args ...any)         { panic(launchFailure{fmt.Errorf("%s", fmt.Sprint(args...))}) }
func (h *launcher) Fatalf(f string, a ...any) { panic(launchFailure{fmt.Errorf(f, a...)}) }
func (h *launcher) Skip(args ...any)          { panic(launchFailure{fmt.Errorf("%s", fmt.Sprint(args...))}) }
func (h *launcher) Cleanup(f func())          { h.cleanups = append(h.cleanups, f) }

func (h *launcher) TempDir() string {
	d, err := os.MkdirTemp(h.dir, "s3test-")
	if err != nil {
		h.Fatal(err)
	}
	h.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}

// runCleanups runs the Cleanup functions, last registered first, once.
func (h *launcher) runCleanups() {
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		h.cleanups[i]()
	}
	h.cleanups = nil
}

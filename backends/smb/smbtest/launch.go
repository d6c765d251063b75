package smbtest

import (
	"fmt"
	"os"
)

// Launch starts a server outside of a test (the benchmark driver): its
// files go below dir, stop ends it. Where Start would skip or fail a test
// (no smbd, not root, smbd does not come up), Launch returns the reason.
// The Server's methods that fail a test on error (Location, MkdirAll,
// Restart) panic instead.
func Launch(dir string) (srv *Server, stop func(), err error) {
	h := &harness{dir: dir}
	defer func() {
		if p := recover(); p != nil {
			f, ok := p.(failure)
			if !ok {
				panic(p)
			}
			h.cleanup()
			srv, stop, err = nil, nil, f.err
		}
	}()
	return Start(h), h.cleanup, nil
}

// harness is a TB for Launch: Fatal and Skip panic with a failure, which
// Launch recovers; Cleanup functions run when the server is stopped.
type harness struct {
	dir      string
	cleanups []func()
}

type failure struct{ err error }

func (h *harness) Helper()                   {}
func (h *harness) Fatal(args ...any)         { panic(failure{fmt.Errorf("%s", fmt.Sprint(args...))}) }
func (h *harness) Fatalf(f string, a ...any) { panic(failure{fmt.Errorf(f, a...)}) }
func (h *harness) Skip(args ...any)          { panic(failure{fmt.Errorf("%s", fmt.Sprint(args...))}) }
func (h *harness) Cleanup(f func())          { h.cleanups = append(h.cleanups, f) }

func (h *harness) TempDir() string {
	d, err := os.MkdirTemp(h.dir, "smbtest-")
	if err != nil {
		h.Fatal(err)
	}
	return d
}

// cleanup runs the Cleanup functions, last registered first, once.
func (h *harness) cleanup() {
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		h.cleanups[i]()
	}
	h.cleanups = nil
}

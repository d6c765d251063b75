package storage

import (
	"errors"
	iofs "io/fs"
	"os"
	"testing"
)

// TestErrReplacedIsExist: a lock's create that meets ErrReplaced (also
// wrapped in a *os.PathError, as backends return it) sees "exists", the
// signal to leave the name alone.
func TestErrReplacedIsExist(t *testing.T) {
	err := error(&os.PathError{Op: "close", Path: ".backup.lock", Err: ErrReplaced})
	if !errors.Is(err, iofs.ErrExist) || !errors.Is(err, ErrReplaced) {
		t.Fatalf("%v: Is(ErrExist) %v, Is(ErrReplaced) %v", err, errors.Is(err, iofs.ErrExist), errors.Is(err, ErrReplaced))
	}
	if errors.Is(err, iofs.ErrNotExist) {
		t.Fatal("ErrReplaced must not read as ErrNotExist")
	}
}

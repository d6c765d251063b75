package storage

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"syscall"
	"testing"
)

func TestNotWritable(t *testing.T) {
	wrap := func(err error) error {
		return fmt.Errorf("Lock .backup.lock anlegen: %w", &os.PathError{Op: "open", Path: ".backup.lock", Err: err})
	}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{wrap(syscall.EROFS), true},
		{wrap(syscall.EACCES), true},
		{wrap(syscall.EPERM), true},
		{wrap(iofs.ErrPermission), true}, // what the SMB backend reports for "access denied"
		{wrap(syscall.ENOSPC), false},
		{wrap(syscall.EIO), false},
		{wrap(iofs.ErrExist), false},
		{errors.New("anders"), false},
	} {
		if got := NotWritable(c.err); got != c.want {
			t.Errorf("NotWritable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

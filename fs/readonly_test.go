package fs

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/spf13/afero"
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

type caseless struct{ afero.Fs }

func (caseless) CaseInsensitiveNames() bool { return true }

func TestCaseInsensitiveNames(t *testing.T) {
	mem := afero.NewMemMapFs()
	if CaseInsensitiveNames(mem) {
		t.Error("MemMapFs claims case-insensitive names")
	}
	if !CaseInsensitiveNames(caseless{mem}) {
		t.Error("the ability is not found")
	}
}

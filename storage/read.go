package storage

import (
	"context"
	"io"
	"os"

	"github.com/spf13/afero"
)

// ReadFileLimit reads name through caps.ReadFile, or the generic way: the
// content, or the first limit+1 bytes of a longer file, so that the
// caller can refuse it without reading it whole.
func ReadFileLimit(fsys afero.Fs, caps Capabilities, name string, limit int64) ([]byte, error) {
	if caps.ReadFile != nil {
		return caps.ReadFile(context.TODO(), name, limit)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// ReadDir lists name through caps.ReadDir, or with afero.ReadDir.
func ReadDir(fsys afero.Fs, caps Capabilities, name string) ([]os.FileInfo, error) {
	if caps.ReadDir != nil {
		return caps.ReadDir(context.TODO(), name)
	}
	return afero.ReadDir(fsys, name)
}

// Lstat is caps.Lstat, or Stat on a storage without links.
func Lstat(fsys afero.Fs, caps Capabilities, name string) (os.FileInfo, error) {
	if caps.Lstat != nil {
		return caps.Lstat(context.TODO(), name)
	}
	return fsys.Stat(name)
}

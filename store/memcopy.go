package store

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// shmDir is the folder in shared memory the database is copied into
// while its shared lock is held (a variable for tests).
var shmDir = "/dev/shm"

// copyToMemory copies the file src into a new file in shmDir (a tmpfs:
// memory, not disk) and returns its name. The copy is done by the kernel
// (io.Copy between two files uses copy_file_range, sendfile or splice),
// in chunks: none of it passes through this process's heap, and its
// pages are not counted in the process's resident memory. On any failure
// (no such folder, too small: ENOSPC) the partial copy is removed and
// the caller falls back to reading the file.
func copyToMemory(src *os.File) (string, error) {
	fi, err := os.Stat(shmDir)
	if err != nil || !fi.IsDir() {
		return "", errors.Join(errors.New("kein Ordner im gemeinsamen Speicher"), err)
	}
	f, err := os.CreateTemp(shmDir, snapshotPattern)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		if _, serr := src.Seek(0, io.SeekStart); serr != nil {
			return "", errors.Join(err, serr)
		}
		return "", fmt.Errorf("Kopie %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

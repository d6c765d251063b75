package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// LeftoverCopies lists what a restore killed while copying the database at
// path left beside it: the unfinished copy path.bak-YYYYMMDD-HHMMSS[-N].tmp
// (BackupTo writes under that name and renames when complete) and SQLite's
// -journal, -wal or -shm of it. A finished copy, whose name ends in the
// time or the -N, never matches; nor does any other file.
func LeftoverCopies(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	pattern, err := regexp.Compile(`^` + regexp.QuoteMeta(base) + `\.bak-[0-9]{8}-[0-9]{6}(-[0-9]+)?\.tmp(-journal|-wal|-shm)?$`)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("Verzeichnis der Datenbank %s lesen: %w", path, err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && pattern.MatchString(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

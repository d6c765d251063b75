package backup

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"
)

// lowerCaseNames gives data.csv and meta.json of folder their lower-case
// names on a case-insensitive backend (SMB), where a person or a Windows
// tool may have left DATA.CSV: a write onto "data.csv" there replaces the
// content of DATA.CSV but keeps its spelling, so only a rename changes it.
// The rename changes letter case only; it is skipped when the lower-case
// name is listed too (then both are separate files) and in a dry run. The
// returned entries carry the new names.
func (e *Engine) lowerCaseNames(ctx context.Context, folder string, entries []os.FileInfo, dryRun bool) ([]os.FileInfo, error) {
	if !e.Arch.Caps.CaseInsensitive {
		return entries, nil
	}
	listed := make(map[string]bool, len(entries))
	for _, fi := range entries {
		listed[fi.Name()] = true
	}
	for i, fi := range entries {
		name := fi.Name()
		lower := strings.ToLower(name)
		if name == lower || (lower != DataFile && lower != MetaFile) || listed[lower] {
			continue
		}
		if !dryRun {
			if err := e.fenced(); err != nil {
				return nil, err
			}
			if err := e.Arch.Rename(ctx, path.Join(folder, name), path.Join(folder, lower)); err != nil {
				return nil, fmt.Errorf("%s in %s umbenennen: %w", path.Join(folder, name), lower, err)
			}
			e.Log.Info(fmt.Sprintf("Umbenannt: %s → %s", path.Join(folder, name), lower))
		}
		entries[i] = compactInfo(lower, fi)
		listed[lower] = true
	}
	return entries, nil
}

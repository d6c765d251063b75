package fs

import "github.com/spf13/afero"

// CaseInsensitive is the optional ability of a backend whose names are
// compared without regard to letter case, as on an SMB share: there
// "DATA.CSV" and "data.csv" name the same file, and a rename onto
// "data.csv" replaces the content of "DATA.CSV" but keeps its spelling.
// Local disks and the mem backend are case-sensitive and do not have it.
type CaseInsensitive interface {
	CaseInsensitiveNames() bool
}

// CaseInsensitiveNames reports whether fsys compares names without regard
// to letter case. A backend without the ability (or hidden by a wrapper)
// is case-sensitive.
func CaseInsensitiveNames(fsys afero.Fs) bool {
	ci, ok := fsys.(CaseInsensitive)
	return ok && ci.CaseInsensitiveNames()
}

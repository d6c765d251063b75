package backup

import (
	"fmt"
	"strings"
)

// UnreadableError says that parts of the archive could not be listed or
// read (network, timeout, permission, I/O error, a symbolic link): the
// archive was not fully read. It is not a validation error: nothing is
// known to be wrong with those backups, they were not seen. Restore aborts
// on it whatever the flags; verify reports it as "could not be checked".
// The CLI maps it to exit code 1, never to 3.
type UnreadableError struct {
	Op    string   // "Datenbank unverändert" or "Prüfung unvollständig"
	Paths []string // every path not read, in the order found
}

// maxNamed is how many paths the error message names; the log and the
// report name each one.
const maxNamed = 5

func (e *UnreadableError) Error() string {
	named := e.Paths
	more := ""
	if len(named) > maxNamed {
		named = named[:maxNamed]
		more = fmt.Sprintf(" und %d weitere", len(e.Paths)-maxNamed)
	}
	return fmt.Sprintf("%s: Archiv nicht vollständig gelesen, %d Pfade nicht lesbar: %s%s (Netzwerk, Rechte oder symbolischer Link; siehe die ERROR-Zeilen)",
		e.Op, len(e.Paths), strings.Join(named, ", "), more)
}

// unreadableErr returns the UnreadableError of r's unreadable paths, or nil.
func (r *Report) unreadableErr(op string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.unreadable) == 0 {
		return nil
	}
	paths := append([]string(nil), r.unreadable...)
	return &UnreadableError{Op: op, Paths: paths}
}

// unreadableCovering returns the unreadable path that holds folder, is
// folder or lies inside it ("2023" for 2023/000004, 2024/000002/data.csv for
// 2024/000002), or "" when folder was read in full.
func (r *Report) unreadableCovering(folder string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.unreadable {
		if p == folder || strings.HasPrefix(folder, p+"/") || strings.HasPrefix(p, folder+"/") {
			return p
		}
	}
	return ""
}

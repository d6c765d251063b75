package history

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// Dir is the history's folder at the archive root. The underscore keeps it
// apart from the year folders (four digits) the orders live in, like
// _ohne_ordner; it holds no data.csv or meta.json, so verify and restore of
// the per-order files never see it.
const Dir = "_historie"

// The two sub-folders: gen/ has one file per generation, pack/ one file
// per generation that stored new contents.
var (
	genDir  = path.Join(Dir, "gen")
	packDir = path.Join(Dir, "pack")
)

// tmpSuffix marks a file being written; a crash can leave one, and the next
// Commit or Forget removes it. Nothing reads a temp file.
const tmpSuffix = ".tmp"

// archiveTimeLayout is the archive's time of a generation in its file
// name: UTC to the millisecond, without characters Windows forbids.
const archiveTimeLayout = "20060102T150405.000Z"

// genName is a generation file's name: the sequence number (ten digits,
// so names sort by it) and the time the archive gave the file when it was
// written. The time lives in the name, not in a modification time, so
// copying the archive (cp, robocopy, a NAS migration) cannot change it.
func genName(seq uint64, archiveTime time.Time) string {
	return fmt.Sprintf("%010d-%s.gen", seq, archiveTime.UTC().Format(archiveTimeLayout))
}

// parseGenName reads a name genName made.
func parseGenName(name string) (uint64, time.Time, bool) {
	base, ok := strings.CutSuffix(name, ".gen")
	num, ts, ok2 := strings.Cut(base, "-")
	if !ok || !ok2 || len(num) != 10 {
		return 0, time.Time{}, false
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	if err != nil || seq == 0 {
		return 0, time.Time{}, false
	}
	t, err := time.Parse(archiveTimeLayout, ts)
	if err != nil {
		return 0, time.Time{}, false
	}
	return seq, t, true
}

func packName(seq uint64) string { return fmt.Sprintf("%010d.pack", seq) }

func parsePackName(name string) (uint64, bool) {
	num, ok := strings.CutSuffix(name, ".pack")
	if !ok || len(num) != 10 {
		return 0, false
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	return seq, err == nil && seq > 0
}

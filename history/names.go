package history

import (
	"crypto/rand"
	"encoding/hex"
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

// HeadFile is the head marker at the archive root, outside Dir (see
// doc.go): it names the newest generation, so that a history that
// vanished or lost its newest generations is noticed.
const HeadFile = "_historie.kopf"

// tmpSuffix marks a file being written or a clock probe; a crash can leave
// one, and the next Commit or Forget removes it. Nothing reads a temp file.
const tmpSuffix = ".tmp"

// archiveTimeLayout is the archive's time of a generation in its file
// name: UTC to the millisecond, without characters Windows forbids.
const archiveTimeLayout = "20060102T150405.000Z"

// fileID is the random 128-bit id in a format-2 file name, fixed before the
// file is written and repeated inside it.
type fileID [16]byte

func newFileID() fileID {
	var id fileID
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails
	return id
}

func (id fileID) String() string { return hex.EncodeToString(id[:]) }

func (id fileID) zero() bool { return id == fileID{} }

func parseFileID(s string) (fileID, bool) {
	var id fileID
	if len(s) != 2*len(id) || strings.ToLower(s) != s {
		return id, false
	}
	_, err := hex.Decode(id[:], []byte(s))
	return id, err == nil && !id.zero()
}

// genName is a format-2 generation file's name: the sequence number (ten
// digits, so names sort by it), the time the archive gave the generation
// (in the name, not a modification time, so copying the archive cannot
// change it) and the file's random id. The file repeats all three.
func genName(seq uint64, archiveTime time.Time, id fileID) string {
	return fmt.Sprintf("%010d-%s-%s.gen", seq, archiveTime.UTC().Format(archiveTimeLayout), id)
}

// genNameV1 is a format-1 name (written until format 2): no id.
func genNameV1(seq uint64, archiveTime time.Time) string {
	return fmt.Sprintf("%010d-%s.gen", seq, archiveTime.UTC().Format(archiveTimeLayout))
}

// parseGenName reads a name genName or genNameV1 made; id is zero for
// format 1.
func parseGenName(name string) (seq uint64, t time.Time, id fileID, ok bool) {
	base, ok1 := strings.CutSuffix(name, ".gen")
	num, rest, ok2 := strings.Cut(base, "-")
	if !ok1 || !ok2 || len(num) != 10 {
		return 0, time.Time{}, id, false
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	if err != nil || seq == 0 {
		return 0, time.Time{}, id, false
	}
	ts, hexID, v2 := strings.Cut(rest, "-")
	if v2 {
		if id, ok = parseFileID(hexID); !ok {
			return 0, time.Time{}, id, false
		}
	}
	t, err = time.Parse(archiveTimeLayout, ts)
	if err != nil {
		return 0, time.Time{}, id, false
	}
	return seq, t, id, true
}

// packName is a format-2 pack's name: the sequence number of the
// generation that wrote it and the pack's random id, both repeated inside.
func packName(seq uint64, id fileID) string { return fmt.Sprintf("%010d-%s.pack", seq, id) }

// parsePackName reads a name packName made, or a format-1 one
// ("0000000042.pack", id zero).
func parsePackName(name string) (uint64, fileID, bool) {
	var id fileID
	base, ok := strings.CutSuffix(name, ".pack")
	if !ok {
		return 0, id, false
	}
	num, hexID, v2 := strings.Cut(base, "-")
	if len(num) != 10 {
		return 0, id, false
	}
	if v2 {
		if id, ok = parseFileID(hexID); !ok {
			return 0, id, false
		}
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	return seq, id, err == nil && seq > 0
}

func fmtSeq(seq uint64) string { return fmt.Sprintf("%010d", seq) }

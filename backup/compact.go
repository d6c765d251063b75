package backup

import (
	"os"
	"strings"
	"time"
)

// A restore holds every backup of the archive in memory until it has
// chosen among duplicates and inserted the rows: 100,000 orders and more.
// These types keep that to what is needed.

// entryInfo is what the checks need of a directory entry: its mode and
// size. The os.FileInfo of a listing holds a whole stat structure (some
// 200 bytes) and its own copy of the name.
type entryInfo struct {
	name string
	size int64
	mode os.FileMode
}

func compactInfo(name string, fi os.FileInfo) os.FileInfo {
	return &entryInfo{name: name, size: fi.Size(), mode: fi.Mode()}
}

func (e *entryInfo) Name() string       { return e.name }
func (e *entryInfo) Size() int64        { return e.size }
func (e *entryInfo) Mode() os.FileMode  { return e.mode }
func (e *entryInfo) ModTime() time.Time { return time.Time{} }
func (e *entryInfo) IsDir() bool        { return e.mode.IsDir() }
func (e *entryInfo) Sys() any           { return nil }

// packedRow is one row's values in one string, separated by NUL bytes,
// which no valid value contains (codec.TextProblem): about half the memory
// of a []string holding them, and no reference to the whole data.csv the
// decoder's values are substrings of.
type packedRow string

const nul = "\x00"

// packRow packs vals; false if a value contains a NUL byte.
func packRow(vals []string) (packedRow, bool) {
	n := len(vals)
	for _, v := range vals {
		if strings.Contains(v, nul) {
			return "", false
		}
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for i, v := range vals {
		if i > 0 {
			b.WriteString(nul)
		}
		b.WriteString(v)
	}
	return packedRow(b.String()), true
}

// values unpacks the row; the values are substrings of it.
func (p packedRow) values() []string { return strings.Split(string(p), nul) }

// values returns all rows of b unpacked.
func (b *backupFile) values() [][]string {
	rows := make([][]string, len(b.rows))
	for i, p := range b.rows {
		rows[i] = p.values()
	}
	return rows
}

package history

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// With several contents missing from a pack, restore --at names the one
// of the lowest record_id, whatever the order of their hashes (contents
// finds entries through a slice sorted by hash, readmem).
func TestContentsNamesTheLowestMissingRecord(t *testing.T) {
	ctx := context.Background()
	fsys := memArchive()
	s := Open(archiveOf(fsys))
	commit(t, s, newTable(64, 6))
	name := packOf(t, fsys, 1)
	data, _ := afero.ReadFile(fsys, name)
	seq, id, _ := parsePackName(path.Base(name))
	var blobs []blob
	_ = decodePack(data, seq, id, func(h Hash, d []byte) error {
		blobs = append(blobs, blob{h, slices.Clone(d)})
		return nil
	})
	snap, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	missing := map[int64]bool{3: true, 5: true, 6: true}
	var kept []blob
	for _, b := range blobs {
		if !slices.ContainsFunc(snap.Entries, func(e Entry) bool { return e.Hash == b.hash && missing[e.RecordID] }) {
			kept = append(kept, b)
		}
	}
	if len(kept) != len(blobs)-len(missing) {
		t.Fatalf("%d of %d contents kept", len(kept), len(blobs))
	}
	_ = afero.WriteFile(fsys, name, encodePack(seq, id, kept), 0o644)
	var got []int64
	err = s.Contents(ctx, snap.Entries, func(e Entry, _ []byte) error {
		got = append(got, e.RecordID)
		return nil
	})
	if !errors.Is(err, ErrContentMissing) || !strings.Contains(err.Error(), "record_id 3 ") {
		t.Fatalf("%v", err)
	}
	slices.Sort(got)
	if !slices.Equal(got, []int64{1, 2, 4}) {
		t.Fatalf("contents given for %v, want 1, 2, 4", got)
	}
}

package history

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/spf13/afero"
)

// streamSealed proves a pack read piece by piece as sealedAs proved it
// whole: the pack written under its name passes, small or larger than
// every piece; a flipped byte, a cut-off, another pack's bytes and a
// foreign file fail.
func TestStreamSealed(t *testing.T) {
	fsys := memArchive()
	s := Open(archiveOf(fsys))
	ctx := context.Background()
	id, other := newFileID(), newFileID()
	var blobs []blob
	for i := range 30000 { // about 1.7 MB packed: several pieces
		data := fmt.Appendf(nil, "record_id,x\r\n%d,%x\r\n", i, Sum([]byte{byte(i), byte(i >> 8)}))
		blobs = append(blobs, blob{hash: Sum(data), data: data})
	}
	big := encodePack(7, id, blobs)
	small := encodePack(7, id, blobs[:1])
	if len(big) < 1<<20+sealedHead {
		t.Fatalf("pack of %d bytes is no larger than the pieces", len(big))
	}
	if err := fsys.MkdirAll("p", 0o755); err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(big)
	flipped[len(flipped)/2] ^= 1
	for _, c := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"gross", big, true},
		{"klein", small, true},
		{"gekippt", flipped, false},
		{"abgeschnitten", big[:len(big)-1], false},
		{"anderes Pack", encodePack(7, other, blobs[:1]), false},
		{"andere Nummer", encodePack(8, id, blobs[:1]), false},
		{"fremd", []byte("WBHPAK2\nkein Pack"), false},
		{"leer", nil, false},
	} {
		if err := afero.WriteFile(fsys, "p/"+c.name, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		err := s.streamSealed(ctx, "p/"+c.name, 7, id)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok %t", c.name, err, c.ok)
		}
	}
	if err := s.streamSealed(ctx, "p/fehlt", 7, id); err == nil {
		t.Error("missing file proved itself")
	}
}

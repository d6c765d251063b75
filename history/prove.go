package history

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// packsSealed reports whether every file of pack seq proves itself
// without unpacking its contents: its trailer (the SHA-256 of the whole
// file) matches, and its body begins with seq and the id of its name.
// Such a file is, byte for byte, the pack Commit wrote under that name,
// so it holds every content the generations map to it (Commit writes a
// pack and the generation that maps contents to it together, and never
// maps a content to a pack it did not write it into). This costs one
// SHA-256 of the compressed file instead of unpacking it and hashing
// every content, which made proveKnown the larger part of an unchanged
// export. A format-1 file (no id: its name does not say which pack it
// is), an unreadable file or one that does not prove itself: false, and
// proveKnown reads the pack whole, with the stored versions where there
// are.
func (s *Store) packsSealed(ctx context.Context, seq uint64, files []packRef) bool {
	for _, p := range files {
		if p.id.zero() {
			return false
		}
		data, err := s.arch.ReadFile(ctx, p.file, maxPackFile)
		if err != nil || len(data) > maxPackFile || sealedAs(data, seq, p.id) != nil {
			return false
		}
	}
	return len(files) > 0
}

// sealedAs checks a format-2 pack file's magic and trailer and that its
// body starts with seq and id, unpacking only those first bytes.
func sealedAs(file []byte, seq uint64, id fileID) error {
	r, err := unseal(packMagic, file)
	if err != nil {
		return err
	}
	var head [binary.MaxVarintLen64 + len(fileID{})]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("entpacken: %w", err)
	}
	gotSeq, k := binary.Uvarint(head[:n])
	if k <= 0 || n-k < len(id) {
		return errShort
	}
	var got fileID
	copy(got[:], head[k:])
	if gotSeq != seq || got != id {
		return fmt.Errorf("Datei enthält Pack %d/%s, nicht das ihres Namens", gotSeq, got)
	}
	return nil
}

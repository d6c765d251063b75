package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"werkstatt-backup/sample"
)

// pdfTree is a set of orders with realistic PDFs: a database whose rows'
// hash column holds the SHA-256 of each order's PDF, and the PDF tree
// <JJJJ>/<auftrag_nr>/<auftrag_nr>_Auftrag.pdf the rows' file_path
// (sample's "archiv/<JJJJ>/…") resolves to below it.
type pdfTree struct {
	db, root string
	files    int
	bytes    int64
}

// makePDFTree writes n sample orders whose PDFs are between minSize and
// maxSize bytes, into dir/werkstatt.db and dir/baum. The PDFs are the
// PDF header followed by random bytes (a scanned, signed order compresses
// about as badly); sizes and bytes are deterministic for seed.
func makePDFTree(dir string, n, minSize, maxSize int, seed uint64) (pdfTree, error) {
	t := pdfTree{db: filepath.Join(dir, "werkstatt.db"), root: filepath.Join(dir, "baum")}
	rows := sample.Rows(n, 1)
	fp, hc := slices.Index(sample.Columns, "file_path"), slices.Index(sample.Columns, "hash")
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	buf := make([]byte, maxSize)
	for _, row := range rows {
		size := minSize
		if maxSize > minSize {
			size += r.IntN(maxSize - minSize + 1)
		}
		b := buf[:size]
		for i := 0; i+8 <= len(b); i += 8 {
			v := r.Uint64()
			for k := range 8 {
				b[i+k] = byte(v >> (8 * k))
			}
		}
		copy(b, "%PDF-1.4\n")
		// sample's file_path is archiv/<JJJJ>/<nr>/<nr>_Auftrag.pdf
		rel, ok := strings.CutPrefix(row[fp], "archiv/")
		if !ok {
			return t, fmt.Errorf("file_path %q liegt nicht unter archiv/", row[fp])
		}
		p := filepath.Join(t.root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return t, err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return t, err
		}
		sum := sha256.Sum256(b)
		row[hc] = hex.EncodeToString(sum[:])
		t.files++
		t.bytes += int64(size)
	}
	if err := sample.CreateDB(context.Background(), t.db, rows); err != nil {
		return t, err
	}
	return t, nil
}

// mbps is the rate of reading bytes in d, in MB/s.
func mbps(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / d.Seconds()
}

func (t pdfTree) String() string {
	return fmt.Sprintf("%s PDFs, %.0f MB", thousands(t.files), float64(t.bytes)/1e6)
}

package history

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Hash is the SHA-256 of a data.csv's bytes: the content's address, the
// same value meta.json carries as checksum.
type Hash [sha256.Size]byte

// Sum returns the Hash of data.
func Sum(data []byte) Hash { return sha256.Sum256(data) }

// String is the lower-case hex form used in meta.json.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads the 64 hex digits of a checksum (either case).
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("Prüfsumme %q hat %d statt 64 Hex-Zeichen", truncate(s, 80), len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("Prüfsumme %q ist kein Hex: %v", truncate(s, 80), err)
	}
	return h, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// IsZero reports whether h is the zero Hash (a PDF not known).
func (h Hash) IsZero() bool { return h == Hash{} }

func (h Hash) zero() bool { return h.IsZero() }

// Short is the first 12 hex digits, for showing a PDF change.
func (h Hash) Short() string {
	if h.IsZero() {
		return "—"
	}
	return h.String()[:12]
}

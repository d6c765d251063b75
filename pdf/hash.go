package pdf

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"hash"
	"strings"
)

// Kind is the hash algorithm a row's hash value names by its form.
type Kind int

const (
	// Unverifiable: the value is no hex digest of a known length (empty,
	// a different length, not hex): the PDF cannot be checked.
	Unverifiable Kind = iota
	MD5
	SHA1
	SHA256
)

func (k Kind) String() string {
	switch k {
	case MD5:
		return "MD5"
	case SHA1:
		return "SHA-1"
	case SHA256:
		return "SHA-256"
	}
	return "nicht prüfbar"
}

// New returns a new hash of kind k; nil for Unverifiable.
func (k Kind) New() hash.Hash {
	switch k {
	case MD5:
		return md5.New()
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	}
	return nil
}

// KindOf decides the algorithm of a row's hash value by its form and
// returns the value in lower case: 64 hex digits SHA-256, 40 SHA-1, 32
// MD5, in any letter case, surrounding blanks ignored. Anything else is
// Unverifiable.
func KindOf(value string) (Kind, string) {
	v := strings.ToLower(strings.TrimSpace(value))
	var k Kind
	switch len(v) {
	case 64:
		k = SHA256
	case 40:
		k = SHA1
	case 32:
		k = MD5
	default:
		return Unverifiable, v
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return Unverifiable, v
		}
	}
	return k, v
}

// IsSHA256 reports whether s is a SHA-256 digest as this package writes
// it: 64 lower-case hex digits.
func IsSHA256(s string) bool {
	k, v := KindOf(s)
	return k == SHA256 && v == s
}

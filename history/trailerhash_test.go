package history

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// The trailer and the hash of the body come out the same however the
// file arrives: in chunks of one byte, of fewer bytes than the trailer,
// or of many.
func TestTrailerHashAnyChunks(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{32, 33, 63, 64, 65, 100, 4096} {
		file := make([]byte, size)
		for i := range file {
			file[i] = byte(rnd.IntN(256))
		}
		want := sha256.Sum256(file[:size-sha256.Size])
		for _, maxChunk := range []int{1, 5, 31, 32, 33, 64, 5000} {
			var th trailerHash
			h := sha256.New()
			for rest := file; len(rest) > 0; {
				n := min(len(rest), 1+rnd.IntN(maxChunk))
				th.write(h, rest[:n])
				rest = rest[n:]
			}
			if !bytes.Equal(h.Sum(nil), want[:]) || !bytes.Equal(th.tail[:th.n], file[size-sha256.Size:]) {
				t.Fatalf("%d Bytes in Stücken bis %d: Hash oder Trailer falsch", size, maxChunk)
			}
		}
	}
}

package local

import (
	"bytes"
	"os"
	"sync"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"
)

// readBufs are the buffers ReadFileLimit reads into before it copies the
// content out at its exact size: a restore of 100,000 orders reads 200,000
// files of a few hundred bytes, and a buffer of its own for each would
// only feed the garbage collector.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// ReadFileLimit is Capabilities.ReadFile with plain open, read and close.
// os.Open costs five more system calls on Linux (it offers every file to
// the network poller, which refuses regular files, and switches the
// descriptor to non-blocking and back); verify, restore and an export
// with nothing changed read two small files per order, so these were a
// third of their system calls.
func (f *archiveFs) ReadFileLimit(name string, limit int64) ([]byte, error) {
	p, err := f.Fs.(*afero.BasePathFs).RealPath(name)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	fd, err := retry(func() (int, error) { return unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0) })
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf := (*bp)[:0]
	own := false // buf is a buffer of its own, not the pooled one
	for int64(len(buf)) <= limit {
		if len(buf) == cap(buf) {
			// Larger than the pooled buffer: one buffer of the file's size
			// and a byte more (to see its end) instead of one grown step by
			// step, which made reading a history pack of 1 MB ten times
			// slower than reading it in pieces.
			size := int64(2 * cap(buf))
			var st unix.Stat_t
			if unix.Fstat(fd, &st) == nil && st.Size >= int64(len(buf)) {
				size = st.Size + 1
			}
			nb := make([]byte, len(buf), max(min(size, limit+1), int64(len(buf))+1))
			copy(nb, buf)
			buf, own = nb, true
		}
		n, err := retry(func() (int, error) { return unix.Read(fd, buf[len(buf):min(int64(cap(buf)), limit+1)]) })
		switch {
		case err != nil:
			return nil, &os.PathError{Op: "read", Path: p, Err: err}
		case n == 0:
			return done(buf, own), nil
		}
		buf = buf[:len(buf)+n]
	}
	return done(buf, own), nil
}

// done is what ReadFileLimit returns of buf: the pooled buffer is copied
// out at the content's size, a buffer of its own is the result.
func done(buf []byte, own bool) []byte {
	if own {
		return buf
	}
	return bytes.Clone(buf)
}

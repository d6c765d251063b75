package pdf

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// genFs holds one generated file of size bytes at name: its content is
// made as it is read, so the test itself holds none of it.
type genFs struct {
	afero.Fs
	name string
	size int64
}

type genInfo struct {
	os.FileInfo
	name string
	size int64
}

func (g genInfo) Name() string       { return g.name }
func (g genInfo) Size() int64        { return g.size }
func (g genInfo) Mode() os.FileMode  { return 0o644 }
func (g genInfo) ModTime() time.Time { return time.Unix(0, 0) }
func (g genInfo) IsDir() bool        { return false }
func (g genInfo) Sys() any           { return nil }

type genFile struct {
	afero.File
	info genInfo
	off  int64
}

func (f *genFile) Read(p []byte) (int, error) {
	if f.off >= f.info.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), f.info.size-f.off))
	for i := range n {
		p[i] = byte((f.off + int64(i)) * 31 >> 3)
	}
	f.off += int64(n)
	return n, nil
}
func (f *genFile) Close() error               { return nil }
func (f *genFile) Stat() (os.FileInfo, error) { return f.info, nil }

func (g genFs) Stat(name string) (os.FileInfo, error) {
	if name != g.name {
		return nil, &os.PathError{Op: "stat", Path: name, Err: os.ErrNotExist}
	}
	return genInfo{name: name, size: g.size}, nil
}

func (g genFs) Open(name string) (afero.File, error) {
	if name != g.name {
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
	}
	return &genFile{info: genInfo{name: name, size: g.size}}, nil
}

// TestCheckMemoryIndependentOfSize: reading a PDF of 8 MB and one of 64
// MB allocates the same small amount: the content is streamed, never held.
func TestCheckMemoryIndependentOfSize(t *testing.T) {
	const name = "2024/076329/076329_Auftrag.pdf"
	alloc := func(size int64) uint64 {
		g := genFs{name: name, size: size}
		f, _ := g.Open(name)
		h := sha256.New()
		io.Copy(h, f)
		want := hex.EncodeToString(h.Sum(nil))
		ck := &Checker{Tree: &storage.Archive{Fs: g}, Workers: 1}
		o := []Order{{RecordID: 1, AuftragNr: "076329", FilePath: "x/" + name, Hash: want}}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res := ck.Check(context.Background(), o)
		runtime.ReadMemStats(&after)
		if res[0].Status != Good || res[0].Size != size {
			t.Fatalf("%d bytes: %+v", size, res[0])
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := alloc(8<<20), alloc(64<<20)
	if large > 2<<20 || large > small+512<<10 {
		t.Fatalf("allocated %d bytes for 8 MB, %d for 64 MB: not independent of size", small, large)
	}
}

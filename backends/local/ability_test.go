//go:build linux

package local

import (
	"bytes"
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// ReadDir of the backend gives what afero.ReadDir gives, in the same order.
func TestReadDirMatchesAfero(t *testing.T) {
	root := t.TempDir()
	a := openArchive(t, root, storage.Options{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "2024", "076329"), 0o750))
	must(os.WriteFile(filepath.Join(root, "2024", "076329", "data.csv"), []byte("x,y\r\n"), 0o640))
	must(os.WriteFile(filepath.Join(root, "2024", "076329", "meta.json"), nil, 0o600))
	must(os.Symlink("data.csv", filepath.Join(root, "2024", "076329", "link")))
	must(syscall.Mkfifo(filepath.Join(root, "2024", "076329", "fifo"), 0o644))
	must(os.Mkdir(filepath.Join(root, "2024", "076329", "sub"), 0o2755))
	for _, dir := range []string{".", "2024", "2024/076329"} {
		got, err := a.ReadDir(t.Context(), dir)
		must(err)
		want, err := afero.ReadDir(afero.NewBasePathFs(afero.NewOsFs(), root), dir)
		must(err)
		if len(got) != len(want) {
			t.Fatalf("%s: %d entries, want %d", dir, len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Name() != w.Name() || g.Size() != w.Size() || g.Mode() != w.Mode() || g.IsDir() != w.IsDir() || !g.ModTime().Equal(w.ModTime()) {
				t.Errorf("%s[%d] = %s %d %v %v, want %s %d %v %v", dir, i, g.Name(), g.Size(), g.Mode(), g.ModTime(),
					w.Name(), w.Size(), w.Mode(), w.ModTime())
			}
		}
	}
	if _, err := a.ReadDir(t.Context(), "fehlt"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("missing directory: %v, want ErrNotExist", err)
	}
	if _, err := a.ReadDir(t.Context(), "2024/076329/data.csv"); err == nil {
		t.Error("listing a file succeeded")
	}
}

func TestReadFileLimit(t *testing.T) {
	root := t.TempDir()
	a := openArchive(t, root, storage.Options{})
	big := bytes.Repeat([]byte("0123456789"), 1000) // larger than the first read
	for name, data := range map[string][]byte{"leer": nil, "klein": []byte("abc"), "gross": big} {
		if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		limit int64
		want  []byte
	}{
		{"leer", 10, []byte{}},
		{"klein", 10, []byte("abc")},
		{"klein", 3, []byte("abc")},
		{"klein", 2, []byte("abc")},
		{"klein", 1, []byte("ab")},
		{"klein", 0, []byte("a")},
		{"gross", 1 << 20, big},
		{"gross", 10000, big},
		{"gross", 5000, big[:5001]},
		{"gross", 1023, big[:1024]},
		{"gross", 1024, big[:1025]},
	} {
		got, err := a.ReadFile(t.Context(), c.name, c.limit)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("ReadFile(%s, %d) = %d bytes, %v; want %d bytes", c.name, c.limit, len(got), err, len(c.want))
		}
	}
	if _, err := a.ReadFile(t.Context(), "fehlt", 10); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	if err := os.Mkdir(filepath.Join(root, "ordner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ReadFile(t.Context(), "ordner", 10); err == nil {
		t.Error("reading a directory succeeded")
	}
	if _, err := a.ReadFile(t.Context(), "../ausserhalb", 10); err == nil {
		t.Error("read outside the archive root")
	}
}

// A file larger than the pooled buffer (a history pack, a generation) is
// read into one buffer of its size, not into one grown step by step
// (about twenty copies for a pack of 1 MB, ten times slower than the
// read itself); the limit still holds.
func TestReadFileLimitLargeFileOneBuffer(t *testing.T) {
	root := t.TempDir()
	a := openArchive(t, root, storage.Options{})
	big := bytes.Repeat([]byte("0123456789abcdef"), 80000) // 1.28 MB
	if err := os.WriteFile(filepath.Join(root, "pack"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		limit int64
		want  []byte
	}{
		{1 << 30, big},
		{int64(len(big)), big},
		{int64(len(big)) - 1, big},
		{int64(len(big)) - 2, big[:len(big)-1]},
		{100000, big[:100001]},
	} {
		got, err := a.ReadFile(t.Context(), "pack", c.limit)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("ReadFile(pack, %d) = %d bytes, %v; want %d bytes", c.limit, len(got), err, len(c.want))
		}
	}
	var sink []byte
	allocs := testing.AllocsPerRun(5, func() {
		sink, _ = a.ReadFile(t.Context(), "pack", 1<<30)
	})
	// a few: the path, the descriptor's error paths, and under -race a
	// pooled buffer the pool dropped on purpose
	if len(sink) != len(big) || allocs > 8 {
		t.Errorf("reading %d bytes: %d bytes in %.0f allocations, want at most 8", len(big), len(sink), allocs)
	}
}

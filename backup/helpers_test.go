package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
	"werkstatt-backup/store"
)

// fixture is an engine on an in-memory archive with a real SQLite file.
type fixture struct {
	t   *testing.T
	e   *Engine
	fs  afero.Fs
	dir string
	log *bytes.Buffer
}

// testCaps are what the fixture's in-memory archive declares: what the
// engine relies on, no fast paths.
var testCaps = storage.Capabilities{AtomicRename: true, ExclusiveCreate: true}

// use makes a the engine's archive.
func (e *Engine) use(a *storage.Archive) { e.Arch = a }

// setFs makes fsys the filesystem of the engine's archive, with the same
// capabilities, on a copy of the handle (other engines keep theirs).
func (e *Engine) setFs(fsys afero.Fs) {
	a := *e.Arch
	a.Fs = fsys
	e.Arch = &a
}

// ownCaps gives the engine a copy of its archive handle and returns its
// capabilities to change.
func (e *Engine) ownCaps() *storage.Capabilities {
	a := *e.Arch
	e.Arch = &a
	return &e.Arch.Caps
}

// plainWritesThroughWriteFile makes the handle's unconditional whole
// writes (WriteCond with Always, on a store that writes files whole) go
// through caps.WriteFile as it is when they happen, so that a test
// wrapping WriteFile sees and can fail every plain write.
func plainWritesThroughWriteFile(caps *storage.Capabilities) {
	cond := caps.WriteCond
	if cond == nil {
		return
	}
	caps.WriteCond = func(ctx context.Context, name string, data []byte, c storage.Cond) (storage.Tag, error) {
		if c.None() {
			return "", caps.WriteFile(ctx, name, data, 0o644, true)
		}
		return cond(ctx, name, data, c)
	}
}

// archiveOf is fsys as an archive with testCaps.
func archiveOf(fsys afero.Fs) *storage.Archive { return &storage.Archive{Fs: fsys, Caps: testCaps} }

func newFixture(t *testing.T, rows [][]string) *fixture {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "werkstatt.db")
	if rows != nil {
		if err := sample.CreateDB(context.Background(), db, rows); err != nil {
			t.Fatal(err)
		}
	}
	fsys := afero.NewBasePathFs(afero.NewMemMapFs(), "/")
	var buf bytes.Buffer
	clock := time.Date(2024, 7, 29, 10, 30, 0, 0, time.Local)
	var mu sync.Mutex
	e := &Engine{
		Arch:        archiveOf(fsys),
		DBPath:      db,
		Log:         slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		LockTimeout: 200 * time.Millisecond,
		Workers:     4,
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Second)
			return clock
		},
	}
	return &fixture{t: t, e: e, fs: fsys, dir: dir, log: &buf}
}

// row returns a valid schema 1.0 row; set overrides columns by name.
func row(id, nr string, set ...string) []string {
	r := []string{id, nr, "Müller", "K12345", "B-AB 1234", "WVW1234567890ABCD", "2024-07-29", "neu",
		`{"Garantie": [2]}`, "test_archiv/2024/" + nr + "/" + nr + "_Auftrag.pdf", "abc123", "1",
		"2024-07-29T10:00:00", "2024-07-29T10:00:00"}
	for i := 0; i+1 < len(set); i += 2 {
		r[slices.Index(sample.Columns, set[i])] = set[i+1]
	}
	return r
}

func (f *fixture) read(name string) string {
	f.t.Helper()
	b, err := afero.ReadFile(f.fs, name)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

func (f *fixture) write(name, content string) {
	f.t.Helper()
	if err := f.fs.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := afero.WriteFile(f.fs, name, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) exists(name string) bool {
	_, err := f.fs.Stat(name)
	return err == nil
}

func (f *fixture) export(opts ExportOptions) *Report {
	f.t.Helper()
	r, err := f.e.Export(context.Background(), opts)
	if err != nil {
		f.t.Fatalf("export: %v\n%v", err, r.Problems)
	}
	return r
}

// dbRows reads auftraege of the database at path as strings.
func dbRows(t *testing.T, path string) [][]string {
	t.Helper()
	db, err := store.OpenRead(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out [][]string
	if _, err := db.Scan(context.Background(), Table, func(_, vals []string) error {
		out = append(out, slices.Clone(vals))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// hasProblem asserts a problem at level whose path is path (if not "") and
// whose message contains every word.
func hasProblem(t *testing.T, r *Report, level, path string, words ...string) {
	t.Helper()
	for _, p := range r.Problems {
		if p.Level != level || (path != "" && p.Path != path) {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(p.Message, w)
		}
		if ok {
			return
		}
	}
	t.Fatalf("no %s problem for %q with %q; got:\n%s", level, path, words, problems(r))
}

func problems(r *Report) string {
	var b strings.Builder
	for _, p := range r.Problems {
		b.WriteString("  " + p.Level + " " + p.String() + "\n")
	}
	return b.String()
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return b
}

func openWrite(path string) (*store.DB, error) {
	return store.OpenWrite(context.Background(), path)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

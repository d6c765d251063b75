//go:build unix

package backup

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"werkstatt-backup/backends/local"
	"werkstatt-backup/codec"
	v1 "werkstatt-backup/codec/v1"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
	"werkstatt-backup/storage/faultfs"
)

// corpusDir holds the malformed archives; its README.md is the table of
// expected outcomes.
const corpusDir = "testdata/corpus"

type corpusCase struct {
	name      string
	level     string // ERROR, UNREADABLE (an ERROR that leaves the archive not fully read), WARNING or OK
	file      string // the file the problem must name ("" = any)
	words     []string
	generated bool // built by the test, see corpusBuilders
}

// readCorpusTable parses the table of testdata/corpus/README.md.
func readCorpusTable(t *testing.T) []corpusCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(corpusDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 6 || strings.TrimSpace(cells[1]) == "case" || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		c := corpusCase{name: strings.TrimSpace(cells[1]), level: strings.TrimSpace(cells[2]), file: strings.TrimSpace(cells[3])}
		if n, ok := strings.CutSuffix(c.name, " (im Test erzeugt)"); ok {
			c.name, c.generated = n, true
		}
		for _, w := range strings.Split(cells[4], "·") {
			if w = strings.TrimSpace(w); w != "" {
				c.words = append(c.words, w)
			}
		}
		cases = append(cases, c)
	}
	return cases
}

// goodData is the valid data.csv most cases start from (record 12, 076329).
func goodData() []byte {
	return v1.Codec{}.Encode(row("12", "076329", "file_path", "test_archiv/2024/076329/076329_Auftrag.pdf"))
}

func metaFor(data []byte) []byte {
	return codec.EncodeMeta(codec.Meta{SchemaVersion: "1.0", Checksum: sha(data), ExportedAt: "2024-07-29T10:30:00",
		AuftragNr: "076329", RecordID: 12, FileSize: int64(len(data))})
}

// corpusBuilders build the cases that are not checked in, in root. They
// return a wrapper for the archive Fs, or nil.
var corpusBuilders = map[string]func(t *testing.T, root string) func(*storage.Archive) *storage.Archive{
	"huge_field_10mb": func(t *testing.T, root string) func(*storage.Archive) *storage.Archive {
		data := v1.Codec{}.Encode(row("12", "076329", "kunde_name", strings.Repeat("M", 10<<20)))
		writeCase(t, root, data, metaFor(data))
		return nil
	},
	"sparse_100mb": func(t *testing.T, root string) func(*storage.Archive) *storage.Archive {
		writeCase(t, root, []byte{}, nil)
		if err := os.Truncate(filepath.Join(root, "2024/076329/data.csv"), 100<<20); err != nil {
			t.Fatal(err)
		}
		m := codec.EncodeMeta(codec.Meta{SchemaVersion: "1.0", Checksum: strings.Repeat("ab", 32), ExportedAt: "2024-07-29T10:30:00",
			AuftragNr: "076329", RecordID: 12, FileSize: 100 << 20})
		writeFile(t, filepath.Join(root, "2024/076329/meta.json"), m)
		return nil
	},
	"huge_meta": func(t *testing.T, root string) func(*storage.Archive) *storage.Archive {
		m := metaFor(goodData())
		m = append(m[:len(m)-3], []byte(`, "x": "`+strings.Repeat("x", 100<<10)+`"}`)...)
		writeCase(t, root, goodData(), m)
		return nil
	},
	"symlink_loop": func(t *testing.T, root string) func(*storage.Archive) *storage.Archive {
		writeCase(t, root, nil, metaFor(goodData()))
		symlink(t, "data.csv", filepath.Join(root, "2024/076329/data.csv"))
		return nil
	},
	"symlink_outside": func(t *testing.T, root string) func(*storage.Archive) *storage.Archive {
		outside := filepath.Join(t.TempDir(), "fremd.csv")
		writeFile(t, outside, goodData())
		writeCase(t, root, nil, metaFor(goodData()))
		symlink(t, outside, filepath.Join(root, "2024/076329/data.csv"))
		return nil
	},
	"symlink_dir_loop": func(t *testing.T, root string) func(*storage.Archive) *storage.Archive {
		writeCase(t, root, goodData(), metaFor(goodData()))
		symlink(t, "..", filepath.Join(root, "2024/076329/zurück"))
		symlink(t, ".", filepath.Join(root, "2024/selbst"))
		return nil
	},
	"fifo_data": func(t *testing.T, root string) func(*storage.Archive) *storage.Archive {
		writeCase(t, root, nil, metaFor(goodData()))
		mkfifo(t, filepath.Join(root, "2024/076329/data.csv"))
		return nil
	},
	"fifo_meta": func(t *testing.T, root string) func(*storage.Archive) *storage.Archive {
		writeCase(t, root, goodData(), nil)
		mkfifo(t, filepath.Join(root, "2024/076329/meta.json"))
		return nil
	},
	"fifo_meta_tmp": func(t *testing.T, root string) func(*storage.Archive) *storage.Archive {
		writeCase(t, root, bytes.Replace(goodData(), []byte("Müller"), []byte("Mueller"), 1), metaFor(goodData()))
		mkfifo(t, filepath.Join(root, "2024/076329/meta.tmp.json"))
		return nil
	},
	"directory_as_data": func(t *testing.T, root string) func(*storage.Archive) *storage.Archive {
		writeCase(t, root, nil, metaFor(goodData()))
		if err := os.Mkdir(filepath.Join(root, "2024/076329/data.csv"), 0o755); err != nil {
			t.Fatal(err)
		}
		return nil
	},
	// Root reads every file whatever its mode, so as root the archive is
	// wrapped to answer EACCES; other users get a real chmod 000.
	"unreadable_data": func(t *testing.T, root string) func(*storage.Archive) *storage.Archive {
		writeCase(t, root, goodData(), metaFor(goodData()))
		return unreadable(t, filepath.Join(root, "2024/076329/data.csv"), faultfs.OpOpen, "2024/076329/data.csv")
	},
	"unreadable_folder": func(t *testing.T, root string) func(*storage.Archive) *storage.Archive {
		writeCase(t, root, goodData(), metaFor(goodData()))
		return unreadable(t, filepath.Join(root, "2024/076329"), faultfs.OpReaddir, "2024/076329")
	},
}

func unreadable(t *testing.T, p string, op faultfs.Op, name string) func(*storage.Archive) *storage.Archive {
	if os.Geteuid() != 0 {
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(p, 0o755) })
		return nil
	}
	return func(a *storage.Archive) *storage.Archive {
		return faultfs.New(a, faultfs.Fault{Op: op, Name: name, Err: faultfs.EACCES}).Archive()
	}
}

func writeCase(t *testing.T, root string, data, meta []byte) {
	t.Helper()
	dir := filepath.Join(root, "2024/076329")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if data != nil {
		writeFile(t, filepath.Join(dir, "data.csv"), data)
	}
	if meta != nil {
		writeFile(t, filepath.Join(dir, "meta.json"), meta)
	}
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, p string) {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies the case's checked-in files to dst (the test writes its
// lock file into the archive, and testdata must stay as it is).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// withTimeout runs fn and fails the test if it does not return within d:
// a FIFO or an endless file must never make a command hang.
func withTimeout[T any](t *testing.T, what string, d time.Duration, fn func() (T, error)) (T, error) {
	t.Helper()
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() {
		v, err := fn()
		ch <- res{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(d):
		t.Fatalf("%s hangs", what)
		panic("unreachable")
	}
}

// matches reports whether p is the expected problem of c.
func (c corpusCase) matches(p Problem) bool {
	level := c.level
	if level == "UNREADABLE" {
		level = LevelError
	}
	if p.Level != level || (c.file != "" && p.Path != c.file && !strings.Contains(p.Message, c.file)) {
		return false
	}
	for _, w := range c.words {
		if !strings.Contains(p.Message, w) {
			return false
		}
	}
	return true
}

// TestCorpus runs verify, a strict restore and an export on every
// malformed archive of testdata/corpus (and those built here): each yields
// the error of the table naming its file, the strict restore leaves the
// database byte-identical, export repairs or names the folder, nothing
// panics or hangs.
func TestCorpus(t *testing.T) {
	cases := readCorpusTable(t)
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	// Every folder is in the table, every generated case has a builder.
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, c := range cases {
		listed[c.name] = true
		if c.generated && corpusBuilders[c.name] == nil {
			t.Errorf("no builder for %s", c.name)
		}
	}
	for _, e := range entries {
		if e.IsDir() && !listed[e.Name()] {
			t.Errorf("%s/%s is not in README.md", corpusDir, e.Name())
		}
	}

	base := filepath.Join(t.TempDir(), "werkstatt.db")
	if err := sample.CreateDB(context.Background(), base, sample.Rows(5, 1)); err != nil {
		t.Fatal(err)
	}
	dbBytes := fileBytes(t, base)
	exportDB := filepath.Join(t.TempDir(), "export.db")
	if err := sample.CreateDB(context.Background(), exportDB, [][]string{row("12", "076329", "file_path", "test_archiv/2024/076329/076329_Auftrag.pdf")}); err != nil {
		t.Fatal(err)
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			var wrap func(*storage.Archive) *storage.Archive
			if c.generated {
				wrap = corpusBuilders[c.name](t, root)
			} else {
				copyTree(t, filepath.Join(corpusDir, c.name), root)
			}
			archive := func() *storage.Archive {
				a := local.NewArchive(root)
				if wrap != nil {
					return wrap(a)
				}
				return a
			}
			db := filepath.Join(t.TempDir(), "werkstatt.db")
			writeFile(t, db, dbBytes)
			a := archive()
			e := &Engine{Arch: a, DBPath: db, Workers: 2}

			// verify
			r, err := withTimeout(t, "verify", 20*time.Second, func() (*Report, error) {
				return e.Verify(context.Background(), VerifyOptions{})
			})
			switch c.level {
			case "OK":
				if err != nil || len(r.Problems) > 0 {
					t.Fatalf("verify: %v\n%s", err, problems(r))
				}
			case "WARNING":
				if err != nil || r.Errors > 0 {
					t.Fatalf("verify: %v\n%s", err, problems(r))
				}
			case "UNREADABLE":
				var ue *UnreadableError
				if !errors.As(err, &ue) || errors.Is(err, ErrValidation) {
					t.Fatalf("verify: %v, want an UnreadableError\n%s", err, problems(r))
				}
			default:
				if !errors.Is(err, ErrValidation) {
					t.Fatalf("verify: %v, want a validation error\n%s", err, problems(r))
				}
			}
			found := false
			for _, p := range r.Problems {
				found = found || c.matches(p)
			}
			if c.level != "OK" && !found {
				t.Fatalf("verify: no %s naming %q with %q:\n%s", c.level, c.file, c.words, problems(r))
			}

			// strict restore over a database with rows
			r, err = withTimeout(t, "restore", 20*time.Second, func() (*Report, error) {
				return e.Restore(context.Background(), RestoreOptions{Force: true, AllowShrink: true})
			})
			if c.level == "ERROR" || c.level == "UNREADABLE" {
				var ue *UnreadableError
				if !(errors.Is(err, ErrValidation) || c.level == "UNREADABLE" && errors.As(err, &ue)) || !strings.Contains(err.Error(), "unverändert") {
					t.Fatalf("strict restore: %v", err)
				}
				if !bytes.Equal(fileBytes(t, db), dbBytes) {
					t.Fatal("strict restore changed the database")
				}
				if m, _ := filepath.Glob(db + ".bak-*"); len(m) > 0 {
					t.Fatalf("strict restore made a copy: %v", m)
				}
			} else if err != nil || r.OK != 1 {
				t.Fatalf("restore: %v\n%s", err, problems(r))
			}

			// export of record 12 into the damaged archive
			a = archive()
			e = &Engine{Arch: a, DBPath: exportDB, Workers: 2}
			r, err = withTimeout(t, "export", 20*time.Second, func() (*Report, error) {
				return e.Export(context.Background(), ExportOptions{})
			})
			if err != nil && !strings.Contains(err.Error()+problems(r), "2024/076329") {
				t.Fatalf("export fails without naming the folder: %v\n%s", err, problems(r))
			}
		})
	}
}

// TestCorpusSymlinkTargetsStayUntouched: an export over a data.csv that is
// a link to a file outside the archive replaces the link, never the file.
func TestCorpusSymlinkTargetsStayUntouched(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(t.TempDir(), "fremd.csv")
	writeFile(t, outside, []byte("nicht anfassen"))
	writeCase(t, root, nil, metaFor(goodData()))
	symlink(t, outside, filepath.Join(root, "2024/076329/data.csv"))
	db := filepath.Join(t.TempDir(), "werkstatt.db")
	if err := sample.CreateDB(context.Background(), db, [][]string{row("12", "076329", "file_path", "test_archiv/2024/076329/076329_Auftrag.pdf")}); err != nil {
		t.Fatal(err)
	}
	a := local.NewArchive(root)
	e := &Engine{Arch: a, DBPath: db}
	if r, err := e.Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatalf("%v\n%s", err, problems(r))
	}
	if b, _ := os.ReadFile(outside); string(b) != "nicht anfassen" {
		t.Fatalf("the link's target was written: %q", b)
	}
	if r, err := e.Verify(context.Background(), VerifyOptions{WithDB: true}); err != nil || len(r.Problems) > 0 {
		t.Fatalf("verify: %v\n%s", err, problems(r))
	}
	fi, err := os.Lstat(filepath.Join(root, "2024/076329/data.csv"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("data.csv is still not a file: %v %v", fi.Mode(), err)
	}
}

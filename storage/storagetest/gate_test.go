package storagetest

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/mem"
	"werkstatt-backup/storage"
	"werkstatt-backup/storage/objtest"
)

// fixtureEnv names the fixture TestRunOnFixture runs the suite on.
const fixtureEnv = "STORAGETEST_FIXTURE"

// fixtures are the archives of the gate test. "objtest" is the object
// store double as it is, "mem" the mem backend; the others are one of them with one thing wrong.
var fixtures = map[string]func() *storage.Archive{
	"objtest": objArchive,
	"mem":     mem.NewArchive,
	// An object store that says its folders exist on their own.
	"objtest-declares-standalone": func() *storage.Archive {
		a := objArchive()
		a.Caps.ImplicitDirs = false
		return a
	},
	// A disk-like store that says its folders are implicit.
	"mem-declares-implicit": func() *storage.Archive {
		a := mem.NewArchive()
		a.Caps.ImplicitDirs = true
		return a
	},
	// MkdirAll stores a marker object, so the empty folder is seen.
	"mkdirall-marker": func() *storage.Archive {
		a := objArchive()
		a.Fs = markerFs{a.Fs}
		return a
	},
	// Removing a folder's last file leaves a marker: the folder stays.
	"emptied-folder-stays": func() *storage.Archive {
		a := objArchive()
		a.Fs = stickyFs{a.Fs}
		return a
	},
	// Creating a file, by OpenFile, WriteFile or Rename, needs its folder
	// (which MkdirAll, creating nothing, cannot provide).
	"create-needs-folder": func() *storage.Archive {
		a := objArchive()
		f := needParentFs{a.Fs}
		a.Fs = f
		write := a.Caps.WriteFile
		a.Caps.WriteFile = func(ctx context.Context, name string, data []byte, perm os.FileMode, sync bool) error {
			if err := f.checkParent("open", name); err != nil {
				return err
			}
			return write(ctx, name, data, perm, sync)
		}
		return a
	},
	// The backend's ReadDir lists files only (a listing that forgets the
	// common prefixes).
	"readdir-files-only": func() *storage.Archive {
		a := objArchive()
		fsys := a.Fs
		a.Caps.ReadDir = func(ctx context.Context, name string) ([]os.FileInfo, error) {
			fis, err := afero.ReadDir(fsys, name)
			return slices.DeleteFunc(fis, func(fi os.FileInfo) bool { return fi.IsDir() }), err
		}
		return a
	},
	// A missing name is an error that does not say so (an untranslated
	// "NoSuchKey").
	"notexist-untranslated": func() *storage.Archive {
		a := objArchive()
		a.Fs = untranslatedFs{a.Fs}
		return a
	},
	// O_EXCL looks whether the name exists when the file is opened, but the
	// file is only stored when it is closed, unconditionally: creates that
	// all open before the first one closes all win.
	"excl-checked-at-open": func() *storage.Archive {
		a := mem.NewArchive()
		a.Fs = lateExclFs{a.Fs}
		return a
	},
	// IfMatch compares the tag and then stores in a second step: two
	// writers with one tag both pass the comparison (the first waits for
	// the second to have compared, so that they always meet) and both win.
	"ifmatch-not-atomic": ifMatchNotAtomic,
	// IfAbsent stores an empty object first and the content in a second
	// PUT (what the S3 backend did before): a reader sees the empty file
	// (the second PUT waits until one has), a killed writer leaves it.
	"ifabsent-two-step": ifAbsentTwoStep,
	// No SyncDir: SyncDir opens the folder, which on an object store does
	// not exist while it holds nothing (the history's first commit once).
	"no-syncdir": func() *storage.Archive {
		a := objArchive()
		a.Caps.SyncDir = nil
		return a
	},
}

// TestRunOnFixture is the child of TestGates.
func TestRunOnFixture(t *testing.T) {
	name := os.Getenv(fixtureEnv)
	if name == "" {
		t.Skip("runs only as the child process of TestGates")
	}
	open := fixtures[name]
	if open == nil {
		t.Fatalf("%s=%q: no such fixture", fixtureEnv, name)
	}
	Run(t, func(*testing.T) *storage.Archive { return open() })
}

// TestGates: the suite's gates on ImplicitDirs cannot be wrong silently.
// It runs the suite, each time in a child process (a failing subtest would
// fail this test), on the object store double and the mem backend as they
// are (each must pass exactly what its declaration selects), on each of
// them declaring the other kind of folders, and on doubles that break one
// folder rule, and checks which subtests fail: a wrong declaration, or a
// backend that breaks what it declares, must not pass, and every
// "…Implicit" subtest must fail on some broken double.
func TestGates(t *testing.T) {
	implicitCaps := objArchive().Caps
	standaloneCaps := implicitCaps
	standaloneCaps.ImplicitDirs = false
	var implicitOnly, standaloneOnly []string
	for _, st := range subtests() {
		if st.need == nil {
			continue
		}
		switch inI, inS := st.need(implicitCaps), st.need(standaloneCaps); {
		case inI && !inS:
			implicitOnly = append(implicitOnly, st.name)
		case inS && !inI:
			standaloneOnly = append(standaloneOnly, st.name)
		}
	}
	if len(implicitOnly) == 0 || len(standaloneOnly) == 0 {
		t.Fatalf("no subtest gated on ImplicitDirs (implicit %q, standalone %q)", implicitOnly, standaloneOnly)
	}
	// Every subtest but the lock ones, which take seconds, wait and time on
	// the real clock and have nothing to do with folders (the plain runs of
	// the suite on each backend, objtest's included, run them).
	var selected []string
	for _, st := range subtests() {
		if !strings.HasPrefix(st.name, "Lock") && st.name != "Unlock" {
			selected = append(selected, st.name)
		}
	}

	// The double and the mem backend as they are pass every subtest their
	// declaration selects and skip the others: what fails below fails
	// because of the fault, and a subtest gated wrongly fails here.
	for _, fixture := range []string{"objtest", "mem"} {
		caps := fixtures[fixture]().Caps
		got := runFixture(t, fixture, selected)
		for _, st := range subtests() {
			if !slices.Contains(selected, st.name) {
				continue
			}
			want := "PASS"
			if st.need != nil && !st.need(caps) {
				want = "SKIP"
			}
			if got[st.name] != want {
				t.Errorf("%s: %s %s, want %s", fixture, st.name, got[st.name], want)
			}
		}
	}

	faults := []struct {
		fixture  string
		wantFail []string
	}{
		{"objtest-declares-standalone", standaloneOnly},
		{"mem-declares-implicit", implicitOnly},
		{"mkdirall-marker", []string{"MkdirAllImplicit", "NotExistImplicit", "ReadDirImplicit", "WalkDirsImplicit"}},
		{"emptied-folder-stays", []string{"ReadDirImplicit", "WalkDirsImplicit"}},
		{"create-needs-folder", []string{"CreateImplicit", "NotExistImplicit", "ReadDirImplicit", "WriteFileAtomicImplicit", "WalkDirsImplicit"}},
		{"readdir-files-only", []string{"ReadDir", "ReadDirImplicit", "WalkDirs", "WalkDirsImplicit"}},
		{"notexist-untranslated", []string{"NotExist", "MkdirAllImplicit", "NotExistImplicit", "ReadDirImplicit"}},
		{"no-syncdir", []string{"WriteFileAtomic"}},
		{"excl-checked-at-open", []string{"ExclusiveCreateConcurrent"}},
		{"ifmatch-not-atomic", []string{"CondIfMatchConcurrent"}},
		{"ifabsent-two-step", []string{"CondIfAbsentConcurrent"}},
	}
	// Not about folders: run only the subtest each breaks (the lock
	// subtests are left out above, and the rest is the base's).
	single := map[string]bool{"excl-checked-at-open": true, "ifmatch-not-atomic": true, "ifabsent-two-step": true}
	caught := map[string]bool{} // implicit variants a broken double fails
	for _, f := range faults {
		if single[f.fixture] {
			if got := runFixture(t, f.fixture, f.wantFail); got[f.wantFail[0]] != "FAIL" {
				t.Errorf("%s: %s %s, want FAIL", f.fixture, f.wantFail[0], got[f.wantFail[0]])
			}
			continue
		}
		got := runFixture(t, f.fixture, selected)
		for _, name := range f.wantFail {
			if got[name] != "FAIL" {
				t.Errorf("%s: %s %s, want FAIL", f.fixture, name, got[name])
			}
			if f.fixture != "mem-declares-implicit" {
				caught[name] = true
			}
		}
	}
	for _, name := range implicitOnly {
		if !caught[name] {
			t.Errorf("%s: no broken object store double shows that it can fail", name)
		}
	}
}

var resultLine = regexp.MustCompile(`--- (PASS|FAIL|SKIP): TestRunOnFixture/(\S+)`)

// runFixture runs the subtests names on fixture in a child process and
// returns each one's result: PASS, FAIL or SKIP ("" if it did not report).
func runFixture(t *testing.T, fixture string, names []string) map[string]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.v", "-test.count=1",
		"-test.run=^TestRunOnFixture$/^("+strings.Join(names, "|")+")$")
	cmd.Env = append(os.Environ(), fixtureEnv+"="+fixture)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s: %v", fixture, err)
	}
	got := map[string]string{}
	for _, m := range resultLine.FindAllStringSubmatch(string(out), -1) {
		got[m[2]] = m[1]
	}
	for _, name := range names {
		if got[name] == "" {
			t.Fatalf("%s: no result for %s in the child's output:\n%s", fixture, name, out)
		}
	}
	t.Logf("%s: %v", fixture, got)
	return got
}

// objArchive is a fresh objtest bucket as an archive without Object Lock.
func objArchive() *storage.Archive { return objtest.New(nil).Archive(false) }

// markerFs: MkdirAll stores an empty object in the folder.
type markerFs struct{ afero.Fs }

func (f markerFs) MkdirAll(name string, _ os.FileMode) error {
	return afero.WriteFile(f.Fs, path.Join(name, ".ordner"), nil, 0o644)
}

// stickyFs: removing a file stores a marker in its folder if that is
// left empty.
type stickyFs struct{ afero.Fs }

func (f stickyFs) Remove(name string) error {
	if err := f.Fs.Remove(name); err != nil {
		return err
	}
	dir := path.Dir(path.Clean("/" + name))
	if dir == "/" {
		return nil
	}
	if fis, err := afero.ReadDir(f.Fs, dir); err == nil && len(fis) > 0 {
		return nil
	}
	return afero.WriteFile(f.Fs, path.Join(dir, ".ordner"), nil, 0o644)
}

// needParentFs: a file can only be created in an existing folder.
type needParentFs struct{ afero.Fs }

func (f needParentFs) checkParent(op, name string) error {
	dir := path.Dir(path.Clean("/" + name))
	if dir == "/" {
		return nil
	}
	if fi, err := f.Fs.Stat(dir); err != nil || !fi.IsDir() {
		return &os.PathError{Op: op, Path: name, Err: iofs.ErrNotExist}
	}
	return nil
}

func (f needParentFs) Create(name string) (afero.File, error) {
	return f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

func (f needParentFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&os.O_CREATE != 0 {
		if err := f.checkParent("open", name); err != nil {
			return nil, err
		}
	}
	return f.Fs.OpenFile(name, flag, perm)
}

func (f needParentFs) Rename(oldname, newname string) error {
	if err := f.checkParent("rename", newname); err != nil {
		return err
	}
	return f.Fs.Rename(oldname, newname)
}

// untranslatedFs: a missing name is an error that does not wrap
// fs.ErrNotExist.
type untranslatedFs struct{ afero.Fs }

func untranslated(op, name string, err error) error {
	if errors.Is(err, iofs.ErrNotExist) {
		return &os.PathError{Op: op, Path: name, Err: errors.New("NoSuchKey: The specified key does not exist")}
	}
	return err
}

func (f untranslatedFs) Stat(name string) (os.FileInfo, error) {
	fi, err := f.Fs.Stat(name)
	return fi, untranslated("stat", name, err)
}

func (f untranslatedFs) Open(name string) (afero.File, error) {
	return f.OpenFile(name, os.O_RDONLY, 0)
}

func (f untranslatedFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	file, err := f.Fs.OpenFile(name, flag, perm)
	return file, untranslated("open", name, err)
}

// lateExclFs checks O_EXCL when a file is opened but stores the file only
// when it is closed, without a condition (see "excl-checked-at-open").
type lateExclFs struct{ afero.Fs }

func (f lateExclFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&os.O_EXCL == 0 {
		return f.Fs.OpenFile(name, flag, perm)
	}
	if _, err := f.Fs.Stat(name); err == nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: iofs.ErrExist}
	}
	scratch, err := afero.NewMemMapFs().Create(name)
	if err != nil {
		return nil, err
	}
	return &lateFile{File: scratch, fs: f.Fs, name: name}, nil
}

// lateFile collects what is written and stores it on Close.
type lateFile struct {
	afero.File
	fs   afero.Fs
	name string
	data []byte
}

func (l *lateFile) Write(p []byte) (int, error) {
	l.data = append(l.data, p...)
	return len(p), nil
}

func (l *lateFile) Close() error {
	_ = l.File.Close()
	return afero.WriteFile(l.fs, l.name, l.data, 0o644)
}

// ifMatchNotAtomic is objtest with an IfMatch that compares and stores in
// two steps; the first of two writers waits after comparing until the
// second has compared too.
func ifMatchNotAtomic() *storage.Archive {
	a := objArchive()
	write, read := a.Caps.WriteCond, a.Caps.ReadTag
	var mu sync.Mutex
	var first chan struct{} // the first writer of a pair waits on it
	meet := func() {
		mu.Lock()
		if first == nil {
			ch := make(chan struct{})
			first = ch
			mu.Unlock()
			<-ch
			return
		}
		close(first)
		first = nil
		mu.Unlock()
	}
	a.Caps.WriteCond = func(ctx context.Context, name string, data []byte, cond storage.Cond) (storage.Tag, error) {
		tag, ok := cond.Match()
		if !ok {
			return write(ctx, name, data, cond)
		}
		_, cur, err := read(ctx, name, -1)
		if err != nil {
			return "", err
		}
		if cur != tag {
			return "", &os.PathError{Op: "open", Path: name, Err: storage.ErrChanged}
		}
		meet()
		return write(ctx, name, data, storage.Always)
	}
	return a
}

// ifAbsentTwoStep is objtest with an IfAbsent of two PUTs: an empty
// object with If-None-Match, then the content; the second waits until a
// reader has read the empty object.
func ifAbsentTwoStep() *storage.Archive {
	a := objArchive()
	write, readFile := a.Caps.WriteCond, a.Caps.ReadFile
	sawEmpty := make(chan struct{}, 1)
	a.Caps.ReadFile = func(ctx context.Context, name string, limit int64) ([]byte, error) {
		data, err := readFile(ctx, name, limit)
		if err == nil && len(data) == 0 {
			select {
			case sawEmpty <- struct{}{}:
			default:
			}
		}
		return data, err
	}
	a.Caps.WriteCond = func(ctx context.Context, name string, data []byte, cond storage.Cond) (storage.Tag, error) {
		if !cond.Absent() {
			return write(ctx, name, data, cond)
		}
		tag, err := write(ctx, name, nil, cond)
		if err != nil {
			return "", err
		}
		<-sawEmpty
		return write(ctx, name, data, storage.IfMatch(tag))
	}
	return a
}

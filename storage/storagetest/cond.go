package storagetest

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"werkstatt-backup/storage"
)

// The conditional writes of the handle (Archive.WriteFile with IfAbsent
// or IfMatch, ReadFileTag, Remove with IfMatch) and the versions of a
// name, on every backend.

func compareAndSwap(c storage.Capabilities) bool { return c.CompareAndSwap }
func wholeCond(c storage.Capabilities) bool      { return c.WriteCond != nil }
func condCreate(c storage.Capabilities) bool     { return c.WriteCond != nil || c.ExclusiveCreate }
func versioned(c storage.Capabilities) bool      { return c.Versions != nil }

const condLimit = 1 << 20

// condDir makes the folder the subtests write into (nothing on a store
// with implicit folders).
func condDir(t *testing.T, a *storage.Archive) {
	t.Helper()
	if err := a.MkdirAll(context.Background(), "cond"); err != nil {
		t.Fatalf("MkdirAll(cond): %v", err)
	}
}

// testCondIfAbsentConcurrent: of several creators of one name with
// IfAbsent exactly one wins and the others fail with fs.ErrExist; the
// name then holds the winner's content and no temp file is left. Where
// the backend declares whole
// conditional writes (WriteCond), a reader that reads the name all the
// while never sees it empty or holding a part.
func testCondIfAbsentConcurrent(t *testing.T, a *storage.Archive) {
	ctx := context.Background()
	condDir(t, a)
	const name, racers, rounds = "cond/neu.json", 6, 15
	whole := wholeCond(a.Caps)
	for round := range rounds {
		contents := make([]string, racers)
		for i := range contents {
			contents[i] = fmt.Sprintf(`{"runde":%d,"schreiber":%d,"füllung":"%0200d"}`, round, i, i)
		}
		var done atomic.Bool
		var torn []string
		var rmu sync.Mutex
		var readers sync.WaitGroup
		if whole {
			readers.Go(func() {
				for !done.Load() {
					data, err := a.ReadFile(ctx, name, condLimit)
					if err == nil && !slices.Contains(contents, string(data)) {
						rmu.Lock()
						torn = append(torn, string(data))
						rmu.Unlock()
					}
				}
			})
		}
		errs := make([]error, racers)
		parallel(racers, func(i int) {
			_, errs[i] = a.WriteFile(ctx, name, []byte(contents[i]), storage.WriteOpts{Cond: storage.IfAbsent(), Sync: true})
		})
		done.Store(true)
		readers.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both created %s with IfAbsent", round, winner, i, name)
			case err == nil:
				winner = i
			case !errors.Is(err, iofs.ErrExist):
				t.Fatalf("round %d: writer %d: %v, want an error wrapping fs.ErrExist", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer created %s: %v", round, name, errs)
		}
		if got := readFile(t, a.Fs, name); got != contents[winner] {
			t.Fatalf("round %d: %s holds %q, want the winner's %q", round, name, got, contents[winner])
		}
		if len(torn) > 0 {
			t.Fatalf("round %d: a reader saw %s neither absent nor whole: %q", round, name, torn[0])
		}
		if got := names(t, a.Fs, "cond"); !slices.Equal(got, []string{"neu.json"}) {
			t.Fatalf("round %d: ReadDir(cond) = %q, want [neu.json] (no temp file left by the losers)", round, got)
		}
		if err := a.Remove(ctx, name, storage.Always); err != nil {
			t.Fatalf("round %d: Remove: %v", round, err)
		}
	}
}

// testCondIfMatch: one writer at a time. IfAbsent on an existing name
// fails with fs.ErrExist; the tag read stays the same while nothing is
// stored and changes when other content is; a write with the tag read
// succeeds and returns the tag a read then gives; a stale tag fails with
// ErrChanged and changes nothing; IfMatch on a missing name fails with
// ErrChanged and fs.ErrNotExist and creates nothing.
func testCondIfMatch(t *testing.T, a *storage.Archive) {
	ctx := context.Background()
	condDir(t, a)
	const name = "cond/lock.json"
	tag1, err := a.WriteFile(ctx, name, []byte("eins"), storage.WriteOpts{Cond: storage.IfAbsent(), Sync: true})
	if err != nil {
		t.Fatalf("IfAbsent on a new name: %v", err)
	}
	if _, err := a.WriteFile(ctx, name, []byte("zwei"), storage.WriteOpts{Cond: storage.IfAbsent(), Sync: true}); !errors.Is(err, iofs.ErrExist) {
		t.Fatalf("IfAbsent on an existing name: %v, want fs.ErrExist", err)
	}
	data, read1, err := a.ReadFileTag(ctx, name, condLimit)
	if err != nil || string(data) != "eins" {
		t.Fatalf("ReadFileTag = %q, %v; want eins", data, err)
	}
	if tag1 != "" && tag1 != read1 {
		t.Errorf("WriteFile returned tag %q, a read gives %q", tag1, read1)
	}
	if _, again, err := a.ReadFileTag(ctx, name, condLimit); err != nil || again != read1 {
		t.Errorf("tag read twice without a write: %q then %q (%v)", read1, again, err)
	}
	tag2, err := a.WriteFile(ctx, name, []byte("zwei"), storage.WriteOpts{Cond: storage.IfMatch(read1), Sync: true})
	if err != nil {
		t.Fatalf("IfMatch with the tag just read: %v", err)
	}
	data, read2, err := a.ReadFileTag(ctx, name, condLimit)
	if err != nil || string(data) != "zwei" {
		t.Fatalf("after IfMatch: %q, %v; want zwei", data, err)
	}
	if read2 == read1 {
		t.Errorf("tag %q unchanged after other content was stored", read2)
	}
	if tag2 != "" && tag2 != read2 {
		t.Errorf("IfMatch returned tag %q, a read gives %q", tag2, read2)
	}
	_, err = a.WriteFile(ctx, name, []byte("drei"), storage.WriteOpts{Cond: storage.IfMatch(read1), Sync: true})
	if !errors.Is(err, storage.ErrChanged) || errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("IfMatch with a stale tag: %v, want ErrChanged", err)
	}
	if got := readFile(t, a.Fs, name); got != "zwei" {
		t.Fatalf("a failed IfMatch changed %s to %q", name, got)
	}
	_, err = a.WriteFile(ctx, "cond/fehlt.json", []byte("x"), storage.WriteOpts{Cond: storage.IfMatch(read2), Sync: true})
	if !errors.Is(err, storage.ErrChanged) || !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("IfMatch on a missing name: %v, want ErrChanged and fs.ErrNotExist", err)
	}
	if _, err := a.Stat(ctx, "cond/fehlt.json"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("a failed IfMatch created the missing name: Stat = %v", err)
	}
}

// testCondIfMatchConcurrent: two writers with the same tag, 50 rounds:
// exactly one wins, the other fails with ErrChanged, and the name holds
// the winner's content.
func testCondIfMatchConcurrent(t *testing.T, a *storage.Archive) {
	ctx := context.Background()
	condDir(t, a)
	const name = "cond/cas.json"
	if _, err := a.WriteFile(ctx, name, []byte("start"), storage.WriteOpts{Cond: storage.IfAbsent(), Sync: true}); err != nil {
		t.Fatal(err)
	}
	for round := range 50 {
		_, tag, err := a.ReadFileTag(ctx, name, condLimit)
		if err != nil {
			t.Fatalf("round %d: ReadFileTag: %v", round, err)
		}
		contents := []string{fmt.Sprintf("runde %d von A", round), fmt.Sprintf("runde %d von B", round)}
		errs := make([]error, 2)
		parallel(2, func(i int) {
			_, errs[i] = a.WriteFile(ctx, name, []byte(contents[i]), storage.WriteOpts{Cond: storage.IfMatch(tag), Sync: true})
		})
		switch {
		case errs[0] == nil && errs[1] == nil:
			t.Fatalf("round %d: both writers replaced %s with the same tag %q", round, name, tag)
		case errs[0] != nil && errs[1] != nil:
			t.Fatalf("round %d: neither writer won: %v; %v", round, errs[0], errs[1])
		}
		winner, loser := 0, 1
		if errs[0] != nil {
			winner, loser = 1, 0
		}
		if !errors.Is(errs[loser], storage.ErrChanged) {
			t.Fatalf("round %d: the loser's error %v does not wrap ErrChanged", round, errs[loser])
		}
		if got := readFile(t, a.Fs, name); got != contents[winner] {
			t.Fatalf("round %d: %s holds %q, want the winner's %q", round, name, got, contents[winner])
		}
	}
}

// testCondRemove: Remove with IfMatch removes only the content that was
// read: a stale tag fails with ErrChanged and leaves the file, the
// current one removes it. A backend that cannot remove conditionally
// says so (ErrUnsupported) and removes nothing.
func testCondRemove(t *testing.T, a *storage.Archive) {
	ctx := context.Background()
	condDir(t, a)
	const name = "cond/weg.json"
	if _, err := a.WriteFile(ctx, name, []byte("alt"), storage.WriteOpts{Cond: storage.IfAbsent(), Sync: true}); err != nil {
		t.Fatal(err)
	}
	_, stale, err := a.ReadFileTag(ctx, name, condLimit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.WriteFile(ctx, name, []byte("neu"), storage.WriteOpts{Cond: storage.IfMatch(stale), Sync: true}); err != nil {
		t.Fatal(err)
	}
	err = a.Remove(ctx, name, storage.IfMatch(stale))
	if errors.Is(err, storage.ErrUnsupported) {
		if got := readFile(t, a.Fs, name); got != "neu" {
			t.Fatalf("a refused conditional Remove changed %s to %q", name, got)
		}
		t.Skip("the backend cannot remove conditionally (ErrUnsupported), and says so")
	}
	if !errors.Is(err, storage.ErrChanged) {
		t.Fatalf("Remove with a stale tag: %v, want ErrChanged", err)
	}
	if got := readFile(t, a.Fs, name); got != "neu" {
		t.Fatalf("a failed conditional Remove changed %s to %q", name, got)
	}
	_, cur, err := a.ReadFileTag(ctx, name, condLimit)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Remove(ctx, name, storage.IfMatch(cur)); err != nil {
		t.Fatalf("Remove with the current tag: %v", err)
	}
	if _, err := a.Stat(ctx, name); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("after a conditional Remove: Stat = %v, want fs.ErrNotExist", err)
	}
	if err := a.Remove(ctx, name, storage.IfMatch(cur)); !errors.Is(err, storage.ErrChanged) {
		t.Errorf("conditional Remove of a missing name: %v, want ErrChanged", err)
	}
}

// testCondNoCompareAndSwap: a backend without compare-and-swap refuses
// IfMatch (ErrUnsupported) and changes nothing.
func testCondNoCompareAndSwap(t *testing.T, a *storage.Archive) {
	ctx := context.Background()
	condDir(t, a)
	const name = "cond/ohne.json"
	if _, err := a.WriteFile(ctx, name, []byte("alt"), storage.WriteOpts{Sync: true}); err != nil {
		t.Fatal(err)
	}
	_, tag, err := a.ReadFileTag(ctx, name, condLimit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.WriteFile(ctx, name, []byte("neu"), storage.WriteOpts{Cond: storage.IfMatch(tag)}); !errors.Is(err, storage.ErrUnsupported) {
		t.Errorf("IfMatch without CompareAndSwap: %v, want ErrUnsupported", err)
	}
	if got := readFile(t, a.Fs, name); got != "alt" {
		t.Errorf("a refused IfMatch changed %s to %q", name, got)
	}
}

// testVersions: on a store that keeps versions, an overwritten content
// is listed (newest first, the current one first), readable by its id and
// can be made current again; a removal hides the name (a delete marker,
// if the store keeps one, is listed first).
func testVersions(t *testing.T, a *storage.Archive) {
	ctx := context.Background()
	condDir(t, a)
	const name = "cond/versioniert.json"
	for _, c := range []string{"version eins", "version zwei"} {
		if _, err := a.WriteFile(ctx, name, []byte(c), storage.WriteOpts{Sync: true}); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := a.Versions(ctx, name)
	if err != nil {
		t.Fatalf("Versions: %v", err)
	}
	if len(vs) < 2 || !vs[0].Current || vs[0].DeleteMarker || vs[1].Current || vs[1].DeleteMarker {
		t.Fatalf("Versions after two writes = %+v, want the current one first, then the older", vs)
	}
	for i, want := range []string{"version zwei", "version eins"} {
		data, err := a.ReadVersion(ctx, name, vs[i].ID, condLimit)
		if err != nil || string(data) != want {
			t.Errorf("ReadVersion(%s) = %q, %v; want %q", vs[i].ID, data, err, want)
		}
		if vs[i].Size != int64(len(want)) {
			t.Errorf("version %s: Size %d, want %d", vs[i].ID, vs[i].Size, len(want))
		}
	}
	if vs[0].Tag == vs[1].Tag || vs[0].Tag == "" {
		t.Errorf("versions of different content have tags %q and %q", vs[0].Tag, vs[1].Tag)
	}
	if err := a.RestoreVersion(ctx, name, vs[1].ID); err != nil {
		t.Fatalf("RestoreVersion: %v", err)
	}
	if got := readFile(t, a.Fs, name); got != "version eins" {
		t.Fatalf("after RestoreVersion %s holds %q, want the old content", name, got)
	}
	if again, err := a.Versions(ctx, name); err != nil || len(again) != len(vs)+1 || !again[0].Current {
		t.Errorf("Versions after RestoreVersion = %+v, %v; want one more, current first", again, err)
	}
	if err := a.Remove(ctx, name, storage.Always); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := a.ReadFile(ctx, name, condLimit); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("after Remove: ReadFile = %v, want fs.ErrNotExist", err)
	}
	vs, err = a.Versions(ctx, name)
	if err != nil {
		t.Fatalf("Versions after Remove: %v", err)
	}
	for i, v := range vs {
		if v.Current && (!v.DeleteMarker || i > 0) {
			t.Errorf("after Remove a version is current: %+v", vs)
		}
	}
}

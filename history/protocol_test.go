package history

import (
	"context"
	"errors"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage/faultfs"
)

// indexOf returns the position of the first call matching op and a name
// pattern at or after from, or -1.
func indexOf(calls []faultfs.Call, from int, op faultfs.Op, pattern string) int {
	for i := from; i < len(calls); i++ {
		if calls[i].Op == op {
			if ok, _ := path.Match(pattern, calls[i].Name); ok {
				return i
			}
		}
	}
	return -1
}

// The order that makes a commit durable: the pack is created under its
// final name (never renamed), synced, its folder synced; then the
// generation file likewise; the head marker last. A crash test cannot see
// a missing folder sync (the test filesystems keep every rename), this one
// does. Nothing in the history is renamed.
func TestCommitDurabilityOrder(t *testing.T) {
	fx := newCrashFixture(t)
	recs, content, _ := fx.next.records()
	f := faultfs.New(archiveOf(fx.copyOf(t)))
	if _, err := Open(archiveOf(f), WithMaxChain(2)).Commit(context.Background(), recs, content); err != nil {
		t.Fatal(err)
	}
	c := f.Calls()
	steps := []struct {
		op   faultfs.Op
		name string
	}{
		{faultfs.OpCreate, "_historie/pack/0000000004-*.pack"},
		{faultfs.OpSync, "_historie/pack/0000000004-*.pack"},
		{faultfs.OpSync, "_historie/pack"},
		{faultfs.OpCreate, "_historie/gen/0000000004-*-*.gen"},
		{faultfs.OpSync, "_historie/gen/0000000004-*-*.gen"},
		{faultfs.OpSync, "_historie/gen"},
		{faultfs.OpRename, HeadFile},
	}
	at := 0
	for _, s := range steps {
		i := indexOf(c, at, s.op, s.name)
		if i < 0 {
			t.Fatalf("%s %s missing or out of order in %v", s.op, s.name, c[at:])
		}
		at = i + 1
	}
	for _, call := range c {
		if call.Op == faultfs.OpRename && strings.HasPrefix(call.Name, Dir+"/") {
			t.Fatalf("renamed into the history: %v", call)
		}
	}
}

// Forget makes each rewrite durable before it deletes the file it
// replaces and before it deletes the first generation, deletes newest
// first, and removes packs last.
func TestForgetDurabilityOrder(t *testing.T) {
	base, _, p, _ := forgetFixture(t)
	fsys := memArchive()
	if err := faultfs.Copy(fsys, base); err != nil {
		t.Fatal(err)
	}
	f := faultfs.New(archiveOf(fsys))
	res, err := Open(archiveOf(f)).Forget(context.Background(), p, false)
	if err != nil {
		t.Fatal(err)
	}
	c := f.Calls()
	gone := map[uint64]bool{}
	for _, g := range res.Removed {
		gone[g.Seq] = true
	}
	lastRewrite, firstRemove := -1, -1
	var removed []string
	for i, call := range c {
		seq, _, _, ok := parseGenName(path.Base(call.Name))
		switch {
		case !ok:
		case call.Op == faultfs.OpCreate:
			lastRewrite = i
			if sync := indexOf(c, i, faultfs.OpSync, genDir); sync < 0 || indexOf(c, i, faultfs.OpRemove, "_historie/gen/*") < sync {
				t.Fatalf("rewrite %s not made durable before the next removal", call.Name)
			}
		case call.Op == faultfs.OpRemove && gone[seq]:
			if firstRemove < 0 {
				firstRemove = i
			}
			removed = append(removed, path.Base(call.Name))
		}
	}
	if lastRewrite < 0 || firstRemove < 0 || len(res.Rewritten) == 0 {
		t.Fatalf("fixture: rewrite at %d, remove at %d", lastRewrite, firstRemove)
	}
	if lastRewrite > firstRemove {
		t.Fatalf("a rewrite (%d) after the first removal (%d)", lastRewrite, firstRemove)
	}
	for i := 1; i < len(removed); i++ {
		if removed[i] > removed[i-1] {
			t.Fatalf("generations removed oldest first: %v", removed)
		}
	}
	lastGenRemove := -1
	for i, call := range c {
		if call.Op == faultfs.OpRemove && strings.HasPrefix(call.Name, genDir) {
			lastGenRemove = i
		}
	}
	if i := indexOf(c, 0, faultfs.OpRemove, "_historie/pack/*"); i >= 0 && i < lastGenRemove {
		t.Fatal("a pack removed before the last generation removal")
	}
}

// With the lock's lease in doubt (the fence fails), nothing is written.
func TestFenceStopsEveryWrite(t *testing.T) {
	fsys := memArchive()
	tb := newTable(51, 10)
	commit(t, Open(archiveOf(fsys)), tb)
	before, _ := historyFiles(t, fsys)
	lost := errors.New("Lock verloren")
	tb.churn(3)
	recs, content, _ := tb.records()
	s := Open(archiveOf(fsys), WithFence(func() error { return lost }))
	if _, err := s.Commit(context.Background(), recs, content); !errors.Is(err, lost) {
		t.Fatalf("Commit: %v", err)
	}
	if _, err := s.Forget(context.Background(), Retention{AllowEmpty: true}, false); !errors.Is(err, lost) {
		t.Fatalf("Forget: %v", err)
	}
	after, _ := historyFiles(t, fsys)
	if len(after) != len(before) {
		t.Fatalf("files changed: %v → %v", before, after)
	}
}

// zeroTimeFs reports no modification times, as some backends do.
type zeroTimeFs struct{ afero.Fs }

func (z zeroTimeFs) Stat(name string) (os.FileInfo, error) {
	fi, err := z.Fs.Stat(name)
	if err != nil {
		return nil, err
	}
	return timedInfo{fi, time.Time{}}, nil
}

func TestArchiveWithoutModificationTimes(t *testing.T) {
	clock := newClock("2026-11-01T02:00:00Z")
	s := Open(archiveOf(zeroTimeFs{memArchive()}), WithClock(clock.Now))
	res := commit(t, s, newTable(71, 3))
	if !res.Info.ArchiveTime.Equal(clock.Now()) {
		t.Fatalf("archive time %v, want the client's %v", res.Info.ArchiveTime, clock.Now())
	}
}

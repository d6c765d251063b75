package history

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage/faultfs"
)

// crashFixture is an archive with three generations and the table a
// fourth run would record.
type crashFixture struct {
	base  afero.Fs
	wants []map[int64][]byte // by seq-1
	next  *table
}

func newCrashFixture(t *testing.T) *crashFixture {
	t.Helper()
	fx := &crashFixture{base: memArchive()}
	s := Open(archiveOf(fx.base), WithMaxChain(2))
	tb := newTable(11, 12)
	for range 3 {
		commit(t, s, tb)
		fx.wants = append(fx.wants, tb.want())
		tb.churn(4)
	}
	fx.next = tb
	return fx
}

// copyOf returns a fresh copy of the fixture's archive.
func (fx *crashFixture) copyOf(t *testing.T) afero.Fs {
	t.Helper()
	c := memArchive()
	if err := faultfs.Copy(c, fx.base); err != nil {
		t.Fatal(err)
	}
	return c
}

// intact checks that every generation in wants still loads with its table,
// that any further generation is one of extra, and that Check finds no
// damage that affects a generation.
func intact(fsys afero.Fs, wants []map[int64][]byte, extra ...map[int64][]byte) error {
	ctx := context.Background()
	s := Open(archiveOf(fsys))
	gens, err := s.List(ctx)
	if err != nil {
		return err
	}
	if len(gens) < len(wants) {
		return fmt.Errorf("%d generations left of %d", len(gens), len(wants))
	}
	for i, w := range wants {
		if err := checkSnapshot(s, uint64(i+1), w); err != nil {
			return err
		}
	}
	for _, g := range gens[len(wants):] {
		var err error
		for _, w := range extra {
			if err = checkSnapshot(s, g.Seq, w); err == nil {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("new generation: %w", err)
		}
	}
	damage, err := s.Check(ctx)
	if err != nil {
		return err
	}
	for _, d := range damage {
		if len(d.Gens) > 0 {
			return fmt.Errorf("Check: %v", d)
		}
	}
	return nil
}

// A crash at every change of Commit leaves every earlier generation
// loadable; a half-written generation never counts; the next run
// converges and leaves nothing behind.
func TestCommitCrashAtEveryPoint(t *testing.T) {
	fx := newCrashFixture(t)
	recs, content, _ := fx.next.records()
	want4 := fx.next.want()
	probe := faultfs.New(archiveOf(fx.copyOf(t)))
	if _, err := Open(archiveOf(probe), WithMaxChain(2)).Commit(context.Background(), recs, content); err != nil {
		t.Fatal(err)
	}
	n := probe.Changes()
	if n < 4 {
		t.Fatalf("only %d changes in a commit", n)
	}
	for crash := range n {
		t.Run(fmt.Sprintf("crash after %d of %d", crash, n), func(t *testing.T) {
			fsys := fx.copyOf(t)
			f := faultfs.New(archiveOf(fsys)).CrashAfter(crash)
			_, err := Open(archiveOf(f), WithMaxChain(2)).Commit(context.Background(), recs, content)
			if err == nil || !f.Crashed() {
				t.Fatalf("crash %d: err %v, crashed %v", crash, err, f.Crashed())
			}
			if err := intact(fsys, fx.wants); err != nil {
				t.Fatalf("after the crash: %v", err)
			}
			if _, err := Open(archiveOf(fsys), WithMaxChain(2)).Commit(context.Background(), recs, content); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if err := intact(fsys, fx.wants, want4); err != nil {
				t.Fatalf("after the rerun: %v", err)
			}
			if d, _ := Open(archiveOf(fsys)).Check(context.Background()); len(d) != 0 {
				t.Fatalf("rerun left %v", d)
			}
		})
	}
}

// Every call of a Commit fails in turn with EIO: a failed write is always
// reported, never swallowed, earlier generations stay, a rerun converges.
func TestCommitFaultAtEveryStep(t *testing.T) {
	fx := newCrashFixture(t)
	recs, content, _ := fx.next.records()
	want4 := fx.next.want()
	probe := faultfs.New(archiveOf(fx.copyOf(t)))
	if _, err := Open(archiveOf(probe), WithMaxChain(2)).Commit(context.Background(), recs, content); err != nil {
		t.Fatal(err)
	}
	created := map[string]bool{}
	for _, c := range probe.Calls() {
		if c.Op == faultfs.OpCreate {
			created[c.Name] = true
		}
	}
	for _, c := range probe.Calls() {
		t.Run(c.String(), func(t *testing.T) {
			fsys := fx.copyOf(t)
			fault := c.Fault(faultfs.EIO)
			// A new file's name holds a random id (and a generation's the
			// archive's time), new in every run.
			fault.Name = newNamePattern(c.Name)
			f := faultfs.New(archiveOf(fsys), fault)
			res, err := Open(archiveOf(f), WithMaxChain(2)).Commit(context.Background(), recs, content)
			isNew := created[c.Name]
			mustFail := c.Op == faultfs.OpCreate || c.Op == faultfs.OpWrite || c.Op == faultfs.OpRename ||
				c.Op == faultfs.OpMkdir || c.Op == faultfs.OpSync || (c.Op == faultfs.OpClose && (isNew || strings.HasSuffix(c.Name, tmpSuffix))) ||
				(c.Op == faultfs.OpStat && isNew)
			if mustFail && err == nil {
				t.Fatalf("%v failed and Commit said nothing", c)
			}
			if err != nil && !errors.Is(err, faultfs.EIO) {
				t.Fatalf("error does not carry the cause: %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), "_historie") {
				t.Fatalf("error names no file: %v", err)
			}
			if err == nil && res.PrevDamaged == nil && c.Op != faultfs.OpRemove && c.Op != faultfs.OpClose && c.Op != faultfs.OpOpen && c.Op != faultfs.OpRead {
				t.Fatalf("%v failed, Commit succeeded without a word", c)
			}
			if err := intact(fsys, fx.wants, want4); err != nil {
				t.Fatalf("after the fault: %v", err)
			}
			if _, err := Open(archiveOf(fsys), WithMaxChain(2)).Commit(context.Background(), recs, content); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if err := intact(fsys, fx.wants, want4); err != nil {
				t.Fatalf("after the rerun: %v", err)
			}
		})
	}
}

var (
	hexID     = regexp.MustCompile(`[0-9a-f]{32}`)
	archiveTS = regexp.MustCompile(`[0-9]{8}T[0-9]{6}\.[0-9]{3}Z`)
)

// newNamePattern turns a history file's name into a pattern that matches
// the same file in another run (random id and archive time as "*").
func newNamePattern(name string) string {
	return archiveTS.ReplaceAllString(hexID.ReplaceAllString(name, "*"), "*")
}

// The first commit of a new archive stopped in the middle of its
// generation file (a create that is not whole in one step: local disk,
// SMB): no head marker yet, so that file is unfinished, not damage; the
// next commit removes it and Check is clean.
func TestFirstCommitCrashIsNoDamage(t *testing.T) {
	ctx := context.Background()
	tb := newTable(19, 10)
	fsys := memArchive()
	s := Open(archiveOf(fsys))
	res := commit(t, s, tb)
	// What the crash leaves: the pack, half the generation file, no marker.
	data, _ := afero.ReadFile(fsys, res.Info.File)
	if err := afero.WriteFile(fsys, res.Info.File, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fsys.Remove(HeadFile); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Check(ctx); err != nil || len(d) != 1 || len(d[0].Gens) != 0 {
		t.Fatalf("Check after the crash: %v %v", d, err)
	}
	again := commit(t, s, tb)
	if again.PrevDamaged != nil || again.Info.Seq != 2 {
		t.Fatalf("commit after the crash: %+v", again)
	}
	if d, err := s.Check(ctx); err != nil || len(d) != 0 {
		t.Fatalf("Check: %v %v", d, err)
	}
}

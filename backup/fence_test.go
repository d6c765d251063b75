package backup

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/lock"
	"werkstatt-backup/sample"
)

// noticeHandler passes records on and closes lost once a message says the
// lock is lost.
type noticeHandler struct {
	slog.Handler
	once *sync.Once
	lost chan struct{}
}

func (h noticeHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, lock.ErrLockLost.Error()) {
		h.once.Do(func() { close(h.lost) })
	}
	return h.Handler.Handle(ctx, r)
}

// loseLockFs loses the run's lock during the nth rename of a backup file
// and holds that rename until the engine has noticed: taken (a foreign
// lock replaces ours) or stalled (every refresh of the lock fails from
// then on). It counts the archive changes that begin after the notice.
type loseLockFs struct {
	afero.Fs
	t       *testing.T
	n       int32
	taken   bool
	noticed <-chan struct{}
	renames atomic.Int32
	lost    atomic.Bool // the lock is gone
	seen    atomic.Bool // and the engine knows it
	after   atomic.Int32
}

func isLock(name string) bool {
	return strings.HasPrefix(strings.TrimPrefix(name, "/"), lock.LockFileName)
}

func (f *loseLockFs) change(name string) error {
	if isLock(name) {
		if f.lost.Load() && !f.taken {
			return errors.New("Share nicht erreichbar")
		}
		return nil
	}
	if f.seen.Load() {
		f.after.Add(1)
		f.t.Errorf("archive changed after the lock was lost: %s", name)
	}
	return nil
}

func (f *loseLockFs) Rename(o, n string) error {
	if err := f.change(n); err != nil {
		return err
	}
	if !isLock(n) && f.renames.Add(1) == f.n {
		f.lost.Store(true)
		if f.taken {
			foreign := `{"pid":4711,"host":"andere","operation":"export","token":"fremd"}` + "\n"
			if err := afero.WriteFile(f.Fs, lock.LockFileName, []byte(foreign), 0o644); err != nil {
				f.t.Fatal(err)
			}
		}
		select { // the rename in flight waits until the loss is noticed
		case <-f.noticed:
		case <-time.After(time.Minute):
			f.t.Error("the loss of the lock was not noticed within a minute")
		}
		f.seen.Store(true)
	}
	return f.Fs.Rename(o, n)
}

func (f *loseLockFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC) != 0 {
		if err := f.change(name); err != nil {
			return nil, err
		}
	}
	return f.Fs.OpenFile(name, flag, perm)
}

func (f *loseLockFs) Create(name string) (afero.File, error) {
	return f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

func (f *loseLockFs) Remove(name string) error {
	if err := f.change(name); err != nil {
		return err
	}
	return f.Fs.Remove(name)
}

func (f *loseLockFs) Mkdir(name string, perm os.FileMode) error {
	_ = f.change(name)
	return f.Fs.Mkdir(name, perm)
}

func (f *loseLockFs) MkdirAll(name string, perm os.FileMode) error {
	_ = f.change(name)
	return f.Fs.MkdirAll(name, perm)
}

// TestExportStopsWritingWhenTheLockIsLost is finding 3 of issue 13 in the
// engine: once the run knows its lock is lost (taken over, or not
// refreshed within the lease), it starts no change to the archive; the
// rename in flight completes; every record it did not write is named, and
// the run fails.
func TestExportStopsWritingWhenTheLockIsLost(t *testing.T) {
	t.Setenv(lock.TestLeaseEnv, "3s") // refreshed every 500ms; lost 2s after the last refresh
	for _, taken := range []bool{true, false} {
		name := map[bool]string{true: "taken over", false: "refresh stalls"}[taken]
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, sample.Rows(40, 1))
			noticed := make(chan struct{})
			f.e.Log = slog.New(noticeHandler{Handler: f.e.Log.Handler(), once: &sync.Once{}, lost: noticed})
			f.e.Workers = 1
			// Pair 5 = renames 9 (data.csv) and 10 (meta.json): the lock is
			// lost in the middle of committing pair 5.
			lfs := &loseLockFs{Fs: f.fs, t: t, n: 10, taken: taken, noticed: noticed}
			f.e.setFs(lfs)
			r, err := f.e.Export(context.Background(), ExportOptions{})
			if err == nil {
				t.Fatal("export with a lost lock succeeded")
			}
			if r.Written != 5 || r.OK != 5 {
				t.Errorf("written %d, ok %d; want 5 (the fifth completed in flight)", r.Written, r.OK)
			}
			notWritten := 0
			for _, p := range r.Problems {
				if p.Level == LevelError && strings.Contains(p.Message, "nicht geschrieben: ") && strings.Contains(p.Message, "Fehler bei Auftrag ") {
					notWritten++
				}
			}
			if notWritten != 35 {
				t.Errorf("%d records named as not written, want 35:\n%s", notWritten, problems(r))
			}
			if !errors.Is(err, lock.ErrLockLost) && !strings.Contains(err.Error(), "35 Aufträge konnten nicht gesichert werden") {
				t.Errorf("err = %v", err)
			}
			hasProblem(t, r, LevelError, lock.LockFileName, lock.ErrLockLost.Error())
			if taken {
				if got, _ := afero.ReadFile(f.fs, lock.LockFileName); !strings.Contains(string(got), `"fremd"`) {
					t.Errorf("the new holder's lock was touched: %q", got)
				}
			}
		})
	}
}

// TestMigrateStopsWritingWhenTheLockIsLost: the same for migrate.
func TestMigrateStopsWritingWhenTheLockIsLost(t *testing.T) {
	t.Setenv(lock.TestLeaseEnv, "3s")
	f := newFixture(t, sample.Rows(40, 1))
	if _, err := f.e.Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	noticed := make(chan struct{})
	f.e.Log = slog.New(noticeHandler{Handler: f.e.Log.Handler(), once: &sync.Once{}, lost: noticed})
	f.e.Workers = 1
	f.e.Schema = chainSchema("2.0", step12)
	f.e.setFs(&loseLockFs{Fs: f.fs, t: t, n: 10, taken: true, noticed: noticed})
	r, err := f.e.Migrate(context.Background(), MigrateOptions{})
	if err == nil || !strings.Contains(err.Error(), "35 Sicherungen konnten nicht migriert werden") {
		t.Fatalf("err = %v", err)
	}
	notWritten := 0
	for _, p := range r.Problems {
		if p.Level == LevelError && strings.Contains(p.Message, "Migration fehlgeschlagen: nicht geschrieben: ") {
			notWritten++
		}
	}
	if r.OK != 5 || notWritten != 35 {
		t.Errorf("%d migrated, %d named as not written; want 5 and 35:\n%s", r.OK, notWritten, problems(r))
	}
}

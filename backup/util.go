package backup

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"strconv"
	"strings"

	"werkstatt-backup/codec"
	"werkstatt-backup/lock"
	"werkstatt-backup/storage"
)

// lock takes the archive's .backup.lock for the whole run; fenced checks it
// from then on.
func (e *Engine) lock(ctx context.Context, op string) (*lock.Lock, error) {
	l, err := lock.AcquireLock(ctx, e.Arch, lock.LockOptions{
		Operation: op,
		Version:   e.Version,
		Timeout:   e.LockTimeout,
		Logf: func(level, msg string) {
			if level == LevelWarning {
				e.Log.Warn(msg)
			} else {
				e.Log.Info(msg)
			}
		},
		Waiting: func(msg string) {
			if e.Notice != nil {
				e.Notice(msg)
			}
			e.step(PhaseLock, 0, -1)
		},
		Acquired: func() { e.step(PhaseLock, 1, 1) },
		SeenFile: e.LockSeen,
		SeenKey:  e.Archive,
	})
	e.held = l
	return l, err
}

// fenced returns an error once the run's lock is lost (taken over, or not
// refreshed for so long that another run may take it over). Every step
// that changes the archive asks first: steps already begun finish, none
// starts. Without a lock (dry runs, read-only verify) it is nil.
func (e *Engine) fenced() error { return fencedBy(e.held) }

// fencedBy is fenced for a given lock (nil: no lock, nothing to check).
func fencedBy(lock *lock.Lock) error {
	if lock == nil {
		return nil
	}
	if err := lock.Valid(); err != nil {
		return fmt.Errorf("nicht geschrieben: %w", err)
	}
	return nil
}

// lockForReading takes the lock for a command that only reads the archive
// (verify, restore). On an archive that cannot be written (a read-only
// mount or share, a snapshot) the lock cannot be created, and nobody can
// be writing to it through this tool either: the run goes on without it,
// with one WARNING saying so. Writing commands use lock and fail there.
func (e *Engine) lockForReading(ctx context.Context, r *Report, op string) (*lock.Lock, error) {
	l, err := e.lock(ctx, op)
	if err != nil && storage.NotWritable(err) {
		r.warnf(lock.LockFileName, 0, "Archiv ist schreibgeschützt (%s); %s läuft ohne Lock weiter, nur lesend", reason(err), op)
		return nil, nil
	}
	return l, err
}

// unlock releases the lock at the end of a run. A lock that someone else
// took over during the run makes the run fail: two runs may have overlapped.
func (e *Engine) unlock(l *lock.Lock, r *Report, err *error) {
	if l == nil {
		return
	}
	e.held = nil
	rerr := l.Release()
	if rerr == nil {
		return
	}
	r.errorf(lock.LockFileName, 0, "%s", rerr)
	if *err == nil {
		*err = rerr
	}
}

// reason renders an I/O error for a problem line. The problem names the
// archive file; a *PathError or *os.LinkError inside err would repeat it
// with the backend's full path, so it contributes its operation and cause
// only, while the wrapping context (which temp file, which step) is kept:
// "2024/076329/meta.tmp.json anlegen: open: no space left on device".
func reason(err error) string {
	s := err.Error()
	var pe *iofs.PathError
	if errors.As(err, &pe) {
		return strings.Replace(s, pe.Error(), pe.Op+": "+pe.Err.Error(), 1)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return strings.Replace(s, le.Error(), le.Op+": "+le.Err.Error(), 1)
	}
	return s
}

func joinErrs(errs []codec.FieldError) string {
	s := make([]string, len(errs))
	for i, e := range errs {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

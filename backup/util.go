package backup

import (
	"context"
	"errors"
	iofs "io/fs"
	"strconv"
	"strings"

	"werkstatt-backup/codec"
	archfs "werkstatt-backup/fs"
)

// lock takes the archive's .backup.lock for the whole run.
func (e *Engine) lock(ctx context.Context, op string) (*archfs.Lock, error) {
	return archfs.AcquireLock(ctx, e.Fs, archfs.LockOptions{
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
	})
}

// unlock releases the lock at the end of a run. A lock that someone else
// took over during the run makes the run fail: two runs may have overlapped.
func (e *Engine) unlock(l *archfs.Lock, r *Report, err *error) {
	if l == nil {
		return
	}
	rerr := l.Release()
	if rerr == nil {
		return
	}
	r.errorf(archfs.LockFileName, 0, "%s", rerr)
	if *err == nil {
		*err = rerr
	}
}

// reason renders an I/O error for a problem line. The file is named by the
// problem itself, so a *PathError contributes its operation and cause only.
func reason(err error) string {
	var pe *iofs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
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

package history

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"maps"
	"path"
	"slices"
	"sync"
	"time"

	"werkstatt-backup/storage"
)

// On a store with Object Lock (S3 in compliance mode) every history file
// is retained after it is written: until its generation's archive time
// plus the lock period, during which no credential can delete or
// overwrite it. A generation needs more than its own file: the packs
// holding its contents and, for a delta, the generations back to the
// last full one. Commit extends their retention to at least the new
// generation's; one that falls short is extended by half a period more,
// so that a pack every generation uses is retained again about every
// half period, not on every run.

// WithObjectLock makes the history retain what it writes for period
// (see above) when the archive can retain files (Archive.Retains). A
// period ≤ 0 changes nothing.
func WithObjectLock(period time.Duration) Option {
	return func(s *Store) {
		if period > 0 {
			s.lockPeriod = period
		}
	}
}

// DefaultLockPeriod is the lock period when none is configured: the span
// the daily and weekly rules of p cover, max(keep-daily days, keep-weekly
// weeks), 56 days with DefaultRetention. forget keeps what those rules
// keep for that long anyway, so locking it costs no storage; an attacker
// who deletes with the backup's credentials finds every generation of
// that span locked. At least one day.
func DefaultLockPeriod(p Retention) time.Duration {
	days := max(p.Daily, 7*p.Weekly, 1)
	return time.Duration(days) * 24 * time.Hour
}

// lockUntil is the retention a generation written at archiveTime needs,
// rounded up to a whole second (what a store keeps of a date).
func (s *Store) lockUntil(archiveTime time.Time) time.Time {
	u := archiveTime.Add(s.lockPeriod)
	if t := u.Truncate(time.Second); !t.Equal(u) {
		return t.Add(time.Second)
	}
	return u
}

// retainGeneration retains the new generation's file until its lock end
// and extends every file it needs (its packs, its delta chain) that is
// retained for less: to the lock end plus half a period. fresh are the
// files this commit wrote, retained to the lock end exactly.
func (s *Store) retainGeneration(ctx context.Context, info GenerationInfo, fresh, chain []string, l *listing, entries []Entry) error {
	until := s.lockUntil(info.ArchiveTime)
	attacked := s.versions.all()
	var older []string
	for _, name := range neededFiles(chain, l, entries) {
		// A file read from an older version (its current one deleted or
		// replaced by an attacker) has no current version to extend: the
		// version read keeps its own retention, and history repair makes
		// it current again for the next commit to extend. The caller
		// names it (Attacked).
		if _, ok := attacked[name]; !ok && !slices.Contains(fresh, name) {
			older = append(older, name)
		}
	}
	errs := make([]error, len(fresh)+len(older))
	inParallel(len(fresh)+len(older), func(i int) {
		if i < len(fresh) {
			if err := s.arch.Retain(ctx, fresh[i], until); err != nil {
				errs[i] = &FileError{Path: fresh[i], Op: "sperren", Err: err}
			}
			return
		}
		name := older[i-len(fresh)]
		cur, err := s.arch.RetainedUntil(ctx, name)
		switch {
		case err != nil:
			errs[i] = &FileError{Path: name, Op: "Sperre lesen", Err: err}
		case cur.Before(until):
			if err := s.arch.Retain(ctx, name, until.Add(s.lockPeriod/2)); err != nil {
				errs[i] = &FileError{Path: name, Op: "Sperre verlängern", Err: err}
			}
		}
	})
	return errors.Join(errs...)
}

// lockWorkers is how many retention requests run at once: a generation
// can need a few hundred files, each one request to the store.
const lockWorkers = 16

// inParallel calls fn(0) … fn(n-1), lockWorkers at a time.
func inParallel(n int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, lockWorkers) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// neededFiles are the files a generation needs besides its own: its
// delta chain and the packs of its entries, sorted.
func neededFiles(chain []string, l *listing, entries []Entry) []string {
	seen := map[uint64]bool{}
	out := slices.Clone(chain)
	for _, e := range entries {
		if !seen[e.Pack] {
			seen[e.Pack] = true
			for _, p := range l.packs[e.Pack] {
				out = append(out, p.file)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// retainedNow reports whether name is retained at this moment: by the
// client's clock or, if it is behind, by the store's (storeClock). On a
// versioned bucket the store does not refuse a plain DELETE or an
// overwrite of a retained file: it hides the retained version behind a
// delete marker or a newer version, where no restore finds it. So
// forget must decide before touching a file, and a client clock ahead of
// the store's must not make it think a lock has ended.
func (s *Store) retainedNow(ctx context.Context, name string) (time.Time, bool, error) {
	if !s.lock {
		return time.Time{}, false, nil
	}
	until, err := s.arch.RetainedUntil(ctx, name)
	if err != nil {
		return time.Time{}, false, &FileError{Path: name, Op: "Sperre lesen", Err: err}
	}
	now := s.now()
	if s.storeNow != nil {
		if st := s.storeNow(); st.Before(now) {
			now = st
		}
	}
	return until, until.After(now), nil
}

// clockProbe is the file storeClock writes to read the store's clock; a
// leftover is a temp file like any other (removeTemps).
var clockProbe = path.Join(genDir, "uhr"+tmpSuffix)

// storeClock reads the store's clock for forget's decisions on a store
// with Object Lock: it writes a small file and reads the time the store
// gave it. The store's "now" is at least that time plus what the
// client's monotonic clock has counted since, which is what the returned
// function says. Without Object Lock it returns nil.
func (s *Store) storeClock(ctx context.Context) (func() time.Time, error) {
	if !s.lock {
		return nil, nil
	}
	if err := s.fence(); err != nil {
		return nil, err
	}
	if _, err := s.arch.WriteFile(ctx, clockProbe, []byte("uhr\n"), storage.WriteOpts{}); err != nil {
		return nil, &FileError{Path: clockProbe, Op: "schreiben (Uhr des Speichers)", Err: err}
	}
	fi, err := s.arch.Stat(ctx, clockProbe)
	read := time.Now()
	_ = s.arch.Remove(context.WithoutCancel(ctx), clockProbe, storage.Always)
	if err != nil {
		return nil, &FileError{Path: clockProbe, Op: "Zeit lesen", Err: err}
	}
	stored := fi.ModTime()
	if stored.Year() < 2000 { // a store without times: the client's clock
		return nil, nil
	}
	return func() time.Time { return stored.Add(time.Since(read)) }, nil
}

// lockedRefusal reports whether err is the store refusing to delete or
// overwrite a retained file.
func (s *Store) lockedRefusal(err error) bool {
	return s.lock && errors.Is(err, iofs.ErrPermission)
}

// ShortLock is a history file whose retention ends before its
// generations need it to.
type ShortLock struct {
	Path     string
	Until    time.Time // its retention end, zero if none
	Required time.Time // the latest lock end of a generation that needs it
}

// String says how long the file is locked and how long it must be (its
// path is not repeated: reports name it).
func (l ShortLock) String() string {
	if l.Until.IsZero() {
		return "nicht gesperrt, nötig bis " + l.Required.Local().Format(time.DateTime)
	}
	return fmt.Sprintf("gesperrt bis %s, nötig bis %s", l.Until.Local().Format(time.DateTime), l.Required.Local().Format(time.DateTime))
}

// keepRetained changes forget's decisions on a store with Object Lock: a
// generation still retained is kept ("Object Lock bis …"), and so is
// every generation of the delta chain of a kept generation that is
// retained, since that one cannot be rewritten against another
// predecessor. It returns the kept generations that are retained.
func (s *Store) keepRetained(ctx context.Context, decisions []Decision, gens map[uint64]*genFile, res *ForgetResult) (map[uint64]bool, error) {
	if !s.lock {
		return nil, nil
	}
	type answer struct {
		until    time.Time
		retained bool
		err      error
	}
	answers := make([]answer, len(decisions))
	inParallel(len(decisions), func(i int) {
		a := &answers[i]
		a.until, a.retained, a.err = s.retainedNow(ctx, decisions[i].Info.File)
	})
	frozen := map[uint64]bool{}
	for i := range decisions {
		d, until := &decisions[i], answers[i].until
		if err := answers[i].err; err != nil {
			return nil, err
		}
		if !answers[i].retained {
			continue
		}
		frozen[d.Info.Seq] = true
		if !d.Keep {
			d.Keep = true
			d.Reasons = append(d.Reasons, "Object Lock bis "+until.Local().Format(time.DateTime))
			res.Retained = append(res.Retained, d.Info.File)
		}
	}
	keepChains(decisions, gens, frozen, res)
	return frozen, nil
}

// keepChains keeps every generation of the delta chain of a frozen one
// (retained, so it cannot be rewritten against another predecessor).
func keepChains(decisions []Decision, gens map[uint64]*genFile, frozen map[uint64]bool, res *ForgetResult) {
	bySeq := map[uint64]int{}
	for i, d := range decisions {
		bySeq[d.Info.Seq] = i
	}
	for _, seq := range slices.Sorted(maps.Keys(frozen)) {
		// Its link names the generation before it: that one stays too,
		// or the chain would show a gap.
		if g := gens[seq]; g != nil && g.V2 && g.Prev != 0 {
			if i, ok := bySeq[g.Prev]; ok && !decisions[i].Keep {
				decisions[i].Keep = true
				decisions[i].Reasons = append(decisions[i].Reasons, fmt.Sprintf("Vorgänger der gesperrten Generation %d", seq))
				res.Retained = append(res.Retained, decisions[i].Info.File)
			}
		}
		for g := gens[seq]; g != nil && !g.full(); g = gens[g.Parent] {
			i, ok := bySeq[g.Parent]
			if !ok {
				break // a broken chain: nothing to keep it by
			}
			if d := &decisions[i]; !d.Keep {
				d.Keep = true
				d.Reasons = append(d.Reasons, fmt.Sprintf("gebraucht von gesperrter Generation %d", seq))
				res.Retained = append(res.Retained, d.Info.File)
			}
		}
	}
	slices.Sort(res.Retained)
}

// keepRefused marks the decisions of gens, which forget did not remove
// after the store refused a removal, as kept.
func keepRefused(decisions []Decision, gens []GenerationInfo) {
	for i := range decisions {
		d := &decisions[i]
		if !d.Keep && slices.ContainsFunc(gens, func(g GenerationInfo) bool { return g.Seq == d.Info.Seq }) {
			d.Keep = true
			d.Reasons = append(d.Reasons, "Object Lock (Löschen vom Speicher verweigert)")
		}
	}
}

// LockStatus is what CheckLock found.
type LockStatus struct {
	Period time.Duration
	// Short are the files retained for less than a generation that needs
	// them asks (its archive time plus the period), while that end is
	// still ahead.
	Short []ShortLock
	// Head is the newest generation and HeadUntil the earliest retention
	// end among the files it needs: the newest state of the history is
	// immutable until then. Zero without generations.
	Head      uint64
	HeadUntil time.Time
}

// CheckLock reads the retention of every history file a generation
// needs; nil without Object Lock. A generation that cannot be loaded is
// left out (Check names it).
func (s *Store) CheckLock(ctx context.Context) (*LockStatus, error) {
	if !s.lock {
		return nil, nil
	}
	l, err := s.scan(ctx)
	if err != nil {
		return nil, err
	}
	st := &LockStatus{Period: s.lockPeriod}
	required := map[string]time.Time{}
	parents := map[uint64]uint64{} // delta → parent
	var headFiles []string
	now := s.now()
	err = s.walk(ctx, l, func(ref genRef, g *genFile, entries []Entry, _ Hash, err error) error {
		if err != nil {
			return nil
		}
		var chain []string
		if !g.full() {
			parents[ref.seq] = g.Parent
			for p, ok := g.Parent, true; ok; p, ok = parents[p] {
				pref, found := l.find(p)
				if !found {
					break
				}
				chain = append(chain, pref.file)
			}
		}
		files := append(neededFiles(chain, l, entries), ref.file)
		if h, ok := l.head(); ok && h.seq == ref.seq {
			st.Head, headFiles = ref.seq, files
		}
		need := s.lockUntil(ref.archiveTime)
		if !need.After(now) {
			return nil
		}
		for _, f := range files {
			if need.After(required[f]) {
				required[f] = need
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	names := slices.Sorted(maps.Keys(required))
	untils := make([]time.Time, len(names))
	errs := make([]error, len(names))
	inParallel(len(names), func(i int) {
		if ctx.Err() == nil {
			untils[i], errs[i] = s.arch.RetainedUntil(ctx, names[i])
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	until := map[string]time.Time{}
	for i, f := range names {
		if errs[i] != nil {
			return nil, &FileError{Path: f, Op: "Sperre lesen", Err: errs[i]}
		}
		until[f] = untils[i]
		if untils[i].Before(required[f]) {
			st.Short = append(st.Short, ShortLock{Path: f, Until: untils[i], Required: required[f]})
		}
	}
	for i, f := range headFiles {
		u, ok := until[f]
		if !ok {
			if u, err = s.arch.RetainedUntil(ctx, f); err != nil {
				return nil, &FileError{Path: f, Op: "Sperre lesen", Err: err}
			}
		}
		if i == 0 || u.Before(st.HeadUntil) {
			st.HeadUntil = u
		}
	}
	return st, nil
}

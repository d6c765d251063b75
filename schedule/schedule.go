// Package schedule runs a job at the times of a cron expression, for hosts
// and containers without cron. The clock is injectable, so tests move time
// instead of waiting for it.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/robfig/cron/v3"
)

// Spec is a parsed cron expression.
type Spec interface {
	// Next returns the first activation strictly after t.
	Next(t time.Time) time.Time
}

// Parse reads a standard cron expression: five fields (minute, hour, day of
// month, month, day of week), "CRON_TZ=Europe/Berlin " in front for a time
// zone other than the local one, or a descriptor such as "@daily" or
// "@every 6h".
func Parse(expr string) (Spec, error) {
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, fmt.Errorf("ungültiger Zeitplan %q: %s (Beispiele: \"0 2 * * *\" täglich 2 Uhr, \"30 1 * * 0\" sonntags 1:30, \"@hourly\")", expr, cronReason(err))
	}
	if s.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("ungültiger Zeitplan %q: trifft nie zu", expr)
	}
	return s, nil
}

// cronReasons translate the cron parser's English errors, most specific
// first; the parser has no typed errors.
var cronReasons = []struct {
	re *regexp.Regexp
	de string
}{
	{regexp.MustCompile(`^empty spec string`), "leer"},
	{regexp.MustCompile(`^provided bad location ([^:]*)`), "unbekannte Zeitzone $1"},
	{regexp.MustCompile(`^expected exactly (\d+) fields, found (\d+)`), "erwartet $1 Felder (Minute Stunde Tag Monat Wochentag), gefunden $2"},
	{regexp.MustCompile(`^expected (\d+) to (\d+) fields, found (\d+)`), "erwartet $1 bis $2 Felder, gefunden $3"},
	{regexp.MustCompile(`^beginning of range \((-?\d+)\) below minimum \((\d+)\): (.*)`), "$1 in „$3“ ist kleiner als $2"},
	{regexp.MustCompile(`^end of range \((-?\d+)\) above maximum \((\d+)\): (.*)`), "$1 in „$3“ ist größer als $2"},
	{regexp.MustCompile(`^beginning of range \((\d+)\) beyond end of range \((\d+)\): (.*)`), "Bereich „$3“ beginnt nach seinem Ende"},
	{regexp.MustCompile(`^too many hyphens: (.*)`), "zu viele „-“ in „$1“"},
	{regexp.MustCompile(`^too many slashes: (.*)`), "zu viele „/“ in „$1“"},
	{regexp.MustCompile(`^step of range should be a positive number: (.*)`), "Schrittweite in „$1“ muss positiv sein"},
	{regexp.MustCompile(`^failed to parse int from ([^:]*)`), "„$1“ ist keine Zahl"},
	{regexp.MustCompile(`^negative number \((-?\d+)\) not allowed: (.*)`), "negative Zahl in „$2“"},
	{regexp.MustCompile(`^failed to parse duration ([^:]*)`), "„$1“: keine gültige Dauer (z. B. @every 6h)"},
	{regexp.MustCompile(`^unrecognized descriptor: (.*)`), "unbekannte Angabe „$1“ (bekannt: @yearly, @monthly, @weekly, @daily, @hourly, @every DAUER)"},
}

// cronReason is the German reason for a cron parser error.
func cronReason(err error) string {
	msg := err.Error()
	for _, r := range cronReasons {
		if m := r.re.FindStringSubmatchIndex(msg); m != nil {
			return string(r.re.ExpandString(nil, r.de, msg, m))
		}
	}
	return "nicht lesbar"
}

// ErrNoNextRun ends Run when the expression has no further activation.
var ErrNoNextRun = errors.New("Zeitplan: kein weiterer Termin")

// Job is one job of a Scheduler: what runs, and when.
type Job struct {
	Spec Spec
	// Run runs one activation; planned is the time it was due. Its error
	// is the job's business (the scheduler goes on); cancel ctx to stop.
	Run func(ctx context.Context, planned time.Time)
}

// Scheduler runs each of its jobs at its activations until its context
// ends, one run at a time.
//
// A run is never started twice at once, and two runs never overlap (they
// would only wait for each other's archive lock): a job's own activations
// that fall while it runs are skipped, and its next one is computed from
// the time it returns; an activation of another job that falls while a run
// lasts is not lost, that job runs once right after. Jobs due at the same
// time run in the order given. Waiting is done in slices of at most
// MaxSleep against the wall clock, so a suspended machine or a corrected
// clock does not shift the schedule.
type Scheduler struct {
	Jobs []Job
	// Spec and Job are the one job of a Scheduler without Jobs.
	Spec Spec
	Job  func(ctx context.Context, planned time.Time)
	// OnWait, if set, is told the next activation and the index of its
	// job before each wait.
	OnWait func(next time.Time, job int)

	Now      func() time.Time                     // nil: time.Now
	After    func(time.Duration) <-chan time.Time // nil: time.After
	MaxSleep time.Duration                        // 0: one minute
}

// Run waits for each activation and runs its job. It returns nil when ctx
// ends while waiting (nothing was interrupted), and ctx's error when it ends
// while a job runs (the run was interrupted and the job has returned).
func (s *Scheduler) Run(ctx context.Context) error {
	now, after := s.Now, s.After
	if now == nil {
		now = time.Now
	}
	if after == nil {
		after = time.After
	}
	maxSleep := s.MaxSleep
	if maxSleep <= 0 {
		maxSleep = time.Minute
	}
	jobs := s.Jobs
	if len(jobs) == 0 {
		jobs = []Job{{Spec: s.Spec, Run: s.Job}}
	}
	next := make([]time.Time, len(jobs))
	start := now()
	for i, j := range jobs {
		next[i] = j.Spec.Next(start)
	}
	for {
		// The earliest activation; on a tie the job given first.
		i := -1
		for k, t := range next {
			if !t.IsZero() && (i < 0 || t.Before(next[i])) {
				i = k
			}
		}
		if i < 0 {
			return ErrNoNextRun
		}
		if d := next[i].Sub(now()); d > 0 && s.OnWait != nil {
			s.OnWait(next[i], i)
		}
		for {
			d := next[i].Sub(now())
			if d <= 0 {
				break
			}
			select {
			case <-ctx.Done():
				return nil
			case <-after(min(d, maxSleep)):
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		jobs[i].Run(ctx, next[i])
		if err := ctx.Err(); err != nil {
			return err
		}
		next[i] = jobs[i].Spec.Next(now())
	}
}

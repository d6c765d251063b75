package schedule

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func mustParse(t *testing.T, expr string) Spec {
	t.Helper()
	s, err := Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stamps(ts []time.Time) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.UTC().Format("01-02 15:04:05")
	}
	return strings.Join(out, " ")
}

// TestFiresAtCronTimes runs the scheduler for three days of fake time
// (testing/synctest: time only moves when every goroutine waits).
func TestFiresAtCronTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble's clock starts at 2000-01-01 00:00:00 UTC.
		var fired, planned []time.Time
		var waits []time.Time
		ctx, cancel := context.WithCancel(t.Context())
		s := &Scheduler{
			Spec: mustParse(t, "CRON_TZ=UTC 0 2 * * *"),
			Job: func(_ context.Context, p time.Time) {
				fired = append(fired, time.Now())
				planned = append(planned, p)
				time.Sleep(90 * time.Second) // the export
			},
			OnWait: func(next time.Time, _ int) { waits = append(waits, next) },
		}
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(3*24*time.Hour + time.Hour)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run returned %v after a cancel while idle, want nil", err)
		}
		want := "01-01 02:00:00 01-02 02:00:00 01-03 02:00:00"
		if got := stamps(fired); got != want {
			t.Errorf("fired at %s\nwant     %s", got, want)
		}
		if got := stamps(planned); got != want {
			t.Errorf("planned %s", got)
		}
		if got := stamps(waits); got != want+" 01-04 02:00:00" {
			t.Errorf("announced %s", got)
		}
	})
}

// TestSkipsActivationsWhileRunning: a run longer than the interval is never
// overlapped; the missed activations are skipped.
func TestSkipsActivationsWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fired []time.Time
		ctx, cancel := context.WithCancel(t.Context())
		running := false
		s := &Scheduler{
			Spec: mustParse(t, "CRON_TZ=UTC * * * * *"),
			Job: func(context.Context, time.Time) {
				if running {
					t.Error("job started while running")
				}
				running = true
				fired = append(fired, time.Now())
				time.Sleep(150 * time.Second)
				running = false
			},
		}
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(10*time.Minute + time.Second)
		cancel()
		<-done
		if got, want := stamps(fired), "01-01 00:01:00 01-01 00:04:00 01-01 00:07:00 01-01 00:10:00"; got != want {
			t.Errorf("fired at %s\nwant     %s", got, want)
		}
	})
}

// TestCancelDuringRun: a signal during a run cancels the job's context; the
// job finishes its current record, and Run reports the interruption only
// after the job has returned.
func TestCancelDuringRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var jobReturned time.Time
		s := &Scheduler{
			Spec: mustParse(t, "CRON_TZ=UTC @every 1h"),
			Job: func(ctx context.Context, _ time.Time) {
				<-ctx.Done()                // stop handing out work …
				time.Sleep(2 * time.Second) // … but finish the current record
				jobReturned = time.Now()
			},
		}
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(time.Hour + 30*time.Minute) // the job started at 01:00 and is running
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		if jobReturned.IsZero() || time.Now().Before(jobReturned) {
			t.Fatalf("Run returned before the job finished (job %v, now %v)", jobReturned, time.Now())
		}
	})
}

func TestCancelBeforeFirstRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		s := &Scheduler{Spec: mustParse(t, "0 2 * * *"), Job: func(context.Context, time.Time) { t.Error("job ran") }}
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(time.Minute)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	})
}

// TestWallClockJump uses an injected clock: the machine sleeps (suspend)
// through 02:00; when it wakes, the wall clock says 02:00:30 although the
// scheduler's timer only saw one minute pass. The due run starts at once,
// once, and the next is planned for the following day.
func TestWallClockJump(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2024, 7, 29, 1, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	type wait struct {
		d  time.Duration
		ch chan time.Time
	}
	waits := make(chan wait)
	jobs := make(chan time.Time, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var announced []time.Time
	s := &Scheduler{
		Spec:   mustParse(t, "CRON_TZ=UTC 0 2 * * *"),
		Job:    func(_ context.Context, planned time.Time) { jobs <- planned },
		OnWait: func(next time.Time, _ int) { announced = append(announced, next) },
		Now:    clock,
		After: func(d time.Duration) <-chan time.Time {
			ch := make(chan time.Time, 1)
			waits <- wait{d, ch}
			return ch
		},
	}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()

	w := <-waits
	if w.d != time.Minute {
		t.Fatalf("first sleep %v, want the one-minute slice", w.d)
	}
	set(time.Date(2024, 7, 29, 2, 0, 30, 0, time.UTC)) // woke from suspend
	w.ch <- clock()
	if p := <-jobs; !p.Equal(time.Date(2024, 7, 29, 2, 0, 0, 0, time.UTC)) {
		t.Fatalf("job planned for %v", p)
	}
	w = <-waits // waiting for the next day
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if len(jobs) != 0 {
		t.Fatal("the missed activation ran twice")
	}
	if len(announced) != 2 || !announced[1].Equal(time.Date(2024, 7, 30, 2, 0, 0, 0, time.UTC)) {
		t.Fatalf("announced %v", announced)
	}
}

func TestParse(t *testing.T) {
	for _, ok := range []string{"0 2 * * *", "30 1 * * 0", "@daily", "@every 6h", "CRON_TZ=Europe/Berlin 0 2 * * 1-5"} {
		if _, err := Parse(ok); err != nil {
			t.Errorf("Parse(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "0 2 * *", "jeden Tag", "61 * * * *", "0 0 30 2 *"} {
		_, err := Parse(bad)
		if err == nil || !strings.Contains(err.Error(), "ungültiger Zeitplan") {
			t.Errorf("Parse(%q) = %v", bad, err)
		}
	}
}

// TestSeveralJobs: a nightly export and a weekly verify at the same time on
// Sunday, plus an hourly job, in one scheduler for eight days of fake time.
// Runs never overlap; jobs due together run in the order given; an
// activation that falls while another job runs is made up once, right after
// it; a job's own activations during its run are skipped.
func TestSeveralJobs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 2000-01-01 is a Saturday; the bubble starts at 00:00 UTC.
		type run struct {
			job     string
			started time.Time
			planned time.Time
		}
		var runs []run
		running := false
		job := func(name string, d time.Duration) func(context.Context, time.Time) {
			return func(_ context.Context, planned time.Time) {
				if running {
					t.Errorf("%s started while another job runs", name)
				}
				running = true
				runs = append(runs, run{name, time.Now(), planned})
				time.Sleep(d)
				running = false
			}
		}
		var announced []int
		ctx, cancel := context.WithCancel(t.Context())
		s := &Scheduler{
			Jobs: []Job{
				{Spec: mustParse(t, "CRON_TZ=UTC 0 2 * * *"), Run: job("export", 90*time.Minute)},
				{Spec: mustParse(t, "CRON_TZ=UTC 0 2 * * 0"), Run: job("verify", 30*time.Minute)},
				{Spec: mustParse(t, "CRON_TZ=UTC 0 3 * * 1"), Run: job("monday", 10*time.Minute)},
			},
			OnWait: func(_ time.Time, i int) { announced = append(announced, i) },
		}
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(3 * 24 * time.Hour)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v", err)
		}
		var got []string
		for _, r := range runs {
			got = append(got, r.job+" "+r.started.UTC().Format("Mon 15:04")+" (due "+r.planned.UTC().Format("15:04")+")")
		}
		want := []string{
			"export Sat 02:00 (due 02:00)",
			"export Sun 02:00 (due 02:00)",
			"verify Sun 03:30 (due 02:00)", // after the export, not skipped
			"export Mon 02:00 (due 02:00)",
			"monday Mon 03:30 (due 03:00)", // fell into the export
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("runs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if len(announced) == 0 || announced[0] != 0 {
			t.Errorf("announced jobs %v, want the export first", announced)
		}
	})
}

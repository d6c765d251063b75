// Command wbbench is the benchmark behind `make bench`. It builds
// werkstatt-backup, creates sample databases with package sample (the demo's
// generator), measures every target of SPEC 8 with the real binary, each
// beside a peer tool doing the same work in the same run and under the same
// conditions (interleaved, fresh directories, nothing deleted before a
// measured run), and writes the table to BENCHMARKS.md and stdout.
//
// Peers: cp -r + sync -f for a fresh export, rsync -rc for one with nothing
// changed, Python's json/hashlib/csv/sqlite3 doing the seed's verify and
// restore, rclone copy for SMB and S3. The SMB rows need root and smbd (Samba
// is started by the test harness, backends/smb/smbtest, on a free loopback
// port), the S3 rows versitygw (backends/s3/s3test); 10ms round trips come
// from internal/latency.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"werkstatt-backup/sample"
)

type bench struct {
	work    string // everything goes below here; removed at the end
	bin     string // the werkstatt-backup binary under test
	runs    int
	orders  int // the 10,000 of the targets
	big     int // the 100,000 of the memory target
	smbN    int // the 1,000 of the SMB targets
	s3N     int // the 10,000 of the S3 targets
	writerN int // the 300,000 of the writer-wait target
	pdfN    int // the 2,000 orders with PDFs of the PDF targets
	// memN, memBig: orders of the peak-memory rows; memRef the version
	// they compare with
	memN, memBig int
	memRef       string
	// ranWriter: the writer-wait rows were measured
	ranWriter bool
	ranPDFs   bool // the PDF rows were measured
	python    string
	rows      []row
	notes     []string
	heapNotes []string // where the memory lives (memory section)
	started   time.Time
	log       io.Writer

	loadStart  string      // load average when the run began
	loadEnd    string      // and when it ended
	restore10k measurement // the reference for the large restore

	repo        string          // the repository wbbench runs in (go test, git archive)
	only        map[string]bool // sections to run (nil: all)
	baselineRef string          // git ref of a version without history
}

// sections are what -only can pick, in the order they run.
var sections = []string{"local", "large", "smb", "s3", "pdfs", "writer", "history", "memory"}

// wants reports whether section runs.
func (b *bench) wants(section string) bool { return b.only == nil || b.only[section] }

func main() {
	out := flag.String("out", "BENCHMARKS.md", "where the Markdown table goes")
	work := flag.String("work", "", "working directory (default: a new one in $TMPDIR, removed at the end)")
	runs := flag.Int("runs", 5, "runs per measurement (the fastest is reported)")
	orders := flag.Int("orders", 10000, "orders of the local targets")
	big := flag.Int("big", 100000, "orders of the large restore (0: skip)")
	smbN := flag.Int("smb-orders", 1000, "orders of the SMB targets (0: skip)")
	s3N := flag.Int("s3-orders", 10000, "orders of the S3 targets (0: skip)")
	writerN := flag.Int("writer-orders", 300000, "orders of the writer-wait target (0: skip)")
	pdfN := flag.Int("pdf-orders", 2000, "orders with PDFs of 50–500 KB of the PDF targets (0: skip)")
	keep := flag.Bool("keep", false, "keep the working directory")
	bin := flag.String("bin", "", "measure this werkstatt-backup binary instead of building one (an older version, say)")
	only := flag.String("only", "", "run only these sections, comma-separated: "+strings.Join(sections, ", ")+" (default: all)")
	baseRef := flag.String("baseline-ref", "", "git ref of a version without history the history rows compare with (default: this tree built with -tags nohistory, the same export with the history switched off)")
	memN := flag.Int("memory-orders", 100000, "orders of the peak-memory rows (0: skip)")
	memBig := flag.Int("memory-big", 0, "orders of a second set of peak-memory rows, e.g. 1000000 (0: skip)")
	memRef := flag.String("memory-ref", "fcbb5c2", "git ref of the version before the memory work the memory rows compare with")
	flag.Parse()

	b := &bench{runs: max(*runs, 1), orders: *orders, big: *big, smbN: *smbN, s3N: *s3N, writerN: *writerN, pdfN: *pdfN, started: time.Now(), log: os.Stderr, loadStart: loadavg(), bin: *bin}
	var err error
	if b.work = *work; b.work == "" {
		b.work, err = os.MkdirTemp("", "wbbench-")
	} else {
		err = os.MkdirAll(b.work, 0o755)
	}
	if err != nil {
		fail(err)
	}
	if !*keep {
		defer os.RemoveAll(b.work)
	}
	b.baselineRef = *baseRef
	b.memN, b.memBig, b.memRef = *memN, *memBig, *memRef
	if b.repo, err = os.Getwd(); err != nil {
		fail(err)
	}
	if *only != "" {
		b.only = map[string]bool{}
		for _, s := range strings.Split(*only, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(sections, s) {
				fail(fmt.Errorf("-only: unbekannter Abschnitt %q (bekannt: %s)", s, strings.Join(sections, ", ")))
			}
			b.only[s] = true
		}
	}
	if err := b.run(); err != nil {
		if !*keep {
			os.RemoveAll(b.work)
		}
		fail(err)
	}
	b.loadEnd = loadavg()
	md := b.markdown()
	fmt.Print(md)
	if *out != "" {
		if b.only != nil {
			// Only some sections ran: their rows replace the same
			// sections' block in the file, the rest stays.
			md, err = mergeSection(*out, *only, md)
			if err != nil {
				fail(err)
			}
		}
		if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			fail(err)
		}
		b.logf("Tabelle geschrieben: %s", *out)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "wbbench:", err)
	os.Exit(1)
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "[%6.1fs] %s\n", time.Since(b.started).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) run() error {
	b.python, _ = exec.LookPath("python3")
	b.logf("Arbeitsverzeichnis %s", b.work)
	if b.bin == "" {
		b.bin = filepath.Join(b.work, "werkstatt-backup")
		build := exec.Command("go", "build", "-trimpath", "-o", b.bin, "./cmd/werkstatt-backup")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	} else if abs, err := filepath.Abs(b.bin); err == nil {
		b.bin = abs
	}
	for _, s := range []struct{ name, text string }{{"verify_peer.py", verifyPeer}, {"restore_peer.py", restorePeer}} {
		if err := os.WriteFile(filepath.Join(b.work, s.name), []byte(s.text), 0o644); err != nil {
			return err
		}
	}
	if b.wants("local") {
		if err := b.local(); err != nil {
			return err
		}
	}
	if b.big > 0 && b.wants("large") {
		if b.restore10k.d == 0 {
			return fmt.Errorf("-only large braucht local (der Restore von %d Aufträgen ist die Referenz)", b.orders)
		}
		if err := b.large(); err != nil {
			return err
		}
	}
	if b.smbN > 0 && b.wants("smb") {
		if err := b.smb(); err != nil {
			return err
		}
	}
	if b.s3N > 0 && b.wants("s3") {
		if err := b.s3(); err != nil {
			return err
		}
	}
	if b.pdfN > 0 && b.wants("pdfs") {
		b.ranPDFs = true
		if err := b.pdfs(); err != nil {
			return err
		}
	}
	if b.writerN > 0 && b.wants("writer") {
		if err := b.writerWait(); err != nil {
			return err
		}
	}
	if b.wants("history") {
		if err := b.history(b.baselineRef); err != nil {
			return err
		}
	}
	if b.wants("memory") {
		for _, n := range []int{b.memN, b.memBig} {
			if n > 0 {
				if err := b.memory(b.memRef, n); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// sampleDB writes a sample database of n orders (no PDFs: export needs only
// the rows) and returns its path.
func (b *bench) sampleDB(n int) (string, error) {
	p := filepath.Join(b.work, fmt.Sprintf("werkstatt-%d.db", n))
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	t := time.Now()
	err := sample.CreateDB(context.Background(), p, sample.Rows(n, 1))
	b.logf("Beispieldatenbank %d Aufträge: %s", n, since(t))
	return p, err
}

// measurement is one process run: its wall time and peak memory.
type measurement struct {
	d      time.Duration
	rss    int64         // peak resident set size in bytes (0: not measured)
	cpu    time.Duration // CPU time (user + system) of the process
	server time.Duration // CPU time of the SMB server during the run (SMB only)
}

// exec starts name with args in the working directory, with a clean
// environment plus env, and measures it; a failure is an error with the
// command's output.
//
// Peak memory is the process's VmHWM, read from /proc while it runs. The
// ru_maxrss of wait4 would not do: a child started from this (large)
// process counts the memory of the parent it was forked from.
func (b *bench) exec(env []string, name string, args ...string) (measurement, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = b.work
	cmd.Env = append(cleanEnv(), env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	t := time.Now()
	err := cmd.Start()
	if err != nil {
		return measurement{}, fmt.Errorf("%s: %w", name, err)
	}
	done := make(chan struct{})
	hwm := make(chan int64, 1)
	go func() { hwm <- watchHWM(cmd.Process.Pid, done) }()
	err = cmd.Wait()
	m := measurement{d: time.Since(t)}
	close(done)
	m.rss = <-hwm
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru != nil {
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(out.String(), 20))
	}
	return m, nil
}

// watchHWM reads the peak resident set (VmHWM) of pid every 10ms until done
// and returns the largest value seen, in bytes. VmHWM never decreases, so
// only growth in the last few milliseconds before exit can be missed.
func watchHWM(pid int, done <-chan struct{}) int64 {
	status := filepath.Join("/proc", strconv.Itoa(pid), "status")
	var peak int64
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if b, err := os.ReadFile(status); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
					peak = max(peak, kb*1024)
				}
			}
		}
		select {
		case <-done:
			return peak
		case <-t.C:
		}
	}
}

// wb runs the binary under test.
func (b *bench) wb(env []string, args ...string) (measurement, error) {
	args = append(args, "--quiet", "--log-file", filepath.Join(b.work, "backup_system.log"))
	return b.exec(env, b.bin, args...)
}

// sh runs a shell command line (for peers made of several tools).
func (b *bench) sh(env []string, line string) (measurement, error) {
	return b.exec(env, "sh", "-c", line)
}

// cleanEnv is the environment without ARCHIV_*, RCLONE_* and AWS_*
// settings of the caller, which would change what is measured (AWS_* are
// the S3 backend's fallback keys; AWS_CA_BUNDLE makes rclone's S3 backend
// refuse to start).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ARCHIV_") && !strings.HasPrefix(kv, "RCLONE_") && !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

// series measures ours and peer alternately, runs times each, and returns
// all measurements. ours and peer get the run number (1, 2, ...).
func (b *bench) series(runs int, ours, peer func(i int) (measurement, error)) (o, p []measurement, err error) {
	for i := 1; i <= runs; i++ {
		if ours != nil {
			m, err := ours(i)
			if err != nil {
				return nil, nil, err
			}
			o = append(o, m)
		}
		if peer != nil {
			m, err := peer(i)
			switch {
			case errors.Is(err, errSkip):
			case err != nil:
				return nil, nil, err
			default:
				p = append(p, m)
			}
		}
	}
	return o, p, nil
}

// best is the fastest run, with the peak memory of all runs. Other work
// on the machine only ever adds time, so the fastest run is the closest to
// what the program costs.
func best(ms []measurement) measurement {
	if len(ms) == 0 {
		return measurement{}
	}
	b := ms[0]
	for _, m := range ms[1:] {
		if m.d < b.d {
			b.d, b.cpu, b.server = m.d, m.cpu, m.server
		}
		b.rss = max(b.rss, m.rss)
	}
	return b
}

func since(t time.Time) string { return fmtDur(time.Since(t)) }

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func mkdir(p string) error { return os.MkdirAll(p, 0o755) }

// errSkip from a peer: not measured in this run (tool missing, or a slow
// peer measured once).
var errSkip = errors.New("übersprungen")

func goVersion() string { return runtime.Version() }

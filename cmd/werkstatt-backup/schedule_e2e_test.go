package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is the binary running in the background.
type proc struct {
	cmd         *exec.Cmd
	out, errb   *syncBuffer
	done        chan struct{}
	waitErr     error
	interrupted bool
}

// start runs the binary in dir without waiting, with a clean ARCHIV_*
// environment, and kills it when the test ends.
func start(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary, args...), out: &syncBuffer{}, errb: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ARCHIV_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errb
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// signal sends SIGTERM, as docker stop and systemctl stop do.
func (p *proc) term(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// wait returns the process's result once it has ended.
func (p *proc) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatalf("still running after a minute\nstdout:\n%s\nstderr:\n%s", p.out.String(), p.errb.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		code = ee.ExitCode()
	} else if p.waitErr != nil {
		t.Fatal(p.waitErr)
	}
	return result{code, p.out.String(), p.errb.String()}
}

// waitFor polls until cond holds or the process ends.
func (p *proc) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		select {
		case <-p.done:
			t.Fatalf("ended before %s\nstdout:\n%s\nstderr:\n%s", what, p.out.String(), p.errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within a minute", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func fileContains(path, s string) func() bool {
	return func() bool {
		b, _ := os.ReadFile(path)
		return bytes.Contains(b, []byte(s))
	}
}

func exists(path string) func() bool {
	return func() bool { _, err := os.Stat(path); return err == nil }
}

// TestScheduleIdleSIGTERM: a signal between two runs ends schedule at once
// with exit code 0.
func TestScheduleIdleSIGTERM(t *testing.T) {
	dir := workshop(t, 3)
	p := start(t, dir, "schedule", "--at", "0 2 * * *", "--", "export", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv")
	log := filepath.Join(dir, "backup_system.log")
	p.waitFor(t, "announcement of the next run", fileContains(log, "Zeitplan: nächster Lauf"))
	p.term(t)
	r := p.wait(t).expect(t, 0)
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
	for _, want := range []string{`INFO - Zeitplan gestartet: "0 2 * * *" → export --db test_archiv/werkstatt.db --archiv test_archiv`,
		"INFO - Zeitplan beendet (Signal), kein Lauf war aktiv"} {
		if !strings.Contains(r.stdout, want) || !fileContains(log, want)() {
			t.Errorf("stdout and log should contain %q\nstdout:\n%s", want, r.stdout)
		}
	}
}

// TestScheduleFires runs verify every second with the global flags given
// before "--", and checks two runs were made and recorded.
func TestScheduleFires(t *testing.T) {
	dir := workshop(t, 3)
	wb(t, dir, "export", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv").expect(t, 0)
	os.Remove(filepath.Join(dir, "backup_system.log"))
	p := start(t, dir, "--archiv", "test_archiv", "schedule", "--at", "@every 1s", "--", "verify", "--quiet")
	log := filepath.Join(dir, "backup_system.log")
	p.waitFor(t, "two runs", func() bool {
		b, _ := os.ReadFile(log)
		return bytes.Count(b, []byte("INFO - Zeitplan: --archiv=test_archiv verify --quiet: Verify abgeschlossen: 3 gültig, 0 Fehler")) >= 2
	})
	p.term(t)
	r := p.wait(t)
	if r.code != 0 && r.code != exitInterrupt { // idle or in a third run
		t.Fatalf("exit code %d\n%s", r.code, r.stderr)
	}
	b, _ := os.ReadFile(log)
	if n := bytes.Count(b, []byte("INFO - Verify abgeschlossen: 3 gültig, 0 Fehler")); n < 2 {
		t.Fatalf("%d verify runs in the log:\n%s", n, b)
	}
	wb(t, dir, "status", "--command", "verify").expect(t, 0)
}

// TestSIGTERMDuringLongExport sends SIGTERM to a long export, run directly
// and by schedule: the engine hands out no more records, finishes the ones
// it has begun, and the process ends with 130. No file is torn: verify
// passes at once, and the next export completes the archive.
func TestSIGTERMDuringLongExport(t *testing.T) {
	const orders = 300
	dir := workshop(t, orders)
	db, archive := filepath.Join("test_archiv", "werkstatt.db"), "test_archiv"
	for _, how := range []struct {
		name string
		args []string
	}{
		{"export", []string{"export", "--full", "--workers", "1", "--db", db, "--archiv", archive}},
		{"schedule", []string{"schedule", "--at", "0 2 * * *", "--run-now", "--", "export", "--full", "--workers", "1", "--db", db, "--archiv", archive}},
	} {
		t.Run(how.name, func(t *testing.T) {
			// Well into writing records: at the 50th temp file staged.
			fire, stop := crashWatch(t, filepath.Join(dir, archive), false, 50)
			defer stop()
			p := start(t, dir, how.args...)
			select {
			case <-fire:
			case <-p.done:
				t.Fatalf("ended before writing records\nstdout:\n%s\nstderr:\n%s", p.out.String(), p.errb.String())
			}
			p.term(t)
			r := p.wait(t).expect(t, exitInterrupt)
			if n := strings.Count(r.stderr, "abgebrochen (Signal)"); n != 1 {
				t.Errorf("%d interruption lines on stderr: %q", n, r.stderr)
			}
			if lockHeldIn(t, filepath.Join(dir, archive)) {
				t.Error("lock left behind")
			}
			// No torn file: every backup in the archive checks out. (The
			// local backend stages all pairs before renaming any: stopped
			// that early, the archive may hold no backup yet, which verify
			// reports with exit 1.)
			v := wb(t, dir, "verify", "--archiv", archive)
			if v.code == 1 && strings.Contains(v.stderr, "kein einziger Auftragsordner") {
				v.code = 0
			}
			v.expect(t, 0)
			if strings.Contains(v.stdout, "ERROR") {
				t.Fatalf("verify after the interruption:\n%s", v.stdout)
			}
			s := wb(t, dir, "status").expect(t, 1)
			if !strings.Contains(s.stdout, "Exit-Code 130: abgebrochen (Signal)") {
				t.Errorf("status: %q", s.stdout)
			}
			// The next export converges to a complete, clean archive.
			wb(t, dir, "export", "--db", db, "--archiv", archive).expect(t, 0)
			v = wb(t, dir, "verify", "--archiv", archive, "--db", db).expect(t, 0)
			if !strings.Contains(v.stdout, fmt.Sprintf("Verify abgeschlossen: %d gültig, 0 Fehler", orders)) || strings.Contains(v.stdout, "WARNING") {
				t.Fatalf("verify after the next export:\n%s", v.stdout)
			}
			wb(t, dir, "status").expect(t, 0)
		})
	}
}

func TestScheduleBadInvocations(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"no --at", []string{"schedule", "--", "export"}, "--at"},
		{"bad expression", []string{"schedule", "--at", "jede Nacht", "--", "export"}, "ungültiger Zeitplan"},
		{"never", []string{"schedule", "--at", "0 0 30 2 *", "--", "export"}, "trifft nie zu"},
		{"no command", []string{"schedule", "--at", "0 2 * * *"}, "nach -- fehlt der Befehl"},
		{"unknown command", []string{"schedule", "--at", "0 2 * * *", "--", "exprot"}, "exprot"},
		{"not schedulable", []string{"schedule", "--at", "0 2 * * *", "--", "schedule"}, "kann nicht geplant werden"},
		{"bad flag of the command", []string{"schedule", "--at", "0 2 * * *", "--", "export", "--nope"}, "--nope"},
		{"argument before --", []string{"schedule", "--at", "0 2 * * *", "export", "--", "--full"}, "vor --"},
		{"missing config file", []string{"schedule", "--config", "nix.json", "--at", "0 2 * * *", "--", "export"}, "nix.json"},
		{"missing config file after --", []string{"schedule", "--at", "0 2 * * *", "--", "export", "--config", "nix.json"}, "nix.json"},
		{"no archive", []string{"schedule", "--at", "0 2 * * *", "--", "verify"}, "archiv: nicht gesetzt"},
		{"no database", []string{"schedule", "--at", "0 2 * * *", "--", "export", "--archiv", "."}, "db: nicht gesetzt"},
		{"database missing", []string{"schedule", "--at", "0 2 * * *", "--", "export", "--archiv", ".", "--db", "fehlt.db"}, "db: Datenbank nicht gefunden: fehlt.db"},
		{"archive missing", []string{"schedule", "--at", "0 2 * * *", "--", "verify", "--archiv", "gibtsnicht"}, "archiv: "},
		{"unknown scheme", []string{"schedule", "--at", "0 2 * * *", "--", "verify", "--archiv", "ftp://nas/x"}, "ftp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := wb(t, dir, c.args...).expect(t, 2)
			if first := strings.SplitN(r.stderr, "\n", 2)[0]; !strings.Contains(first, c.msg) {
				t.Fatalf("stderr does not name %q: %q", c.msg, r.stderr)
			}
		})
	}
}

// TestScheduleLogsWhereTheCommandLogs: with the config named after "--",
// schedule's own lines go to that config's log file too, and nothing lands
// in the working directory.
func TestScheduleLogsWhereTheCommandLogs(t *testing.T) {
	dir := workshop(t, 3)
	cfg := filepath.Join(dir, "werkstatt.json")
	os.WriteFile(cfg, []byte(`{"db": "test_archiv/werkstatt.db", "archiv": "test_archiv", "log_file": "wb.log"}`), 0o644)
	cwd := t.TempDir()
	p := start(t, cwd, "schedule", "--at", "0 2 * * *", "--", "export", "--config", cfg)
	p.waitFor(t, "the announcement in the config's log", fileContains(filepath.Join(dir, "wb.log"), "Zeitplan: nächster Lauf"))
	p.term(t)
	p.wait(t).expect(t, 0)
	if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
		t.Errorf("files in the working directory: %v", entries)
	}
}

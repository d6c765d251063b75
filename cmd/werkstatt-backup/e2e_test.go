package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/lock"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
)

// binary is the werkstatt-backup built once for the end-to-end tests.
var binary string

// localCaps is what the local backend declares that the lock needs.
var localCaps = storage.Capabilities{AtomicRename: true, ExclusiveCreate: true}

// localArchive is fsys as a local archive (for a test that holds the lock).
func localArchive(fsys afero.Fs) *storage.Archive { return &storage.Archive{Fs: fsys, Caps: localCaps} }

// lockHeldIn reports whether the archive in the local folder dir holds a
// lock (a released record, which a compare-and-swap store keeps, is none).
func lockHeldIn(t *testing.T, dir string) bool {
	t.Helper()
	held, _, err := lock.Held(context.Background(), localArchive(afero.NewBasePathFs(afero.NewOsFs(), dir)))
	if err != nil {
		t.Fatalf("lock in %s: %v", dir, err)
	}
	return held
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wb-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "werkstatt-backup")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// wb runs the binary in dir with args and a clean ARCHIV_* environment.
func wb(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return startWB(t, dir, nil, args...)()
}

// wbEnv is wb with extra environment variables (KEY=value).
func wbEnv(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return startWB(t, dir, env, args...)()
}

// startWB starts the binary in dir with args, a clean ARCHIV_* environment
// plus env, and returns a function that waits for it (2 minutes at most).
func startWB(t *testing.T, dir string, env []string, args ...string) func() result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ARCHIV_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	return func() result {
		t.Helper()
		defer cancel()
		err := cmd.Wait()
		var ee *exec.ExitError
		code := 0
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return result{code, out.String(), errb.String()}
	}
}

func (r result) expect(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
		t.Fatalf("stack trace reached the user:\n%s", r.stderr)
	}
	return r
}

// workshop lays out the seed's test_archiv: werkstatt.db and the PDFs.
func workshop(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	rows := sample.Rows(n, 42)
	for _, r := range rows {
		r[9] = strings.Replace(r[9], "archiv/", "test_archiv/", 1)
	}
	osfs := afero.NewBasePathFs(afero.NewOsFs(), dir)
	for _, r := range rows {
		if err := osfs.MkdirAll(filepath.Dir(r[9]), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := afero.WriteFile(osfs, r[9], sample.PDF(r[1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := sample.CreateDB(context.Background(), filepath.Join(dir, "test_archiv", "werkstatt.db"), rows); err != nil {
		t.Fatal(err)
	}
	return dir
}

var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - [\w.-]+ - (DEBUG|INFO|WARNING|ERROR) - .+$`)

func TestSeedCycleThroughTheBinary(t *testing.T) {
	dir := workshop(t, 40)
	seed := []string{"--db", "./test_archiv/werkstatt.db", "--archiv", "./test_archiv"}

	r := wb(t, dir, append([]string{"export"}, seed...)...).expect(t, 0)
	if !strings.Contains(r.stdout, "Export abgeschlossen: 40 erfolgreich, 0 Fehler") {
		t.Fatalf("stdout: %s", r.stdout)
	}
	r = wb(t, dir, append([]string{"export", "--json"}, seed...)...).expect(t, 0)
	var rep struct {
		Command   string `json:"command"`
		Unchanged int    `json:"unchanged"`
		Errors    int    `json:"errors"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Command != "export" || rep.Unchanged != 40 {
		t.Fatalf("--json: %v %+v\n%s", err, rep, r.stdout)
	}

	wb(t, dir, "verify", "--archiv", "./test_archiv").expect(t, 0)
	wb(t, dir, append([]string{"verify"}, seed...)...).expect(t, 0)

	// Damage one backup: verify names it and exits 3.
	csvs, _ := filepath.Glob(filepath.Join(dir, "test_archiv", "*", "*", "data.csv"))
	victim := csvs[0]
	data, _ := os.ReadFile(victim)
	os.WriteFile(victim, bytes.Replace(data, []byte(","), []byte(";"), 1), 0o644)
	rel, _ := filepath.Rel(filepath.Join(dir, "test_archiv"), victim)
	r = wb(t, dir, "verify", "--archiv", "./test_archiv").expect(t, 3)
	if !strings.Contains(r.stdout, "ERROR - "+rel+": Checksumme ungültig") || !strings.Contains(r.stdout, "Verify abgeschlossen: 39 gültig, 1 Fehler") {
		t.Fatalf("verify output:\n%s", r.stdout)
	}
	// A strict restore refuses and creates nothing.
	r = wb(t, dir, "restore", "--db", "./neu.db", "--archiv", "./test_archiv").expect(t, 3)
	if _, err := os.Stat(filepath.Join(dir, "neu.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("aborted restore created the database")
	}
	// The next export repairs it.
	wb(t, dir, append([]string{"export"}, seed...)...).expect(t, 0)
	wb(t, dir, "verify", "--archiv", "./test_archiv").expect(t, 0)

	r = wb(t, dir, "restore", "--db", "./neu.db", "--archiv", "./test_archiv").expect(t, 0)
	if !strings.Contains(r.stdout, "Restore abgeschlossen: 40 Datensätze wiederhergestellt, 0 Fehler") {
		t.Fatalf("restore: %s", r.stdout)
	}
	// A second restore over the filled table needs --force and keeps a copy.
	r = wb(t, dir, "restore", "--db", "./neu.db", "--archiv", "./test_archiv").expect(t, 1)
	if !strings.Contains(r.stderr, "--force") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("stderr: %q", r.stderr)
	}
	wb(t, dir, "restore", "--db", "./neu.db", "--archiv", "./test_archiv", "--force").expect(t, 0)
	if m, _ := filepath.Glob(filepath.Join(dir, "neu.db.bak-*")); len(m) != 1 {
		t.Fatalf("backup copies: %v", m)
	}
	// The restored database matches the original row for row.
	wb(t, dir, "verify", "--archiv", "./test_archiv", "--db", "./neu.db").expect(t, 0)

	log, err := os.ReadFile(filepath.Join(dir, "backup_system.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		if !logLine.MatchString(l) {
			t.Fatalf("log line not in the seed's format: %q", l)
		}
	}
	for _, want := range []string{"INFO - Export abgeschlossen: 40 erfolgreich, 0 Fehler", "ERROR - " + rel + ": Checksumme ungültig"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

func TestBadInvocations(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown flag", []string{"export", "--nope"}, 2, "--nope"},
		{"unknown command", []string{"exprot"}, 2, "exprot"},
		{"stray argument", []string{"verify", "extra"}, 2, "extra"},
		{"no archive", []string{"verify"}, 2, "archiv"},
		{"no database", []string{"export", "--archiv", "."}, 2, "db"},
		{"missing database", []string{"export", "--archiv", ".", "--db", "fehlt.db"}, 1, "fehlt.db"},
		{"missing archive", []string{"verify", "--archiv", "./gibtsnicht"}, 1, "gibtsnicht"},
		{"bad lock timeout", []string{"verify", "--archiv", ".", "--lock-timeout", "bald"}, 2, "lock-timeout"},
		{"unknown archive scheme", []string{"verify", "--archiv", "ftp://x/y"}, 2, "ftp"},
		{"smb URL with one slash", []string{"verify", "--archiv", "smb:/nas/archiv"}, 2, `nach "smb:" fehlt ein Schrägstrich`},
		{"missing config file", []string{"verify", "--config", "nix.json"}, 2, "nix.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := wb(t, dir, c.args...).expect(t, c.code)
			first := strings.SplitN(strings.TrimSpace(r.stderr), "\n", 2)[0]
			if !strings.Contains(first, c.msg) {
				t.Fatalf("stderr does not name %q: %q", c.msg, r.stderr)
			}
		})
	}
	r := wb(t, dir, "--help").expect(t, 0)
	for _, want := range []string{"Exit-Codes", "export", "verify", "restore", "130"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

func TestLockContentionBetweenProcesses(t *testing.T) {
	dir := workshop(t, 5)
	archive := afero.NewBasePathFs(afero.NewOsFs(), filepath.Join(dir, "test_archiv"))
	// Refreshed every 50ms, so that waiters see it change (a live holder)
	// long before their --lock-timeout ends.
	held, err := lock.AcquireLock(context.Background(), localArchive(archive), lock.LockOptions{Operation: "restore", Version: "test", Refresh: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := wb(t, dir, "export", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv", "--lock-timeout", "700ms").expect(t, 4)
	if waited := time.Since(start); waited < 700*time.Millisecond {
		t.Fatalf("gave up after %v, before --lock-timeout", waited)
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(r.stderr, "restore") {
		t.Fatalf("lock error does not name the holder: %q", r.stderr)
	}
	// unlock watches a live lock, sees it refreshed and leaves it, pointing
	// to --remove-all.
	r = wb(t, dir, "unlock", "--archiv", "test_archiv").expect(t, 4)
	if !strings.Contains(r.stderr, "wird 3m0s lang beobachtet") || !strings.Contains(r.stderr, "ein Lauf ist aktiv. Nur wenn sicher kein Lauf mehr auf dieses Archiv schreibt: unlock --remove-all") {
		t.Fatalf("unlock of a live lock: %q", r.stderr)
	}
	// Once released, the export runs.
	held.Release()
	wb(t, dir, "export", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv").expect(t, 0)
}

func TestStaleLockIsTakenOver(t *testing.T) {
	dir := workshop(t, 3)
	// A lock of a process on this host that no longer exists.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	me := lock.LocalIdentity()
	if me.MachineID == "" || me.BootID == "" || me.PidNS == "" {
		t.Skip("this OS does not say which machine, boot and pid namespace a process runs in")
	}
	now := time.Now()
	info := lock.LockInfo{PID: dead.Process.Pid, Host: me.Host, MachineID: me.MachineID, BootID: me.BootID, PidNS: me.PidNS,
		Operation: "export", Created: now, Refreshed: now, Token: "x"}
	b, _ := json.Marshal(info)
	os.WriteFile(filepath.Join(dir, "test_archiv", lock.LockFileName), b, 0o644)

	wb(t, dir, "export", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv", "--lock-timeout", "0s").expect(t, 0)
	log, _ := os.ReadFile(filepath.Join(dir, "backup_system.log"))
	if !strings.Contains(string(log), "WARNING - Veralteten Lock übernommen") {
		t.Fatalf("takeover not logged:\n%s", log)
	}
	// unlock of a stale lock works, of none says so.
	os.WriteFile(filepath.Join(dir, "test_archiv", lock.LockFileName), b, 0o644)
	r := wb(t, dir, "unlock", "--archiv", "test_archiv").expect(t, 0)
	if !strings.Contains(r.stdout, "Lock entfernt") {
		t.Fatal(r.stdout)
	}
	r = wb(t, dir, "unlock", "--archiv", "test_archiv").expect(t, 0)
	if !strings.Contains(r.stdout, "Kein Lock") {
		t.Fatal(r.stdout)
	}
}

func TestDemo(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo")
	r := wb(t, t.TempDir(), "demo", "--orders", "30", "--out", out).expect(t, 0)
	for _, want := range []string{"Export abgeschlossen: 30 erfolgreich, 0 Fehler", "Verify abgeschlossen: 30 gültig, 0 Fehler",
		"Restore abgeschlossen: 30 Datensätze wiederhergestellt, 0 Fehler", "30 von 30"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	// A non-empty --out is refused.
	wb(t, t.TempDir(), "demo", "--out", out).expect(t, 2)
}

func TestConfigFileAndEnvironment(t *testing.T) {
	dir := workshop(t, 4)
	os.WriteFile(filepath.Join(dir, ".archiv_config.json"),
		[]byte(`{"db": "./test_archiv/werkstatt.db", "archiv": "./test_archiv", "log_file": "backup_system.log", "lock_timeout": "30s", "workers": 8}`), 0o644)
	r := wb(t, dir, "export", "--config", ".archiv_config.json").expect(t, 0)
	if !strings.Contains(r.stdout, "4 erfolgreich") {
		t.Fatal(r.stdout)
	}
	// Found without --config too, from any working directory when named.
	wb(t, dir, "verify").expect(t, 0)
	wb(t, t.TempDir(), "verify", "--config", filepath.Join(dir, ".archiv_config.json")).expect(t, 0)

	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"archiv": "./test_archiv", "wokers": 3}`), 0o644)
	r = wb(t, dir, "verify", "--config", "bad.json").expect(t, 2)
	if !strings.Contains(r.stderr, "wokers") || !strings.Contains(r.stderr, "bad.json") {
		t.Fatal(r.stderr)
	}
}

func TestVerifyWithDBFromConfig(t *testing.T) {
	dir := workshop(t, 3)
	os.WriteFile(filepath.Join(dir, ".archiv_config.json"), []byte(`{"db": "test_archiv/werkstatt.db", "archiv": "test_archiv"}`), 0o644)
	wb(t, dir, "export").expect(t, 0)
	csvs, _ := filepath.Glob(filepath.Join(dir, "test_archiv", "*", "*", "data.csv"))
	os.RemoveAll(filepath.Dir(csvs[0]))
	wb(t, dir, "verify").expect(t, 0) // the archive alone is fine
	r := wb(t, dir, "verify", "--with-db").expect(t, 3)
	if !strings.Contains(r.stdout, "fehlt im Archiv") {
		t.Fatal(r.stdout)
	}
}

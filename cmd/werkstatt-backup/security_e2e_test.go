package main

import (
	"bytes"
	"context"
	"fmt"
	iofs "io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"werkstatt-backup/sample"
	"werkstatt-backup/store"
)

// secSecret is the password of the security tests; it must never show.
const secSecret = "Geheim-Kw31-xyz"

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestNoSecretInAnyOutput runs every command with the SMB password given in
// each supported way (environment, password file, URL) and in ways that
// are refused (an unknown scheme, a file or mem URL with a password), in
// plain, --json and --verbose output, against a server that is not there.
// The password shows in no output, no log file and no other file written.
func TestNoSecretInAnyOutput(t *testing.T) {
	dir := workshop(t, 3)
	port := closedPort(t)
	if err := os.WriteFile(filepath.Join(dir, "smb.pass"), []byte(secSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host := fmt.Sprintf("127.0.0.1:%d", port)
	ways := []struct {
		name string
		env  []string
		args []string
	}{
		{"env", []string{"ARCHIV_SMB_PASSWORD=" + secSecret}, []string{"--archiv", "smb://backup@" + host + "/archiv"}},
		{"password file", nil, []string{"--archiv", "smb://backup@" + host + "/archiv", "--smb-password-file", "smb.pass"}},
		{"URL", nil, []string{"--archiv", "smb://WERK;backup:" + secSecret + "@" + host + "/archiv/sub"}},
		{"URL from env", []string{"ARCHIV_ARCHIV=smb://backup:" + secSecret + "@" + host + "/archiv"}, nil},
		{"unknown scheme", nil, []string{"--archiv", "ftp://backup:" + secSecret + "@" + host + "/archiv"}},
		{"file URL", nil, []string{"--archiv", "file://backup:" + secSecret + "@" + host + "/archiv"}},
		{"mem URL", nil, []string{"--archiv", "mem://backup:" + secSecret + "@x"}},
		{"bad port", nil, []string{"--archiv", "smb://backup:" + secSecret + "@127.0.0.1:99999/archiv"}},
	}
	commands := [][]string{
		{"export"}, {"export", "--json"}, {"export", "--verbose"}, {"verify"}, {"verify", "--json"},
		{"restore", "--dry-run"}, {"migrate"}, {"unlock"}, {"config", "show"}, {"config", "show", "--sources"},
	}
	runs := 0
	for _, w := range ways {
		for _, c := range commands {
			args := append(slices.Clone(c), w.args...)
			args = append(args, "--db", "test_archiv/werkstatt.db", "--lock-timeout", "1s")
			r := wbEnv(t, dir, w.env, args...)
			runs++
			if strings.Contains(r.stdout+r.stderr, secSecret) {
				t.Errorf("%s, %v: the password shows:\n%s%s", w.name, c, r.stdout, r.stderr)
			}
			if strings.Contains(r.stderr, "goroutine ") {
				t.Fatalf("%s, %v: stack trace:\n%s", w.name, c, r.stderr)
			}
		}
	}
	// Nothing the runs wrote holds it either (the password file aside).
	err := filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "smb.pass" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), secSecret) {
			t.Errorf("%s holds the password", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "backup_system.log")); len(log) == 0 {
		t.Fatal("the runs logged nothing: the check above proves nothing")
	}
	t.Logf("%d runs", runs)
}

// checkModes fails for a file with more rights than 0644 or a folder with
// more than 0755 below root.
func checkModes(t *testing.T, root string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		perm, limit := fi.Mode().Perm(), os.FileMode(0o644)
		if fi.IsDir() {
			limit = 0o755
		}
		if perm&^limit != 0 {
			t.Errorf("%s: mode %v, want %v or stricter", p, perm, limit)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCreatedFilesHaveSafeModes runs export, restore (with a copy of the old
// database) and a killed export under umask 000, so that only the modes the
// program asks for count: every file is 0644 or stricter, every folder
// 0755 or stricter (archive, lock, temp files, log, database, copy).
func TestCreatedFilesHaveSafeModes(t *testing.T) {
	dir := workshop(t, 30)
	archive := filepath.Join(dir, "archiv")
	if err := os.Mkdir(archive, 0o755); err != nil {
		t.Fatal(err)
	}
	umask0 := func(args ...string) *exec.Cmd {
		sh := "umask 000; exec \"$0\" \"$@\""
		cmd := exec.Command("sh", append([]string{"-c", sh, binary}, args...)...)
		cmd.Dir = dir
		return cmd
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := umask0(args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	db := filepath.Join(dir, "test_archiv", "werkstatt.db")
	run("export", "--db", db, "--archiv", archive, "--log-file", "logs.log")
	run("restore", "--db", filepath.Join(dir, "neu.db"), "--archiv", archive, "--log-file", "logs.log")
	run("restore", "--db", filepath.Join(dir, "neu.db"), "--archiv", archive, "--force", "--log-file", "logs.log")

	// A killed export leaves its lock and temp files: their modes count too.
	// Its 400 orders are first exported whole, then every row changes: the
	// killed export stages its temp files in folders that exist before the
	// watch starts (a folder made during the run may fill before its watch
	// is added, and a fast export could end unseen).
	gross := filepath.Join(dir, "gross.db")
	if err := sample.CreateDB(context.Background(), gross, sample.Rows(400, 3)); err != nil {
		t.Fatal(err)
	}
	run("export", "--db", "gross.db", "--archiv", archive, "--log-file", "logs.log", "--allow-mass-change")
	w, err := store.OpenWrite(context.Background(), gross)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Exec(context.Background(), "UPDATE auftraege SET kunde_name = kunde_name || ' (geändert)'"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	fire, stop := crashWatch(t, archive, false, 50)
	cmd := umask0("export", "--db", "gross.db", "--archiv", archive, "--log-file", "logs.log", "--allow-mass-change")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	select {
	case <-fire:
	case err := <-ended:
		stop()
		t.Fatalf("export ended (%v) before its 50th temp file:\n%s", err, out.String())
	case <-time.After(5 * time.Minute): // a safety net only: a busy machine is slow, not stuck
		t.Fatal("export wrote no temp files")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-ended
	stop()
	if _, err := os.Stat(filepath.Join(archive, ".backup.lock")); err != nil {
		t.Fatalf("no lock left to check: %v", err)
	}
	n := checkModes(t, dir)
	for _, want := range []string{"logs.log", "neu.db", "archiv/.backup.lock"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("%s was not created: %v", want, err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "neu.db.bak-*")); len(m) != 1 {
		t.Errorf("copies of the old database: %v", m)
	}
	t.Logf("%d files and folders checked", n)
}

// TestDataCannotWriteOutsideTheArchive exports rows whose file_path and
// auftrag_nr try to climb out of the archive (and absolute paths, drive
// letters, backslashes that are fine as data): nothing is written outside
// the archive, the hostile rows are refused by name, the rest is exported
// into folders built from digits.
func TestDataCannotWriteOutsideTheArchive(t *testing.T) {
	root := t.TempDir()
	archive := filepath.Join(root, "a", "b", "archiv")
	if err := os.MkdirAll(archive, 0o755); err != nil {
		t.Fatal(err)
	}
	rows := sample.Rows(7, 5)
	rows[0][9] = "../../../../tmp/evil/2024/076329/x.pdf"
	rows[1][1] = "../../x"
	rows[2][9] = `..\..\..\evil\2024\` + rows[2][1] + `\x.pdf`
	rows[3][9] = "/srv/anderswo/2023/" + rows[3][1] + "/x.pdf" // valid: folder 2023/<nr>
	rows[4][9] = `C:\Werkstatt\Archiv\2022\` + rows[4][1] + `\x.pdf`
	rows[5][1] = "../evil"
	rows[5][9] = "test_archiv/2024/../evil/x.pdf"
	rows[6][2] = "../../../../etc/passwd" // just a customer name
	db := filepath.Join(root, "db", "werkstatt.db")
	if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := sample.CreateDB(context.Background(), db, rows); err != nil {
		t.Fatal(err)
	}
	before := map[string]bool{}
	filepath.WalkDir(root, func(p string, d iofs.DirEntry, err error) error {
		before[p] = true
		return nil
	})
	_, evilBefore := os.Stat("/tmp/evil")

	r := wb(t, root, "export", "--db", db, "--archiv", archive, "--log-file", "x.log").expect(t, 3)
	// Every row is protected (SPEC 2.1): the bad paths and numbers are
	// warnings, rows without an order folder go to _ohne_ordner/<record_id>.
	for _, want := range []string{"file_path", "auftrag_nr", "_ohne_ordner/" + rows[1][0], "_ohne_ordner/" + rows[5][0], "Export abgeschlossen: 7 erfolgreich, 0 Fehler"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	filepath.WalkDir(root, func(p string, d iofs.DirEntry, err error) error {
		// Besides the archive only the log and the status of the last run
		// (both in the working directory, by design) may appear.
		if !before[p] && !strings.HasPrefix(p, archive+string(filepath.Separator)) &&
			p != filepath.Join(root, "x.log") && p != filepath.Join(root, "last_run.json") {
			t.Errorf("written outside the archive: %s", p)
		}
		return nil
	})
	if _, err := os.Stat("/tmp/evil"); err == nil && evilBefore != nil {
		t.Error("/tmp/evil was created")
	}
	for _, folder := range []string{"2023/" + rows[3][1], "2022/" + rows[4][1]} {
		if _, err := os.Stat(filepath.Join(archive, folder, "data.csv")); err != nil {
			t.Errorf("%s: %v", folder, err)
		}
	}
	// The archive holds all seven records, and restores them.
	wb(t, root, "verify", "--archiv", archive).expect(t, 0)
	r = wb(t, root, "restore", "--archiv", archive, "--db", filepath.Join(root, "neu.db"), "--log-file", "x.log").expect(t, 0)
	if !strings.Contains(r.stdout, "7 Datensätze wiederhergestellt") {
		t.Fatal(r.stdout)
	}
}

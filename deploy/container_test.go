// Package deploy_test builds the container image with `make image` and runs
// it, as an admin would with docker or podman.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/version"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/smb/smbtest"
	"werkstatt-backup/sample"
)

// uid is the image's user.
const uid = 65532

// TestDockerfileGoVersion: the Dockerfile's Go base image pins a full
// version (golang:1.26.8, not a moving golang:1.26) that go.mod accepts.
func TestDockerfileGoVersion(t *testing.T) {
	df, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	base := regexp.MustCompile(`(?m)^FROM golang:(\S+?)(-\S+)? `).FindSubmatch(df)
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if base == nil || goLine == nil {
		t.Fatalf("no FROM golang:… in the Dockerfile or no go line in go.mod")
	}
	img, need := "go"+string(base[1]), "go"+string(goLine[1])
	if strings.Count(img, ".") != 2 || !version.IsValid(img) {
		t.Fatalf("Dockerfile: golang:%s is no pinned version (x.y.z)", base[1])
	}
	if version.Compare(img, need) < 0 {
		t.Fatalf("Dockerfile: golang:%s is older than go.mod's go %s", base[1], goLine[1])
	}
}

// TestContainerfileMatchesDockerfile: the image `make image` builds
// (deploy/Containerfile) and the Dockerfile's last stage say the same from
// USER on: user, working directory, environment, volume, entry point and
// default command.
func TestContainerfileMatchesDockerfile(t *testing.T) {
	tail := func(path string) []string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		in := false
		for l := range strings.Lines(string(b)) {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "FROM ") {
				in, lines = false, nil // only the last stage counts
			}
			if strings.HasPrefix(l, "USER ") {
				in = true
			}
			if in && l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		return lines
	}
	df, cf := tail("../Dockerfile"), tail("Containerfile")
	if len(df) == 0 || !slices.Equal(df, cf) {
		t.Fatalf("last stage from USER on differs:\nDockerfile:\n%s\nContainerfile:\n%s", strings.Join(df, "\n"), strings.Join(cf, "\n"))
	}
}

// podman finds podman, or skips (fails with ARCHIV_REQUIRE_PODMAN=1). The
// runs need root: the test hands the mounted folders to the image's user.
func podman(t *testing.T) string {
	t.Helper()
	why := ""
	p, err := exec.LookPath("podman")
	switch {
	case os.Getenv("ARCHIV_PODMAN_TESTS") == "0":
		t.Skip("Container-Test abgeschaltet (ARCHIV_PODMAN_TESTS=0)")
	case err != nil:
		why = "podman fehlt (als root: apt-get install -y podman runc, oder make test)"
	case os.Getuid() != 0:
		why = "der Container-Test braucht root (er übergibt die eingebundenen Ordner dem Benutzer 65532 des Images)"
	}
	if why != "" {
		if os.Getenv("ARCHIV_REQUIRE_PODMAN") == "1" {
			t.Fatal(why)
		}
		t.Skip("Container-Test übersprungen: " + why)
	}
	return p
}

// engine is how podman runs containers on this machine: global options
// (the runtime) and options of `run` (limits).
type engine struct {
	bin         string
	global, run []string
}

func (e engine) cmd(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, e.bin, slices.Concat(e.global, args)...)
}

// runArgs are the arguments of `podman run` for image with the mounts and
// environment given, then the command line.
func (e engine) runArgs(image string, opts []string, line ...string) []string {
	return slices.Concat([]string{"run", "--network=host"}, e.run, opts, []string{image}, line)
}

// probe finds options under which podman can start the image here. As
// root podman raises the limits of open files and processes to values
// that need CAP_SYS_RESOURCE (absent in some sandboxes), and crun refuses
// a hybrid cgroup hierarchy that runc accepts: each fallback keeps this
// process's own limits, then uses runc if installed.
func probe(t *testing.T, bin, image string) engine {
	t.Helper()
	var nofile syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile); err != nil {
		t.Fatal(err)
	}
	limits := []string{"--ulimit", fmt.Sprintf("nofile=%d:%d", nofile.Cur, nofile.Max), "--ulimit", "nproc=4096:4096"}
	tries := []engine{{bin: bin}, {bin: bin, run: limits}}
	if runc, err := exec.LookPath("runc"); err == nil {
		tries = append(tries, engine{bin: bin, global: []string{"--runtime", runc}, run: limits})
	}
	var failures []string
	for _, e := range tries {
		out, err := e.cmd(t.Context(), e.runArgs(image, []string{"--rm"}, "version")...).CombinedOutput()
		if err == nil && bytes.HasPrefix(out, []byte("werkstatt-backup ")) {
			t.Logf("podman %s: %s", strings.Join(slices.Concat(e.global, []string{"run"}, e.run), " "), bytes.TrimSpace(out))
			return e
		}
		failures = append(failures, fmt.Sprintf("%v %v: %v %s", e.global, e.run, err, bytes.TrimSpace(out)))
	}
	t.Fatalf("podman startet das Image nicht:\n%s", strings.Join(failures, "\n"))
	return engine{}
}

// workshop lays out a workshop in dir: test_archiv/werkstatt.db with n
// orders and their PDFs, all owned by the image's user.
func workshop(t *testing.T, dir string, n int) {
	t.Helper()
	rows := sample.Rows(n, 7)
	fsys := afero.NewBasePathFs(afero.NewOsFs(), dir)
	for _, r := range rows {
		r[9] = strings.Replace(r[9], "archiv/", "test_archiv/", 1)
		if err := fsys.MkdirAll(filepath.Dir(r[9]), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := afero.WriteFile(fsys, r[9], sample.PDF(r[1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := sample.CreateDB(context.Background(), filepath.Join(dir, "test_archiv", "werkstatt.db"), rows); err != nil {
		t.Fatal(err)
	}
	chownAll(t, dir)
}

func chownAll(t *testing.T, dir string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs podman with args and returns its exit code (the container's,
// for `podman run`) and output.
func (e engine) exec(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // also in Cleanup
	defer cancel()
	c := e.cmd(ctx, args...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("podman %s: %v", strings.Join(args, " "), err)
	}
	return result{code, out.String(), errb.String()}
}

func (r result) expect(t *testing.T, code int, want ...string) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Fatalf("stdout lacks %q:\n%s\nstderr:\n%s", w, r.stdout, r.stderr)
		}
	}
	return r
}

// waitForFile waits until the file holds s (two minutes at most).
func waitForFile(t *testing.T, path, s string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(s)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %q within two minutes:\n%s", path, s, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// schedule runs `schedule` detached with line, waits until its log file
// (on the host) announces the next date after the runs, stops it as
// `docker stop` does and returns its exit code and its container log.
func (e engine) schedule(t *testing.T, image, logFile string, opts []string, line ...string) (int, []string) {
	t.Helper()
	name := fmt.Sprintf("wb-schedule-%d-%d", os.Getpid(), time.Now().UnixNano())
	e.exec(t, e.runArgs(image, slices.Concat([]string{"-d", "--name", name}, opts), line...)...).expect(t, 0)
	t.Cleanup(func() { e.exec(t, "rm", "-f", name) })
	waitForFile(t, logFile, "Zeitplan: nächster Lauf")
	e.exec(t, "stop", "-t", "60", name).expect(t, 0)
	code := e.exec(t, "inspect", "--format", "{{.State.ExitCode}}", name).expect(t, 0)
	logs := e.exec(t, "logs", name).expect(t, 0)
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(logs.stdout + logs.stderr))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	n := 0
	fmt.Sscan(code.stdout, &n)
	return n, lines
}

// runLines are schedule's lines about runs: all but its start, its first
// announcement and its end.
func runLines(lines []string) []string {
	var out []string
	for _, l := range lines {
		if l == "" || strings.Contains(l, "Zeitplan gestartet:") || strings.Contains(l, "Zeitplan: nächster Lauf") || strings.Contains(l, "Zeitplan beendet") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestContainer builds the image with `make image` (FROM scratch, from this
// machine's files, no registry) and runs export, verify and schedule in it
// against a mounted archive and a Samba share, as the image's user 65532.
func TestContainer(t *testing.T) {
	bin := podman(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("werkstatt-backup-test-%d", os.Getpid())
	image := "localhost/" + name + ":test"
	started := time.Now()
	mk := exec.Command("make", "-C", root, "--no-print-directory", "image", "IMAGE="+name, "VERSION=test", "CONTAINER="+bin, "IMAGE_DIR="+t.TempDir())
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	t.Logf("make image: %s", time.Since(started).Round(time.Millisecond))
	t.Cleanup(func() { exec.Command(bin, "rmi", "-f", image, "localhost/"+name+":latest").Run() })
	e := probe(t, bin, image)
	if u := e.exec(t, "image", "inspect", "--format", "{{.Config.User}}", image).expect(t, 0); strings.TrimSpace(u.stdout) != "65532:65532" {
		t.Fatalf("image user %q, want 65532:65532", u.stdout)
	}

	// The two runs share nothing but the image: each waits mostly on
	// podman, so they wait at the same time.
	t.Run("mounted archive", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		workshop(t, dir, 20)
		mount := []string{"--rm", "-v", dir + ":/srv/werkstatt"}
		paths := []string{"--db", "/srv/werkstatt/test_archiv/werkstatt.db", "--archiv", "/srv/werkstatt/test_archiv", "--log-file", "/srv/werkstatt/backup_system.log"}
		runStarted := time.Now()
		e.exec(t, e.runArgs(image, mount, append([]string{"export"}, paths...)...)...).expect(t, 0, "Export abgeschlossen: 20 erfolgreich, 0 Fehler")
		t.Logf("export of 20 orders in the container: %s", time.Since(runStarted).Round(time.Millisecond))
		csvs, _ := filepath.Glob(filepath.Join(dir, "test_archiv", "*", "*", "data.csv"))
		if len(csvs) != 20 {
			t.Fatalf("%d data.csv on the host, want 20", len(csvs))
		}
		if fi, err := os.Stat(csvs[0]); err != nil || fi.Sys().(*syscall.Stat_t).Uid != uid {
			t.Fatalf("%s: not written by uid %d (%v)", csvs[0], uid, err)
		}
		e.exec(t, e.runArgs(image, mount, append([]string{"verify"}, paths...)...)...).expect(t, 0, "Verify abgeschlossen: 20 gültig, 0 Fehler")

		// A damaged backup: verify's exit code 3 reaches the host.
		data, _ := os.ReadFile(csvs[0])
		os.WriteFile(csvs[0], bytes.Replace(data, []byte(","), []byte(";"), 1), 0o644)
		e.exec(t, e.runArgs(image, mount, append([]string{"verify"}, paths...)...)...).expect(t, 3, "Checksumme ungültig", "Verify abgeschlossen: 19 gültig, ")

		// schedule with the image's default config path and the jobs of
		// zeitplan: the export repairs the backup, the verify after it
		// finds it valid; one line per run in the container's log.
		cfg := filepath.Join(dir, "config.json")
		os.WriteFile(cfg, []byte(`{
  "db": "/srv/werkstatt/test_archiv/werkstatt.db",
  "archiv": "/srv/werkstatt/test_archiv",
  "log_file": "/srv/werkstatt/backup_system.log",
  "zeitplan": [
    {"befehl": "export", "zeit": "0 2 * * *"},
    {"befehl": "verify --with-db", "zeit": "0 3 * * 0"}
  ]
}`), 0o644)
		chownAll(t, dir)
		opts := []string{"-v", dir + ":/srv/werkstatt", "-v", cfg + ":/etc/werkstatt-backup/config.json:ro"}
		code, lines := e.schedule(t, image, filepath.Join(dir, "backup_system.log"), opts, "schedule", "--run-now")
		if code != 0 {
			t.Fatalf("schedule ended with %d:\n%s", code, strings.Join(lines, "\n"))
		}
		runs := runLines(lines)
		want := []string{
			"INFO - Zeitplan: export: Export abgeschlossen: 20 erfolgreich, 0 Fehler, 1 Sicherung repariert (Exit-Code 0 nach ",
			"INFO - Zeitplan: verify --with-db: Verify abgeschlossen: 20 gültig, 0 Fehler ",
		}
		if len(runs) != len(want) {
			t.Fatalf("container log, %d lines about runs, want one per run:\n%s", len(runs), strings.Join(lines, "\n"))
		}
		for i := range want {
			if !strings.Contains(runs[i], want[i]) {
				t.Errorf("line %d: %q, want …%q…", i, runs[i], want[i])
			}
		}
	})

	t.Run("samba", func(t *testing.T) {
		t.Parallel()
		srv := smbtest.Start(t)
		dir := t.TempDir()
		workshop(t, dir, 12)
		srv.MkdirAll("filiale")
		url := srv.URL("filiale")
		env := []string{"-e", "ARCHIV_SMB_PASSWORD=" + srv.Password, "-v", dir + ":/srv/werkstatt"}
		mount := append([]string{"--rm"}, env...)
		args := []string{"--db", "/srv/werkstatt/test_archiv/werkstatt.db", "--archiv", url, "--log-file", "/srv/werkstatt/smb.log"}
		e.exec(t, e.runArgs(image, mount, append([]string{"export"}, args...)...)...).expect(t, 0, "Export abgeschlossen: 12 erfolgreich, 0 Fehler")
		if csvs, _ := filepath.Glob(filepath.Join(srv.Dir, "filiale", "*", "*", "data.csv")); len(csvs) != 12 {
			t.Fatalf("%d data.csv on the share, want 12", len(csvs))
		}
		e.exec(t, e.runArgs(image, mount, append([]string{"verify"}, args...)...)...).expect(t, 0, "Verify abgeschlossen: 12 gültig, 0 Fehler")

		code, lines := e.schedule(t, image, filepath.Join(dir, "smb.log"), env, append([]string{"schedule", "--at", "0 2 * * *", "--run-now", "--", "verify"}, args...)...)
		if code != 0 {
			t.Fatalf("schedule ended with %d:\n%s", code, strings.Join(lines, "\n"))
		}
		if runs := runLines(lines); len(runs) != 1 || !strings.Contains(runs[0], "INFO - Zeitplan: verify ") || !strings.Contains(runs[0], ": Verify abgeschlossen: 12 gültig, 0 Fehler") {
			t.Fatalf("container log, want one line for the one run:\n%s", strings.Join(lines, "\n"))
		}
		if strings.Contains(strings.Join(lines, "\n"), srv.Password) {
			t.Fatal("the SMB password is in the container's log")
		}
	})
}

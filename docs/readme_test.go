// Package docs_test runs the README's examples: every shell block of
// README.md is marked ```sh example (crontab lines ```crontab example) and
// run here, in order, against a sample workshop made by package sample, and
// where a block is tagged smb or s3 against the Samba and versitygw servers
// the backends' test harnesses start. A README whose example no longer
// works fails the test.
package docs_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/backends/smb/smbtest"
	"werkstatt-backup/sample"
)

// binDir holds the werkstatt-backup built once for the examples.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wb-readme-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "werkstatt-backup"), "../cmd/werkstatt-backup")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// block is one fenced block of the README.
type block struct {
	line int      // of its first content line
	lang string   // sh, crontab, json, text, …
	tags []string // what follows the language: example, repo, smb, s3, podman, file=PATH
	text string
}

func (b block) has(tag string) bool { return slices.Contains(b.tags, tag) }

// file is the path of a json block tagged file=PATH, "" if none.
func (b block) file() string {
	for _, t := range b.tags {
		if p, ok := strings.CutPrefix(t, "file="); ok {
			return p
		}
	}
	return ""
}

// blocks returns the fenced blocks of a Markdown text.
func blocks(md string) []block {
	var out []block
	var cur *block
	var body []string
	for i, l := range strings.Split(md, "\n") {
		switch {
		case cur == nil && strings.HasPrefix(l, "```"):
			f := strings.Fields(strings.TrimPrefix(l, "```"))
			cur = &block{line: i + 2}
			if len(f) > 0 {
				cur.lang, cur.tags = f[0], f[1:]
			}
			body = nil
		case cur != nil && strings.TrimSpace(l) == "```":
			cur.text = strings.Join(body, "\n")
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body = append(body, l)
		}
	}
	return out
}

// shellLangs are the languages of blocks that hold commands.
var shellLangs = []string{"sh", "bash", "shell", "console", "crontab"}

// inlineCommand is a command quoted in the README's prose.
var inlineCommand = regexp.MustCompile("`(werkstatt-backup [^`]+)`")

// coverage checks that the README shows no command that the test does not
// run: each block of commands is an example, and each command quoted in
// the prose is part of an example (the options may be in any order there,
// so every word must be in one example line with the command).
func coverage(md string, bs []block) error {
	var examples []string
	for _, b := range bs {
		if !slices.Contains(shellLangs, b.lang) {
			continue
		}
		if !b.has("example") {
			return fmt.Errorf("README line %d: ```%s block without \"example\": every command in the README is run by this test", b.line-1, b.lang)
		}
		examples = append(examples, strings.Split(b.text, "\n")...)
	}
	for i, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "```") {
			continue
		}
		for _, m := range inlineCommand.FindAllStringSubmatch(l, -1) {
			words := strings.Fields(strings.ReplaceAll(m[1], "…", ""))
			ok := slices.ContainsFunc(examples, func(e string) bool {
				ew := strings.Fields(e)
				return slices.Index(ew, words[1]) > 0 && !slices.ContainsFunc(words, func(w string) bool {
					return !strings.HasPrefix(w, "-") && w != words[0] && !slices.Contains(ew, w) ||
						strings.HasPrefix(w, "-") && !slices.ContainsFunc(ew, func(x string) bool { return x == w || strings.HasPrefix(x, w+"=") })
				})
			})
			if !ok && words[1] != "COMMAND" {
				return fmt.Errorf("README line %d: `%s` is in no example block", i+1, m[1])
			}
		}
	}
	return nil
}

// world is the sandbox the examples run in: the README's /srv,
// /etc/werkstatt-backup and /var/lib/werkstatt-backup are folders below
// work; two sample workshops are in /srv/werkstatt and /srv/filiale.
type world struct {
	work, repo string
	nr         string // an order number of the sample at /srv/werkstatt
	smb        *smbtest.Server
	s3         *s3test.Server
	image      string // make image's IMAGE, removed when the test ends
	// webhook receives the README's notify webhook; posts counts them.
	webhook *httptest.Server
	posts   atomic.Int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{work: t.TempDir(), repo: repo}
	w.webhook = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost && bytes.Contains(body, []byte(`"exit_code"`)) {
			w.posts.Add(1)
		}
	}))
	t.Cleanup(w.webhook.Close)
	for _, d := range []string{"home", "tmp", "etc/werkstatt-backup", "var/lib/werkstatt-backup", "srv/neu"} {
		if err := os.MkdirAll(filepath.Join(w.work, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w.nr = sampleWorkshop(t, filepath.Join(w.work, "srv", "werkstatt"), 30, 11)
	sampleWorkshop(t, filepath.Join(w.work, "srv", "filiale"), 12, 12)
	return w
}

// sampleWorkshop lays out werkstatt.db and archiv/<JJJJ>/<nr>/ with the
// PDFs of n orders in dir and returns the first order's number.
func sampleWorkshop(t *testing.T, dir string, n int, seed uint64) string {
	t.Helper()
	rows := sample.Rows(n, seed)
	fsys := afero.NewBasePathFs(afero.NewOsFs(), dir)
	for _, r := range rows {
		if err := fsys.MkdirAll(filepath.Dir(r[9]), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := afero.WriteFile(fsys, r[9], sample.PDF(r[1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := sample.CreateDB(context.Background(), filepath.Join(dir, "werkstatt.db"), rows); err != nil {
		t.Fatal(err)
	}
	return rows[0][1]
}

// Literal values of the README and what they are in the test.
const (
	readmeSMB       = "smb://backup@nas/archiv"
	readmeSMBPass   = "das-nas-passwort"
	readmeS3        = "s3://backup@s3.werkstatt.lan:9000/archiv"
	readmeOffsite   = "s3://backup@s3.example.de/werkstatt" // an HTTPS store far away: the test's S3 server
	readmeS3Secret  = "der-geheime-schluessel"
	readmeOrder     = "076329"
	readmeTime      = "2026-11-03 23:59"
	readmeInstalled = "/usr/local/bin/werkstatt-backup"
	readmeWebhook   = "https://ping.werkstatt.lan/backup"
	readmeSMTPHost  = "mail.werkstatt.lan"
)

// subst maps the README's machine onto the sandbox: paths, servers,
// secrets, an order number of the sample, and a time after the exports so
// far (the README's point in time lies after its night's export).
func (w *world) subst(s string) string {
	pairs := []string{
		readmeInstalled, "werkstatt-backup",
		"/srv/", w.work + "/srv/",
		"/etc/werkstatt-backup", w.work + "/etc/werkstatt-backup",
		"/var/lib/werkstatt-backup", w.work + "/var/lib/werkstatt-backup",
		readmeOrder, w.nr,
		readmeTime, time.Now().Add(time.Minute).Format("2006-01-02 15:04"),
		readmeWebhook, w.webhook.URL + "/backup",
		readmeSMTPHost, "127.0.0.1:1", // refused at once: a mail target that fails
	}
	if w.smb != nil {
		pairs = append(pairs, readmeSMB, w.smb.URL(""), readmeSMBPass, w.smb.Password)
	}
	if w.s3 != nil {
		pairs = append(pairs, readmeS3, w.s3.URL(s3test.Bucket, ""), readmeOffsite, w.s3.URL(s3test.Bucket, "offsite"),
			readmeS3Secret, w.s3.SecretKey)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// prelude is the start of each block's script. run_schedule runs a
// schedule in the background until it has announced its next date (after
// the runs of --run-now), then stops it as docker stop does and returns
// its exit code; check fails the script when a line's code is not 0.
const prelude = `set -u
run_schedule() {
	local out pid rc
	out=$(mktemp)
	"$@" >"$out" 2>&1 &
	pid=$!
	until grep -q "Zeitplan: nächster Lauf" "$out"; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	cat "$out"
	rm -f "$out"
	return $rc
}
check() {
	if [ "$2" -ne 0 ]; then
		echo "README Zeile $1: Exit-Code $2" >&2
		exit 1
	fi
}
`

// script turns a block into a bash script: each command (continued lines
// joined) followed by a check of its exit code, naming its README line.
func (w *world) script(b block) string {
	var sb strings.Builder
	sb.WriteString(prelude)
	lines := strings.Split(b.text, "\n")
	for i := 0; i < len(lines); i++ {
		n := b.line + i
		cmd := strings.TrimSpace(lines[i])
		for strings.HasSuffix(cmd, "\\") && i+1 < len(lines) {
			i++
			cmd = strings.TrimSuffix(cmd, "\\") + " " + strings.TrimSpace(lines[i])
		}
		if cmd == "" || strings.HasPrefix(cmd, "#") {
			continue
		}
		if b.lang == "crontab" {
			if regexp.MustCompile(`^[A-Z_]+=`).MatchString(cmd) {
				continue // MAILTO=…: cron's, not a command
			}
			f := strings.Fields(cmd)
			if len(f) < 6 {
				continue
			}
			cmd = strings.Join(f[5:], " ")
		}
		cmd = w.rewrite(w.subst(cmd))
		fmt.Fprintf(&sb, "%s\ncheck %d $?\n", cmd, n)
	}
	return sb.String()
}

// rewrite runs what cannot run as written inside a test: make test would
// run this test again (it is checked with -n), make install installs into
// a folder of the test, make image builds an image the test removes, a
// schedule is stopped once it waits for its next date.
func (w *world) rewrite(cmd string) string {
	switch {
	case strings.HasPrefix(cmd, "make test"):
		return strings.Replace(cmd, "make test", "make -n test >/dev/null", 1)
	case strings.HasPrefix(cmd, "make install"):
		return strings.Replace(cmd, "make install", "make install DESTDIR="+w.work+"/dest", 1)
	case strings.HasPrefix(cmd, "make image"):
		return strings.Replace(cmd, "make image", fmt.Sprintf("make image IMAGE=%s VERSION=test IMAGE_DIR=%s/image", w.image, w.work), 1)
	case strings.HasPrefix(cmd, "werkstatt-backup schedule"):
		return "run_schedule " + cmd
	}
	return cmd
}

// run runs one block: a json file=PATH block is written to its file, a
// shell or crontab example is run as a script.
func (w *world) run(b block) (string, error) {
	if p := b.file(); p != "" {
		path := w.subst(p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", err
		}
		return "", os.WriteFile(path, []byte(w.subst(b.text)+"\n"), 0o644)
	}
	if !b.has("example") {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", "-c", w.script(b))
	c.Dir = w.work + "/home"
	if b.has("repo") {
		c.Dir = w.repo
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ARCHIV_") && !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "TMPDIR=") {
			c.Env = append(c.Env, kv)
		}
	}
	c.Env = append(c.Env, "PATH="+binDir+":"+os.Getenv("PATH"), "TMPDIR="+w.work+"/tmp")
	if b.has("s3") && strings.Contains(b.text, "--config") {
		// The README's offsite store in a config file speaks HTTPS, the
		// test's server plain HTTP.
		c.Env = append(c.Env, "ARCHIV_S3_INSECURE=ja")
	}
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	if err != nil {
		return out.String(), fmt.Errorf("README block at line %d: %v\n%s", b.line-1, err, out.String())
	}
	return out.String(), nil
}

// server is the server a block is tagged for: "smb", "s3" or "".
func server(b block) string {
	for _, s := range []string{"smb", "s3"} {
		if b.has(s) {
			return s
		}
	}
	return ""
}

// local reports whether a block runs without servers, podman or the
// source folder.
func local(b block) bool {
	return !b.has("smb") && !b.has("s3") && !b.has("podman") && !b.has("repo")
}

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestREADMEExamples runs every example of README.md in order. Local
// blocks share one sandbox (the first backup before the restore); a block
// tagged smb or s3 gets its own server and is skipped like the other
// server tests when it cannot have one; podman blocks need podman and
// root; repo blocks run in the source folder.
func TestREADMEExamples(t *testing.T) {
	md := readme(t)
	bs := blocks(md)
	if err := coverage(md, bs); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(md, "\n"); n > 350 {
		t.Errorf("README has %d lines, at most 350", n)
	}
	w := newWorld(t)
	ran := 0
	// pending holds the config files tagged smb or s3: they name that
	// server, so they are written when the next block of that tag has
	// started it.
	var pending []block
	for _, b := range bs {
		if !b.has("example") && b.file() == "" {
			continue
		}
		if b.file() != "" && !local(b) {
			pending = append(pending, b)
			continue
		}
		if local(b) {
			out, err := w.run(b)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("README line %d:\n%s", b.line-1, out)
			ran++
			continue
		}
		t.Run(fmt.Sprintf("line %d %s", b.line-1, strings.Join(b.tags[1:], " ")), func(t *testing.T) {
			switch {
			case b.has("smb"):
				w.smb = smbtest.Start(t)
				defer func() { w.smb = nil }()
				for _, m := range regexp.MustCompile(regexp.QuoteMeta(readmeSMB)+`/([\w.-]+)`).FindAllStringSubmatch(b.text, -1) {
					w.smb.MkdirAll(m[1]) // the README says the folder must exist on the share
				}
			case b.has("s3"):
				w.s3 = s3test.Start(t)
				defer func() { w.s3 = nil }()
			case b.has("podman"):
				if _, err := exec.LookPath("podman"); err != nil || os.Getuid() != 0 {
					if os.Getenv("ARCHIV_REQUIRE_PODMAN") == "1" {
						t.Fatal("podman als root verlangt (ARCHIV_REQUIRE_PODMAN=1)")
					}
					t.Skip("podman-Beispiel übersprungen: podman fehlt oder nicht root")
				}
				w.image = fmt.Sprintf("werkstatt-backup-readme-%d", os.Getpid())
				t.Cleanup(func() {
					exec.Command("podman", "rmi", "-f", w.image+":test", w.image+":latest").Run()
				})
			}
			pending = slices.DeleteFunc(pending, func(p block) bool {
				if server(p) != server(b) || server(b) == "" {
					return false
				}
				if _, err := w.run(p); err != nil {
					t.Fatal(err)
				}
				return true
			})
			out, err := w.run(b)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("README line %d:\n%s", b.line-1, out)
			if strings.Contains(b.text, "make install") {
				w.checkInstalled(t)
			}
		})
		ran++
	}
	if ran == 0 {
		t.Fatal("no example in README.md")
	}
	if strings.Contains(md, readmeWebhook) && w.posts.Load() == 0 {
		t.Error("the README's notify webhook was never called")
	}
	t.Logf("notify webhook: %d runs reported", w.posts.Load())
}

// TestREADMEBrokenExampleFails: the harness notices a README whose example
// no longer works (a wrong path, a bad value in the config block, a wrong
// option in a crontab line), and one that shows a command no example runs.
func TestREADMEBrokenExampleFails(t *testing.T) {
	md := readme(t)
	for _, c := range []struct{ name, old, new string }{
		{"wrong archive path", "werkstatt-backup verify --archiv /srv/werkstatt/archiv\n", "werkstatt-backup verify --archiv /srv/werkstatt/archive\n"},
		{"bad config value", `"lock_timeout": "2m"`, `"lock_timeout": "zwei Minuten"`},
		{"misspelt option in crontab", "--all-sites --quiet\n", "--all-site --quiet\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(md, c.old) {
				t.Fatalf("README has no %q any more: adapt this test", c.old)
			}
			broken := strings.Replace(md, c.old, c.new, 1)
			at := strings.Count(broken[:strings.Index(broken, c.new)], "\n") + 1
			w := newWorld(t)
			for _, b := range blocks(broken) {
				if !local(b) {
					continue
				}
				if _, err := w.run(b); err != nil {
					if b.line+strings.Count(b.text, "\n") < at {
						t.Fatalf("failed before the broken line %d: %v", at, err)
					}
					return // caught
				}
			}
			t.Fatalf("the README broken at line %d passed", at)
		})
	}
	for _, c := range []struct{ name, add string }{
		{"shell block not run", "\n```sh\nwerkstatt-backup export --full\n```\n"},
		{"command in the prose no example runs", "\nUse `werkstatt-backup export --gibtsnicht` then.\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			broken := md + c.add
			if err := coverage(broken, blocks(broken)); err == nil {
				t.Fatal("coverage accepted it")
			}
		})
	}
}

// checkInstalled checks what the README's make install put below DESTDIR:
// the binary, the man pages (German headings) and the completion of bash,
// zsh and fish.
func (w *world) checkInstalled(t *testing.T) {
	t.Helper()
	root := filepath.Join(w.work, "dest", "usr", "local")
	for _, f := range []string{
		"bin/werkstatt-backup",
		"share/man/man1/werkstatt-backup.1",
		"share/man/man1/werkstatt-backup-schedule.1",
		"share/bash-completion/completions/werkstatt-backup",
		"share/zsh/site-functions/_werkstatt-backup",
		"share/fish/vendor_completions.d/werkstatt-backup.fish",
	} {
		if fi, err := os.Stat(filepath.Join(root, f)); err != nil || fi.Size() == 0 {
			t.Errorf("make install: %s missing or empty (%v)", f, err)
		}
	}
	man, _ := os.ReadFile(filepath.Join(root, "share/man/man1/werkstatt-backup-schedule.1"))
	for _, want := range []string{".SH BESCHREIBUNG", ".SH OPTIONEN", "zeitplan"} {
		if !bytes.Contains(man, []byte(want)) {
			t.Errorf("man page of schedule lacks %q", want)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/backends/smb/smbtest"
	"werkstatt-backup/history"
	"werkstatt-backup/lock"
	"werkstatt-backup/sample"
)

// The SMB end-to-end tests run the built binary against a Samba server the
// test starts itself (see backends/smb/smbtest), with the password in
// ARCHIV_SMB_PASSWORD or a password file, never on the command line.

// smbSite is a Samba server with an empty archive folder "sub" in its share.
type smbSite struct {
	srv *smbtest.Server
	url string   // smb://user@127.0.0.1:port/archiv/sub
	env []string // ARCHIV_SMB_PASSWORD=...
}

func newSMBSite(t *testing.T) smbSite {
	srv := smbtest.Start(t)
	srv.MkdirAll("sub")
	return smbSite{srv: srv, url: srv.URL("sub"), env: []string{"ARCHIV_SMB_PASSWORD=" + srv.Password}}
}

func (s smbSite) dir() string { return filepath.Join(s.srv.Dir, "sub") }

// noSecret fails if the password shows anywhere in texts.
func (s smbSite) noSecret(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		if strings.Contains(text, s.srv.Password) {
			t.Fatalf("%s shows the SMB password:\n%s", what, text)
		}
	}
}

// noSecretInFiles: no file the runs left in dir (log, status, reports)
// holds the password, except the password file itself.
func (s smbSite) noSecretInFiles(t *testing.T, dir string, except ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || slices.Contains(except, p) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s.noSecret(t, p, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var exportedAt = regexp.MustCompile(`("exported_at"\s*:\s*)"[^"]*"`)

// archiveFiles reads every file below root; in meta.json the exported_at
// value is blanked, the one field that differs between two exports.
func archiveFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.Name() == "meta.json" {
			b = exportedAt.ReplaceAll(b, []byte(`$1""`))
		}
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sameArchive(t *testing.T, got, want string) {
	t.Helper()
	g, w := historyGens(archiveFiles(t, got)), historyGens(archiveFiles(t, want))
	dropFreeLock(t, g)
	dropFreeLock(t, w)
	var names []string
	for name := range w {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !bytes.Equal(g[name], w[name]) {
			t.Errorf("%s differs from the local export:\n%q\n%q", name, g[name], w[name])
		}
	}
	for name := range g {
		if _, ok := w[name]; !ok {
			t.Errorf("extra file on the share: %s", name)
		}
	}
	if len(w) == 0 {
		t.Fatal("local export is empty")
	}
}

// dropFreeLock removes a lock file that holds a released ("frei") record
// from files: a store with compare-and-swap (the local disk) keeps the
// lock file after a run, marked free, where one without it (SMB) removes
// it; either means no lock. A held lock stays and fails the comparison.
func dropFreeLock(t *testing.T, files map[string][]byte) {
	t.Helper()
	raw, ok := files[lock.LockFileName]
	if !ok {
		return
	}
	var rec struct {
		Free bool `json:"frei"`
	}
	if err := json.Unmarshal(raw, &rec); err == nil && rec.Free {
		delete(files, lock.LockFileName)
	}
}

// historyGens keeps of each history generation and pack file only its
// sequence number: their names hold a random id (a generation's also the
// time the archive wrote it) that the file repeats inside, and a
// generation holds the exporting clock, which two runs never share. The
// head marker names them, so it is only there or not.
func historyGens(files map[string][]byte) map[string][]byte {
	for name := range files {
		for _, dir := range []string{"_historie/gen/", "_historie/pack/"} {
			if strings.HasPrefix(name, dir) && len(name) > len(dir)+10 {
				delete(files, name)
				files[name[:len(dir)+10]] = nil
			}
		}
		if name == history.HeadFile {
			files[name] = nil
		}
	}
	return files
}

func oneLineStderr(t *testing.T, r result) string {
	t.Helper()
	line := strings.TrimSpace(r.stderr)
	if line == "" || strings.Contains(line, "\n") {
		t.Fatalf("stderr is not one line: %q", r.stderr)
	}
	return line
}

// TestSMBCycleThroughTheBinary: export → verify → restore against the
// share; the share holds byte for byte what a local export writes.
func TestSMBCycleThroughTheBinary(t *testing.T) {
	t.Parallel()
	site := newSMBSite(t)
	dir := workshop(t, 40)
	db := []string{"--db", "./test_archiv/werkstatt.db"}

	r := wbEnv(t, dir, site.env, append([]string{"export", "--archiv", site.url}, db...)...).expect(t, 0)
	if !strings.Contains(r.stdout, "Export abgeschlossen: 40 erfolgreich, 0 Fehler") {
		t.Fatalf("export: %s", r.stdout)
	}
	site.noSecret(t, "export", r.stdout, r.stderr)
	if err := os.Mkdir(filepath.Join(dir, "lokal"), 0o755); err != nil {
		t.Fatal(err)
	}
	wb(t, dir, append([]string{"export", "--archiv", "./lokal"}, db...)...).expect(t, 0)
	sameArchive(t, site.dir(), filepath.Join(dir, "lokal"))

	r = wbEnv(t, dir, site.env, append([]string{"export", "--json", "--archiv", site.url}, db...)...).expect(t, 0)
	var rep struct {
		Unchanged int `json:"unchanged"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Unchanged != 40 {
		t.Fatalf("second export --json: %v %+v\n%s", err, rep, r.stdout)
	}
	site.noSecret(t, "export --json", r.stdout, r.stderr)

	r = wbEnv(t, dir, site.env, "verify", "--archiv", site.url).expect(t, 0)
	if !strings.Contains(r.stdout, "Verify abgeschlossen: 40 gültig, 0 Fehler") {
		t.Fatalf("verify: %s", r.stdout)
	}
	wbEnv(t, dir, site.env, append([]string{"verify", "--archiv", site.url}, db...)...).expect(t, 0)

	r = wbEnv(t, dir, site.env, "restore", "--db", "./neu.db", "--archiv", site.url).expect(t, 0)
	if !strings.Contains(r.stdout, "Restore abgeschlossen: 40 Datensätze wiederhergestellt, 0 Fehler") {
		t.Fatalf("restore: %s", r.stdout)
	}
	wbEnv(t, dir, site.env, "verify", "--db", "./neu.db", "--archiv", site.url).expect(t, 0)
	wbEnv(t, dir, site.env, "migrate", "--archiv", site.url).expect(t, 0)
	r = wbEnv(t, dir, site.env, "unlock", "--archiv", site.url).expect(t, 0)
	if !strings.Contains(r.stdout, "Kein Lock") {
		t.Fatalf("unlock: %s", r.stdout)
	}
	// Nothing left behind on the share: no lock, no temp file. (The
	// share had a second export: so does the local archive, for the
	// history's second generation.)
	wb(t, dir, append([]string{"export", "--archiv", "./lokal"}, db...)...).expect(t, 0)
	sameArchive(t, site.dir(), filepath.Join(dir, "lokal"))

	site.noSecretInFiles(t, dir)
	log, err := os.ReadFile(filepath.Join(dir, "backup_system.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "Export abgeschlossen: 40 erfolgreich, 0 Fehler") {
		t.Errorf("log lacks the export summary:\n%s", log)
	}
}

// TestSMBConnectionErrors: each way of not getting to the archive is one
// line on stderr and exit code 1, well within the timeout.
func TestSMBConnectionErrors(t *testing.T) {
	t.Parallel()
	site := newSMBSite(t)
	srv := site.srv
	closed := freeLoopbackPort(t)
	silent := silentListener(t)
	cases := []struct {
		name   string
		url    string
		env    []string
		msg    string
		within time.Duration
	}{
		{"wrong password", site.url, []string{"ARCHIV_SMB_PASSWORD=falsch"},
			fmt.Sprintf("SMB-Anmeldung an %s als %s fehlgeschlagen (Benutzer oder Passwort falsch)", srv.Addr(), srv.User), 5 * time.Second},
		{"unknown share", strings.Replace(site.url, "/"+srv.Share+"/", "/gibtsnicht/", 1), site.env,
			fmt.Sprintf("SMB-Freigabe \"gibtsnicht\" auf %s nicht gefunden", srv.Addr()), 5 * time.Second},
		{"port closed", strings.Replace(site.url, srv.Addr(), fmt.Sprintf("127.0.0.1:%d", closed), 1), site.env,
			fmt.Sprintf("SMB-Server 127.0.0.1:%d nicht erreichbar: Verbindung abgelehnt", closed), 5 * time.Second},
		{"missing folder", srv.URL("fehlt"), site.env,
			fmt.Sprintf("Ordner \"fehlt\" auf SMB-Freigabe %q (%s) nicht gefunden", srv.Share, srv.Addr()), 5 * time.Second},
		// A host that takes the connection and never answers: only the
		// default 15s deadline ends it.
		{"host not answering", strings.Replace(site.url, srv.Addr(), fmt.Sprintf("127.0.0.1:%d", silent), 1), site.env,
			fmt.Sprintf("SMB-Server 127.0.0.1:%d antwortet nicht (keine SMB-Antwort nach 15s)", silent), 20 * time.Second},
		// smb_timeout shortens every call's deadline.
		{"host not answering, smb_timeout 2s", strings.Replace(site.url, srv.Addr(), fmt.Sprintf("127.0.0.1:%d", silent), 1),
			append([]string{"ARCHIV_SMB_TIMEOUT=2s"}, site.env...),
			fmt.Sprintf("SMB-Server 127.0.0.1:%d antwortet nicht (keine SMB-Antwort nach 2s)", silent), 10 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for _, cmd := range [][]string{{"verify"}, {"export", "--db", "x.db"}, {"unlock"}} {
				start := time.Now()
				r := wbEnv(t, dir, c.env, append(cmd, "--archiv", c.url)...).expect(t, 1)
				took := time.Since(start)
				line := oneLineStderr(t, r)
				if !strings.HasSuffix(line, c.msg) {
					t.Errorf("%s: stderr %q\nwant suffix %q", cmd[0], line, c.msg)
				}
				if took > c.within {
					t.Errorf("%s took %v, want < %v", cmd[0], took, c.within)
				}
				site.noSecret(t, "error output", r.stdout, r.stderr)
				if c.name == "host not answering" {
					break // once is enough at 15s a try
				}
			}
		})
	}
}

func freeLoopbackPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// silentListener accepts connections and never answers.
func silentListener(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range accepted {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// TestSMBPasswordSources: the password comes from the environment, a
// password file or (discouraged) the URL, and never shows: not in output,
// log, --json, `config show`, nor in any process's command line.
func TestSMBPasswordSources(t *testing.T) {
	t.Parallel()
	site := newSMBSite(t)
	dir := workshop(t, 30)
	db := []string{"--db", "./test_archiv/werkstatt.db"}
	pwFile := filepath.Join(dir, "smb.pass")
	if err := os.WriteFile(pwFile, []byte(site.srv.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Password file; the whole run is watched for the password in argv.
	wait := startWB(t, dir, nil, append([]string{"export", "--archiv", site.url, "--smb-password-file", pwFile}, db...)...)
	running := true
	var r result
	done := make(chan result)
	go func() { done <- wait() }()
	for running {
		select {
		case r = <-done:
			running = false
		default:
			site.noSecret(t, "a process command line", commandLines()...)
			time.Sleep(time.Millisecond)
		}
	}
	r.expect(t, 0)
	if !strings.Contains(r.stdout, "30 erfolgreich") {
		t.Fatalf("export with password file: %s", r.stdout)
	}

	// Password in the URL works, but is shown as *** only.
	inURL := strings.Replace(site.url, "@", ":"+url.PathEscape(site.srv.Password)+"@", 1)
	r = wb(t, dir, "verify", "--json", "--archiv", inURL).expect(t, 0)
	site.noSecret(t, "verify --json with password in URL", r.stdout, r.stderr)

	// DOMAIN;user in the URL is passed on to the NTLM logon (Samba takes
	// any domain for its local users).
	withDomain := strings.Replace(site.url, "smb://", "smb://WERKSTATT;", 1)
	wbEnv(t, dir, site.env, "verify", "--archiv", withDomain).expect(t, 0)

	// config show, plain and --json, with the password in env and URL.
	for _, args := range [][]string{{"config", "show", "--sources"}, {"config", "show", "--json"}} {
		r = wbEnv(t, dir, site.env, append(args, "--archiv", inURL)...).expect(t, 0)
		site.noSecret(t, strings.Join(args, " "), r.stdout, r.stderr)
		if !strings.Contains(r.stdout, "***") {
			t.Errorf("%s does not show the password as ***:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
	// A wrong password file: the error names the file's problem, not a password.
	r = wb(t, dir, "verify", "--archiv", site.url, "--smb-password-file", filepath.Join(dir, "fehlt.pass")).expect(t, 2)
	oneLineStderr(t, r)

	site.noSecretInFiles(t, dir, pwFile)
}

// commandLines returns the argv of every process, as ps shows it.
func commandLines() []string {
	var out []string
	matches, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err == nil {
			out = append(out, string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
		}
	}
	return out
}

// TestSMBServerRestartMidExport: smbd is killed and restarted while an
// export runs. The run completes or fails with a clear error; no file is
// torn; a second export repairs everything and verify is clean.
func TestSMBServerRestartMidExport(t *testing.T) {
	t.Parallel()
	site := newSMBSite(t)
	const orders = 400
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "test_archiv"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := sample.CreateDB(context.Background(), filepath.Join(dir, "test_archiv", "werkstatt.db"), sample.Rows(orders, 7)); err != nil {
		t.Fatal(err)
	}
	export := []string{"export", "--archiv", site.url, "--db", "./test_archiv/werkstatt.db"}

	wait := startWB(t, dir, site.env, export...)
	deadline := time.Now().Add(30 * time.Second)
	for {
		metas, _ := filepath.Glob(filepath.Join(site.dir(), "*", "*", "meta.json"))
		if len(metas) >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("export wrote nothing")
		}
		time.Sleep(2 * time.Millisecond)
	}
	site.srv.Kill()
	time.Sleep(200 * time.Millisecond)
	site.srv.Restart()
	r := wait()
	switch r.code {
	case 0:
		t.Logf("export survived the restart: %s", strings.TrimSpace(r.stdout))
	case 1:
		line := oneLineStderr(t, r)
		t.Logf("export failed clearly: %s\n%s", line, r.stdout)
		if !strings.Contains(r.stdout, "ERROR - ") || !strings.Contains(r.stdout, "SMB-") {
			t.Errorf("failed records are not named with an SMB reason:\n%s", r.stdout)
		}
	default:
		t.Fatalf("exit code %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	site.noSecret(t, "interrupted export", r.stdout, r.stderr)
	site.noSecretInFiles(t, dir)
	checkNotTorn(t, site.dir())

	r = wbEnv(t, dir, site.env, export...).expect(t, 0)
	if !strings.Contains(r.stdout, fmt.Sprintf("Export abgeschlossen: %d erfolgreich, 0 Fehler", orders)) {
		t.Fatalf("second export: %s", r.stdout)
	}
	r = wbEnv(t, dir, site.env, "verify", "--archiv", site.url, "--db", "./test_archiv/werkstatt.db").expect(t, 0)
	if !strings.Contains(r.stdout, fmt.Sprintf("Verify abgeschlossen: %d gültig, 0 Fehler", orders)) {
		t.Fatalf("verify: %s", r.stdout)
	}
}

// checkNotTorn: every data.csv on disk is a complete CSV record and every
// meta.json complete JSON, whatever moment the server died at.
func checkNotTorn(t *testing.T, root string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch d.Name() {
		case "data.csv":
			recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil || len(recs) != 2 || !bytes.HasSuffix(b, []byte("\r\n")) || len(recs[0]) != len(recs[1]) {
				t.Errorf("torn %s: %v (%d bytes)", p, err, len(b))
			}
			n++
		case "meta.json":
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil || m["checksum"] == nil {
				t.Errorf("torn %s: %v", p, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no data.csv to check")
	}
}

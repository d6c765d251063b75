// Package smbtest runs a throw-away Samba server (smbd) for tests: its own
// config, user, password and share directory in t.TempDir(), on a free
// port of 127.0.0.1, stopped by t.Cleanup.
//
// Without smbd (or without root, which smbd and the test user need) the
// calling test is skipped with a message saying how to enable it, unless
// ARCHIV_REQUIRE_SMB=1 (CI): then it fails. ARCHIV_SMB_TESTS=0 skips on
// purpose.
package smbtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"werkstatt-backup/backends/smb"
)

// Names of the test account and share on every server.
const (
	User  = "wbsmbtest"
	Share = "archiv"
	// ShareReadOnly is a second share of the same directory with
	// "read only = yes", as a NAS exports a snapshot: see URLReadOnly.
	ShareReadOnly = "archiv_ro"
)

const startTimeout = 20 * time.Second

// TB is the part of testing.TB the harness uses: *testing.T and *testing.B
// have it, and Launch brings its own for use outside a test.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
	TempDir() string
	Cleanup(func())
}

// Server is a running smbd.
type Server struct {
	Host     string // 127.0.0.1
	Port     int
	Share    string // the share's name
	User     string
	Password string // random per server
	Dir      string // the share's directory on disk

	t       TB
	smbd    string
	conf    string
	logPath string
	uid     int
	gid     int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Skip message, as `make test` and README describe it.
const skipMessage = "SMB-Tests übersprungen: smbd fehlt (als root: apt-get install -y samba, oder make test)"

// Start starts a server for the test and stops it when the test ends.
func Start(t TB) *Server {
	t.Helper()
	smbd := find(t)
	uid, gid := ensureUser(t)
	base := t.TempDir()
	s := &Server{
		Host:     "127.0.0.1",
		Share:    Share,
		User:     User,
		Password: password(t),
		Dir:      filepath.Join(base, "share"),
		t:        t,
		smbd:     smbd,
		conf:     filepath.Join(base, "smb.conf"),
		logPath:  filepath.Join(base, "smbd.log"),
		uid:      uid,
		gid:      gid,
	}
	for _, d := range []string{"private", "lock", "state", "cache", "pid", "share"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// smbd works in the share as the test user: it must reach and own it.
	if err := os.Chown(s.Dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	for d := base; d != filepath.Dir(d) && d != filepath.Clean(os.TempDir()); d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil {
			_ = os.Chmod(d, fi.Mode().Perm()|0o711)
		}
	}
	t.Cleanup(s.Stop)
	var err error
	for range 5 { // a port picked free may be taken before smbd binds it
		s.Port = freePort(t)
		s.writeConfig(base)
		if err = s.setPassword(); err != nil {
			t.Fatalf("smbpasswd: %v", err)
		}
		if err = s.start(); err == nil {
			return s
		}
	}
	t.Fatalf("smbd startet nicht: %v\n%s", err, s.logTail())
	return nil
}

// find returns the path of smbd or skips (fails with ARCHIV_REQUIRE_SMB=1).
func find(t TB) string {
	t.Helper()
	required := os.Getenv("ARCHIV_REQUIRE_SMB") == "1"
	skip := func(msg string) {
		t.Helper()
		if required {
			t.Fatalf("%s; ARCHIV_REQUIRE_SMB=1 verlangt die SMB-Tests", msg)
		}
		t.Skip(msg)
	}
	if os.Getenv("ARCHIV_SMB_TESTS") == "0" {
		skip("SMB-Tests übersprungen: ARCHIV_SMB_TESTS=0")
	}
	smbd, err := exec.LookPath("smbd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/smbd"); serr != nil {
			skip(skipMessage)
		}
		smbd = "/usr/sbin/smbd"
	}
	if os.Geteuid() != 0 {
		skip("SMB-Tests übersprungen: smbd und der Testbenutzer brauchen root (make test als root)")
	}
	return smbd
}

// ensureUser creates the unix account the share is used as, once per
// machine. Test binaries of several packages may race here: a file lock
// serializes them.
func ensureUser(t TB) (uid, gid int) {
	t.Helper()
	lookup := func() (int, int, bool) {
		u, err := user.Lookup(User)
		if err != nil {
			return 0, 0, false
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return uid, gid, true
	}
	if uid, gid, ok := lookup(); ok {
		return uid, gid
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "werkstatt-smbtest-user.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if uid, gid, ok := lookup(); ok {
		return uid, gid
	}
	out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", User).CombinedOutput()
	if uid, gid, ok := lookup(); ok {
		return uid, gid
	}
	t.Fatalf("useradd %s: %v\n%s", User, err, out)
	return 0, 0
}

func password(t TB) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "Wb!" + hex.EncodeToString(b) + "#x"
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort(t TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Server) writeConfig(base string) {
	conf := fmt.Sprintf(`[global]
	server role = standalone server
	security = user
	map to guest = never
	passdb backend = tdbsam:%[1]s/private/passdb.tdb
	private dir = %[1]s/private
	lock directory = %[1]s/lock
	state directory = %[1]s/state
	cache directory = %[1]s/cache
	pid directory = %[1]s/pid
	ncalrpc dir = %[1]s/lock/ncalrpc
	interfaces = 127.0.0.1
	bind interfaces only = yes
	smb ports = %[2]d
	disable netbios = yes
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes
	server min protocol = SMB2_02
	log level = 1

[%[3]s]
	path = %[4]s
	read only = no
	valid users = %[5]s
	map archive = no
	create mask = 0644
	directory mask = 0755

[%[6]s]
	path = %[4]s
	read only = yes
	valid users = %[5]s
	map archive = no
`, base, s.Port, s.Share, s.Dir, s.User, ShareReadOnly)
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s *Server) setPassword() error {
	cmd := exec.Command("smbpasswd", "-a", "-s", "-c", s.conf, s.User)
	cmd.Stdin = strings.NewReader(s.Password + "\n" + s.Password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// start runs smbd in its own process group and waits until it accepts
// connections; it fails early if smbd exits (e.g. the port was taken).
func (s *Server) start() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(s.smbd, "--foreground", "--no-process-group", "--debug-stdout", "-s", s.conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			return fmt.Errorf("smbd hat sich beendet: %v", cmd.ProcessState)
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("smbd nimmt nach %s keine Verbindungen an: %v", startTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// URL returns smb://user@127.0.0.1:port/share[/dir], without password.
func (s *Server) URL(dir string) string {
	u := fmt.Sprintf("smb://%s@%s/%s", url.PathEscape(s.User), s.Addr(), url.PathEscape(s.Share))
	if dir != "" {
		u += "/" + dir
	}
	return u
}

// URLReadOnly is URL(dir) on the read-only share of the same directory.
func (s *Server) URLReadOnly(dir string) string {
	u := fmt.Sprintf("smb://%s@%s/%s", url.PathEscape(s.User), s.Addr(), url.PathEscape(ShareReadOnly))
	if dir != "" {
		u += "/" + dir
	}
	return u
}

// Location is the parsed URL(dir).
func (s *Server) Location(dir string) smb.Location {
	loc, err := smb.Backend{}.Parse(strings.TrimPrefix(s.URL(dir), "smb://"))
	if err != nil {
		s.t.Fatal(err)
	}
	return loc.(smb.Location)
}

// MkdirAll creates dir (slash-separated) in the share's directory on disk,
// owned by the share's user.
func (s *Server) MkdirAll(dir string) {
	p := s.Dir
	for _, seg := range strings.Split(filepath.ToSlash(dir), "/") {
		p = filepath.Join(p, seg)
		if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			s.t.Fatal(err)
		}
		if err := os.Chown(p, s.uid, s.gid); err != nil {
			s.t.Fatal(err)
		}
	}
}

// Kill kills smbd and all its children at once (SIGKILL to the process
// group), dropping every connection, and waits until they are gone.
func (s *Server) Kill() { s.signal(syscall.SIGKILL, 0) }

// Stop ends smbd: SIGTERM, and SIGKILL if it takes longer than 300ms
// (smbd's orderly shutdown takes over a second, nothing of it matters for
// a throw-away server). Safe to call twice.
func (s *Server) Stop() { s.signal(syscall.SIGTERM, 300*time.Millisecond) }

func (s *Server) signal(sig syscall.Signal, grace time.Duration) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, sig)
	_ = syscall.Kill(-pgid, syscall.SIGCONT) // a paused group would not act on SIGTERM
	if grace > 0 {
		select {
		case <-done:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	}
	<-done
	// The children (one per connection, notifyd, cleanupd) die with the
	// group; wait until none is running any more. They may stay zombies
	// until init reaps them, which holds no port.
	deadline := time.Now().Add(5 * time.Second)
	for groupRunning(pgid) && time.Now().Before(deadline) {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		time.Sleep(5 * time.Millisecond)
	}
}

// groupRunning reports whether a process of group pgid is alive and not
// a zombie, from /proc/<pid>/stat ("pid (comm) state ppid pgrp ...").
func groupRunning(pgid int) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) >= 3 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" && f[0] != "X" {
			return true
		}
	}
	return false
}

// Pause freezes smbd and its children (SIGSTOP): connections stay open
// but nothing answers, like a hung server. Resume undoes it.
func (s *Server) Pause() { s.group(syscall.SIGSTOP) }

// Resume continues a paused smbd (SIGCONT).
func (s *Server) Resume() { s.group(syscall.SIGCONT) }

func (s *Server) group(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, sig)
	}
}

// Restart starts smbd again on the same port with the same config (after
// Kill or Stop).
func (s *Server) Restart() {
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("smbd neu starten: %v\n%s", err, s.logTail())
	}
}

// logTail is the end of smbd's output, for failure messages.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

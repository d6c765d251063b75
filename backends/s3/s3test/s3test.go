// Package s3test runs a throw-away S3 server for tests: Versity S3 Gateway
// (versitygw) with its posix backend in t.TempDir(), versioning enabled, on
// a free port of 127.0.0.1, with two buckets (Bucket without and
// LockBucket with Object Lock), stopped by t.Cleanup.
//
// The tests run when versitygw is found (PATH, ~/go/bin, $GOPATH/bin) or
// ARCHIV_S3_TESTS=1; without it they are skipped with a message saying how
// to install it, unless ARCHIV_REQUIRE_S3=1 (CI): then a missing binary or
// a server that does not come up fails the test. ARCHIV_S3_TESTS=0 skips
// on purpose.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	s3backend "werkstatt-backup/backends/s3"
	"werkstatt-backup/storage"
)

// Bucket names on every server.
const (
	Bucket     = "archiv"
	LockBucket = "archiv-lock"
)

const (
	startTimeout   = 30 * time.Second
	missingMessage = "versitygw fehlt (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0, oder make test)"
)

// TB is the part of testing.TB the harness uses.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
	TempDir() string
	Cleanup(func())
}

// Server is a running versitygw.
type Server struct {
	Host      string // 127.0.0.1
	Port      int
	AccessKey string
	SecretKey string // random per server
	Dir       string // the posix backend's root: one folder per bucket

	t       TB
	bin     string
	verDir  string
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited
	paused bool
}

// Start starts a server for the test and stops it when the test ends.
func Start(t TB) *Server {
	t.Helper()
	bin := find(t)
	base := t.TempDir()
	s := &Server{
		Host:      "127.0.0.1",
		AccessKey: "wbtestadmin",
		SecretKey: randomSecret(t),
		Dir:       filepath.Join(base, "root"),
		t:         t,
		bin:       bin,
		verDir:    filepath.Join(base, "versions"),
		logPath:   filepath.Join(base, "versitygw.log"),
	}
	for _, d := range []string{s.Dir, s.verDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(s.Stop)
	var err error
	for range 5 { // a port picked free may be taken before versitygw binds it
		s.Port = freePort(t)
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		failOrSkip(t, fmt.Sprintf("versitygw startet nicht: %v\n%s", err, s.logTail()))
	}
	s.makeBuckets()
	return s
}

// find returns the versitygw binary, or skips/fails the test.
func find(t TB) string {
	t.Helper()
	if os.Getenv("ARCHIV_S3_TESTS") == "0" && os.Getenv("ARCHIV_REQUIRE_S3") != "1" {
		t.Skip("S3-Tests abgeschaltet (ARCHIV_S3_TESTS=0)")
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	var dirs []string
	if gp := os.Getenv("GOPATH"); gp != "" {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	failOrSkip(t, missingMessage)
	return ""
}

// failOrSkip fails the test when ARCHIV_REQUIRE_S3=1, else skips it.
func failOrSkip(t TB, msg string) {
	t.Helper()
	if os.Getenv("ARCHIV_REQUIRE_S3") == "1" {
		t.Fatal("S3-Tests verlangt (ARCHIV_REQUIRE_S3=1): " + msg)
	}
	t.Skip("S3-Tests übersprungen: " + msg)
}

// start runs versitygw on s.Port and waits until it answers.
func (s *Server) start() error {
	logf, err := os.OpenFile(s.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	// --keep-alive as every S3 service does; without it versitygw closes
	// each connection after its answer.
	cmd := exec.Command(s.bin, "--port", s.Addr(), "--quiet", "--keep-alive",
		"posix", "--versioning-dir", s.verDir, s.Dir)
	// Root credentials through the environment, not the command line.
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done, s.paused = cmd, done, false
	s.mu.Unlock()
	return s.waitReady(done)
}

// waitReady polls until the server lists its buckets, it exits, or the
// overall deadline passes (a safety net, not a timing assumption).
func (s *Server) waitReady(done <-chan struct{}) error {
	c := s.Client()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.ListBuckets(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return errors.New("versitygw hat sich beendet")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("keine Antwort nach %s: %v", startTimeout, err)
		}
	}
}

// makeBuckets creates Bucket and LockBucket (Object Lock enabled).
func (s *Server) makeBuckets() {
	c := s.Client()
	ctx := context.Background()
	if err := c.MakeBucket(ctx, Bucket, minio.MakeBucketOptions{}); err != nil {
		s.t.Fatalf("Bucket %s anlegen: %v", Bucket, err)
	}
	if err := c.MakeBucket(ctx, LockBucket, minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		s.t.Fatalf("Bucket %s mit Object Lock anlegen: %v", LockBucket, err)
	}
}

// Addr is HOST:PORT.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Client is a minio-go client with the root credentials, for setting up
// and inspecting from outside the backend.
func (s *Server) Client() *minio.Client {
	c, err := minio.New(s.Addr(), &minio.Options{
		Creds:      credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region:     "us-east-1",
		MaxRetries: 1,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// URL is the archive URL of prefix (may be "") in bucket, the access key
// in it.
func (s *Server) URL(bucket, prefix string) string {
	u := "s3://" + s.AccessKey + "@" + s.Addr() + "/" + bucket
	if prefix != "" {
		u += "/" + prefix
	}
	return u
}

// Location parses URL(bucket, prefix).
func (s *Server) Location(bucket, prefix string) storage.Location {
	loc, err := s3backend.Backend{}.Parse(s.URL(bucket, prefix)[len("s3://"):])
	if err != nil {
		s.t.Fatalf("Parse(%s): %v", s.URL(bucket, prefix), err)
	}
	return loc
}

// Options are the option values for this server: its secret key, plain
// HTTP, and a call timeout of d (0: the backend's default).
func (s *Server) Options(create bool, d time.Duration) storage.Options {
	v := map[string]any{
		s3backend.KeySecretKey: s.SecretKey,
		s3backend.KeyInsecure:  true,
		s3backend.KeyRegion:    "us-east-1",
	}
	if d > 0 {
		v[s3backend.KeyTimeout] = d
	}
	return storage.Options{Create: create, Values: v}
}

// Open opens the archive at prefix in bucket with a background run
// context, closed when the test ends.
func (s *Server) Open(bucket, prefix string) *storage.Archive {
	s.t.Helper()
	a, err := s3backend.Backend{}.Open(context.Background(), s.Location(bucket, prefix), s.Options(true, 0))
	if err != nil {
		s.t.Fatalf("Open(%s): %v", s.URL(bucket, prefix), err)
	}
	s.t.Cleanup(func() { _ = a.Close() })
	return a
}

// Pause stops the server process (SIGSTOP): connections stay open and
// requests get no answer, as with a server that hangs. Resume continues
// it. Pause returns once every thread of the process has stopped: kill
// only queues the signal, and on a busy machine a thread still running
// could answer the next request.
func (s *Server) Pause() {
	s.signal(syscall.SIGSTOP, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	pid := s.cmd.Process.Pid
	deadline := time.Now().Add(startTimeout)
	for !stopped(pid) {
		if time.Now().After(deadline) {
			s.t.Fatalf("versitygw (pid %d) hält nach SIGSTOP nicht an", pid)
		}
		time.Sleep(time.Millisecond)
	}
}

// stopped reports whether every thread of process pid is stopped (state
// T or t in /proc/pid/task/*/stat); a process that is gone counts too.
func stopped(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return true
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err != nil {
			continue // the thread ended
		}
		i := bytes.LastIndexByte(b, ')') // the name in parentheses may hold anything
		if i < 0 || i+2 >= len(b) {
			return false
		}
		if st := b[i+2]; st != 'T' && st != 't' {
			return false
		}
	}
	return true
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT, false) }

func (s *Server) signal(sig syscall.Signal, paused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("versitygw %v: %v", sig, err)
	}
	s.paused = paused
}

// Stop ends the server and waits for it; the data stays for Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL) // also ends a paused one
	<-s.done
	s.cmd, s.done, s.paused = nil, nil, false
}

func (s *Server) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

// Restart stops the server if it runs and starts it again on the same
// port with the same data.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("versitygw neu starten: %v\n%s", err, s.logTail())
	}
}

// logTail is the end of the server's log, for a failure message.
func (s *Server) logTail() string {
	data, _ := os.ReadFile(s.logPath)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
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

func randomSecret(t TB) string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

package s3_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	s3backend "werkstatt-backup/backends/s3"
	"werkstatt-backup/backends/s3/s3test"
)

// TestCancelInFlight: cancelling the context a call runs under
// (Capabilities.Bind) ends a call that hangs on a stopped server at once,
// with an error wrapping context.Canceled, not after s3_timeout (an hour
// here); a call under the cancelled context fails at once, and clean-up
// calls under context.WithoutCancel run normally.
func TestCancelInFlight(t *testing.T) {
	srv := s3test.Start(t)
	p := newProxy(t, srv.Addr())
	run, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := open(t, run, location(t, srv, p.addr(), s3test.Bucket, "cancel"), srv.Options(true, time.Hour))
	write(t, a.Fs, "a.txt", "x")

	p.arrived = make(chan string, 1)
	srv.Pause() // SIGSTOP: the request gets no answer
	defer srv.Resume()
	done := make(chan error, 1)
	go func() {
		_, err := a.Caps.Bind(run).Stat("a.txt")
		done <- err
	}()
	within(t, "request at the proxy", p.arrived) // in flight now
	cancel()
	err := within(t, "Stat after cancel", done)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "abgebrochen") {
		t.Fatalf("Stat cancelled in flight: %v, want an error wrapping context.Canceled", err)
	}
	srv.Resume()
	p.arrived = nil
	if _, err := a.Caps.Bind(run).Stat("a.txt"); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat under the cancelled run: %v, want context.Canceled at once", err)
	}
	cleanup := a.Caps.Bind(context.WithoutCancel(run))
	if _, err := cleanup.Stat("a.txt"); err != nil {
		t.Errorf("Stat after the run was cancelled: %v, want it to run normally", err)
	}
	if err := cleanup.Remove("a.txt"); err != nil {
		t.Errorf("Remove after the run was cancelled: %v", err)
	}
	if _, err := (s3backend.Backend{}).Open(run, srv.Location(s3test.Bucket, ""), srv.Options(true, 0)); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled run: %v, want context.Canceled", err)
	}
}

// TestCancelListing: a listing (many pages, no single deadline) also ends
// at once when the run is cancelled.
func TestCancelListing(t *testing.T) {
	srv := s3test.Start(t)
	p := newProxy(t, srv.Addr())
	run, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := open(t, run, location(t, srv, p.addr(), s3test.Bucket, "cancel"), srv.Options(true, time.Hour))
	write(t, a.Fs, "d/a.txt", "x")
	p.arrived = make(chan string, 1)
	srv.Pause()
	defer srv.Resume()
	done := make(chan error, 1)
	go func() {
		_, err := a.Caps.ReadDir(run, "d")
		done <- err
	}()
	within(t, "listing at the proxy", p.arrived)
	cancel()
	if err := within(t, "ReadDir after cancel", done); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadDir cancelled in flight: %v, want an error wrapping context.Canceled", err)
	}
}

// TestTimeout: a call the server does not answer ends after s3_timeout
// with a clear error (os.ErrDeadlineExceeded), and the next call works
// once the server answers again.
func TestTimeout(t *testing.T) {
	srv := s3test.Start(t)
	a := open(t, context.Background(), srv.Location(s3test.Bucket, "timeout"), srv.Options(true, time.Second))
	write(t, a.Fs, "a.txt", "x")
	srv.Pause()
	_, err := a.Fs.Stat("a.txt")
	srv.Resume()
	if err == nil || !strings.Contains(err.Error(), "antwortet nicht") {
		t.Fatalf("Stat on a stopped server: %v, want a timeout", err)
	}
	if _, err := a.Fs.Stat("a.txt"); err != nil {
		t.Errorf("Stat after the server answers again: %v", err)
	}
}

// TestServerStoppedMidRun: a server that goes away mid-run makes each call
// a clear error at once (ErrUnreachable); after a restart the same
// archive works again.
func TestServerStoppedMidRun(t *testing.T) {
	srv := s3test.Start(t)
	a := open(t, context.Background(), srv.Location(s3test.Bucket, "stopped"), srv.Options(true, time.Hour))
	write(t, a.Fs, "a.txt", "x")
	srv.Stop()
	err := a.Caps.WriteFile(context.Background(), "b.txt", []byte("y"), 0o644, true)
	if !errors.Is(err, s3backend.ErrUnreachable) || !strings.Contains(err.Error(), "b.txt") {
		t.Fatalf("WriteFile with the server stopped: %v, want ErrUnreachable naming b.txt", err)
	}
	srv.Restart()
	wantContent(t, a.Fs, "a.txt", "x")
	if err := a.Caps.WriteFile(context.Background(), "b.txt", []byte("y"), 0o644, true); err != nil {
		t.Errorf("WriteFile after restart: %v", err)
	}
}

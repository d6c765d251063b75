package smb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/smb"
	"werkstatt-backup/backends/smb/smbtest"
	"werkstatt-backup/storage"
)

// TestCancelledRunEndsCallInFlight: a call to a server that stalls ends
// as soon as the context it runs under (Capabilities.Bind) is cancelled,
// not after its deadline (an hour here, so that only the cancellation can
// end it); a clean-up call after the cancellation under
// context.WithoutCancel (the lock's release, say) works normally.
func TestCancelledRunEndsCallInFlight(t *testing.T) {
	t.Parallel()
	srv := smbtest.Start(t)
	begun := make(chan struct{}, 16)
	b := smb.WithCallHook(smb.Backend{Timeout: time.Hour, Sessions: 1}, func() {
		select {
		case begun <- struct{}{}:
		default:
		}
	})
	run, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := b.Open(run, srv.Location("abbruch"), storage.Options{Create: true, Values: map[string]any{smb.OptPassword: srv.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := afero.WriteFile(a.Fs, "vorher.txt", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for len(begun) > 0 { // calls so far
		<-begun
	}

	srv.Pause()
	resumed := false
	defer func() {
		if !resumed {
			srv.Resume()
		}
	}()
	done := make(chan error, 1)
	go func() {
		_, err := a.Caps.Bind(run).Stat("vorher.txt")
		done <- err
	}()
	<-begun // the stat's request is on its way to a server that does not answer
	cancel()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute): // safety net only; the call's own deadline is an hour
		t.Fatal("cancelling the run did not end the call in flight")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("call in flight ended with %v, want context.Canceled", err)
	}

	srv.Resume()
	resumed = true
	if _, err := a.Caps.Bind(run).Stat("vorher.txt"); !errors.Is(err, context.Canceled) {
		t.Errorf("call under the cancelled ctx: %v, want context.Canceled at once", err)
	}
	// After the cancellation: clean-up calls run with their own deadline.
	cleanup := a.Caps.Bind(context.WithoutCancel(run))
	if err := afero.WriteFile(cleanup, "danach.txt", []byte("aufräumen"), 0o644); err != nil {
		t.Fatalf("write after the cancellation: %v", err)
	}
	if err := cleanup.Remove("danach.txt"); err != nil {
		t.Fatalf("remove after the cancellation: %v", err)
	}
}

package s3_test

import (
	"context"
	"errors"
	iofs "io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	s3backend "werkstatt-backup/backends/s3"
	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/storage"
)

// TestOpenWrongSecret: a wrong secret key is one clear error, after one
// request (no retries), and the error never holds the secret.
func TestOpenWrongSecret(t *testing.T) {
	srv := s3test.Start(t)
	p := newProxy(t, srv.Addr())
	opts := srv.Options(false, time.Hour) // only a fast failure can end it in time
	const wrong = "falsch-geheim-0123456789abcdef"
	opts.Values[s3backend.KeySecretKey] = wrong
	_, err := s3backend.Backend{}.Open(context.Background(), location(t, srv, p.addr(), s3test.Bucket, ""), opts)
	t.Logf("Meldung: %v", err)
	if !errors.Is(err, s3backend.ErrLogon) {
		t.Fatalf("Open with a wrong secret: %v, want ErrLogon", err)
	}
	if n := p.requests.Load(); n != 1 {
		t.Errorf("Open with a wrong secret sent %d requests, want 1 (no retries)", n)
	}
	msg := err.Error()
	if strings.Contains(msg, wrong) || strings.Contains(msg, srv.SecretKey) {
		t.Errorf("error %q holds a secret", msg)
	}
	if !strings.Contains(msg, "S3-Anmeldung") || !strings.Contains(msg, srv.AccessKey) {
		t.Errorf("error %q should say that the logon failed and name the access key", msg)
	}
}

// TestOpenUnreachable: a port nobody listens on is ErrUnreachable after a
// bounded number of tries.
func TestOpenUnreachable(t *testing.T) {
	srv := s3test.Start(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // now refused
	_, err = s3backend.Backend{}.Open(context.Background(), location(t, srv, addr, s3test.Bucket, ""), srv.Options(false, time.Hour))
	t.Logf("Meldung: %v", err)
	if !errors.Is(err, s3backend.ErrUnreachable) {
		t.Fatalf("Open of a closed port: %v, want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), "Verbindung abgelehnt") || !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q should name %s and say the connection was refused", err, addr)
	}
}

// TestOpenUnreachableBoundedRetries: a server that accepts and drops every
// connection is retried a bounded number of times, then an error.
func TestOpenUnreachableBoundedRetries(t *testing.T) {
	srv := s3test.Start(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	conns := make(chan struct{}, 100)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- struct{}{}
			c.Close()
		}
	}()
	_, err = s3backend.Backend{}.Open(context.Background(), location(t, srv, l.Addr().String(), s3test.Bucket, ""), srv.Options(false, time.Hour))
	t.Logf("Meldung: %v", err)
	if !errors.Is(err, s3backend.ErrUnreachable) {
		t.Fatalf("Open of a server that drops connections: %v, want ErrUnreachable", err)
	}
	if n := len(conns); n < 1 || n > 4 {
		t.Errorf("%d connection attempts, want 1 to 4 (bounded retries)", n)
	}
}

func TestOpenMissing(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	_, err := s3backend.Backend{}.Open(ctx, srv.Location("fehlt", ""), srv.Options(true, 0))
	if !errors.Is(err, s3backend.ErrNotFound) || !errors.Is(err, iofs.ErrNotExist) || !strings.Contains(err.Error(), `"fehlt"`) {
		t.Errorf("Open of a missing bucket: %v, want ErrNotFound naming it", err)
	}
	// An empty prefix is an empty archive, not a missing one: folders
	// are implicit, the first export fills it.
	a := open(t, ctx, srv.Location(s3test.Bucket, "werkstatt/neu"), srv.Options(false, 0))
	if err := a.Caps.WriteFile(context.Background(), "x", []byte("1"), 0o644, true); err != nil {
		t.Fatal(err)
	}
	open(t, ctx, srv.Location(s3test.Bucket, "werkstatt/neu"), srv.Options(false, 0))
}

// TestOpenPlainHTTP: HTTPS (the default) against a plain HTTP server says
// so and points to s3_insecure.
func TestOpenPlainHTTP(t *testing.T) {
	srv := s3test.Start(t)
	opts := srv.Options(false, 0)
	delete(opts.Values, s3backend.KeyInsecure)
	_, err := s3backend.Backend{}.Open(context.Background(), srv.Location(s3test.Bucket, ""), opts)
	t.Logf("Meldung: %v", err)
	if err == nil || !strings.Contains(err.Error(), "s3_insecure") {
		t.Errorf("HTTPS against HTTP: %v, want a hint to s3_insecure", err)
	}
}

func TestSecretKeyOptions(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "s3.key")
	if err := os.WriteFile(file, []byte(srv.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := srv.Options(true, 0)
	delete(opts.Values, s3backend.KeySecretKey)
	opts.Values[s3backend.KeySecretKeyFile] = file
	open(t, ctx, srv.Location(s3test.Bucket, ""), opts) // from the file, newline dropped

	for _, c := range []struct {
		file, key string
	}{
		{filepath.Join(dir, "fehlt.key"), s3backend.KeySecretKeyFile},
		{"", s3backend.KeySecretKey},
	} {
		if c.file == "" {
			delete(opts.Values, s3backend.KeySecretKeyFile)
		} else {
			opts.Values[s3backend.KeySecretKeyFile] = c.file
		}
		_, err := s3backend.Backend{}.Open(ctx, srv.Location(s3test.Bucket, ""), opts)
		var oe *storage.OptionError
		if !errors.As(err, &oe) || oe.Key != c.key {
			t.Errorf("secret file %q: %v, want an OptionError for %s", c.file, err, c.key)
		}
	}
	// No access key anywhere.
	loc := srv.Location(s3test.Bucket, "").(s3backend.Location)
	loc.AccessKey = ""
	_, err := s3backend.Backend{}.Open(ctx, loc, srv.Options(true, 0))
	var oe *storage.OptionError
	if !errors.As(err, &oe) || oe.Key != s3backend.KeyAccessKey {
		t.Errorf("no access key: %v, want an OptionError for %s", err, s3backend.KeyAccessKey)
	}
	// The option's access key when the URL has none.
	opts = srv.Options(true, 0)
	opts.Values[s3backend.KeyAccessKey] = srv.AccessKey
	open(t, ctx, loc, opts)
}

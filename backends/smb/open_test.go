package smb_test

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/smb"
	"werkstatt-backup/backends/smb/smbtest"
	"werkstatt-backup/storage"
)

// TestOpenErrors: each way of not getting in is one clear line, quickly,
// matching its sentinel, and never shows the password.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	srv := smbtest.Start(t)
	if err := os.WriteFile(filepath.Join(srv.Dir, "datei"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	silent := silentServer(t)
	closed := closedPort(t)

	with := func(mod func(*smb.Location)) smb.Location {
		loc := srv.Location("")
		mod(&loc)
		return loc
	}
	cases := []struct {
		name string
		loc  smb.Location
		pw   string
		is   error
		msg  string
	}{
		{"wrong password", srv.Location(""), "falsch-" + srv.Password, smb.ErrLogon,
			fmt.Sprintf("SMB-Anmeldung an %s als %s fehlgeschlagen (Benutzer oder Passwort falsch)", srv.Addr(), srv.User)},
		{"unknown user", with(func(l *smb.Location) { l.User = "niemand" }), srv.Password, smb.ErrLogon,
			fmt.Sprintf("SMB-Anmeldung an %s als niemand fehlgeschlagen (Benutzer oder Passwort falsch)", srv.Addr())},
		{"unknown share", with(func(l *smb.Location) { l.Share = "gibtsnicht" }), srv.Password, smb.ErrShareNotFound,
			fmt.Sprintf("SMB-Freigabe %q auf %s nicht gefunden", "gibtsnicht", srv.Addr())},
		{"port closed", with(func(l *smb.Location) { l.Port = closed }), srv.Password, smb.ErrUnreachable,
			fmt.Sprintf("SMB-Server 127.0.0.1:%d nicht erreichbar: Verbindung abgelehnt", closed)},
		{"server silent", with(func(l *smb.Location) { l.Port = silent }), srv.Password, smb.ErrUnreachable,
			fmt.Sprintf("SMB-Server 127.0.0.1:%d antwortet nicht (keine SMB-Antwort nach 500ms)", silent)},
		{"missing folder", srv.Location("fehlt/auch"), srv.Password, iofs.ErrNotExist,
			fmt.Sprintf("Ordner %q auf SMB-Freigabe %q (%s) nicht gefunden", "fehlt/auch", srv.Share, srv.Addr())},
		{"folder is a file", srv.Location("datei"), srv.Password, nil,
			fmt.Sprintf("Ordner %q auf SMB-Freigabe %q ist kein Verzeichnis", "datei", srv.Share)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Only the silent server needs the short deadline; the others
			// answer, but on a busy machine Samba's first answer (it
			// starts a process per connection) can take longer than 500ms.
			timeout := time.Minute
			if c.name == "server silent" {
				timeout = 500 * time.Millisecond
			}
			fsys, err := smb.Backend{Timeout: timeout}.Open(context.Background(), c.loc, storage.Options{Values: map[string]any{smb.OptPassword: c.pw}})
			if err == nil {
				fsys.Close()
				t.Fatal("Open succeeded")
			}
			if err.Error() != c.msg {
				t.Errorf("err = %q\nwant  %q", err, c.msg)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("err = %v, want errors.Is %v", err, c.is)
			}
			if strings.Contains(err.Error(), srv.Password) {
				t.Errorf("error shows the password: %q", err)
			}
		})
	}
}

// silentServer accepts TCP connections and never answers, like a hung
// host: only the deadline ends a call to it.
func silentServer(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestOpenCreatesFolder(t *testing.T) {
	t.Parallel()
	srv := smbtest.Start(t)
	a := open(t, srv, "werkstatt/archiv/2024", smb.Backend{})
	fsys := a.Fs
	if err := afero.WriteFile(fsys, "a.txt", []byte("hallo"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(srv.Dir, "werkstatt", "archiv", "2024", "a.txt"))
	if err != nil || string(got) != "hallo" {
		t.Fatalf("file on the share's disk: %q, %v", got, err)
	}
	// Errors name the path inside the share; the root's Stat is called ".".
	_, err = fsys.Stat("fehlt.txt")
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Path != "werkstatt/archiv/2024/fehlt.txt" || !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Stat missing: %#v", err)
	}
	if fi, err := fsys.Stat("."); err != nil || fi.Name() != "." || !fi.IsDir() {
		t.Errorf("Stat(.) = %v, %v", fi, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = fsys.Stat("a.txt")
	if !errors.Is(err, iofs.ErrClosed) {
		t.Errorf("Stat after Close: %v, want ErrClosed", err)
	}
}

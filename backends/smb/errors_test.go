package smb

import (
	"context"
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	smb2 "github.com/cloudsoda/go-smb2"
)

func testPool() *pool {
	return newPool(config{addr: "nas:445", host: "nas", share: "archiv", user: "backup",
		password: "Geheim-123", timeout: 15 * time.Second, sessions: 1})
}

func TestTranslate(t *testing.T) {
	p := testPool()
	resp := func(code uint32) error { return &smb2.ResponseError{Code: code} }
	cases := []struct {
		name string
		in   error
		is   error
		text string
	}{
		{"not found", resp(statusObjectNameNotFound), iofs.ErrNotExist, ""},
		{"path not found", resp(statusObjectPathNotFound), iofs.ErrNotExist, ""},
		{"library not found", &os.PathError{Op: "open", Path: `a\b`, Err: os.ErrNotExist}, iofs.ErrNotExist, ""},
		{"delete pending", resp(statusDeletePending), iofs.ErrNotExist, "gelöscht"},
		{"collision", resp(statusObjectNameCollision), iofs.ErrExist, ""},
		{"library exists", &os.LinkError{Op: "rename", Err: os.ErrExist}, iofs.ErrExist, ""},
		{"access denied", resp(statusAccessDenied), iofs.ErrPermission, ""},
		{"write protected", resp(statusMediaWriteProtected), iofs.ErrPermission, "schreibgeschützt"},
		{"not empty", resp(statusDirectoryNotEmpty), syscall.ENOTEMPTY, "nicht leer"},
		{"not a directory", resp(statusNotADirectory), syscall.ENOTDIR, "kein Verzeichnis"},
		{"is a directory", resp(statusFileIsADirectory), syscall.EISDIR, "ist ein Verzeichnis"},
		{"sharing violation", resp(statusSharingViolation), syscall.EBUSY, "benutzt"},
		{"disk full", resp(statusDiskFull), syscall.ENOSPC, "kein Platz"},
		{"invalid name", resp(statusObjectNameInvalid), iofs.ErrInvalid, "ungültiger Name"},
		{"session expired", resp(statusNetworkSessionExpire), ErrConnLost, "SMB-Verbindung zu nas:445 unterbrochen: Sitzung vom Server beendet"},
		{"transport", &smb2.TransportError{Err: io.EOF}, ErrConnLost, "vom Server beendet"},
		{"reset", &smb2.TransportError{Err: syscall.ECONNRESET}, ErrConnLost, "zurückgesetzt"},
		{"deadline", context.DeadlineExceeded, os.ErrDeadlineExceeded, "antwortet nicht (Zeitüberschreitung nach 15s)"},
		{"other status", resp(0xC0000001), nil, "NTSTATUS 0xC0000001"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := p.translate(c.in)
			if c.is != nil && !errors.Is(got, c.is) {
				t.Errorf("translate(%v) = %v, want errors.Is %v", c.in, got, c.is)
			}
			if c.text != "" && !strings.Contains(got.Error(), c.text) {
				t.Errorf("translate(%v) = %q, want it to contain %q", c.in, got, c.text)
			}
			// The sentinels themselves, so that the old os.IsNotExist works too.
			pe := &os.PathError{Op: "open", Path: "2024/x", Err: got}
			if c.is == iofs.ErrNotExist && c.text == "" && !os.IsNotExist(pe) {
				t.Errorf("os.IsNotExist(%v) = false", pe)
			}
		})
	}
}

func TestConnectErrorsAreOneLineAndSecret(t *testing.T) {
	p := testPool()
	p.cfg.domain = "WERKSTATT"
	errs := []error{
		p.setupError(&smb2.ResponseError{Code: statusLogonFailure}),
		p.setupError(&smb2.ResponseError{Code: statusAccountLockedOut}),
		p.setupError(&smb2.TransportError{Err: io.EOF}),
		p.setupError(context.DeadlineExceeded),
		p.mountError(&smb2.ResponseError{Code: statusBadNetworkName}),
		p.mountError(os.ErrPermission),
		p.dialError(&os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}),
		p.dialError(context.DeadlineExceeded),
	}
	want := []string{
		`SMB-Anmeldung an nas:445 als WERKSTATT\backup fehlgeschlagen (Benutzer oder Passwort falsch)`,
		"(Konto gesperrt)",
		"Verbindungsaufbau fehlgeschlagen",
		"antwortet nicht (keine SMB-Antwort nach 15s)",
		`SMB-Freigabe "archiv" auf nas:445 nicht gefunden`,
		`Zugriff auf SMB-Freigabe "archiv" auf nas:445 für WERKSTATT\backup verweigert`,
		"SMB-Server nas:445 nicht erreichbar: Verbindung abgelehnt",
		"SMB-Server nas:445 nicht erreichbar: keine Antwort nach 15s",
	}
	for i, err := range errs {
		msg := err.Error()
		if !strings.Contains(msg, want[i]) {
			t.Errorf("error %d = %q, want it to contain %q", i, msg, want[i])
		}
		if strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, p.cfg.password) {
			t.Errorf("error %d = %q: not one line or contains the password", i, msg)
		}
	}
	// No password at all: say where to give one.
	nopw := testPool()
	nopw.cfg.password = ""
	want0 := `SMB-Anmeldung an nas:445 als backup fehlgeschlagen (kein Passwort angegeben: ARCHIV_SMB_PASSWORD oder smb_password_file setzen)`
	if err := nopw.setupError(&smb2.ResponseError{Code: statusLogonFailure}); !strings.Contains(err.Error(), want0) || !errors.Is(err, ErrLogon) {
		t.Errorf("no password: %q, want %q", err, want0)
	}
	for _, c := range []struct {
		err  error
		want error
	}{{errs[0], ErrLogon}, {errs[4], ErrShareNotFound}, {errs[5], iofs.ErrPermission}, {errs[6], ErrUnreachable}} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%v: want errors.Is %v", c.err, c.want)
		}
	}
}

func TestResolveStaysInRoot(t *testing.T) {
	fs := &Fs{pool: testPool(), root: "werkstatt/archiv"}
	for name, want := range map[string]string{
		".":                    `werkstatt\archiv`,
		"":                     `werkstatt\archiv`,
		"/":                    `werkstatt\archiv`,
		"2024/076329/data.csv": `werkstatt\archiv\2024\076329\data.csv`,
		"./2024//076329/":      `werkstatt\archiv\2024\076329`,
		"../../etc/passwd":     `werkstatt\archiv\etc\passwd`,
		"/2024/../2025":        `werkstatt\archiv\2025`,
	} {
		got, err := fs.resolve("open", name)
		if err != nil || got.smb != want {
			t.Errorf("resolve(%q) = %q, %v; want %q", name, got.smb, err, want)
		}
	}
	_, err := fs.resolve("open", `2024\..\..\x`)
	if !errors.Is(err, iofs.ErrInvalid) {
		t.Errorf("backslash: err = %v, want ErrInvalid", err)
	}
	if got, _ := (&Fs{pool: testPool()}).resolve("stat", "."); got.smb != "" || got.show != "." {
		t.Errorf("share root = %+v", got)
	}
}

func TestCallCtxRenewsDeadline(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	c := newCallCtx(parent)
	c.begin(context.Background(), 20*time.Millisecond)
	<-c.Done()
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err = %v after the deadline", c.Err())
	}
	c.end()
	c.begin(context.Background(), time.Hour) // the next call starts fresh
	select {
	case <-c.Done():
		t.Fatal("new call is already done")
	default:
	}
	if c.Err() != nil {
		t.Fatalf("Err = %v at the start of a call", c.Err())
	}
	cancel()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the parent did not end the call")
	}
	if !errors.Is(c.Err(), context.Canceled) {
		t.Errorf("Err = %v, want Canceled", c.Err())
	}
	c.end()
	if d, ok := c.Deadline(); ok {
		t.Errorf("Deadline = %v between calls, want none", d)
	}
}

func TestRejectedCallsMayBeRepeated(t *testing.T) {
	for code, want := range map[uint32]bool{
		statusNetworkSessionExpire: true, statusUserSessionDeleted: true, statusNetworkNameDeleted: true,
		statusAccessDenied: false, statusSharingViolation: false,
	} {
		if got := rejected(&smb2.ResponseError{Code: code}); got != want {
			t.Errorf("rejected(0x%08X) = %v, want %v", code, got, want)
		}
	}
	if rejected(&smb2.TransportError{Err: io.EOF}) {
		t.Error("a broken connection is not a rejection: the call may have happened")
	}
}

// TestCallCtxFollowsCaller: a call ends at once when its caller's ctx is
// cancelled; the next call on the same context (a file's next write)
// under a ctx that cannot be cancelled (context.WithoutCancel, for
// releasing the lock or removing temp files) runs with its deadline only.
func TestCallCtxFollowsCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		run, cancel := context.WithCancel(context.Background())
		c := newCallCtx(context.Background())
		c.begin(run, time.Hour)
		cancel()
		synctest.Wait()
		select {
		case <-c.Done():
		default:
			t.Fatal("cancelling the caller did not end the call in flight")
		}
		if !errors.Is(c.Err(), context.Canceled) || !c.cancelledByCaller() {
			t.Errorf("Err = %v, by caller %v; want Canceled by the caller", c.Err(), c.cancelledByCaller())
		}
		c.end()
		c.begin(context.WithoutCancel(run), time.Minute) // clean-up: only the deadline counts
		synctest.Wait()
		if c.Err() != nil || c.cancelledByCaller() {
			t.Fatalf("a clean-up call after the cancellation is ended: %v", c.Err())
		}
		time.Sleep(time.Minute) // fake time: the deadline passes
		synctest.Wait()
		if !errors.Is(c.Err(), context.DeadlineExceeded) || c.cancelledByCaller() {
			t.Errorf("Err = %v after the deadline, want DeadlineExceeded", c.Err())
		}
		c.end()
		c.begin(run, time.Minute) // a call under the cancelled ctx ends at once
		synctest.Wait()
		if !errors.Is(c.Err(), context.Canceled) {
			t.Errorf("a call begun under a cancelled ctx: Err = %v, want Canceled", c.Err())
		}
		c.end()
	})
}

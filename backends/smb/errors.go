package smb

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net"
	"os"
	"syscall"
	"time"

	smb2 "github.com/cloudsoda/go-smb2"

	"werkstatt-backup/storage"
)

// Sentinels for the connection errors of Backend.Open, for errors.Is.
var (
	ErrUnreachable   = errors.New("SMB-Server nicht erreichbar")
	ErrLogon         = errors.New("SMB-Anmeldung fehlgeschlagen")
	ErrShareNotFound = errors.New("SMB-Freigabe nicht gefunden")
	ErrConnLost      = errors.New("SMB-Verbindung unterbrochen")
)

// NT status codes ([MS-ERREF] 2.3) this package tells apart. The library
// keeps its table internal, so the few that matter are repeated here.
const (
	statusInvalidHandle        = 0xC0000008
	statusNoSuchFile           = 0xC000000F
	statusAccessDenied         = 0xC0000022
	statusObjectNameInvalid    = 0xC0000033
	statusObjectNameNotFound   = 0xC0000034
	statusObjectNameCollision  = 0xC0000035
	statusObjectPathNotFound   = 0xC000003A
	statusSharingViolation     = 0xC0000043
	statusDeletePending        = 0xC0000056
	statusNoSuchUser           = 0xC0000064
	statusWrongPassword        = 0xC000006A
	statusLogonFailure         = 0xC000006D
	statusAccountRestriction   = 0xC000006E
	statusInvalidLogonHours    = 0xC000006F
	statusInvalidWorkstation   = 0xC0000070
	statusPasswordExpired      = 0xC0000071
	statusAccountDisabled      = 0xC0000072
	statusDiskFull             = 0xC000007F
	statusMediaWriteProtected  = 0xC00000A2
	statusFileIsADirectory     = 0xC00000BA
	statusNetworkNameDeleted   = 0xC00000C9
	statusNetworkAccessDenied  = 0xC00000CA
	statusBadNetworkName       = 0xC00000CC
	statusDirectoryNotEmpty    = 0xC0000101
	statusNotADirectory        = 0xC0000103
	statusCannotDelete         = 0xC0000121
	statusFileClosed           = 0xC0000128
	statusAccountExpired       = 0xC0000193
	statusUserSessionDeleted   = 0xC0000203
	statusInsuffResources      = 0xC0000205
	statusPasswordMustChange   = 0xC0000224
	statusNotFound             = 0xC0000225
	statusAccountLockedOut     = 0xC0000234
	statusNetworkSessionExpire = 0xC000035C
)

// statusError is an NT status the server answered with, in words, wrapping
// the matching io/fs or syscall error where there is one.
type statusError struct {
	code uint32
	text string
	is   error // may be nil
}

func (e *statusError) Error() string { return fmt.Sprintf("%s (NTSTATUS 0x%08X)", e.text, e.code) }
func (e *statusError) Unwrap() error { return e.is }

// statusOf returns the NT status in err, if the server sent one.
func statusOf(err error) (uint32, bool) {
	var re *smb2.ResponseError
	if errors.As(err, &re) {
		return re.Code, true
	}
	return 0, false
}

// connLostError: the TCP connection or the SMB session broke. Idempotent
// calls are retried once on a new connection before this is returned.
type connLostError struct {
	addr  string
	cause error
}

func (e *connLostError) Error() string {
	return fmt.Sprintf("SMB-Verbindung zu %s unterbrochen: %s", e.addr, describeNet(e.cause))
}
func (e *connLostError) Unwrap() []error { return []error{ErrConnLost, e.cause} }

// timeoutError: one call got no answer within the deadline.
type timeoutError struct {
	addr string
	d    time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("SMB-Server %s antwortet nicht (Zeitüberschreitung nach %s)", e.addr, e.d)
}
func (e *timeoutError) Timeout() bool { return true }
func (e *timeoutError) Unwrap() error { return os.ErrDeadlineExceeded }

// errClosed: the Fs was closed.
var errClosed = fmt.Errorf("SMB-Archiv ist geschlossen: %w", iofs.ErrClosed)

// translate turns an error of the library into the cause of an
// *os.PathError: io/fs sentinels (so errors.Is and os.IsNotExist work),
// syscall errors, or a readable *statusError, *connLostError or
// *timeoutError. It never sees the password, so it cannot leak it.
func (p *pool) translate(err error) error {
	var ce *connectError
	if errors.As(err, &ce) {
		return ce // already says what failed, in words
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		err = le.Err
	}
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return iofs.ErrNotExist
	case errors.Is(err, iofs.ErrExist):
		return iofs.ErrExist
	case errors.Is(err, iofs.ErrPermission):
		return iofs.ErrPermission
	case p.closed():
		return errClosed
	case isTimeout(err):
		return &timeoutError{addr: p.cfg.addr, d: p.cfg.timeout}
	case isConnLost(err):
		return &connLostError{addr: p.cfg.addr, cause: err}
	}
	code, ok := statusOf(err)
	if !ok {
		return err
	}
	switch code {
	case statusObjectNameNotFound, statusObjectPathNotFound, statusNoSuchFile, statusNotFound:
		return iofs.ErrNotExist
	case statusDeletePending:
		return &statusError{code, "wird gerade gelöscht", iofs.ErrNotExist}
	case statusObjectNameCollision:
		return iofs.ErrExist
	case statusAccessDenied, statusCannotDelete, statusNetworkAccessDenied:
		return iofs.ErrPermission
	case statusMediaWriteProtected:
		return &statusError{code, "Freigabe ist schreibgeschützt", iofs.ErrPermission}
	case statusSharingViolation:
		return &statusError{code, "wird gerade von einem anderen Programm benutzt", syscall.EBUSY}
	case statusDirectoryNotEmpty:
		return &statusError{code, "Verzeichnis ist nicht leer", syscall.ENOTEMPTY}
	case statusNotADirectory:
		return &statusError{code, "ist kein Verzeichnis", syscall.ENOTDIR}
	case statusFileIsADirectory:
		return &statusError{code, "ist ein Verzeichnis", syscall.EISDIR}
	case statusObjectNameInvalid:
		return &statusError{code, "ungültiger Name auf der Freigabe", iofs.ErrInvalid}
	case statusDiskFull:
		return &statusError{code, "kein Platz mehr auf der Freigabe", syscall.ENOSPC}
	case statusInsuffResources:
		return &statusError{code, "SMB-Server überlastet", nil}
	case statusInvalidHandle, statusFileClosed:
		return &statusError{code, "Datei-Handle ungültig (Verbindung neu aufgebaut?)", iofs.ErrClosed}
	}
	return &statusError{code, "SMB-Fehler: " + err.Error(), nil}
}

// isTimeout reports a per-call deadline that expired.
func isTimeout(err error) bool {
	var te *timeoutError
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &te)
}

// isConnLost reports whether err means the session is unusable: the TCP
// connection broke, or the server dropped the session or tree (Windows
// does that to idle sessions).
func isConnLost(err error) bool {
	var te *smb2.TransportError
	var cl *connLostError
	if errors.As(err, &te) || errors.As(err, &cl) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) {
		return true
	}
	code, ok := statusOf(err)
	return ok && (code == statusNetworkNameDeleted || code == statusUserSessionDeleted || code == statusNetworkSessionExpire)
}

// describeNet says in German what went wrong on the network.
func describeNet(err error) string {
	if s := storage.DescribeNetError(err); s != "" {
		return s
	}
	switch {
	case errors.Is(err, net.ErrClosed):
		return "Verbindung geschlossen"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "keine Antwort"
	}
	if rejected(err) {
		return "Sitzung vom Server beendet"
	}
	var te *smb2.TransportError
	if errors.As(err, &te) {
		if te.Err == nil || errors.Is(te.Err, io.EOF) {
			return "Verbindung vom Server beendet"
		}
		return describeNet(te.Err)
	}
	return err.Error()
}

// connectError is a failed connect, logon or mount, worded for the user.
// errors.Is matches its kind (ErrUnreachable, ErrLogon, ErrShareNotFound,
// io/fs.ErrPermission) without repeating it in the text; translate passes
// it through unchanged.
type connectError struct {
	msg  string
	kind error
}

func (e *connectError) Error() string { return e.msg }
func (e *connectError) Unwrap() error { return e.kind }

func connErr(kind error, format string, args ...any) *connectError {
	return &connectError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// dialError explains a failed TCP connect.
func (p *pool) dialError(err error) *connectError {
	reason := describeNet(err)
	if isTimeout(err) || errors.Is(err, os.ErrDeadlineExceeded) {
		reason = fmt.Sprintf("keine Antwort nach %s", p.cfg.timeout)
	}
	return connErr(ErrUnreachable, "SMB-Server %s nicht erreichbar: %s", p.cfg.addr, reason)
}

// setupError explains a failed negotiation or logon.
func (p *pool) setupError(err error) *connectError {
	if code, ok := statusOf(err); ok {
		why := ""
		switch code {
		case statusLogonFailure, statusWrongPassword, statusNoSuchUser:
			why = "Benutzer oder Passwort falsch"
			if p.cfg.password == "" {
				why = "kein Passwort angegeben: ARCHIV_SMB_PASSWORD oder " + OptPasswordFile + " setzen"
			}
		case statusAccountDisabled:
			why = "Konto deaktiviert"
		case statusAccountLockedOut:
			why = "Konto gesperrt"
		case statusAccountExpired:
			why = "Konto abgelaufen"
		case statusPasswordExpired, statusPasswordMustChange:
			why = "Passwort abgelaufen, bitte am Server ändern"
		case statusAccountRestriction, statusInvalidLogonHours, statusInvalidWorkstation:
			why = "Anmeldung für dieses Konto hier oder jetzt nicht erlaubt"
		}
		if why != "" {
			return connErr(ErrLogon, "SMB-Anmeldung an %s als %s fehlgeschlagen (%s)", p.cfg.addr, p.cfg.account(), why)
		}
	}
	if isTimeout(err) {
		return connErr(ErrUnreachable, "SMB-Server %s antwortet nicht (keine SMB-Antwort nach %s)", p.cfg.addr, p.cfg.timeout)
	}
	var te *smb2.TransportError
	if errors.As(err, &te) {
		return connErr(ErrUnreachable, "SMB-Server %s: Verbindungsaufbau fehlgeschlagen: %s (kein SMB-Server oder SMB2/3 abgeschaltet?)",
			p.cfg.addr, describeNet(err))
	}
	return connErr(ErrUnreachable, "SMB-Server %s: Verbindungsaufbau fehlgeschlagen: %s", p.cfg.addr, oneLine(err))
}

// mountError explains a failed tree connect to the share.
func (p *pool) mountError(err error) *connectError {
	code, _ := statusOf(err)
	switch {
	case code == statusBadNetworkName:
		return connErr(ErrShareNotFound, "SMB-Freigabe %q auf %s nicht gefunden", p.cfg.share, p.cfg.addr)
	case errors.Is(err, iofs.ErrPermission), code == statusAccessDenied, code == statusNetworkAccessDenied:
		return connErr(iofs.ErrPermission, "Zugriff auf SMB-Freigabe %q auf %s für %s verweigert", p.cfg.share, p.cfg.addr, p.cfg.account())
	case isTimeout(err):
		return connErr(ErrUnreachable, "SMB-Server %s antwortet nicht beim Verbinden der Freigabe %q (nach %s)", p.cfg.addr, p.cfg.share, p.cfg.timeout)
	}
	return connErr(ErrUnreachable, "SMB-Freigabe %q auf %s verbinden: %s", p.cfg.share, p.cfg.addr, oneLine(p.translate(err)))
}

func oneLine(err error) string {
	s := err.Error()
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}

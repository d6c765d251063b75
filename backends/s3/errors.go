package s3

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"

	"werkstatt-backup/storage"
)

// Sentinels for the connection errors of Backend.Open, for errors.Is (the
// caller maps them to exit codes).
var (
	ErrUnreachable = errors.New("S3-Server nicht erreichbar")
	ErrLogon       = errors.New("S3-Anmeldung fehlgeschlagen")
	ErrNotFound    = errors.New("S3-Bucket oder Ordner nicht gefunden")
)

// s3Error is an error answer of the server, in words, wrapping the io/fs or
// syscall error that matches it (nil if none does).
type s3Error struct {
	code string // the S3 error code, e.g. "AccessDenied"
	text string
	is   error
}

func (e *s3Error) Error() string { return fmt.Sprintf("%s (S3-Fehler %s)", e.text, e.code) }
func (e *s3Error) Unwrap() error { return e.is }

// netError: the server could not be reached or the connection broke.
type netError struct {
	endpoint string
	cause    error
}

func (e *netError) Error() string {
	return fmt.Sprintf("S3-Server %s nicht erreichbar: %s", e.endpoint, describeNet(e.cause))
}
func (e *netError) Unwrap() []error { return []error{ErrUnreachable, e.cause} }

// timeoutError: one call got no answer within s3_timeout.
type timeoutError struct {
	endpoint string
	d        time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("S3-Server %s antwortet nicht (Zeitüberschreitung nach %s, s3_timeout)", e.endpoint, e.d)
}
func (e *timeoutError) Timeout() bool { return true }
func (e *timeoutError) Unwrap() error { return os.ErrDeadlineExceeded }

// canceledError: the caller's ctx was cancelled (Ctrl+C) before or while
// the call was in flight.
type canceledError struct{}

func (canceledError) Error() string { return "S3-Anfrage abgebrochen" }
func (canceledError) Unwrap() error { return context.Canceled }

// logonError: the server refused the credentials.
type logonError struct {
	endpoint, accessKey, why string
}

func (e *logonError) Error() string {
	return fmt.Sprintf("S3-Anmeldung an %s mit Access-Key %s fehlgeschlagen (%s)", e.endpoint, e.accessKey, e.why)
}
func (e *logonError) Unwrap() []error { return []error{ErrLogon, iofs.ErrPermission} }

// translate turns an error of minio-go into the cause of an
// *os.PathError: io/fs sentinels where they fit (errors.Is works), else a
// readable error in German. ctxErr is the error of the call's own context
// (deadline or run cancellation), which wins over what the library made
// of it. Only the S3 error code and the server's message are kept: no
// request, header or signature, so no secret, can reach the text.
func (c *conn) translate(err error, ctxErr error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(ctxErr, context.Canceled):
		return canceledError{}
	case errors.Is(ctxErr, context.DeadlineExceeded):
		return &timeoutError{endpoint: c.endpoint, d: c.timeout}
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) && er.Code != "" {
		return c.fromCode(er.Code, er.Message, er.StatusCode)
	}
	if isNet(err) {
		return &netError{endpoint: c.endpoint, cause: err}
	}
	return &s3Error{code: "Client", text: redact(err.Error(), c.secret)}
}

// fromCode words an S3 error code.
func (c *conn) fromCode(code, msg string, status int) error {
	switch code {
	case "NoSuchKey", "NoSuchVersion", "NotFound", "NoSuchUpload":
		return iofs.ErrNotExist
	case "NoSuchBucket":
		return &s3Error{code, "S3-Bucket nicht gefunden", iofs.ErrNotExist}
	case "AccessDenied", "AllAccessDisabled", "AccountProblem":
		return &s3Error{code, "Zugriff verweigert", iofs.ErrPermission}
	case "SignatureDoesNotMatch":
		return &logonError{c.endpoint, c.accessKey, "Secret-Key falsch"}
	case "InvalidAccessKeyId":
		return &logonError{c.endpoint, c.accessKey, "Access-Key unbekannt"}
	case "RequestTimeTooSkewed":
		return &s3Error{code, "Uhrzeit dieses Rechners weicht zu stark von der des S3-Servers ab", iofs.ErrPermission}
	case "PreconditionFailed", "ConditionalRequestConflict":
		return &s3Error{code, "existiert bereits oder wurde inzwischen geändert", iofs.ErrExist}
	case "InvalidObjectState", "ObjectLocked":
		return &s3Error{code, "durch Object Lock gesperrt", iofs.ErrPermission}
	case "InvalidBucketName", "InvalidArgument", "InvalidRequest":
		return &s3Error{code, "ungültige Anfrage: " + redact(msg, c.secret), iofs.ErrInvalid}
	case "SlowDown", "ServiceUnavailable", "InternalError":
		return &s3Error{code, "S3-Server überlastet oder gestört", nil}
	case "QuotaExceeded", "EntityTooLarge":
		return &s3Error{code, "kein Platz oder Objekt zu groß", syscall.ENOSPC}
	}
	if msg == "" {
		msg = fmt.Sprintf("HTTP-Status %d", status)
	}
	return &s3Error{code, "S3-Fehler: " + redact(msg, c.secret), nil}
}

// isNet reports an error of the network below HTTP.
func isNet(err error) bool {
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &oe) || errors.As(err, &de) || errors.As(err, &ne) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") ||
		isTLS(err)
}

func isTLS(err error) bool {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) ||
		strings.Contains(err.Error(), "tls: ")
}

// describeNet says in German what went wrong on the network.
func describeNet(err error) string {
	switch {
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "der Server spricht nur HTTP, nicht HTTPS (für ein internes Gateway: s3_insecure)"
	case isTLS(err):
		return "TLS-Zertifikat oder -Verbindung ungültig"
	}
	if s := storage.DescribeNetError(err); s != "" {
		return s
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "closed by foreign host") {
		return "Verbindung vom Server beendet"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "keine Antwort"
	}
	return "Netzwerkfehler"
}

// redact replaces the secret in a text the server or library wrote; a
// guard behind translate, which keeps no request data in the first place.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "***")
}

// pathErr wraps a translated cause with the operation and the archive name
// (never the bucket's credentials).
func pathErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	return &os.PathError{Op: op, Path: name, Err: err}
}

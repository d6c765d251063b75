package smb

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"net"
	"strconv"
	"time"

	"werkstatt-backup/storage"
)

var _ storage.Backend = Backend{}

// Defaults for the zero fields of Backend.
const (
	DefaultPort      = 445
	DefaultSessions  = 4
	DefaultTimeout   = 15 * time.Second
	DefaultReconnect = 10 * time.Second
	DefaultBusyWait  = 5 * time.Second
	// minTimeout is the shortest smb_timeout accepted.
	minTimeout = time.Second
)

// Backend opens archives on SMB2/3 shares (scheme "smb"). The zero value
// is ready to use.
type Backend struct {
	Sessions  int           // size of the session pool; 0 = DefaultSessions
	Timeout   time.Duration // deadline of every call if the option smb_timeout is unset; 0 = DefaultTimeout
	Reconnect time.Duration // longest time spent reconnecting a dropped session; 0 = DefaultReconnect
	BusyWait  time.Duration // how long a call waits for a file someone else holds open; 0 = DefaultBusyWait

	callBegun func() // tests only (see export_test.go)
}

// Open connects to loc.Host, logs on as the URL's user and domain (else
// the options smb_user and smb_domain) with NTLM and the password (see
// password), mounts loc.Share and returns the archive rooted at loc.Path,
// created first if missing and opts.Create. The first session is made
// here, with one try, so that a wrong password, an unknown share or an
// unreachable server is one clear error at once (errors.Is ErrLogon,
// ErrShareNotFound, ErrUnreachable); the other sessions of the pool
// connect on first use. ctx is used for connecting and checking the
// root only; later calls take the caller's ctx (Capabilities.Bind).
func (b Backend) Open(ctx context.Context, sloc storage.Location, opts storage.Options) (*storage.Archive, error) {
	loc, ok := sloc.(Location)
	if !ok {
		return nil, fmt.Errorf("Archiv %s: keine SMB-Adresse", sloc)
	}
	if loc.User == "" {
		loc.User = opts.String(OptUser)
	}
	if loc.Domain == "" {
		loc.Domain = opts.String(OptDomain)
	}
	switch {
	case loc.Host == "":
		return nil, errors.New("SMB-Host fehlt")
	case loc.Share == "":
		return nil, errors.New("SMB-Freigabe fehlt (smb://benutzer@host/freigabe[/ordner])")
	case loc.User == "":
		return nil, errors.New("SMB-Benutzer fehlt (smb://benutzer@host/freigabe oder --smb-user)")
	}
	password, err := password(loc, opts)
	if err != nil {
		return nil, err
	}
	port := loc.Port
	if port == 0 {
		port = DefaultPort
	}
	cfg := config{
		addr:      net.JoinHostPort(loc.Host, strconv.Itoa(port)),
		host:      loc.Host,
		share:     loc.Share,
		user:      loc.User,
		domain:    loc.Domain,
		password:  password,
		timeout:   positive(opts.Duration(OptTimeout), positive(b.Timeout, DefaultTimeout)),
		sessions:  positive(b.Sessions, DefaultSessions),
		reconnect: positive(b.Reconnect, DefaultReconnect),
		busyWait:  positive(b.BusyWait, DefaultBusyWait),
		callBegun: b.callBegun,
	}
	p := newPool(cfg)
	if err := p.connect(ctx); err != nil {
		p.close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("SMB-Verbindung zu %s: %w", cfg.addr, ctx.Err())
		}
		return nil, err
	}
	fs := &Fs{pool: p, root: loc.Path, ctx: context.Background()}
	if err := fs.bind(ctx).checkRoot(loc, opts.Create); err != nil {
		p.close()
		return nil, err
	}
	return &storage.Archive{Fs: fs, Caps: fs.caps(), Closer: fs.Close}, nil
}

// checkRoot makes sure the archive directory exists (creating it if
// create) and is a directory.
func (fs *Fs) checkRoot(loc Location, create bool) error {
	if fs.root == "" {
		return nil
	}
	share := &Fs{pool: fs.pool, ctx: fs.ctx}
	fi, err := share.Stat(fs.root)
	switch {
	case errors.Is(err, iofs.ErrNotExist) && create:
		if err := share.MkdirAll(fs.root, 0o755); err != nil {
			return fmt.Errorf("Ordner %q auf SMB-Freigabe %q anlegen: %w", fs.root, loc.Share, err)
		}
	case errors.Is(err, iofs.ErrNotExist):
		return &notFoundError{dir: fs.root, share: loc.Share, addr: fs.pool.cfg.addr}
	case err != nil:
		return fmt.Errorf("Ordner %q auf SMB-Freigabe %q: %w", fs.root, loc.Share, err)
	case !fi.IsDir():
		return fmt.Errorf("Ordner %q auf SMB-Freigabe %q ist kein Verzeichnis", fs.root, loc.Share)
	}
	return nil
}

// notFoundError: the archive directory is missing on the share.
type notFoundError struct{ dir, share, addr string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("Ordner %q auf SMB-Freigabe %q (%s) nicht gefunden", e.dir, e.share, e.addr)
}
func (e *notFoundError) Unwrap() error { return iofs.ErrNotExist }

// positive returns v, or def if v is not positive.
func positive[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

package fs

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"
)

// OpenOptions are passed by the caller to a Backend's Open.
type OpenOptions struct {
	Create   bool          // create the archive root if missing; otherwise a missing root is an error wrapping io/fs.ErrNotExist
	Password string        // smb password resolved by the caller (env/file); empty if none
	Timeout  time.Duration // per-call deadline for network backends; 0 = backend default
}

// Backend opens the archive at a Location as an afero.Fs rooted at the
// archive root. A backend whose Fs holds connections makes it implement
// io.Closer; see Close.
type Backend interface {
	Open(ctx context.Context, loc Location, opts OpenOptions) (afero.Fs, error)
}

// Registry maps URL schemes to backends. It is safe for concurrent use.
type Registry struct {
	mu       sync.RWMutex
	backends map[string]Backend
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{backends: make(map[string]Backend)}
}

// Register makes b available for scheme. It panics if b is nil or the
// scheme is already registered, both programmer errors.
func (r *Registry) Register(scheme string, b Backend) {
	if b == nil {
		panic("fs: Register: Backend für Schema " + scheme + " ist nil")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.backends[scheme]; dup {
		panic("fs: Register: Schema " + scheme + " doppelt registriert")
	}
	r.backends[scheme] = b
}

// Open opens loc with the backend registered for loc.Scheme.
func (r *Registry) Open(ctx context.Context, loc Location, opts OpenOptions) (afero.Fs, error) {
	r.mu.RLock()
	b, ok := r.backends[loc.Scheme]
	r.mu.RUnlock()
	if !ok {
		return nil, &SchemeError{Scheme: loc.Scheme, Known: r.Names()}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("Archiv %s öffnen: %w", loc, err)
	}
	return b.Open(ctx, loc, opts)
}

// SchemeError is an archive location whose scheme no backend serves
// ("ftp://…"): a wrong invocation, not a failure of the archive.
type SchemeError struct {
	Scheme string
	Known  []string
}

func (e *SchemeError) Error() string {
	return fmt.Sprintf("unbekanntes Archiv-Schema %q (bekannt: %s)", e.Scheme, strings.Join(e.Known, ", "))
}

// Names returns the registered schemes, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.backends))
	for name := range r.backends {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Close closes fsys if it implements io.Closer (network backends do) and
// returns nil otherwise.
func Close(fsys afero.Fs) error {
	if c, ok := fsys.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

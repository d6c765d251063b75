package storage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Registry maps URL schemes to backends. It is safe for concurrent use.
type Registry struct {
	mu       sync.RWMutex
	backends map[string]Backend
	descs    map[string]Description
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{backends: make(map[string]Backend), descs: make(map[string]Description)}
}

// Register makes b available for the scheme it describes. It panics if b
// is nil, its scheme is empty or already registered, or one of its option
// keys is taken: all programmer errors found at start-up.
func (r *Registry) Register(b Backend) {
	if b == nil {
		panic("storage: Register: Backend ist nil")
	}
	d := b.Describe()
	if d.Scheme == "" || d.Scheme != strings.ToLower(d.Scheme) {
		panic(fmt.Sprintf("storage: Register: Schema %q ungültig (klein geschrieben, nicht leer)", d.Scheme))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.backends[d.Scheme]; dup {
		panic("storage: Register: Schema " + d.Scheme + " doppelt registriert")
	}
	for _, o := range d.Options {
		if !strings.HasPrefix(o.Key, d.Scheme+"_") {
			panic(fmt.Sprintf("storage: Register: Option %q von %s beginnt nicht mit %q", o.Key, d.Scheme, d.Scheme+"_"))
		}
	}
	r.backends[d.Scheme] = b
	r.descs[d.Scheme] = d
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

// Descriptions returns what every backend declares, sorted by scheme.
func (r *Registry) Descriptions() []Description {
	names := r.Names()
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Description, len(names))
	for i, n := range names {
		out[i] = r.descs[n]
	}
	return out
}

// Options returns the options of every backend, by scheme, each backend's
// in its declared order.
func (r *Registry) Options() []Option {
	var out []Option
	for _, d := range r.Descriptions() {
		out = append(out, d.Options...)
	}
	return out
}

func (r *Registry) lookup(scheme string) (Backend, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	b, ok := r.backends[scheme]
	return b, ok
}

// PathParser is implemented by the backend of scheme "file": it parses a
// plain local path, written without a scheme. (Its Parse gets what
// follows "file://", where "server/x" names a host, not a relative path.)
type PathParser interface {
	ParsePath(path string) (Location, error)
}

// Parse parses an archive location: a plain path (the "file" backend) or
// scheme://rest, parsed by the scheme's backend. An unknown scheme is a
// *SchemeError. Errors never show a password of the URL.
func (r *Registry) Parse(s string) (Location, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("Archiv-Pfad fehlt")
	}
	scheme, rest, ok := splitScheme(s)
	if !ok {
		if scheme, ok := missingSlash(s); ok {
			// As the URL it was meant to be, so that Redact hides a password.
			meant := Redact(scheme + ":/" + s[len(scheme)+1:])
			return nil, fmt.Errorf("ungültiger Archiv-Ort: nach %q fehlt ein Schrägstrich (gemeint ist wohl %q); ein lokaler Ordner dieses Namens ist mit ./ davor gemeint", scheme+":", meant)
		}
		b, ok := r.lookup("file")
		if !ok {
			return nil, &SchemeError{Scheme: "file", Known: r.Names()}
		}
		var loc Location
		var err error
		if pp, ok := b.(PathParser); ok {
			loc, err = pp.ParsePath(s)
		} else {
			loc, err = b.Parse(s)
		}
		if err != nil {
			return nil, fmt.Errorf("ungültiger Archiv-Ort %q: %w", s, err)
		}
		return loc, nil
	}
	b, ok := r.lookup(scheme)
	if !ok {
		return nil, &SchemeError{Scheme: scheme, Known: r.Names()}
	}
	loc, err := b.Parse(rest)
	if err != nil {
		return nil, fmt.Errorf("ungültiger Archiv-Ort %q: %w", Redact(s), err)
	}
	return loc, nil
}

// Open opens loc with the backend of its scheme.
func (r *Registry) Open(ctx context.Context, loc Location, opts Options) (*Archive, error) {
	b, ok := r.lookup(loc.Scheme())
	if !ok {
		return nil, &SchemeError{Scheme: loc.Scheme(), Known: r.Names()}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("Archiv %s öffnen: %w", loc, err)
	}
	return b.Open(ctx, loc, opts)
}

// Placed is an optional method of a Location: a key that is equal for
// two locations naming the same archive, however they are written (an
// SMB host, share and folder without regard to case, the user left out).
// Without it, two locations are the same archive when their String is.
type Placed interface {
	Place() string
}

// SameArchive reports whether a and b name the same archive.
func SameArchive(a, b Location) bool {
	if a.Scheme() != b.Scheme() {
		return false
	}
	pa, okA := a.(Placed)
	pb, okB := b.(Placed)
	if okA && okB {
		return pa.Place() == pb.Place()
	}
	return a.String() == b.String()
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

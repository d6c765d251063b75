package codec

import (
	"fmt"
	"slices"
	"sync"
)

// Registry holds the codecs this program can read, keyed by schema version,
// and which of them export writes (the current one).
type Registry struct {
	mu      sync.RWMutex
	codecs  map[string]Codec
	current string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{codecs: make(map[string]Codec)}
}

// Register adds c. It panics on a nil codec, an invalid version string or a
// version registered twice: those are programming errors.
func (r *Registry) Register(c Codec) {
	if c == nil {
		panic("codec: Register of nil codec")
	}
	v := c.Version()
	if _, _, err := ParseVersion(v); err != nil {
		panic("codec: Register: " + err.Error())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.codecs[v]; dup {
		panic("codec: Register called twice for version " + v)
	}
	r.codecs[v] = c
}

// SetCurrent makes version the one export writes; it must be registered.
func (r *Registry) SetCurrent(version string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.codecs[version]; !ok {
		panic("codec: SetCurrent of unregistered version " + version)
	}
	r.current = version
}

// Current returns the codec export writes.
func (r *Registry) Current() Codec {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.codecs[r.current]
	if !ok {
		panic("codec: no current version set")
	}
	return c
}

// Versions returns the registered versions, oldest first.
func (r *Registry) Versions() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	vs := make([]string, 0, len(r.codecs))
	for v := range r.codecs {
		vs = append(vs, v)
	}
	slices.SortFunc(vs, CompareVersions)
	return vs
}

// Lookup returns the codec for version, or a *VersionError that says whether
// the version is newer than this program knows or simply unknown.
func (r *Registry) Lookup(version string) (Codec, error) {
	r.mu.RLock()
	c, ok := r.codecs[version]
	r.mu.RUnlock()
	if ok {
		return c, nil
	}
	vs := r.Versions()
	e := &VersionError{Got: version, Reason: "unbekannt"}
	if len(vs) > 0 {
		e.Min, e.Max = vs[0], vs[len(vs)-1]
		if _, _, err := ParseVersion(version); err == nil && CompareVersions(version, e.Max) > 0 {
			e.Reason = "ist neuer als dieses Programm"
		}
	}
	return nil, e
}

// String describes the registry for messages, e.g. "1.0 (aktuell: 1.0)".
func (r *Registry) String() string {
	vs := r.Versions()
	r.mu.RLock()
	cur := r.current
	r.mu.RUnlock()
	return fmt.Sprintf("%v (aktuell: %s)", vs, cur)
}

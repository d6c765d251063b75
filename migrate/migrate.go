// Package migrate holds the pure functions that turn a row of one backup
// schema version into the next, and the planner that chains them
// (1.0 → 2.0 → 3.0 …) from a backup's version to the current one.
package migrate

import (
	"fmt"
	"sort"
	"sync"
)

// Step migrates one row from version From to version To. Apply receives the
// values in From's column order and returns them in To's column order; it
// must be pure (no I/O, no clock) so a migration is repeatable and testable.
type Step struct {
	From, To string
	Apply    func(vals []string) ([]string, error)
}

// Registry holds the registered steps, at most one per source version.
type Registry struct {
	mu    sync.RWMutex
	steps map[string]Step
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{steps: make(map[string]Step)}
}

// Register adds s; it panics on a step without function, a step from a version
// to itself, or a second step from the same version (programming errors).
func (r *Registry) Register(s Step) {
	if s.Apply == nil || s.From == "" || s.To == "" || s.From == s.To {
		panic(fmt.Sprintf("migrate: invalid step %q → %q", s.From, s.To))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.steps[s.From]; dup {
		panic("migrate: Register called twice for version " + s.From)
	}
	r.steps[s.From] = s
}

// Plan returns the chain of steps from version from to version to; empty when
// they are equal. It fails when the chain breaks off or runs in a circle.
func (r *Registry) Plan(from, to string) ([]Step, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var plan []Step
	seen := map[string]bool{from: true}
	for v := from; v != to; {
		s, ok := r.steps[v]
		if !ok {
			return nil, fmt.Errorf("keine Migration von Schema %s nach %s (Kette endet bei %s)", from, to, v)
		}
		if seen[s.To] {
			return nil, fmt.Errorf("Migrationskette von Schema %s läuft im Kreis bei %s", from, s.To)
		}
		seen[s.To] = true
		plan = append(plan, s)
		v = s.To
	}
	return plan, nil
}

// Sources returns the versions that have a step, sorted.
func (r *Registry) Sources() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	vs := make([]string, 0, len(r.steps))
	for v := range r.steps {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	return vs
}

// Apply runs the steps of plan on vals in order.
func Apply(plan []Step, vals []string) ([]string, error) {
	for _, s := range plan {
		out, err := s.Apply(vals)
		if err != nil {
			return nil, fmt.Errorf("Migration %s → %s: %w", s.From, s.To, err)
		}
		vals = out
	}
	return vals, nil
}

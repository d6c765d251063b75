package codec

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

// stubCodec is a Codec that only knows its version; the registry never calls
// anything else.
type stubCodec struct{ version string }

func (c stubCodec) Version() string                      { return c.version }
func (stubCodec) Columns() []Column                      { return []Column{{Name: "a", Type: "TEXT"}} }
func (stubCodec) Encode(rows ...[]string) []byte         { return nil }
func (stubCodec) Decode(data []byte) ([][]string, error) { return nil, nil }
func (stubCodec) Validate(vals []string) []FieldError    { return nil }
func (stubCodec) Identity(vals []string) Identity        { return Identity{} }

func registryOf(versions ...string) *Registry {
	r := NewRegistry()
	for _, v := range versions {
		r.Register(stubCodec{v})
	}
	return r
}

// mustPanic runs f and fails unless it panics with a message containing want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		p := recover()
		if p == nil {
			t.Fatalf("no panic, want one containing %q", want)
		}
		msg, _ := p.(string)
		if !strings.Contains(msg, want) {
			t.Fatalf("panic %v, want one containing %q", p, want)
		}
	}()
	f()
}

func TestRegisterPanics(t *testing.T) {
	t.Run("nil", func(t *testing.T) {
		mustPanic(t, "nil", func() { NewRegistry().Register(nil) })
	})
	t.Run("duplicate", func(t *testing.T) {
		r := registryOf("1.0")
		mustPanic(t, "twice", func() { r.Register(stubCodec{"1.0"}) })
	})
	for _, v := range []string{"", "1", "1.0.0", "v1.0", "-1.0", "eins"} {
		t.Run("bad version "+v, func(t *testing.T) {
			mustPanic(t, "MAJOR.MINOR", func() { NewRegistry().Register(stubCodec{v}) })
		})
	}
}

func TestSetCurrent(t *testing.T) {
	r := registryOf("1.0", "2.0")
	mustPanic(t, "no current", func() { r.Current() })
	mustPanic(t, "unregistered", func() { r.SetCurrent("3.0") })
	r.SetCurrent("1.0")
	if got := r.Current().Version(); got != "1.0" {
		t.Errorf("Current() = %s, want 1.0", got)
	}
	r.SetCurrent("2.0")
	if got := r.Current().Version(); got != "2.0" {
		t.Errorf("Current() = %s, want 2.0", got)
	}
	if got, want := r.String(), "[1.0 2.0] (aktuell: 2.0)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestVersionsSorted(t *testing.T) {
	r := registryOf("1.10", "2.0", "1.0", "1.9", "0.1", "10.0")
	want := []string{"0.1", "1.0", "1.9", "1.10", "2.0", "10.0"}
	if got := r.Versions(); !slices.Equal(got, want) {
		t.Errorf("Versions() = %v, want %v", got, want)
	}
	if got := NewRegistry().Versions(); len(got) != 0 {
		t.Errorf("empty Versions() = %v", got)
	}
}

func TestLookup(t *testing.T) {
	r := registryOf("1.0", "1.9", "1.10")
	for _, v := range []string{"1.0", "1.9", "1.10"} {
		c, err := r.Lookup(v)
		if err != nil || c.Version() != v {
			t.Errorf("Lookup(%q) = %v, %v", v, c, err)
		}
	}
	tests := []struct {
		version string
		reason  string
	}{
		{"2.0", "ist neuer als dieses Programm"},
		{"1.11", "ist neuer als dieses Programm"},
		{"10.0", "ist neuer als dieses Programm"},
		{"1.5", "unbekannt"},  // between known versions
		{"0.9", "unbekannt"},  // older than every known one
		{"1.00", "unbekannt"}, // numerically 1.0, but not the registered spelling
		{"", "unbekannt"},
		{"abc", "unbekannt"},
		{"99.x", "unbekannt"}, // unparsable is never "newer"
	}
	for _, tt := range tests {
		c, err := r.Lookup(tt.version)
		if c != nil {
			t.Errorf("Lookup(%q) returned codec %v", tt.version, c)
		}
		var ve *VersionError
		if !errors.As(err, &ve) {
			t.Errorf("Lookup(%q) error = %v, want *VersionError", tt.version, err)
			continue
		}
		if ve.Got != tt.version || ve.Min != "1.0" || ve.Max != "1.10" || ve.Reason != tt.reason {
			t.Errorf("Lookup(%q) = %+v, want Got=%q Min=1.0 Max=1.10 Reason=%q", tt.version, *ve, tt.version, tt.reason)
		}
		if msg := err.Error(); !strings.Contains(msg, tt.reason) || !strings.Contains(msg, "1.0 bis 1.10") {
			t.Errorf("Lookup(%q) message %q lacks reason or range", tt.version, msg)
		}
	}
}

func TestLookupEmptyRegistry(t *testing.T) {
	_, err := NewRegistry().Lookup("1.0")
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Reason != "unbekannt" || ve.Min != "" || ve.Max != "" {
		t.Fatalf("Lookup on empty registry = %v", err)
	}
}

// TestRegistryConcurrent is for the race detector: readers and a writer of
// the current version at the same time.
func TestRegistryConcurrent(t *testing.T) {
	r := registryOf("1.0", "2.0")
	r.SetCurrent("1.0")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if i == 0 {
					r.SetCurrent("2.0")
				}
				_, _ = r.Lookup("3.0")
				_ = r.Versions()
				_ = r.Current()
				_ = r.String()
			}
		}()
	}
	wg.Wait()
}

func TestNames(t *testing.T) {
	if got := Names(stubCodec{"1.0"}); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Names = %v", got)
	}
}

func TestErrorStrings(t *testing.T) {
	if got, want := (FieldError{Column: "datum", Reason: "kaputt"}).Error(), "datum: kaputt"; got != want {
		t.Errorf("FieldError.Error() = %q, want %q", got, want)
	}
	e := &VersionError{Got: "3.0", Min: "1.0", Max: "2.0", Reason: "ist neuer als dieses Programm"}
	if got, want := e.Error(), `Schema-Version "3.0" ist neuer als dieses Programm (unterstützt: 1.0 bis 2.0)`; got != want {
		t.Errorf("VersionError.Error() = %q, want %q", got, want)
	}
}

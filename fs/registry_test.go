package fs

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

type fakeBackend struct{ opened *Location }

func (b fakeBackend) Open(_ context.Context, loc Location, _ OpenOptions) (afero.Fs, error) {
	*b.opened = loc
	return afero.NewMemMapFs(), nil
}

func TestRegistry(t *testing.T) {
	var opened Location
	r := NewRegistry()
	r.Register("mem", fakeBackend{&opened})
	r.Register("file", fakeBackend{&opened})
	if got := r.Names(); !slices.Equal(got, []string{"file", "mem"}) {
		t.Errorf("Names() = %q, want [file mem]", got)
	}
	loc := Location{Scheme: "mem", Path: "x"}
	if _, err := r.Open(context.Background(), loc, OpenOptions{}); err != nil || opened != loc {
		t.Errorf("Open = %v, backend got %+v; want %+v", err, opened, loc)
	}
	_, err := r.Open(context.Background(), Location{Scheme: "ftp", Path: "x"}, OpenOptions{})
	if want := `unbekanntes Archiv-Schema "ftp" (bekannt: file, mem)`; err == nil || err.Error() != want {
		t.Errorf("Open(ftp) = %v, want %q", err, want)
	}
	if se := (*SchemeError)(nil); !errors.As(err, &se) || se.Scheme != "ftp" {
		t.Errorf("Open(ftp) = %#v, want a *SchemeError (a usage error for the CLI)", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Open(ctx, loc, OpenOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with canceled ctx = %v", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	var opened Location
	for name, fn := range map[string]func(r *Registry){
		"nil":       func(r *Registry) { r.Register("mem", nil) },
		"duplicate": func(r *Registry) { r.Register("mem", fakeBackend{&opened}); r.Register("mem", fakeBackend{&opened}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(p.(string), "mem") {
					t.Errorf("panic = %v, want one naming the scheme", p)
				}
			}()
			fn(NewRegistry())
		})
	}
}

type closingFs struct {
	afero.Fs
	closed bool
}

func (c *closingFs) Close() error { c.closed = true; return nil }

func TestClose(t *testing.T) {
	if err := Close(afero.NewMemMapFs()); err != nil {
		t.Errorf("Close(MemMapFs) = %v", err)
	}
	c := &closingFs{Fs: afero.NewMemMapFs()}
	if err := Close(c); err != nil || !c.closed {
		t.Errorf("Close(closer) = %v, closed %v", err, c.closed)
	}
}

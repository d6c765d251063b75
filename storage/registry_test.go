package storage

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

type fakeLoc struct{ scheme, rest string }

func (l fakeLoc) Scheme() string { return l.scheme }
func (l fakeLoc) String() string { return l.scheme + "://" + l.rest }

type fakeBackend struct {
	scheme string
	opts   []Option
	opened *Location
}

func (b fakeBackend) Describe() Description {
	return Description{Scheme: b.scheme, Syntax: b.scheme + "://x", Summary: "Test", Options: b.opts}
}

func (b fakeBackend) Parse(rest string) (Location, error) {
	if rest == "" {
		return nil, errors.New("leer")
	}
	return fakeLoc{b.scheme, rest}, nil
}

func (b fakeBackend) Open(_ context.Context, loc Location, _ Options) (*Archive, error) {
	*b.opened = loc
	return &Archive{Fs: afero.NewMemMapFs()}, nil
}

func TestRegistry(t *testing.T) {
	var opened Location
	r := NewRegistry()
	r.Register(fakeBackend{scheme: "mem", opened: &opened, opts: []Option{{Key: "mem_a"}}})
	r.Register(fakeBackend{scheme: "file", opened: &opened})
	if got := r.Names(); !slices.Equal(got, []string{"file", "mem"}) {
		t.Errorf("Names() = %q, want [file mem]", got)
	}
	if got := r.Options(); len(got) != 1 || got[0].Key != "mem_a" {
		t.Errorf("Options() = %+v", got)
	}
	loc, err := r.Parse("MEM://x")
	if err != nil || loc != (fakeLoc{"mem", "x"}) {
		t.Fatalf("Parse(MEM://x) = %v, %v", loc, err)
	}
	if _, err := r.Open(context.Background(), loc, Options{}); err != nil || opened != loc {
		t.Errorf("Open = %v, backend got %+v; want %+v", err, opened, loc)
	}
	if loc, err := r.Parse("./archiv"); err != nil || loc != (fakeLoc{"file", "./archiv"}) {
		t.Errorf("a plain path goes to the file backend: %v, %v", loc, err)
	}
	_, err = r.Parse("ftp://u:geheim@x/y")
	if want := `unbekanntes Archiv-Schema "ftp" (bekannt: file, mem)`; err == nil || err.Error() != want {
		t.Errorf("Parse(ftp) = %v, want %q", err, want)
	}
	if se := (*SchemeError)(nil); !errors.As(err, &se) || se.Scheme != "ftp" {
		t.Errorf("Parse(ftp) = %#v, want a *SchemeError (a usage error for the CLI)", err)
	}
	if _, err := r.Parse("mem://"); err == nil || !strings.Contains(err.Error(), `ungültiger Archiv-Ort "mem://": leer`) {
		t.Errorf("Parse(mem://) = %v", err)
	}
	if _, err := r.Open(context.Background(), fakeLoc{"ftp", "x"}, Options{}); err == nil {
		t.Error("Open of an unknown scheme succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Open(ctx, loc, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with canceled ctx = %v", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	var opened Location
	for name, fn := range map[string]func(r *Registry){
		"nil": func(r *Registry) { r.Register(nil) },
		"duplicate": func(r *Registry) {
			r.Register(fakeBackend{scheme: "mem", opened: &opened})
			r.Register(fakeBackend{scheme: "mem", opened: &opened})
		},
		"option key": func(r *Registry) {
			r.Register(fakeBackend{scheme: "mem", opened: &opened, opts: []Option{{Key: "smb_x"}}})
		},
		"upper case": func(r *Registry) { r.Register(fakeBackend{scheme: "Mem", opened: &opened}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if p := recover(); p == nil {
					t.Error("no panic")
				}
			}()
			fn(NewRegistry())
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"smb://u:geheim@nas/s":    "smb://u:***@nas/s",
		"smb://u:ge/he@im@nas/s":  "smb://u:***@nas/s",
		"smb://u@nas/s":           "smb://u@nas/s",
		"/srv/archiv":             "/srv/archiv",
		"s3://KEY:geheim@host/b/": "s3://KEY:***@host/b/",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

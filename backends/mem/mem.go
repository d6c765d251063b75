// Package mem is the in-memory archive backend (scheme "mem"). There is one
// filesystem per name for the whole process, so that an export and a later
// restore in the same process see the same data.
package mem

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

var _ storage.Backend = Backend{}

// DefaultWorkers is the least number of parallel file operations unless
// the user chooses (--workers); an archive declares 4 per CPU if that is
// more.
const DefaultWorkers = 8

var (
	mu        sync.Mutex
	instances = make(map[string]afero.Fs)
)

// Backend opens the process-wide in-memory archive of a name. The archive
// always exists, so opts.Create does not matter.
type Backend struct{}

// Describe declares the scheme "mem"; it has no options.
func (Backend) Describe() storage.Description {
	return storage.Description{
		Scheme:  "mem",
		Syntax:  "mem://name",
		Summary: "im Arbeitsspeicher, nur für Tests und die Demo",
		Workers: DefaultWorkers,
	}
}

// Location names an in-memory archive.
type Location struct {
	Name string
}

// Scheme is "mem".
func (Location) Scheme() string { return "mem" }

// String is "mem://name"; a name holds no secret.
func (l Location) String() string { return "mem://" + l.Name }

// Parse takes the name after "mem://": letters, digits, ".", "_", "-".
func (Backend) Parse(name string) (storage.Location, error) {
	if name == "" {
		return nil, errors.New("mem-Name fehlt")
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-'
		if !ok && strings.Contains(name, "@") { // maybe user:password@: never echo it
			return nil, errors.New("mem-Name enthält unerlaubte Zeichen (erlaubt: A-Z a-z 0-9 . _ -)")
		}
		if !ok {
			return nil, fmt.Errorf("mem-Name %q enthält unerlaubte Zeichen (erlaubt: A-Z a-z 0-9 . _ -)", name)
		}
	}
	return Location{Name: name}, nil
}

// Open returns the in-memory archive named by loc, making it on first use.
func (Backend) Open(ctx context.Context, sloc storage.Location, opts storage.Options) (*storage.Archive, error) {
	loc, ok := sloc.(Location)
	if !ok || loc.Name == "" {
		return nil, errors.New("mem-Name fehlt")
	}
	mu.Lock()
	defer mu.Unlock()
	fsys, ok := instances[loc.Name]
	if !ok {
		fsys = New()
		instances[loc.Name] = fsys
	}
	return &storage.Archive{Fs: fsys, Caps: CapsOf(fsys)}, nil
}

// Reset drops the in-memory archive called name; the next Open starts empty.
func Reset(name string) {
	mu.Lock()
	defer mu.Unlock()
	delete(instances, name)
}

// New returns a fresh in-memory archive Fs that is not registered under
// any name, for tests that need no registry. Its capabilities are Caps.
func New() afero.Fs {
	return &strictFs{Fs: afero.NewBasePathFs(afero.NewMemMapFs(), "/")}
}

// NewArchive is New with its capabilities.
func NewArchive() *storage.Archive {
	fsys := New()
	return &storage.Archive{Fs: fsys, Caps: CapsOf(fsys)}
}

// CapsOf are the capabilities of fsys, an Fs made by New: Caps and the
// conditional writes (cond.go), which need fsys's lock. For any other Fs
// it is Caps.
func CapsOf(fsys afero.Fs) storage.Capabilities {
	c := Caps()
	if s, ok := fsys.(*strictFs); ok {
		s.addCond(&c)
	}
	return c
}

// Caps are what the in-memory archive guarantees: strictFs makes an
// exclusive create and a rename single steps under its lock. It has no
// links and no faster ways than afero's.
func Caps() storage.Capabilities {
	return storage.Capabilities{
		AtomicRename:    true,
		ExclusiveCreate: true,
		DefaultWorkers:  max(DefaultWorkers, 4*runtime.NumCPU()),
	}
}

// Package objtest is a test double of an object store for the engine's
// tests: an afero.MemMapFs wrapped into a *storage.Archive that behaves
// like S3 (backends/s3) as far as the engine can tell. Objects are
// written whole on Sync or Close (AtomicWrite). O_CREATE|O_EXCL fails at
// open if the name exists; its first Sync or Close stores the whole
// content with a conditional PUT (If-None-Match: *), so of several
// creates exactly one gets the name (ExclusiveCreate) and no empty object
// is ever stored; later content is stored only over that object
// (If-Match), not over one that replaced it meanwhile. Folders exist only while they hold an object
// (ImplicitDirs), the root always, even in an empty bucket; removing a
// folder that holds one is syscall.ENOTEMPTY. There are no links, List
// reports size and the hex MD5 of the content (an ETag), and ObjectLock
// retains objects until a date of a fake clock.
//
// The bucket is versioned, as S3 requires for Object Lock, and behaves as
// a real one does: overwriting an object stores a new version and
// removing it adds a delete marker, both successfully even while the old
// version is retained; that version stays, hidden from listings and
// reads, readable by its version ID (Versions). Only deleting a retained
// version itself (DeleteVersion) fails with fs.ErrPermission, as S3
// answers "Access Denied". Removing a missing key succeeds. Hidden lists
// the retained versions something overwrote or deleted: what an engine
// on Object Lock must never cause. Every request is counted, so that a
// test can say "one listing and no object read".
package objtest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// Counts are the requests a Store has answered.
type Counts struct {
	Gets    int64 // object reads (Open of a file, ReadFile)
	Heads   int64 // Stat, RetainedUntil and an O_EXCL open
	Lists   int64 // List and directory listings
	Puts    int64 // object writes, refused conditional ones too (Sync or Close of a written file, WriteFile, the copy of a Rename)
	Deletes int64 // Remove, RemoveAll per object, the delete of a Rename
	Retains int64 // Retain
}

// Store is one bucket.
type Store struct {
	mem afero.Fs
	now func() time.Time

	mu   sync.Mutex
	meta map[string]objMeta // current version by clean key
	// older holds every key's noncurrent versions and delete markers,
	// oldest first.
	older   map[string][]Version
	version int // last version ID handed out
	// ReadKeys lists the keys read (Gets), in order, for a test that
	// wants to know which.
	readKeys []string
	listed   []string // prefixes and folders listed, in order

	gets, heads, lists, puts, deletes, retains atomic.Int64
}

type objMeta struct {
	hash    string
	modTime time.Time
	version string
	retain  time.Time // retention end of this version, zero if none
}

// New returns an empty bucket whose clock (object times, retention) is
// now; nil is time.Now.
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{mem: afero.NewMemMapFs(), now: now, meta: map[string]objMeta{}, older: map[string][]Version{}}
}

// Archive returns the bucket as an archive, with the capabilities of an
// object store with Object Lock; lock false leaves ObjectLock nil (a
// bucket without it).
func (s *Store) Archive(lock bool) *storage.Archive {
	f := &objFs{s: s}
	caps := storage.Capabilities{
		AtomicWrite:     true,
		ExclusiveCreate: true,
		ImplicitDirs:    true,
		DefaultWorkers:  16,
		ReadFile: func(_ context.Context, name string, limit int64) ([]byte, error) {
			return s.readFile(name, limit)
		},
		WriteFile: func(_ context.Context, name string, data []byte, _ os.FileMode, _ bool) error {
			return s.put(name, data)
		},
		SyncDir: func(context.Context, string) error { return nil },
		List: func(_ context.Context, prefix string, fn func(storage.Entry) error) error {
			return s.List(prefix, fn)
		},
		ContentHash: Hash,
	}
	if lock {
		caps.ObjectLock = &storage.ObjectLock{
			Retain: func(_ context.Context, name string, until time.Time) error {
				return s.Retain(name, until)
			},
			RetainedUntil: func(_ context.Context, name string) (time.Time, error) {
				return s.RetainedUntil(name)
			},
		}
	}
	s.condCaps(&caps)
	return &storage.Archive{Fs: f, Caps: caps}
}

// Hash is the ETag of an object written whole with data: hex MD5.
func Hash(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

// Counts returns the requests answered so far.
func (s *Store) Counts() Counts {
	return Counts{Gets: s.gets.Load(), Heads: s.heads.Load(), Lists: s.lists.Load(),
		Puts: s.puts.Load(), Deletes: s.deletes.Load(), Retains: s.retains.Load()}
}

// ReadKeys returns the keys read since the last ResetCounts.
func (s *Store) ReadKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.readKeys)
}

// Listings returns what was listed since the last ResetCounts: the
// prefix of each List ("" for the whole bucket) and each folder read.
func (s *Store) Listings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.listed)
}

func (s *Store) noteList(what string) {
	s.lists.Add(1)
	s.mu.Lock()
	s.listed = append(s.listed, what)
	s.mu.Unlock()
}

// ResetCounts sets every count to zero.
func (s *Store) ResetCounts() {
	for _, c := range []*atomic.Int64{&s.gets, &s.heads, &s.lists, &s.puts, &s.deletes, &s.retains} {
		c.Store(0)
	}
	s.mu.Lock()
	s.readKeys, s.listed = nil, nil
	s.mu.Unlock()
}

// Mem is the bucket's content, for a test that damages an object behind
// the store's back (its hash then no longer matches, as after bit rot;
// use Put to change an object the way a client would).
func (s *Store) Mem() afero.Fs { return s.mem }

// Put stores an object as a client would: a new version; a retained
// older one stays, hidden.
func (s *Store) Put(name string, data []byte) error { return s.put(name, data) }

func key(name string) string {
	k := path.Clean("/" + strings.ReplaceAll(name, "\\", "/"))
	return strings.TrimPrefix(k, "/")
}

func denied(op, name string, until time.Time) error {
	return &os.PathError{Op: op, Path: name, Err: fmt.Errorf("Access Denied: Object Lock bis %s: %w", until.UTC().Format(time.RFC3339), iofs.ErrPermission)}
}

// put writes an object whole, unconditionally.
func (s *Store) put(name string, data []byte) error {
	k := key(name)
	if k == "" {
		s.puts.Add(1)
		return &os.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
	}
	if _, err := s.putCond(k, data, cond{}); err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	return nil
}

// cond is the condition of a PUT, as S3 sends it.
type cond struct {
	ifNoneMatch bool   // If-None-Match: *: only if k has no current version
	ifMatch     string // If-Match: only if k's current version is this one
	ifMatchHash string // If-Match with an ETag: only if k's current content has this hash
}

// errConditionFailed is a failed If-Match: the object is gone or another
// version (S3 answers 412 PreconditionFailed, or NoSuchKey).
var errConditionFailed = errors.New("Bedingung nicht erfüllt: das Objekt wurde inzwischen geändert oder gelöscht")

// putCond stores data as a new current version of the clean key k if cond
// holds, in one step, and returns the new version's ID; a failed
// If-None-Match is fs.ErrExist, a failed If-Match errConditionFailed.
func (s *Store) putCond(k string, data []byte, c cond) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts.Add(1)
	m, exists := s.meta[k]
	switch {
	case c.ifNoneMatch && exists:
		return "", iofs.ErrExist
	case c.ifMatch != "" && (!exists || m.version != c.ifMatch):
		return "", errConditionFailed
	case c.ifMatchHash != "" && !exists:
		return "", errMissing
	case c.ifMatchHash != "" && m.hash != c.ifMatchHash:
		return "", errConditionFailed
	}
	if err := s.retireLocked(k); err != nil {
		return "", err
	}
	if err := s.mem.MkdirAll(path.Dir(k), 0o755); err != nil {
		return "", err
	}
	if err := afero.WriteFile(s.mem, k, data, 0o644); err != nil {
		return "", err
	}
	s.version++
	id := fmt.Sprint(s.version)
	s.meta[k] = objMeta{hash: Hash(data), modTime: s.now(), version: id}
	return id, nil
}

func (s *Store) readFile(name string, limit int64) ([]byte, error) {
	k := key(name)
	s.noteRead(k)
	s.mu.Lock()
	_, ok := s.meta[k]
	s.mu.Unlock()
	if !ok {
		return nil, &os.PathError{Op: "open", Path: name, Err: iofs.ErrNotExist}
	}
	data, err := afero.ReadFile(s.mem, k)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit+1 {
		data = data[:limit+1]
	}
	return data, nil
}

func (s *Store) noteRead(k string) {
	s.gets.Add(1)
	s.mu.Lock()
	s.readKeys = append(s.readKeys, k)
	s.mu.Unlock()
}

// remove deletes object k as a plain DELETE on a versioned bucket does:
// a delete marker hides the current version, which stays (retained or
// not). A missing key removes successfully; a folder that holds a key
// does not.
func (s *Store) remove(name string) error {
	k := key(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletes.Add(1)
	if _, ok := s.meta[k]; !ok {
		if s.hasChildrenLocked(k) {
			return &os.PathError{Op: "remove", Path: name, Err: syscall.ENOTEMPTY}
		}
		return nil
	}
	if err := s.retireLocked(k); err != nil {
		return err
	}
	s.version++
	s.older[k] = append(s.older[k], Version{ID: fmt.Sprint(s.version), DeleteMarker: true, ModTime: s.now()})
	s.pruneDirsLocked(path.Dir(k))
	return nil
}

// retireLocked makes k's current version, if any, a noncurrent one; the
// caller holds mu and stores a new version or a delete marker next.
func (s *Store) retireLocked(k string) error {
	m, ok := s.meta[k]
	if !ok {
		return nil
	}
	data, err := afero.ReadFile(s.mem, k)
	if err != nil {
		return err
	}
	if err := s.mem.Remove(k); err != nil {
		return err
	}
	delete(s.meta, k)
	s.older[k] = append(s.older[k], Version{ID: m.version, Data: data, ModTime: m.modTime, RetainUntil: m.retain})
	return nil
}

// pruneDirsLocked removes dir and its parents while they are empty: a
// prefix exists only while it holds an object.
func (s *Store) pruneDirsLocked(dir string) {
	for dir != "." && dir != "" && !s.hasChildrenLocked(dir) {
		_ = s.mem.Remove(dir)
		dir = path.Dir(dir)
	}
}

func (s *Store) hasChildrenLocked(dir string) bool {
	if dir == "" || dir == "." {
		return len(s.meta) > 0
	}
	for k := range s.meta {
		if strings.HasPrefix(k, dir+"/") {
			return true
		}
	}
	return false
}

// List reports every object below prefix in lexical order.
func (s *Store) List(prefix string, fn func(storage.Entry) error) error {
	p := key(prefix)
	s.noteList(p)
	s.mu.Lock()
	var es []storage.Entry
	for k, m := range s.meta {
		if p != "" && k != p && !strings.HasPrefix(k, p+"/") {
			continue
		}
		fi, err := s.mem.Stat(k)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		es = append(es, storage.Entry{Name: k, Size: fi.Size(), Hash: m.hash, ModTime: m.modTime})
	}
	s.mu.Unlock()
	slices.SortFunc(es, func(a, b storage.Entry) int { return strings.Compare(a.Name, b.Name) })
	for _, e := range es {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Retain sets the retention of name's current version to until; it may
// only lengthen it.
func (s *Store) Retain(name string, until time.Time) error {
	k := key(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retains.Add(1)
	if _, ok := s.meta[k]; !ok {
		return &os.PathError{Op: "retain", Path: name, Err: iofs.ErrNotExist}
	}
	m := s.meta[k]
	if until.Before(m.retain) {
		return &os.PathError{Op: "retain", Path: name, Err: fmt.Errorf("Access Denied: Aufbewahrung bis %s kann nicht verkürzt werden: %w", m.retain.UTC().Format(time.RFC3339), iofs.ErrPermission)}
	}
	m.retain = until
	s.meta[k] = m
	return nil
}

// RetainedUntil returns the retention end of name's current version (a
// HEAD), zero if it has none; a deleted name does not exist.
func (s *Store) RetainedUntil(name string) (time.Time, error) {
	k := key(name)
	s.heads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.meta[k]; !ok {
		return time.Time{}, &os.PathError{Op: "head", Path: name, Err: iofs.ErrNotExist}
	}
	return s.meta[k].retain, nil
}

package lock

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// SeenFileName is the local state file in which waiting runs remember the
// lock records they saw: beside last_run.json (the log file's folder).
const SeenFileName = "lock_seen.json"

// The remembered observation. A run that gives up at --lock-timeout
// (30 s) has watched a lock far less than a lease (3 min); without a
// memory, a holder that died on another machine would block every later
// run for ever, since each one starts watching afresh. So a waiter notes
// which record it saw (its token, counter and a hash of its bytes) and
// when it first saw it, per archive, in SeenFile. A later run that finds
// the very same record, unchanged, at least a lease after it was first
// seen takes it over at once, as if it had watched it all that time: a
// live holder rewrites its record (next counter) every lease/6, so an
// unchanged record a lease later has not been refreshed for a lease.
//
// The times are this machine's wall clock, the only clock two processes
// share (the monotonic clock starts anew with each process). No foreign
// clock is trusted: both ends of the interval are read here. A wall clock
// stepped back only makes the wait longer (a first sighting "in the
// future" is taken as now); a step forward could shorten it by that much,
// which is why only an unchanged record counts: a holder that refreshes
// never matches an old sighting, and one that stopped refreshing fences
// itself after lease minus margin of its own (see Lock.Valid).
//
// Two runs of this machine updating the file at once may lose one's entry
// (the last writer's replace wins): that only makes a later run wait
// longer, never shorter.

// seenEntry is one archive's remembered record.
type seenEntry struct {
	Token     string    `json:"token,omitempty"` // "" for an unreadable record
	Counter   uint64    `json:"counter"`
	Hash      string    `json:"sha256"` // of the record's bytes
	FirstSeen time.Time `json:"first_seen"`
}

type seenState struct {
	Archives map[string]seenEntry `json:"archives"`
}

func seenOf(st lockState, now time.Time) seenEntry {
	sum := sha256.Sum256(st.raw)
	e := seenEntry{Hash: hex.EncodeToString(sum[:]), FirstSeen: now.Round(0)}
	if st.info != nil {
		e.Token, e.Counter = st.info.Token, st.info.Counter
	}
	return e
}

func (e seenEntry) same(o seenEntry) bool {
	return e.Token == o.Token && e.Counter == o.Counter && e.Hash == o.Hash
}

// memory is a waiting run's view of SeenFile for one archive.
type memory struct {
	path, key string
	entry     *seenEntry // what the file holds for key, nil if nothing
}

func loadMemory(path, key string) *memory {
	m := &memory{path: path, key: key}
	if path == "" {
		return m
	}
	if s, err := readSeen(path); err == nil {
		if e, ok := s.Archives[key]; ok {
			m.entry = &e
		}
	}
	return m
}

func readSeen(path string) (seenState, error) {
	var s seenState
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	err = json.Unmarshal(b, &s)
	return s, err
}

// see records st as seen now and returns since when this very record has
// been seen by runs of this machine (now if it is new).
func (m *memory) see(st lockState, now time.Time) time.Time {
	cur := seenOf(st, now)
	if m.entry != nil && m.entry.same(cur) {
		if m.entry.FirstSeen.After(now) { // the clock was set back
			m.entry.FirstSeen = now.Round(0)
			m.store(m.entry)
		}
		return m.entry.FirstSeen
	}
	m.entry = &cur
	m.store(&cur)
	return cur.FirstSeen
}

// forget removes the archive's entry (the lock is ours now, or gone).
func (m *memory) forget() {
	if m.entry == nil {
		return
	}
	m.entry = nil
	m.store(nil)
}

// store writes e (nil: removes the entry) into the file, keeping other
// archives' entries. It is best effort: without the file a later run
// only waits longer.
func (m *memory) store(e *seenEntry) {
	if m.path == "" {
		return
	}
	s, _ := readSeen(m.path)
	if s.Archives == nil {
		s.Archives = map[string]seenEntry{}
	}
	if e == nil {
		if _, ok := s.Archives[m.key]; !ok {
			return
		}
		delete(s.Archives, m.key)
	} else {
		s.Archives[m.key] = *e
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return
	}
	_ = writeLocal(m.path, append(b, '\n'))
}

// writeLocal replaces the local file path with data in one step.
func writeLocal(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Package monitor records the outcome of every run for monitoring: a status
// file last_run.json beside the log file (read by `werkstatt-backup status`)
// and, optionally, a Prometheus text file for node_exporter's textfile
// collector. Both keep one entry per command and site, are rewritten
// atomically (temp file + rename) under a small lock file, and carry the time
// of the last success over a failed run.
//
// last_run.json keeps one entry per command, site and archive, so a manual
// test export into another archive never replaces the nightly run's entry.
// Files written before archives were told apart (entries without
// archive_id) are still read: such an entry stands for its command and
// site until a run of the same command and site replaces it.
package monitor

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// StatusFileName is the status file's name; it lives beside the log file.
const StatusFileName = "last_run.json"

// StatusFile returns the status file that belongs to logFile.
func StatusFile(logFile string) string {
	return filepath.Join(filepath.Dir(logFile), StatusFileName)
}

// Run is the outcome of one command for one site.
type Run struct {
	Command string `json:"command"`
	Site    string `json:"site,omitempty"`
	Archive string `json:"archive,omitempty"` // as the report shows it (no password)
	// ArchiveID identifies the archive whatever form it was given in
	// (a local path made absolute, smb host:port/share/dir in lower
	// case); "" in files written by versions before it.
	ArchiveID string    `json:"archive_id,omitempty"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
	// Duration is Finished - Started in seconds.
	Duration  float64 `json:"duration_seconds"`
	ExitCode  int     `json:"exit_code"`
	Records   int     `json:"records"`
	OK        int     `json:"ok"`
	Written   int     `json:"written"`
	Unchanged int     `json:"unchanged"`
	Errors    int     `json:"errors"`
	Warnings  int     `json:"warnings"`
	Summary   string  `json:"summary,omitempty"` // "Export abgeschlossen: 150 erfolgreich, 2 Fehler"
	Error     string  `json:"error,omitempty"`   // one line, when ExitCode != 0
	// LastSuccess is when the last run of this command and site with exit
	// code 0 finished: this run's Finished, or carried over from before.
	LastSuccess *time.Time `json:"last_success,omitempty"`
	Host        string     `json:"host,omitempty"`
	Version     string     `json:"version,omitempty"`
	// PDFs: what the run did with the orders' PDFs (nil: nothing).
	PDFs *PDFCounts `json:"pdfs,omitempty"`
}

// PDFCounts are a run's PDF numbers: checked (read and compared, or
// looked for), of them good, bad (not matching their hash), missing and
// unverifiable (a hash of no known form); export also stored and unchanged.
type PDFCounts struct {
	Checked      int `json:"checked"`
	Good         int `json:"good"`
	Bad          int `json:"bad"`
	Missing      int `json:"missing"`
	Unverifiable int `json:"unverifiable"`
	Stored       int `json:"stored,omitempty"`
	Unchanged    int `json:"unchanged,omitempty"`
}

// Succeeded reports whether the run ended with exit code 0.
func (r Run) Succeeded() bool { return r.ExitCode == 0 }

// exitValidation is the exit code of a run that found validation problems.
const exitValidation = 3

// OnlyWarnings reports whether the run got to its end with exit code 3
// and no error: everything was done (every record backed up, every backup
// valid), some records broke a field rule or had no folder of their own.
// Status shows it as "OK mit Warnungen", not as a failure.
func (r Run) OnlyWarnings() bool {
	return r.ExitCode == exitValidation && r.Errors == 0 && r.Summary != ""
}

// State is the content of last_run.json: the latest run of each command and
// site, sorted by command, then site.
type State struct {
	Runs []Run `json:"runs"`
}

// Find returns the latest run of command for site in any archive, or nil.
func (s *State) Find(command, site string) *Run {
	var latest *Run
	for i := range s.Runs {
		r := &s.Runs[i]
		if r.Command == command && strings.EqualFold(r.Site, site) && (latest == nil || r.Finished.After(latest.Finished)) {
			latest = r
		}
	}
	return latest
}

// FindArchive returns the run of command for site in the archive with
// archiveID, or nil. An entry of an older file, which names no archive
// ID, stands for any archive of its command and site when no entry names
// this one.
func (s *State) FindArchive(command, site, archiveID string) *Run {
	var legacy *Run
	for i := range s.Runs {
		r := &s.Runs[i]
		if r.Command != command || !strings.EqualFold(r.Site, site) {
			continue
		}
		switch r.ArchiveID {
		case archiveID:
			return r
		case "":
			legacy = r
		}
	}
	return legacy
}

// Archives returns the archives (as shown) that have a run of command for
// site, sorted.
func (s *State) Archives(command, site string) []string {
	var out []string
	for _, r := range s.Runs {
		if r.Command == command && strings.EqualFold(r.Site, site) && r.Archive != "" && !slices.Contains(out, r.Archive) {
			out = append(out, r.Archive)
		}
	}
	slices.Sort(out)
	return out
}

// maxArchives bounds the entries of one command and site: test exports
// into ever new folders must not grow the file without end. The oldest go.
const maxArchives = 20

// Sites returns the sites that have a run of command, sorted ("" = none),
// each once.
func (s *State) Sites(command string) []string {
	var out []string
	for _, r := range s.Runs {
		if r.Command == command && !slices.Contains(out, r.Site) {
			out = append(out, r.Site)
		}
	}
	slices.Sort(out)
	return out
}

// put replaces the entry of run's command, site and archive (or an older
// file's entry of its command and site, which names no archive), carrying
// LastSuccess over from the previous entry when run failed.
func (s *State) put(run Run) {
	run.LastSuccess = nil
	if run.Succeeded() {
		t := run.Finished
		run.LastSuccess = &t
	}
	if old := s.FindArchive(run.Command, run.Site, run.ArchiveID); old != nil {
		if run.LastSuccess == nil {
			run.LastSuccess = old.LastSuccess
		}
		*old = run
	} else {
		s.Runs = append(s.Runs, run)
	}
	s.trim(run.Command, run.Site)
	slices.SortFunc(s.Runs, func(a, b Run) int {
		if c := strings.Compare(a.Command, b.Command); c != 0 {
			return c
		}
		if c := strings.Compare(a.Site, b.Site); c != 0 {
			return c
		}
		return strings.Compare(a.ArchiveID, b.ArchiveID)
	})
}

// trim drops the oldest entries of command and site beyond maxArchives.
func (s *State) trim(command, site string) {
	for {
		n, oldest := 0, -1
		for i, r := range s.Runs {
			if r.Command == command && strings.EqualFold(r.Site, site) {
				n++
				if oldest < 0 || r.Finished.Before(s.Runs[oldest].Finished) {
					oldest = i
				}
			}
		}
		if n <= maxArchives {
			return
		}
		s.Runs = slices.Delete(s.Runs, oldest, oldest+1)
	}
}

// Load reads the status file at path. A missing file is an error that
// satisfies errors.Is(err, fs.ErrNotExist).
func Load(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: kein gültiges JSON: %w", path, err)
	}
	return &s, nil
}

// Record stores run in the status file at path: it replaces the entry of the
// same command and site and keeps the others. A damaged file is replaced.
func Record(path string, run Run) error {
	return withLock(path, func() error {
		s, err := Load(path)
		if err != nil {
			// Missing: the first run. Damaged: start afresh rather than
			// never recording again (the file is ours and written
			// atomically, so this takes a hand-edited file).
			s = &State{}
		}
		s.put(run)
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		return writeAtomic(path, append(b, '\n'))
	})
}

// writeAtomic replaces path with data in one step: a temp file beside it
// (a name node_exporter's *.prom glob does not match), written, synced, made
// world-readable and renamed over path.
func writeAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	// node_exporter and status checks may run as another user.
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { // make the rename durable where the OS allows
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Lock timing: a writer holds the lock for milliseconds.
var (
	lockWait = 5 * time.Second
	lockPoll = 10 * time.Millisecond
)

// withLock runs fn while holding an exclusive flock(2) on path+".lock", so
// that two runs finishing at once (two sites, two cron jobs) do not lose
// each other's entry in the read-modify-write. The kernel drops the lock
// when its holder dies, so a killed run never blocks the next one. The
// holder removes the file when done; a waiter that locked a file removed
// meanwhile notices (it is no longer the one at the path) and tries again.
func withLock(path string, fn func() error) error {
	lock := path + ".lock"
	deadline := time.Now().Add(lockWait)
	for {
		f, err := os.OpenFile(lock, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return fmt.Errorf("%s: Sperre %s: %w", path, lock, err)
		}
		if ok && isAt(f, lock) {
			defer f.Close()
			defer unlock(f)
			defer os.Remove(lock)
			return fn()
		}
		f.Close() // also drops a lock on a file no longer at the path
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: Sperre %s seit %s belegt", path, lock, lockWait)
		}
		time.Sleep(lockPoll)
	}
}

// isAt reports whether the open file f is still the file at path.
func isAt(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// Package backup is the engine: Export writes every row of auftraege as
// data.csv + meta.json into its order's folder, Verify checks those backups,
// Restore rebuilds the table from them. It reaches the archive only through
// its handle (storage.Archive, every call with the run's context) and the
// database through the narrow Database interface below; it knows nothing of
// concrete backends.
package backup

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"runtime"
	"time"

	"werkstatt-backup/codec"
	v1 "werkstatt-backup/codec/v1"
	"werkstatt-backup/history"
	"werkstatt-backup/lock"
	"werkstatt-backup/migrate"
	"werkstatt-backup/pdf"
	"werkstatt-backup/storage"
	"werkstatt-backup/store"
)

// Table is the database table the tool backs up.
const Table = "auftraege"

// File names inside an order's folder.
const (
	DataFile = "data.csv"
	MetaFile = "meta.json"
	DataTemp = "data.tmp.csv"
	MetaTemp = "meta.tmp.json"
)

// ErrValidation marks a run that found invalid records or backups (exit 3).
var ErrValidation = errors.New("Validierungsfehler")

// Database is what the engine needs of the SQLite side; *store.DB has it.
type Database interface {
	Columns(ctx context.Context, table string) ([]string, error)
	Count(ctx context.Context, table string) (int, error)
	Scan(ctx context.Context, table string, fn func(cols, vals []string) error) (int, error)
	BackupTo(ctx context.Context, dest string) error
	Replace(ctx context.Context, def store.TableDef, rows iter.Seq2[[]string, error]) (int, error)
	IntegrityCheck(ctx context.Context) error
	Close() error
}

// Opener opens the database at path, read-only or for writing (creating it).
type Opener func(ctx context.Context, path string, write bool) (Database, error)

// OpenStore is the Opener for real SQLite files.
func OpenStore(ctx context.Context, path string, write bool) (Database, error) {
	if write {
		return store.OpenWrite(ctx, path)
	}
	return store.OpenRead(ctx, path)
}

// Schema is the set of backup schema versions the engine reads and writes.
type Schema struct {
	Codecs     *codec.Registry
	Migrations *migrate.Registry
}

// DefaultSchema knows schema 1.0 and writes it.
func DefaultSchema() Schema {
	c := codec.NewRegistry()
	c.Register(v1.Codec{})
	c.SetCurrent(v1.Version)
	return Schema{Codecs: c, Migrations: migrate.NewRegistry()}
}

// Engine runs the commands against one archive and one database.
type Engine struct {
	Arch        *storage.Archive // the archive's handle
	Archive     string           // display name of the archive (for reports)
	DBPath      string           // path of werkstatt.db
	Open        Opener           // nil: OpenStore
	Schema      Schema           // zero: DefaultSchema()
	Log         *slog.Logger     // nil: discard
	Workers     int              // parallel file operations; 0: what the backend suggests (Caps.DefaultWorkers), else 8 or more
	LockTimeout time.Duration    // how long to wait for .backup.lock
	Version     string           // program version, written into the lock
	Site        string           // site name for reports, if any
	Now         func() time.Time
	// MassChange is the share of backups (0.25: 25 %) one export may change
	// or remove before it refuses to write anything; 0 switches the guard
	// off (config key mass_change).
	MassChange float64
	// MassChangeWindow: the guard also compares with the generation this
	// long before the newest, so that a slow creep (20 % a night) is
	// refused too (mass_change_window); 0: DefaultMassChangeWindow, < 0 off.
	MassChangeWindow time.Duration
	// Retention is what forget keeps when not told otherwise (config key
	// retention); zero: history.DefaultRetention.
	Retention history.Retention
	// HistoryLock is how long the history's files stay immutable on a
	// store with Object Lock (Caps.ObjectLock; config key history_lock);
	// zero: history.DefaultLockPeriod of the retention policy.
	HistoryLock time.Duration
	// Progress, if set, is called as a run's phases advance (for a
	// progress bar): phase is one of the Phase constants, total < 0 while
	// the total is not known yet (the archive is still being listed).
	Progress func(phase string, done, total int)
	// Notice, if set, shows the user a line while the run is under way
	// (stderr, also without a terminal): that it waits for the lock.
	Notice func(msg string)
	// LockSeen is the local file where a run waiting for the lock
	// remembers what it saw (lock.SeenFileName beside last_run.json), so
	// that a later run can take over a dead holder's lock; "": none.
	LockSeen string
	// PDFs is the tree the orders' PDFs live in (config key pdfs); nil:
	// the archive itself (the seed's layout, nothing to copy). PDFRoot is
	// that tree's own local path as file_path may name it ("" unknown);
	// PDFCheck is verify's share without --pdfs (config key pdf_check;
	// the zero Policy reads none, the CLI's default is pdf.DefaultPolicy).
	PDFs     *storage.Archive
	PDFRoot  string
	PDFCheck pdf.Policy
	// PDFPlace is the PDF tree's location as configured (pdfs, else
	// archiv), and SamePlace tells whether a location names it: restore
	// --pdfs never writes there without --force. OpenPlace opens a
	// location with the site's backend settings (restore --pdfs ZIEL).
	PDFPlace  string
	SamePlace func(a, b string) bool
	OpenPlace func(ctx context.Context, loc string) (*storage.Archive, error)

	held *lock.Lock // the run's lock, for fenced (set by lock)

	renameChunk int // tests: staged pairs renamed between two SyncAll; 0: renameChunk
}

// Phases of a run, as Engine.Progress reports them.
const (
	PhaseList   = "list"   // listing the archive's folders
	PhaseRead   = "read"   // reading rows or backups
	PhaseWrite  = "write"  // writing backups (export, migrate)
	PhaseSync   = "sync"   // making written files durable
	PhaseRename = "rename" // moving staged files into place
	PhaseLock   = "lock"   // waiting for the archive's lock: (0, -1) while waiting, (1, 1) once it is ours
)

// phase returns the progress hook of one phase, nil when nobody listens.
func (e *Engine) phase(name string) func(done, total int) {
	if e.Progress == nil {
		return nil
	}
	return func(done, total int) { e.Progress(name, done, total) }
}

// counted reports the rows of seq as they are taken, as the write phase of
// total rows (restore filling the table).
func (e *Engine) counted(total int, seq iter.Seq2[[]string, error]) iter.Seq2[[]string, error] {
	if e.Progress == nil {
		return seq
	}
	return func(yield func([]string, error) bool) {
		n := 0
		for row, err := range seq {
			n++
			e.Progress(PhaseWrite, n, total)
			if !yield(row, err) {
				return
			}
		}
	}
}

// step reports one step of a phase, if anybody listens.
func (e *Engine) step(phase string, done, total int) {
	if e.Progress != nil {
		e.Progress(phase, done, total)
	}
}

func (e *Engine) init() {
	if e.Open == nil {
		e.Open = OpenStore
	}
	if e.Schema.Codecs == nil {
		e.Schema = DefaultSchema()
	}
	if e.Log == nil {
		e.Log = slog.New(slog.DiscardHandler)
	}
	if e.Workers <= 0 {
		e.Workers = max(8, 4*runtime.NumCPU())
		if e.Arch.Caps.DefaultWorkers > 0 {
			e.Workers = e.Arch.Caps.DefaultWorkers
		}
	}
	if e.Now == nil {
		e.Now = time.Now
	}
}

func (e *Engine) newReport(command string) *Report {
	r := newReport(command, e.Log, e.Now())
	r.Site, r.Archive = e.Site, e.Archive
	return r
}

// finish stamps the duration and logs the summary line ("… abgeschlossen").
// Only a run that got to its end calls it; a run that returns early (an
// interruption, a refusal, a failure) does not, and the command layer logs
// its AbortLine from the returned error instead.
func (e *Engine) finish(r *Report) {
	r.Duration = e.Now().Sub(r.Started)
	r.finished = true
	e.Log.Info(r.Summary())
}

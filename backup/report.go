package backup

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Level of a reported problem.
const (
	LevelError   = "ERROR"
	LevelWarning = "WARNING"
)

// Problem is one thing a run found wrong, naming the file or record.
type Problem struct {
	Level    string `json:"level"`
	Path     string `json:"path,omitempty"`      // file inside the archive, if any
	RecordID int64  `json:"record_id,omitempty"` // record concerned, if known
	Message  string `json:"message"`
}

// String renders the problem as the log and the terminal show it:
// "2024/076330/data.csv: Checksumme ungültig".
func (p Problem) String() string {
	switch {
	case p.Path != "":
		return p.Path + ": " + p.Message
	case p.RecordID != 0:
		return fmt.Sprintf("record_id %d: %s", p.RecordID, p.Message)
	}
	return p.Message
}

// Report is what a run did and found; --json prints it as is.
type Report struct {
	Command   string         `json:"command"`
	Site      string         `json:"site,omitempty"`
	Archive   string         `json:"archive"`
	Database  string         `json:"database,omitempty"`
	DryRun    bool           `json:"dry_run,omitempty"`
	Started   time.Time      `json:"started"`
	Duration  time.Duration  `json:"duration_ns"`
	Records   int            `json:"records"`             // rows or backups considered
	OK        int            `json:"ok"`                  // exported, valid or restored
	Written   int            `json:"written"`             // export: files rewritten
	Unchanged int            `json:"unchanged"`           // export: already byte-identical
	Errors    int            `json:"errors"`              // problems at level ERROR
	Warnings  int            `json:"warnings"`            // problems at level WARNING
	BackupDB  string         `json:"backup_db,omitempty"` // restore: copy of the old database
	Versions  map[string]int `json:"versions,omitempty"`  // migrate: valid backups per schema version found
	Problems  []Problem      `json:"problems"`
	Folders   FolderCounts   `json:"folders,omitzero"` // verify, restore, migrate: what the archive held
	// Generation: export, the history generation it recorded; restore
	// --at, the generation it restored (0: none).
	Generation uint64 `json:"generation,omitempty"`
	// GenerationTime: restore --at, the archive time of that generation.
	GenerationTime time.Time `json:"generation_time,omitzero"`
	// Forget: what forget kept and removed.
	Forget *ForgetSummary `json:"forget,omitempty"`
	// Changes: export, what it wrote, repaired and removed (changes.go).
	Changes *ExportChanges `json:"changes,omitempty"`
	// Order: restore --auftrag or --undo, the one row and its fields.
	Order *OrderRestore `json:"order,omitempty"`
	// HistoryLockedUntil: verify on a store with Object Lock, until when
	// the newest generation and every file it needs are immutable.
	HistoryLockedUntil time.Time `json:"history_locked_until,omitzero"`
	// PDFs: what the run did with the orders' PDFs (nil: nothing).
	PDFs *PDFSummary `json:"pdfs,omitempty"`
	// pdfRefs: export, each order's PDF as the run saw it (for a history
	// generation to record), by record_id: 40 bytes an order.
	pdfRefs []pdfRef
	// pdfRefsDone: pdfRefs names every order's PDF export looked at (the
	// pass was not cut short), so the generation may say it records PDFs.
	pdfRefsDone bool

	mu         sync.Mutex
	log        *slog.Logger
	unreadable []string  // paths that could not be listed or read, in the order found
	finished   bool      // the run got to its end and logged its summary line
	failed     failedIDs // export: record_ids whose backup could not be written
}

// FolderCounts account for every order folder a verify or restore came
// across: Seen = Valid + Invalid + Unreadable. A folder (or a symbolic link
// where one could be) that could not be listed counts once as unreadable,
// whatever it may hold. Duplicates are valid backups not taken because
// another copy of the same record_id won.
type FolderCounts struct {
	Seen       int `json:"seen"`
	Valid      int `json:"valid"`
	Invalid    int `json:"invalid"`
	Unreadable int `json:"unreadable"`
	Duplicates int `json:"duplicates"`
}

// String is the summary line's addition: "(3 Ordner: 2 gültig, 1 ungültig,
// 0 nicht lesbar, 0 Duplikate)".
func (c FolderCounts) String() string {
	return fmt.Sprintf("(%d Ordner: %d gültig, %d ungültig, %d nicht lesbar, %d Duplikate)",
		c.Seen, c.Valid, c.Invalid, c.Unreadable, c.Duplicates)
}

// Finished reports whether the run got to its end: only then was its
// "… abgeschlossen" line logged.
func (r *Report) Finished() bool { return r != nil && r.finished }

func newReport(command string, log *slog.Logger, now time.Time) *Report {
	return &Report{Command: command, Started: now, Problems: []Problem{}, log: log}
}

// add records p and writes it to the log at its level.
func (r *Report) add(p Problem) {
	r.mu.Lock()
	r.Problems = append(r.Problems, p)
	if p.Level == LevelError {
		r.Errors++
	} else {
		r.Warnings++
	}
	r.mu.Unlock()
	lvl := slog.LevelError
	if p.Level == LevelWarning {
		lvl = slog.LevelWarn
	}
	r.log.Log(context.Background(), lvl, p.String())
}

func (r *Report) errorf(path string, id int64, format string, args ...any) {
	r.add(Problem{Level: LevelError, Path: path, RecordID: id, Message: fmt.Sprintf(format, args...)})
}

// unreadablef reports a path that could not be listed or read (an I/O
// error, a permission, a symbolic link that is not followed): an ERROR
// that also makes the archive "not fully read" (UnreadableError).
func (r *Report) unreadablef(path string, id int64, format string, args ...any) {
	r.mu.Lock()
	r.unreadable = append(r.unreadable, path)
	r.mu.Unlock()
	r.errorf(path, id, format, args...)
}

func (r *Report) warnf(path string, id int64, format string, args ...any) {
	r.add(Problem{Level: LevelWarning, Path: path, RecordID: id, Message: fmt.Sprintf(format, args...)})
}

// count adds to one of the counters under the report's lock.
func (r *Report) count(field *int, n int) {
	r.mu.Lock()
	*field += n
	r.mu.Unlock()
}

// Title names a command in the log's summary and abort lines.
func Title(command string) string {
	switch command {
	case "export":
		return "Export"
	case "verify":
		return "Verify"
	case "restore":
		return "Restore"
	case "migrate":
		return "Migration"
	case "restore-pdfs":
		return "PDF-Restore"
	case "forget":
		return "Forget"
	case "history-repair":
		return "Reparatur der Historie"
	}
	return command
}

// AbortLine is what a run that did not get to its end logs, at level ERROR,
// instead of its summary line: "Restore abgebrochen: <reason>". Monitoring
// that greps for "… abgeschlossen" never mistakes it for a finished run.
func AbortLine(command, reason string) string {
	return Title(command) + " abgebrochen: " + reason
}

// SummarySaysDryRun reports whether the summary line says "Probelauf"
// itself: every dry run's does (export, restore, forget, migrate), so that
// nobody need put "(Probelauf)" before it.
func (r *Report) SummarySaysDryRun() bool {
	return r.DryRun
}

// Summary is the German summary line of SPEC 3.2 that monitoring greps for.
func (r *Report) Summary() string {
	s := r.summary()
	if r.PDFs != nil && r.PDFs.Share == "" && r.Command != "restore-pdfs" {
		// Counted here when the PDFs were asked for (verify --pdfs,
		// export's copies, restore --pdfs); the nightly share is in the
		// log's own line and in --json.
		s += "; " + r.PDFs.String()
	}
	return s
}

func (r *Report) summary() string {
	switch r.Command {
	case "export":
		return r.exportSummary()
	case "verify":
		return fmt.Sprintf("Verify abgeschlossen: %d gültig, %d Fehler %s", r.OK, r.Errors, r.Folders)
	case "restore":
		if r.Order != nil {
			return r.orderSummary()
		}
		// A dry run says "Probelauf" and never "Restore abgeschlossen",
		// so that monitoring grepping for it does not count it as a
		// restore.
		head, done := "Restore abgeschlossen: ", "wiederhergestellt"
		if r.DryRun {
			head, done = "Restore-Probelauf beendet, nichts geändert: ", "würden wiederhergestellt"
		}
		if r.Generation != 0 {
			return fmt.Sprintf("%s%d Datensätze %s aus Generation %d vom %s (%d Datensätze), %d Fehler",
				head, r.OK, done, r.Generation, r.GenerationTime.Local().Format("2006-01-02 15:04:05.000"), r.Records, r.Errors)
		}
		return fmt.Sprintf("%s%d Datensätze %s, %d Fehler %s", head, r.OK, done, r.Errors, r.Folders)
	case "forget":
		removed := 0
		if r.Forget != nil {
			removed = len(r.Forget.Removed)
		}
		if r.DryRun {
			return fmt.Sprintf("Forget-Probelauf beendet, nichts entfernt: %d Generationen blieben, %d würden entfernt, %d Fehler", r.OK, removed, r.Errors)
		}
		return fmt.Sprintf("Forget abgeschlossen: %d Generationen behalten, %d entfernt, %d Fehler", r.OK, removed, r.Errors)
	case "restore-pdfs":
		p := r.PDFs
		if p == nil {
			p = &PDFSummary{}
		}
		return fmt.Sprintf("PDF-Restore abgeschlossen: %d PDFs wiederhergestellt, %d fehlend, %d falsch, %d Fehler", p.Restored, p.Missing, p.Bad, r.Errors)
	case "migrate":
		if r.DryRun {
			return fmt.Sprintf("Migrations-Probelauf beendet, nichts geschrieben: %d würden migriert, %d Fehler (vorgefunden: %s)", r.OK, r.Errors, versionCounts(r.Versions))
		}
		return fmt.Sprintf("Migration abgeschlossen: %d migriert, %d Fehler (vorgefunden: %s)", r.OK, r.Errors, versionCounts(r.Versions))
	}
	return fmt.Sprintf("%s abgeschlossen: %d erfolgreich, %d Fehler", r.Command, r.OK, r.Errors)
}

package lock

import (
	"errors"
	"fmt"
	"time"

	"werkstatt-backup/storage"
)

// LockError reports a lock held by someone else.
type LockError struct {
	Path   string
	Holder *LockInfo // nil if the lock file could not be parsed
	Waited time.Duration
	Hint   string // what to do about it, appended as a sentence
	// What the waiting run saw (Seen): the file was empty (Empty), or it
	// changed while watched (Changed: its holder refreshes it), or it
	// stayed unchanged for Unchanged (by this run, or by runs of this
	// machine before it).
	Seen      bool
	Empty     bool
	Changed   bool
	Unchanged time.Duration
}

// Error returns one German line, e.g. "Lock .backup.lock nicht erhalten
// nach 30s: gehalten von pid 4711 auf host werkstatt (export, seit
// 2024-07-29 10:30:00)".
func (e *LockError) Error() string {
	msg := "Lock " + e.Path + " nicht erhalten"
	if e.Waited > 0 {
		w := e.Waited.Round(time.Millisecond)
		if e.Waited >= time.Second {
			w = e.Waited.Round(time.Second)
		}
		msg += " nach " + w.String()
	}
	switch {
	case e.Holder == nil && e.Seen && e.Empty:
		msg += ": " + emptyLock
	case e.Holder == nil:
		msg += ": " + DescribeHolder(nil)
	default:
		msg += ": gehalten von " + DescribeHolder(e.Holder)
	}
	switch {
	case e.Seen && e.Changed:
		msg += ", von hier beobachtet: wird aufgefrischt (ein Lauf ist aktiv)"
	case e.Seen && e.Unchanged >= time.Second:
		msg += ", von hier beobachtet: seit " + e.Unchanged.Round(time.Second).String() + " unverändert"
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// ErrLockLost is wrapped by Lock.Release when another process took the
// lock over or removed it while it was held.
var ErrLockLost = errors.New("Lock verloren")

func lostError(holder *LockInfo, present bool) error {
	if !present {
		return fmt.Errorf("Lock %s wurde während des Laufs entfernt: %w", LockFileName, ErrLockLost)
	}
	return fmt.Errorf("Lock %s wurde während des Laufs übernommen von %s: %w",
		LockFileName, DescribeHolder(holder), ErrLockLost)
}

// ErrNoExclusiveCreate: the archive's storage cannot create a file
// exclusively (Capabilities.ExclusiveCreate), so two runs could both
// believe they hold the lock.
var ErrNoExclusiveCreate = errors.New("das Speichersystem des Archivs kann keine Datei exklusiv anlegen; ohne das schützt der Lock " + LockFileName + " nicht vor einem zweiten Lauf")

func needExclusive(caps storage.Capabilities) error {
	if !caps.ExclusiveCreate && !(caps.CompareAndSwap && caps.WriteCond != nil) {
		return fmt.Errorf("Lock %s: %w", LockFileName, ErrNoExclusiveCreate)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"slices"

	"werkstatt-backup/backup"
	"werkstatt-backup/config"
	"werkstatt-backup/history"
	"werkstatt-backup/lock"
	"werkstatt-backup/storage"
)

// Exit codes (SPEC 3.1), documented in README and --help.
const (
	exitOK         = 0
	exitError      = 1 // BackupSystemError
	exitUsage      = 2 // usage or configuration error
	exitValidation = 3 // ValidationError: invalid records or backups found
	exitLock       = 4 // LockError: lock not acquired in time
	exitInterrupt  = 130
)

const exitCodesHelp = `Exit-Codes:
  0    Erfolg
  1    Fehler (BackupSystemError), auch: Archiv nicht vollständig gelesen, keine Sicherung im Archiv
  2    Aufruf- oder Konfigurationsfehler
  3    Validierungsfehler gefunden (ValidationError)
  4    Lock nicht rechtzeitig erhalten (LockError)
  130  abgebrochen (Strg+C, SIGTERM)`

// usageError marks a wrong invocation (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode maps an error to the exit code; only main decides this.
func exitCode(err error) int {
	var cfgErr *config.Error
	var useErr usageError
	var lockErr *lock.LockError
	var schemeErr *storage.SchemeError
	var sites siteFailure
	var unread *backup.UnreadableError
	var ambiguous *history.AmbiguousTimeError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &sites):
		return sites.code
	case errors.Is(err, context.Canceled):
		return exitInterrupt
	case errors.As(err, &cfgErr), errors.As(err, &useErr), errors.As(err, &schemeErr), errors.As(err, &ambiguous):
		return exitUsage
	case errors.As(err, &lockErr):
		return exitLock
	case errors.As(err, &unread): // not fully read: "could not check", never "invalid"
		return exitError
	case errors.Is(err, backup.ErrValidation):
		return exitValidation
	}
	return exitError
}

// severity ranks exit codes for --all-sites, mildest first: a site whose
// backups have invalid records (3) still ran; one that could not get its lock
// (4) did not run this time but will next time; a failed run (1) needs a look;
// a configuration error (2) will fail every time until someone fixes the
// file. An interruption (130), or any code not listed, outranks them all.
var severity = []int{exitOK, exitValidation, exitLock, exitError, exitUsage}

// worse returns the more severe of two exit codes (for --all-sites).
func worse(a, b int) int {
	rank := func(c int) int {
		if i := slices.Index(severity, c); i >= 0 {
			return i
		}
		return len(severity)
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

package storage

import (
	"context"
	"time"
)

// Backend is one kind of archive storage (local disk, SMB, S3, …). Its
// package registers it once in backends/all; nothing else in the program
// names it.
type Backend interface {
	// Describe declares the backend: scheme, URL syntax and its options.
	// It is called once at registration and must not change.
	Describe() Description
	// Parse parses what follows "scheme://" in an archive URL (for the
	// backend of scheme "file" also a plain local path). An error names
	// the part that is wrong and never echoes a secret.
	Parse(rest string) (Location, error)
	// Open opens the archive at loc. ctx bounds connecting and the checks
	// of Open only; the Archive keeps no context. Each later call takes
	// its caller's ctx (the handle's methods, the Capabilities funcs,
	// Capabilities.Bind): cancelling it (Ctrl+C, a signal) ends that call
	// in flight at once with an error wrapping context.Canceled instead
	// of after the backend's timeout, and a call under an ended ctx is not
	// sent. A clean-up after the cancellation (releasing the lock,
	// removing temp files) passes context.WithoutCancel(ctx) and runs
	// with the backend's own per-call timeout. The Archive's Fs used
	// without Bind runs each call under context.Background with that
	// timeout (tests, tools).
	Open(ctx context.Context, loc Location, opts Options) (*Archive, error)
}

// Location is an archive location parsed by its backend.
type Location interface {
	// Scheme is the backend's scheme ("file", "smb", "s3", …).
	Scheme() string
	// String is the display form, with every secret shown as "***".
	String() string
}

// Description is what a backend declares about itself. Config and the
// command line learn the backend's keys from it: each Option becomes a
// config-file key, a flag and an ARCHIV_… environment variable, is shown
// by `config show` (secrets as "***") and in --help.
type Description struct {
	Scheme  string   // URL scheme, lower case: "smb"
	Syntax  string   // URL form for help texts: "smb://[domäne;]benutzer@host[:port]/freigabe[/ordner]"
	Summary string   // one German line: what the backend stores where
	Options []Option // the backend's settings, all keys prefixed with the scheme and "_"
	// Workers is the Capabilities.DefaultWorkers its archives declare,
	// for help texts before any archive is open ("über SMB 128").
	Workers int
}

// OptionKind is how an option's value is parsed and checked.
type OptionKind int

const (
	OptString   OptionKind = iota
	OptPath                // a local path; relative ones in the config file are relative to that file
	OptDuration            // "30s", "2m" or seconds as a number
	OptInt                 // a whole number
	OptBool                // true/false, 1/0, ja/nein
)

// Option is one setting of a backend.
type Option struct {
	Key     string     // config key, e.g. "smb_timeout"; flag --smb-timeout; environment ARCHIV_SMB_TIMEOUT
	Kind    OptionKind // how the value is parsed
	Default any        // nil = no default; else string, time.Duration, int or bool matching Kind
	Help    string     // German, one line
	// Secret marks a password or key: read only from the environment
	// (never from a file or the command line, where others can read
	// it), never printed, logged or put into an error; config show
	// prints "***".
	Secret bool
	// Env lists further environment variables read, in order, when the
	// ARCHIV_ one is unset (for example AWS_SECRET_ACCESS_KEY).
	Env []string
	// MinDuration is the smallest value an OptDuration accepts.
	MinDuration time.Duration
}

// Options are the values of a backend's declared options for one run,
// resolved by config (flag > environment > site > file > default), and
// what the caller wants of Open.
type Options struct {
	// Create creates the archive root if it is missing; otherwise a
	// missing root is an error wrapping io/fs.ErrNotExist.
	Create bool
	// Values holds the resolved value of every declared option that has
	// one (a default counts), by Key, typed as its Kind: string for
	// OptString and OptPath, time.Duration, int, bool.
	Values map[string]any
}

// String returns the string value of key, "" if unset.
func (o Options) String(key string) string {
	s, _ := o.Values[key].(string)
	return s
}

// Duration returns the duration value of key, 0 if unset.
func (o Options) Duration(key string) time.Duration {
	d, _ := o.Values[key].(time.Duration)
	return d
}

// Int returns the int value of key, 0 if unset.
func (o Options) Int(key string) int {
	n, _ := o.Values[key].(int)
	return n
}

// Bool returns the bool value of key, false if unset.
func (o Options) Bool(key string) bool {
	b, _ := o.Values[key].(bool)
	return b
}

// OptionError is a bad value of a backend option found by Open (a
// secret-key file that cannot be read, say). The caller reports it as a
// configuration error naming the key (exit 2).
type OptionError struct {
	Key    string
	Reason string
}

func (e *OptionError) Error() string { return e.Key + ": " + e.Reason }

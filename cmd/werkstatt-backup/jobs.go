package main

import (
	"github.com/spf13/pflag"
)

// jobSpec says, once for each command that runs the engine against a
// site's archive, what it needs. The commands themselves, schedule's checks
// at start, status's --command and the run records all read it from jobs.
type jobSpec struct {
	name string
	// needsDB: whether a run with these flags uses the database.
	needsDB func(flags *pflag.FlagSet) bool
	// createsDB: a missing database is created (restore), not an error.
	createsDB bool
}

var jobs = []jobSpec{
	{name: "export", needsDB: always},
	{name: "verify", needsDB: verifyNeedsDB},
	{name: "restore", needsDB: restoreNeedsDB, createsDB: true},
	{name: "migrate", needsDB: never},
	{name: "forget", needsDB: never},
	{name: "history-repair", needsDB: never},
}

func always(*pflag.FlagSet) bool { return true }
func never(*pflag.FlagSet) bool  { return false }

// verifyNeedsDB: verify compares with a database only with --db PATH or
// --with-db (the configuration's db).
func verifyNeedsDB(flags *pflag.FlagSet) bool {
	if flags.Changed("db") {
		return true
	}
	f := flags.Lookup("with-db")
	return f != nil && f.Value.String() == "true"
}

// restoreNeedsDB: restore --pdfs writes PDFs, no table.
func restoreNeedsDB(flags *pflag.FlagSet) bool {
	f := flags.Lookup("pdfs")
	return f == nil || !f.Changed
}

// jobNamed returns the spec of the command name.
func jobNamed(name string) (jobSpec, bool) {
	for _, j := range jobs {
		if j.name == name {
			return j, true
		}
	}
	return jobSpec{}, false
}

// jobNames lists the engine commands: the ones schedule may run and status
// may check.
func jobNames() []string {
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = j.name
	}
	return names
}

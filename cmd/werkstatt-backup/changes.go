package main

import (
	"fmt"

	"werkstatt-backup/backup"
)

// maxChangeLines is how many lines of an export dry run's list the
// terminal shows without --verbose.
const maxChangeLines = 20

// printChanges shows what an export dry run would write, repair and
// remove: the first maxChangeLines lines, all of them with --verbose
// (--json has all of them anyway).
func (a *app) printChanges(r *backup.Report, prefix string) {
	if !r.DryRun || r.Changes == nil || len(r.Changes.Items) == 0 {
		return
	}
	items := r.Changes.Items
	fmt.Fprintf(a.stdout, "%sProbelauf, der Export würde:\n", prefix)
	for i, c := range items {
		if i == maxChangeLines && !a.verbose {
			fmt.Fprintf(a.stdout, "%s  … und %d weitere (alle mit --verbose oder --json)\n", prefix, len(items)-i)
			break
		}
		fmt.Fprintf(a.stdout, "%s  %s\n", prefix, c.Todo())
	}
}

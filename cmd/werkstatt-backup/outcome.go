package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"werkstatt-backup/backup"
)

// execute runs one command line with a fresh command tree. It is the one
// place that turns a command's outcome into output and an exit code, for
// every command and for each of schedule's runs: the German error line on
// stderr with a hint to the command's --help, and with --json exactly one
// JSON object on stdout holding "exit_code" and, on failure, "error".
// signalLine: print the line for an interruption (schedule's runs leave it
// to schedule itself, which prints it once when it ends).
func (a *app) execute(ctx context.Context, args []string, signalLine bool) int {
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil && !a.ran {
		err = usageError{err}
	}
	err = german(root, err)
	code := exitCode(err)
	msg := ""
	if err != nil {
		msg = message(err)
	}
	if a.jsonOut || jsonAsked(args) {
		a.writeOutcome(commandName(cmd), code, msg)
	}
	if a.quiet && !a.jsonOut && code == exitValidation {
		a.printAffected()
	}
	var quietErr silentError
	switch {
	case code == exitInterrupt:
		if signalLine {
			fmt.Fprintln(a.stderr, "werkstatt-backup: "+interrupted)
		}
	case err != nil && !errors.As(err, &quietErr):
		fmt.Fprintf(a.stderr, "werkstatt-backup: %s\n", msg)
		if code == exitUsage && !a.ran {
			fmt.Fprintf(a.stderr, "Hilfe: %s --help\n", helpPath(cmd))
		}
	}
	return code
}

// maxAffected is how many orders --quiet names after a run that ended with
// warnings (exit code 3); the rest are counted.
const maxAffected = 10

// printAffected names, for a run that ended with exit code 3 under
// --quiet, the records its warnings are about: one line each (the report's
// errors are printed already), up to maxAffected, then how many more, so
// that cron's mail says which orders to look at.
func (a *app) printAffected() {
	var lines []string
	for _, r := range a.reports {
		prefix := ""
		if r.Site != "" {
			prefix = "[" + r.Site + "] "
		}
		for _, p := range r.Problems {
			if p.Level == backup.LevelWarning && (p.RecordID != 0 || p.Path != "") {
				lines = append(lines, fmt.Sprintf("%s%s - %s", prefix, p.Level, p))
			}
		}
	}
	for i, l := range lines {
		if i == maxAffected {
			fmt.Fprintf(a.stdout, "… und %d weitere (siehe Log)\n", len(lines)-maxAffected)
			break
		}
		fmt.Fprintln(a.stdout, l)
	}
}

// interrupted is the message of a run ended by SIGINT or SIGTERM.
const interrupted = "abgebrochen (Signal); begonnene Dateien sind vollständig oder unverändert"

// emit keeps v as the command's JSON result; execute prints it once, with
// the exit code and the error added.
func (a *app) emit(v any) { a.result = v }

// writeOutcome prints the command's result (or, if it has none, an object
// naming the command) with "exit_code" and, if it failed, "error".
func (a *app) writeOutcome(command string, code int, msg string) {
	a.stdout.Write(outcomeJSON(a.result, command, code, msg))
}

// outcomeJSON is what --json prints: result (nil: an object naming the
// command) with "exit_code" and, if it failed, "error", indented, with a
// final newline. Notifications send the same object.
func outcomeJSON(result any, command string, code int, msg string) []byte {
	type outcome struct {
		Command  string `json:"command,omitempty"`
		ExitCode int    `json:"exit_code"`
		Error    string `json:"error,omitempty"`
	}
	plain := func(o outcome) []byte {
		var b bytes.Buffer
		writeJSON(&b, o)
		return b.Bytes()
	}
	if result == nil {
		return plain(outcome{command, code, msg})
	}
	body, err := json.Marshal(result)
	if err != nil || len(body) < 2 || body[0] != '{' {
		// Not reached for the results the commands emit: all are objects.
		return plain(outcome{command, code, "Bericht nicht darstellbar: " + message(err)})
	}
	tail, _ := json.Marshal(outcome{ExitCode: code, Error: msg})
	sep := []byte(",")
	if bytes.Equal(body, []byte("{}")) {
		sep = nil
	}
	joined := slices.Concat(body[:len(body)-1], sep, tail[1:])
	var out bytes.Buffer
	if err := json.Indent(&out, joined, "", "  "); err != nil {
		return plain(outcome{command, code, msg})
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// writeJSON prints v indented; a report always marshals.
func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// jsonAsked reports whether --json is on the command line, for errors that
// stop the parsing before it reached --json.
func jsonAsked(args []string) bool {
	for _, s := range args {
		switch s {
		case "--":
			return false
		case "--json", "--json=true", "--json=1", "--json=TRUE", "--json=True", "--json=t":
			return true
		}
	}
	return false
}

// commandName is the command's path without the program's name:
// "export", "config show"; "" for the program itself.
func commandName(cmd *cobra.Command) string {
	if cmd == nil || !cmd.HasParent() {
		return ""
	}
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// helpPath is what to call --help on after an error: the command that
// failed, or the program when no command was found.
func helpPath(cmd *cobra.Command) string {
	if cmd == nil {
		return "werkstatt-backup"
	}
	return cmd.CommandPath()
}

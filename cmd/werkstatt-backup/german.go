package main

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// message is the one German line a user sees for err: on stderr, in the
// log, in --json's "error" and in last_run.json. Phrases of Go's libraries
// that reach it inside an error chain are translated here.
func message(err error) string {
	if err == nil {
		return ""
	}
	var aborted abortedError // says itself why it was aborted
	if errors.Is(err, context.Canceled) && !errors.As(err, &aborted) {
		return interrupted
	}
	s := oneLine(err.Error())
	// "open /x/y: permission denied" → "/x/y: keine Berechtigung": the
	// name of the system call means nothing to a user.
	var pe *iofs.PathError
	if errors.As(err, &pe) && pe.Err != nil {
		s = strings.Replace(s, oneLine(pe.Error()), pe.Path+": "+oneLine(pe.Err.Error()), 1)
	}
	for _, t := range goPhrases {
		s = strings.ReplaceAll(s, t[0], t[1])
	}
	return s
}

// goPhrases are texts of Go's standard library (os, io, net, context) and
// of SQLite that can end an error chain, and their German replacements.
var goPhrases = [][2]string{
	{"file is not a database", "keine Datenbankdatei"},
	{"disk I/O error", "Ein-/Ausgabefehler"},
	{"database is locked", "Datenbank ist gesperrt"},
	{"unable to open database file", "Datenbankdatei lässt sich nicht öffnen"},
	{"database disk image is malformed", "Datenbankdatei ist beschädigt"},
	{"attempt to write a readonly database", "Datenbank ist schreibgeschützt"},
	{"file does not exist", "existiert nicht"},
	{"no such file or directory", "Datei oder Ordner existiert nicht"},
	{"permission denied", "keine Berechtigung"},
	{"unexpected EOF", "unerwartetes Dateiende"},
	{"context deadline exceeded", "Frist überschritten"},
	{"context canceled", "abgebrochen"},
	{"is a directory", "ist ein Ordner"},
	{"not a directory", "ist kein Ordner"},
	{"file already exists", "existiert bereits"},
	{"connection refused", "Verbindung abgelehnt"},
	{"i/o timeout", "Zeitüberschreitung"},
	{"no space left on device", "kein Platz mehr auf dem Gerät"},
	{"read-only file system", "Dateisystem schreibgeschützt"},
	{"invalid argument", "ungültiges Argument"},
}

// unknownCommand matches cobra's only untyped error a user can cause.
var unknownCommand = regexp.MustCompile(`^unknown command "(.*)" for "(.*?)"`)

// german replaces cobra's English "unknown command" error by a German one
// with cobra's suggestions; other errors are already German at their source.
func german(root *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	m := unknownCommand.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	msg := fmt.Sprintf("unbekannter Befehl %q für %q", m[1], m[2])
	if s := root.SuggestionsFor(m[1]); len(s) > 0 {
		msg += "; gemeint ist vielleicht: " + strings.Join(s, ", ")
	}
	return usageError{errors.New(msg)}
}

// flagError translates pflag's parse errors (it is the command tree's
// FlagErrorFunc): unknown flag, missing value, wrong value, bad syntax.
func flagError(c *cobra.Command, err error) error {
	var (
		notExist *pflag.NotExistError
		required *pflag.ValueRequiredError
		invalid  *pflag.InvalidValueError
		syntax   *pflag.InvalidSyntaxError
	)
	var msg string
	switch {
	case errors.As(err, &notExist):
		name := notExist.GetSpecifiedName()
		if name == "" || notExist.GetSpecifiedShortnames() != "" {
			// a short one: pflag names the letter, or gives all of "-xV"
			if name == "" {
				name = notExist.GetSpecifiedShortnames()
			}
			msg = fmt.Sprintf("unbekannte Option -%s für %q", name, c.CommandPath())
		} else {
			msg = fmt.Sprintf("unbekannte Option --%s für %q", name, c.CommandPath())
		}
	case errors.As(err, &required):
		msg = fmt.Sprintf("Option %s braucht einen Wert (%s)", flagName(required.GetFlag()), typeName(required.GetFlag()))
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		msg = fmt.Sprintf("ungültiger Wert %q für %s: %s", invalid.GetValue(), flagName(f), valueReason(f, invalid.Unwrap()))
	case errors.As(err, &syntax):
		msg = fmt.Sprintf("ungültige Schreibweise einer Option: %q", syntax.GetSpecifiedFlag())
	default:
		msg = message(err)
	}
	return usageError{errors.New(msg)}
}

func flagName(f *pflag.Flag) string {
	if f == nil {
		return "Option"
	}
	return "--" + f.Name
}

// valueReason says what a flag expects. Our own flag types give German
// reasons; pflag's built-in ones (strconv, time) do not.
func valueReason(f *pflag.Flag, cause error) string {
	if f == nil {
		return message(cause)
	}
	switch f.Value.Type() {
	case "bool":
		return "erwartet true oder false"
	case "int", "int64", "uint":
		return "erwartet eine ganze Zahl"
	case "duration":
		return "erwartet eine Dauer wie 30s, 2m oder 1h30m"
	}
	return message(cause)
}

// typeNames are the German names of pflag's value types in help texts.
var typeNames = map[string]string{
	"string":   "WERT",
	"int":      "ZAHL",
	"int64":    "ZAHL",
	"uint":     "ZAHL",
	"duration": "DAUER",
	"bool":     "",
}

// typeName is the word for a flag's value in help: the `name` in its usage
// text if there is one, else the German name of its type.
func typeName(f *pflag.Flag) string {
	if f == nil {
		return "Wert"
	}
	name, _ := pflag.UnquoteUsage(f)
	if n, ok := typeNames[f.Value.Type()]; ok && !strings.Contains(f.Usage, "`") {
		return n
	}
	return name
}

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"werkstatt-backup/history"
)

// changesHelp is history's help on --changes.
const changesHelp = `Mit --changes stattdessen, was sich zwischen zwei Generationen geändert hat: jeder
Auftrag, der neu ist, geändert wurde (mit den Feldern, alt → neu, wie bei --auftrag)
oder entfernt wurde, eine Zeile je Auftrag, am Ende eine Zeile mit den Zahlen. Ohne
weitere Angabe die letzten beiden Generationen; --since ZEIT von der Generation am oder
vor ZEIT bis zur neuesten; --from und --to nehmen eine Generation (N oder #N, wie
history sie zeigt) oder eine ZEIT wie restore --at (--from allein: bis zur neuesten,
--to allein: ab der Generation davor).`

// changesFlags are history's flags of --changes.
type changesFlags struct {
	on              bool
	since, from, to string
	// After check: the two ends and the flags that named them ("" =
	// default), for messages.
	fromAt, toAt     history.Point
	fromFlag, toFlag string
}

func (c *changesFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&c.on, "changes", false, "die Aufträge auflisten, die zwischen zwei Generationen neu, geändert (mit den Feldern) oder entfernt sind; ohne weitere Angabe die letzten beiden")
	f.StringVar(&c.since, "since", "", "mit --changes: von der Generation am oder vor `ZEIT` (2026-11-01, \"2026-11-01 02:00\", die Zeit, die history zeigt) bis zur neuesten")
	f.StringVar(&c.from, "from", "", "mit --changes: ab Generation `N` (oder #N, oder einer ZEIT wie bei --since)")
	f.StringVar(&c.to, "to", "", "mit --changes: bis Generation `N` (oder #N, oder einer ZEIT wie bei --since; ohne: die neueste)")
}

// check refuses conflicting flags and reads the ends (usage errors,
// exit 2, naming the flag).
func (c *changesFlags) check(cmd *cobra.Command) error {
	set := cmd.Flags().Changed
	for _, name := range []string{"since", "from", "to"} {
		if set(name) && !c.on {
			return usageError{fmt.Errorf("--%s gilt nur mit --changes", name)}
		}
	}
	if !c.on {
		return nil
	}
	if set("auftrag") {
		return usageError{errors.New("--changes und --auftrag schließen sich aus")}
	}
	if set("since") && (set("from") || set("to")) {
		other := "--from"
		if !set("from") {
			other = "--to"
		}
		return usageError{fmt.Errorf("--since und %s schließen sich aus (--since ZEIT vergleicht bis zur neuesten Generation)", other)}
	}
	var err error
	switch {
	case set("since"):
		c.fromFlag = "--since"
		c.fromAt, err = changePoint("--since", c.since)
	case set("from"):
		c.fromFlag = "--from"
		c.fromAt, err = changePoint("--from", c.from)
	}
	if err != nil {
		return err
	}
	if set("to") {
		c.toFlag = "--to"
		c.toAt, err = changePoint("--to", c.to)
	}
	return err
}

// changePoint reads a generation (N or #N) or a time as restore --at does.
func changePoint(flag, v string) (history.Point, error) {
	s := strings.TrimSpace(v)
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == 0 {
			return history.Point{}, usageError{fmt.Errorf("%s: Generation %q ungültig: erwartet eine Nummer, die history zeigt", flag, s)}
		}
		return history.Point{Seq: n}, nil
	}
	t, seq, err := history.ParseAt(s, nil)
	if err != nil {
		return history.Point{}, usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	return history.Point{Seq: seq, Time: t}, nil
}

// changesJSON is history --changes --json (and a site's part of it).
type changesJSON struct {
	From    genRefJSON    `json:"from"`
	To      genRefJSON    `json:"to"`
	Added   []orderChange `json:"added"`
	Changed []orderChange `json:"changed"`
	Removed []orderChange `json:"removed"`
	// PDFs: orders whose PDF was replaced (generations that record PDFs).
	PDFs []pdfChange `json:"pdfs,omitempty"`
}

// pdfChange is one order whose PDF is another, as SHA-256s.
type pdfChange struct {
	AuftragNr string `json:"auftrag_nr"`
	RecordID  int64  `json:"record_id"`
	Folder    string `json:"folder"`
	Old       string `json:"old"`
	New       string `json:"new"`
}

// genRefJSON names an end of the comparison.
type genRefJSON struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Records int       `json:"records"`
}

// orderChange is one order in history --changes --json.
type orderChange struct {
	AuftragNr string      `json:"auftrag_nr"`
	RecordID  int64       `json:"record_id"`
	Folder    string      `json:"folder"`
	OldFolder string      `json:"old_folder,omitempty"` // changed, when the folder changed too
	Fields    []fieldJSON `json:"fields"`
}

type fieldJSON struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// listChanges compares the two generations c names; errors that are the
// user's (no such generation, fewer than two) are usage errors naming
// the flag, others are classified by historyFailure.
func listChanges(ctx context.Context, hs *history.Store, c *changesFlags) (*changesJSON, error) {
	cl, err := hs.Changes(ctx, c.fromAt, c.toAt)
	var end *history.EndError
	switch {
	case errors.Is(err, history.ErrTooFew):
		return nil, usageError{fmt.Errorf("--changes: %w", err)}
	case errors.As(err, &end):
		var flags []string
		if end.From {
			flags = append(flags, cmp.Or(c.fromFlag, "--from"))
		}
		if end.To {
			flags = append(flags, cmp.Or(c.toFlag, "--to"))
		}
		return nil, usageError{fmt.Errorf("%s: %w", strings.Join(flags, "/"), err)}
	case err != nil:
		return nil, historyFailure(err)
	}
	ref := func(g history.GenerationInfo) genRefJSON { return genRefJSON{g.Seq, g.ArchiveTime, g.Records} }
	out := &changesJSON{From: ref(cl.From), To: ref(cl.To), Added: []orderChange{}, Changed: []orderChange{}, Removed: []orderChange{}}
	one := func(e history.Entry) orderChange {
		return orderChange{AuftragNr: e.AuftragNr, RecordID: e.RecordID, Folder: e.Folder, Fields: []fieldJSON{}}
	}
	for _, ch := range cl.Added {
		out.Added = append(out.Added, one(ch.New))
	}
	for _, ch := range cl.Changed {
		j := one(ch.New)
		if ch.Old.Folder != ch.New.Folder {
			j.OldFolder = ch.Old.Folder
		}
		for _, f := range ch.Fields {
			j.Fields = append(j.Fields, fieldJSON{f.Column, f.Old, f.New})
		}
		out.Changed = append(out.Changed, j)
	}
	for _, ch := range cl.Removed {
		out.Removed = append(out.Removed, one(ch.Old))
	}
	for _, ch := range cl.PDFs {
		j := pdfChange{AuftragNr: ch.New.AuftragNr, RecordID: ch.New.RecordID, Folder: ch.New.Folder, Old: ch.Old.PDF.String()}
		if !ch.New.PDF.IsZero() {
			j.New = ch.New.PDF.String()
		}
		out.PDFs = append(out.PDFs, j)
	}
	return out, nil
}

// summary is the last line: "1 neu, 2 geändert, 0 entfernt zwischen
// Generation 3 (2026-11-30 02:00:00.117) und 4 (2026-12-01 02:00:00.093)".
func (c *changesJSON) summary() string {
	pdfs := ""
	if len(c.PDFs) > 0 {
		pdfs = fmt.Sprintf(", %d PDFs ausgetauscht", len(c.PDFs))
	}
	return fmt.Sprintf("%d neu, %d geändert, %d entfernt%s zwischen Generation %d (%s) und %d (%s)",
		len(c.Added), len(c.Changed), len(c.Removed), pdfs,
		c.From.Seq, c.From.Time.Local().Format(history.TimeLayout), c.To.Seq, c.To.Time.Local().Format(history.TimeLayout))
}

// writeChanges prints one line per order, its changed fields indented,
// and the summary. prefix ("[nord] " with --all-sites) starts a first
// line naming the archive.
func writeChanges(w io.Writer, prefix, archive string, c *changesJSON) {
	if prefix != "" {
		fmt.Fprintf(w, "%sArchiv %s:\n", prefix, archive)
	}
	line := func(state string, o orderChange) {
		fmt.Fprintf(w, "%-9s Auftrag %s (record_id %d, %s)\n", state, o.AuftragNr, o.RecordID, o.Folder)
	}
	for _, o := range c.Added {
		line("neu", o)
	}
	for _, o := range c.Changed {
		line("geändert", o)
		if o.OldFolder != "" {
			fmt.Fprintf(w, "  Ordner: %q → %q\n", o.OldFolder, o.Folder)
		}
		for _, f := range o.Fields {
			fmt.Fprintf(w, "  %s: %q → %q\n", f.Field, f.Old, f.New)
		}
	}
	for _, o := range c.Removed {
		line("entfernt", o)
	}
	short := func(h string) string { return cmp.Or(h[:min(12, len(h))], "—") }
	for _, p := range c.PDFs {
		fmt.Fprintf(w, "%-9s Auftrag %s (record_id %d, %s)\n  PDF ausgetauscht: %s → %s\n", "PDF", p.AuftragNr, p.RecordID, p.Folder, short(p.Old), short(p.New))
	}
	fmt.Fprintln(w, c.summary())
}

// orderChanges prints (or, with --json, emits) what changed between the
// two generations c names.
func (a *app) orderChanges(ctx context.Context, hs *history.Store, archive string, c *changesFlags) error {
	out, err := listChanges(ctx, hs, c)
	if err != nil {
		return err
	}
	if a.jsonOut {
		a.emit(struct {
			Command string `json:"command"`
			Archive string `json:"archive"`
			*changesJSON
		}{"history", archive, out})
	} else if !a.quiet {
		writeChanges(a.stdout, "", archive, out)
	}
	return nil
}

// changesSite is one site's entry in history --all-sites --changes --json.
type changesSite struct {
	siteStatus
	Archive string `json:"archive,omitempty"`
	*changesJSON
}

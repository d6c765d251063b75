package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"werkstatt-backup/backup"
	"werkstatt-backup/config"
	"werkstatt-backup/history"
)

// generationJSON is one generation as history --json lists it.
type generationJSON struct {
	Generation  uint64    `json:"generation"`
	ArchiveTime time.Time `json:"archive_time"`
	ClientTime  time.Time `json:"client_time"`
	Records     int       `json:"records"`
	Changed     int       `json:"changed"`
	Added       int       `json:"added"`
	Removed     int       `json:"removed"`
	// PDFChanged: orders whose PDF is another than in the generation
	// before (generations that record PDFs).
	PDFChanged int `json:"pdf_changed,omitempty"`
}

// versionJSON is one version of an order as history --auftrag lists it.
type versionJSON struct {
	Generation  uint64       `json:"generation"`
	ArchiveTime time.Time    `json:"archive_time"`
	RecordID    int64        `json:"record_id"`
	AuftragNr   string       `json:"auftrag_nr"` // as the table stores it
	Folder      string       `json:"folder"`
	State       string       `json:"state"` // neu, geändert, entfernt
	Changes     []changeJSON `json:"changes,omitempty"`
	Schema      string       `json:"schema_version"`
	Checksum    string       `json:"checksum"`
	// PDF: the SHA-256 of the order's PDF the generation records (""
	// none or not recorded); PDFChange: it is another than before.
	PDF       string      `json:"pdf,omitempty"`
	PDFChange *changeJSON `json:"pdf_change,omitempty"`
}

type changeJSON struct {
	Column string `json:"column"`
	Old    string `json:"old"`
	New    string `json:"new"`
}

func (a *app) historyCmd() *cobra.Command {
	var auftrag string
	var changes changesFlags
	cmd := &cobra.Command{
		Use:   "history",
		Short: "die Generationen der Historie auflisten, mit --auftrag die Fassungen eines Auftrags",
		Long: `Listet jede Generation der Historie (<archiv>/_historie/), die ein Export angelegt
hat: Zeit (wie das Archiv sie vergeben hat), Datensätze und wie viele seit der
vorigen Generation geändert, neu oder entfernt sind. Mit --auftrag NR stattdessen
jede Fassung dieses Auftrags, mit den Feldern, die sich geändert haben (alt → neu).
Liest nur; restore --at stellt eine Generation wieder her. Mit --all-sites für jeden
Standort der Konfiguration nacheinander, jede Liste unter einer Zeile mit Standort und
Archiv, am Ende eine Zeile je Standort; der Exit-Code ist der des schlechtesten.

` + changesHelp + `

` + exitCodesHelp,
		Example: `  werkstatt-backup history --archiv ./test_archiv
  werkstatt-backup history --archiv ./test_archiv --auftrag 076329
  werkstatt-backup history --archiv ./test_archiv --changes
  werkstatt-backup history --archiv ./test_archiv --changes --since "2026-11-01 02:00" --json
  werkstatt-backup history --archiv ./test_archiv --changes --from 3 --to 5
  werkstatt-backup history --config .archiv_config.json --auftrag 076329 --json
  werkstatt-backup history --config .archiv_config.json --all-sites`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.started()
			byOrder := cmd.Flags().Changed("auftrag")
			nr := strings.TrimSpace(auftrag)
			if byOrder && nr == "" {
				return usageError{errors.New("--auftrag: Auftragsnummer fehlt (z. B. --auftrag 076329)")}
			}
			if err := changes.check(cmd); err != nil {
				return err
			}
			ld, err := config.Load(nil, a.configFile)
			if err != nil {
				return err
			}
			if a.allSites {
				return a.historyAllSites(cmd, ld, byOrder, nr, &changes)
			}
			s, err := a.openSite(cmd.Context(), ld, cmd, a.site, "history", false)
			if err != nil {
				return err
			}
			defer s.done()
			hs := history.Open(s.arch)
			if changes.on {
				return a.orderChanges(cmd.Context(), hs, s.loc.String(), &changes)
			}
			if byOrder {
				return a.orderHistory(cmd.Context(), hs, s.loc.String(), nr)
			}
			return a.generations(cmd.Context(), hs, s.loc.String())
		},
	}
	cmd.Flags().StringVar(&auftrag, "auftrag", "", "die Fassungen dieses Auftrags (`NR`, z. B. 076329) mit den geänderten Feldern")
	changes.register(cmd)
	cmd.AddCommand(a.historyRepairCmd())
	return cmd
}

func (a *app) historyRepairCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "repair",
		Short: "Historie aus den Versionen des Speichers wiederherstellen (S3 mit Versionierung/Object Lock)",
		Long: `Auf einem Speicher, der Versionen behält (S3 mit Versionierung oder Object Lock),
löscht oder überschreibt auch ein Angreifer mit dem Schlüssel der Sicherung keine
gesperrte Version: er legt nur eine neue Version oder eine Löschmarke darüber. history,
restore --at und verify lesen dann die neueste ältere Version, die sich beweist
(Prüfsumme, Name), und verify nennt jede solche Datei als ERROR. history repair macht
diese Versionen wieder aktuell (eine Kopie als neueste Version) und prüft die Historie
danach wie verify. Nimmt das Lock des Archivs.

` + exitCodesHelp,
		Example: `  werkstatt-backup history repair --config .archiv_config.json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runJob(cmd, "history-repair", func(ctx context.Context, e *backup.Engine) (*backup.Report, error) {
				return e.RepairHistory(ctx)
			})
		},
	}
}

// generations prints the list of generations. What could be read is
// printed even when a generation file is damaged; the damage is the error.
func (a *app) generations(ctx context.Context, hs *history.Store, archive string) error {
	out, err := listGenerations(ctx, hs)
	if a.jsonOut {
		a.emit(struct {
			Command     string           `json:"command"`
			Archive     string           `json:"archive"`
			Generations []generationJSON `json:"generations"`
		}{"history", archive, out})
	} else if !a.quiet {
		writeGenerations(a.stdout, "", archive, out)
	}
	return err
}

// listGenerations lists the generations that could be read, and the error
// (classified by historyFailure) if not all could.
func listGenerations(ctx context.Context, hs *history.Store) ([]generationJSON, error) {
	infos, err := hs.List(ctx)
	out := make([]generationJSON, 0, len(infos))
	for _, g := range infos {
		out = append(out, generationJSON{g.Seq, g.ArchiveTime, g.ClientTime, g.Records, g.Changed, g.Added, g.Removed, g.PDFChanged})
	}
	return out, historyFailure(err)
}

// writeGenerations prints gens as a table. prefix ("[nord] " with
// --all-sites) starts the first line, which then names the archive.
func writeGenerations(w io.Writer, prefix, archive string, gens []generationJSON) {
	if len(gens) == 0 {
		fmt.Fprintf(w, "%sArchiv %s: keine Generationen in der Historie (noch kein Export mit Historie)\n", prefix, archive)
		return
	}
	if prefix != "" {
		fmt.Fprintf(w, "%sArchiv %s:\n", prefix, archive)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Generation\tZeit\tDatensätze\tgeändert\tneu\tentfernt")
	for _, g := range gens {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\n", g.Generation, g.ArchiveTime.Local().Format(history.TimeLayout), g.Records, g.Changed, g.Added, g.Removed)
	}
	tw.Flush()
}

// orderHistory prints every version of the order nr with the fields that
// changed from the version before.
func (a *app) orderHistory(ctx context.Context, hs *history.Store, archive, nr string) error {
	out, err := orderVersions(ctx, hs, nr)
	if err != nil {
		return err
	}
	if a.jsonOut {
		a.emit(struct {
			Command   string        `json:"command"`
			Archive   string        `json:"archive"`
			AuftragNr string        `json:"auftrag_nr"`
			Versions  []versionJSON `json:"versions"`
		}{"history", archive, nr, out})
	} else if !a.quiet {
		writeVersions(a.stdout, "", archive, nr, out)
	}
	return nil
}

// orderVersions lists every version of the order nr with the fields that
// changed from the version before; an error is classified by
// historyFailure.
func orderVersions(ctx context.Context, hs *history.Store, nr string) ([]versionJSON, error) {
	versions, err := hs.Versions(ctx, history.Selector{AuftragNr: nr})
	if err != nil {
		return nil, historyFailure(err)
	}
	out := make([]versionJSON, 0, len(versions))
	last := map[int64][]byte{} // the previous content of each record
	for _, v := range versions {
		j := versionJSON{Generation: v.Info.Seq, ArchiveTime: v.Info.ArchiveTime, RecordID: v.Entry.RecordID,
			AuftragNr: v.Entry.AuftragNr, Folder: v.Entry.Folder, Schema: v.Entry.Schema, Checksum: v.Entry.Hash.String()}
		if !v.Entry.PDF.IsZero() && !v.Removed {
			j.PDF = v.Entry.PDF.String()
		}
		if v.PDFChanged && !v.Removed {
			j.PDFChange = &changeJSON{Column: "PDF", Old: v.PDFBefore.Short(), New: v.Entry.PDF.Short()}
		}
		prev, seen := last[v.Entry.RecordID]
		switch {
		case v.Removed:
			j.State = "entfernt"
			delete(last, v.Entry.RecordID)
		default:
			data, err := hs.ReadEntry(ctx, v.Entry)
			if err != nil {
				return nil, historyFailure(fmt.Errorf("Generation %d: %w", v.Info.Seq, err))
			}
			j.State = "neu"
			if seen {
				j.State = "geändert"
				fields, err := history.FieldChanges(prev, data)
				if err != nil {
					return nil, historyFailure(fmt.Errorf("Generation %d, record_id %d: %w", v.Info.Seq, v.Entry.RecordID, err))
				}
				for _, f := range fields {
					j.Changes = append(j.Changes, changeJSON(f))
				}
			}
			last[v.Entry.RecordID] = data
		}
		out = append(out, j)
	}
	return out, nil
}

// writeVersions prints the versions of order nr. prefix ("[nord] " with
// --all-sites) starts the first line, which then names the archive.
func writeVersions(w io.Writer, prefix, archive, nr string, versions []versionJSON) {
	if len(versions) == 0 {
		fmt.Fprintf(w, "%sArchiv %s: Auftrag %s kommt in keiner Generation der Historie vor\n", prefix, archive, nr)
		return
	}
	if prefix != "" {
		fmt.Fprintf(w, "%sArchiv %s, Auftrag %s:\n", prefix, archive, nr)
	}
	if stored := versions[0].AuftragNr; stored != nr {
		fmt.Fprintf(w, "Hinweis: Auftrag %s steht in der Tabelle als %s (führende Nullen)\n", nr, stored)
	}
	for _, v := range versions {
		fmt.Fprintf(w, "Generation %d, %s: record_id %d %s (%s)\n", v.Generation, v.ArchiveTime.Local().Format(time.DateTime), v.RecordID, v.State, v.Folder)
		for _, c := range v.Changes {
			fmt.Fprintf(w, "  %s: %q → %q\n", c.Column, c.Old, c.New)
		}
		if c := v.PDFChange; c != nil && v.PDF == "" {
			fmt.Fprintf(w, "  PDF nicht mehr gefunden (war %s)\n", c.Old)
		} else if c != nil {
			fmt.Fprintf(w, "  PDF ausgetauscht: %s → %s\n", c.Old, c.New)
		}
	}
}

// historyFailure classifies an error of reading the history by the rules
// for backups: what could not be read is exit 1, damage that was read
// (a file that fails its checksum, a missing content) exit 3.
func historyFailure(err error) error {
	if err == nil {
		return nil
	}
	var fe *history.FileError
	if errors.As(err, &fe) && fe.Op == "lesen" && !errors.Is(err, history.ErrContentMissing) && !isNotExist(err) {
		return fmt.Errorf("Historie nicht lesbar: %w", err)
	}
	if errors.As(err, &fe) || errors.Is(err, history.ErrContentMissing) {
		return fmt.Errorf("Historie beschädigt: %s: %w", err, backup.ErrValidation)
	}
	return err
}

func isNotExist(err error) bool { return errors.Is(err, iofs.ErrNotExist) }

// historySite is one site's entry in history --all-sites --json.
type historySite struct {
	siteStatus
	Archive     string           `json:"archive,omitempty"`
	Generations []generationJSON `json:"generations"`
}

// orderSite is one site's entry in history --all-sites --auftrag --json.
type orderSite struct {
	siteStatus
	Archive  string        `json:"archive,omitempty"`
	Versions []versionJSON `json:"versions"`
}

// historyAllSites is history (byOrder: --auftrag nr; changes.on:
// --changes) for every site of the
// configuration: each site's list under a line naming the site and its
// archive, then one line per site. A site whose archive cannot be opened
// or whose history cannot be read fails alone.
func (a *app) historyAllSites(cmd *cobra.Command, ld *config.Loader, byOrder bool, nr string, changes *changesFlags) error {
	sites, err := a.allSitesOf(cmd, ld)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	archives := make([]string, len(sites))
	gens := make([][]generationJSON, len(sites))
	versions := make([][]versionJSON, len(sites))
	diffs := make([]*changesJSON, len(sites))
	statuses, err := a.eachSite(ctx, sites, func(i int, site string) siteStatus {
		s, err := a.openSite(ctx, ld, cmd, site, "history", false)
		if err != nil {
			archives[i] = archiveOf(cmd, ld, site)
			return a.siteOutcome(site, err)
		}
		defer s.done()
		archives[i] = s.loc.String()
		hs := history.Open(s.arch)
		show := !a.jsonOut && !a.quiet
		prefix := "[" + site + "] "
		if changes.on {
			diffs[i], err = listChanges(ctx, hs, changes)
			if err == nil && show {
				writeChanges(a.stdout, prefix, archives[i], diffs[i])
			}
			st := a.siteOutcome(site, err)
			if err == nil {
				st.summary = diffs[i].summary()
			}
			return st
		}
		if byOrder {
			versions[i], err = orderVersions(ctx, hs, nr)
			if err == nil && show {
				writeVersions(a.stdout, prefix, archives[i], nr, versions[i])
			}
			st := a.siteOutcome(site, err)
			if err == nil {
				st.summary = versionsSummary(nr, versions[i])
			}
			return st
		}
		// What could be read is listed even when the history is damaged.
		gens[i], err = listGenerations(ctx, hs)
		if show {
			writeGenerations(a.stdout, prefix, archives[i], gens[i])
		}
		st := a.siteOutcome(site, err)
		if err == nil {
			st.summary = generationsSummary(gens[i])
		}
		return st
	})
	if !a.jsonOut {
		return err
	}
	for i, site := range sites {
		if archives[i] == "" { // skipped
			archives[i] = archiveOf(cmd, ld, site)
		}
	}
	if changes.on {
		out := make([]changesSite, len(sites))
		for i := range out {
			out[i] = changesSite{statuses[i], archives[i], diffs[i]}
		}
		a.emit(struct {
			Command string        `json:"command"`
			Sites   []changesSite `json:"sites"`
		}{"history", out})
		return err
	}
	if byOrder {
		out := make([]orderSite, len(sites))
		for i := range out {
			out[i] = orderSite{statuses[i], archives[i], versions[i]}
			if out[i].Versions == nil {
				out[i].Versions = []versionJSON{}
			}
		}
		a.emit(struct {
			Command   string      `json:"command"`
			AuftragNr string      `json:"auftrag_nr"`
			Sites     []orderSite `json:"sites"`
		}{"history", nr, out})
		return err
	}
	out := make([]historySite, len(sites))
	for i := range out {
		out[i] = historySite{statuses[i], archives[i], gens[i]}
		if out[i].Generations == nil {
			out[i].Generations = []generationJSON{}
		}
	}
	a.emit(struct {
		Command string        `json:"command"`
		Sites   []historySite `json:"sites"`
	}{"history", out})
	return err
}

// generationsSummary is a site's line for its generations: "3 Generationen,
// die neueste vom 2026-11-30 02:00:00".
func generationsSummary(gens []generationJSON) string {
	switch n := len(gens); n {
	case 0:
		return "keine Generationen in der Historie"
	case 1:
		return "1 Generation, vom " + gens[0].ArchiveTime.Local().Format(time.DateTime)
	default:
		return fmt.Sprintf("%d Generationen, die neueste vom %s", n, gens[n-1].ArchiveTime.Local().Format(time.DateTime))
	}
}

// versionsSummary is a site's line for the versions of order nr.
func versionsSummary(nr string, versions []versionJSON) string {
	switch n := len(versions); n {
	case 0:
		return "Auftrag " + nr + " kommt in keiner Generation der Historie vor"
	case 1:
		return fmt.Sprintf("Auftrag %s: 1 Fassung, in Generation %d", nr, versions[0].Generation)
	default:
		return fmt.Sprintf("Auftrag %s: %d Fassungen, die neueste in Generation %d", nr, n, versions[n-1].Generation)
	}
}

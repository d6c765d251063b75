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
}

// versionJSON is one version of an order as history --auftrag lists it.
type versionJSON struct {
	Generation  uint64       `json:"generation"`
	ArchiveTime time.Time    `json:"archive_time"`
	RecordID    int64        `json:"record_id"`
	Folder      string       `json:"folder"`
	State       string       `json:"state"` // neu, geändert, entfernt
	Changes     []changeJSON `json:"changes,omitempty"`
	Schema      string       `json:"schema_version"`
	Checksum    string       `json:"checksum"`
}

type changeJSON struct {
	Column string `json:"column"`
	Old    string `json:"old"`
	New    string `json:"new"`
}

func (a *app) historyCmd() *cobra.Command {
	var auftrag string
	cmd := &cobra.Command{
		Use:   "history",
		Short: "die Generationen der Historie auflisten, mit --auftrag die Fassungen eines Auftrags",
		Long: `Listet jede Generation der Historie (<archiv>/_historie/), die ein Export angelegt
hat: Zeit (wie das Archiv sie vergeben hat), Datensätze und wie viele seit der
vorigen Generation geändert, neu oder entfernt sind. Mit --auftrag NR stattdessen
jede Fassung dieses Auftrags, mit den Feldern, die sich geändert haben (alt → neu).
Liest nur; restore --at stellt eine Generation wieder her.

` + exitCodesHelp,
		Example: `  werkstatt-backup history --archiv ./test_archiv
  werkstatt-backup history --archiv ./test_archiv --auftrag 076329
  werkstatt-backup history --config .archiv_config.json --auftrag 076329 --json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.started()
			ld, err := config.Load(nil, a.configFile)
			if err != nil {
				return err
			}
			s, err := a.openSite(cmd.Context(), ld, cmd, a.site, "history", false)
			if err != nil {
				return err
			}
			defer s.done()
			hs := history.Open(s.arch.Fs, history.WithCaps(s.arch.Caps))
			if cmd.Flags().Changed("auftrag") {
				return a.orderHistory(cmd.Context(), hs, s.loc.String(), strings.TrimSpace(auftrag))
			}
			return a.generations(cmd.Context(), hs, s.loc.String())
		},
	}
	cmd.Flags().StringVar(&auftrag, "auftrag", "", "die Fassungen dieses Auftrags (`Auftragsnummer`, z. B. 076329) mit den geänderten Feldern")
	return cmd
}

// generations prints the list of generations. What could be read is
// printed even when a generation file is damaged; the damage is the error.
func (a *app) generations(ctx context.Context, hs *history.Store, archive string) error {
	infos, err := hs.List(ctx)
	out := make([]generationJSON, 0, len(infos))
	for _, g := range infos {
		out = append(out, generationJSON{g.Seq, g.ArchiveTime, g.ClientTime, g.Records, g.Changed, g.Added, g.Removed})
	}
	if a.jsonOut {
		a.emit(struct {
			Command     string           `json:"command"`
			Archive     string           `json:"archive"`
			Generations []generationJSON `json:"generations"`
		}{"history", archive, out})
	} else if !a.quiet {
		writeGenerations(a.stdout, archive, out)
	}
	return historyFailure(err)
}

func writeGenerations(w io.Writer, archive string, gens []generationJSON) {
	if len(gens) == 0 {
		fmt.Fprintf(w, "Archiv %s: keine Generationen in der Historie (noch kein Export mit Historie)\n", archive)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Generation\tZeit\tDatensätze\tgeändert\tneu\tentfernt")
	for _, g := range gens {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\n", g.Generation, g.ArchiveTime.Local().Format(time.DateTime), g.Records, g.Changed, g.Added, g.Removed)
	}
	tw.Flush()
}

// orderHistory prints every version of the order nr with the fields that
// changed from the version before.
func (a *app) orderHistory(ctx context.Context, hs *history.Store, archive, nr string) error {
	if nr == "" {
		return usageError{errors.New("--auftrag: Auftragsnummer fehlt (z. B. --auftrag 076329)")}
	}
	versions, err := hs.Versions(ctx, history.Selector{AuftragNr: nr})
	if err != nil {
		return historyFailure(err)
	}
	out := make([]versionJSON, 0, len(versions))
	last := map[int64][]byte{} // the previous content of each record
	for _, v := range versions {
		j := versionJSON{Generation: v.Info.Seq, ArchiveTime: v.Info.ArchiveTime, RecordID: v.Entry.RecordID,
			Folder: v.Entry.Folder, Schema: v.Entry.Schema, Checksum: v.Entry.Hash.String()}
		prev, seen := last[v.Entry.RecordID]
		switch {
		case v.Removed:
			j.State = "entfernt"
			delete(last, v.Entry.RecordID)
		default:
			data, err := hs.ReadEntry(ctx, v.Entry)
			if err != nil {
				return historyFailure(fmt.Errorf("Generation %d: %w", v.Info.Seq, err))
			}
			j.State = "neu"
			if seen {
				j.State = "geändert"
				fields, err := history.FieldChanges(prev, data)
				if err != nil {
					return historyFailure(fmt.Errorf("Generation %d, record_id %d: %w", v.Info.Seq, v.Entry.RecordID, err))
				}
				for _, f := range fields {
					j.Changes = append(j.Changes, changeJSON(f))
				}
			}
			last[v.Entry.RecordID] = data
		}
		out = append(out, j)
	}
	if a.jsonOut {
		a.emit(struct {
			Command   string        `json:"command"`
			Archive   string        `json:"archive"`
			AuftragNr string        `json:"auftrag_nr"`
			Versions  []versionJSON `json:"versions"`
		}{"history", archive, nr, out})
	} else if !a.quiet {
		writeVersions(a.stdout, archive, nr, out)
	}
	return nil
}

func writeVersions(w io.Writer, archive, nr string, versions []versionJSON) {
	if len(versions) == 0 {
		fmt.Fprintf(w, "Archiv %s: Auftrag %s kommt in keiner Generation der Historie vor\n", archive, nr)
		return
	}
	for _, v := range versions {
		fmt.Fprintf(w, "Generation %d, %s: record_id %d %s (%s)\n", v.Generation, v.ArchiveTime.Local().Format(time.DateTime), v.RecordID, v.State, v.Folder)
		for _, c := range v.Changes {
			fmt.Fprintf(w, "  %s: %q → %q\n", c.Column, c.Old, c.New)
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

package backup

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"path"
	"strings"

	"werkstatt-backup/codec"
	"werkstatt-backup/history"
)

// historySource reads the rows of the history's generation opts.Generation,
// or its last generation at or before opts.At: restore --at's rows. It
// names the generation it took (number, archive time to the millisecond,
// record count) in the log, the report (summary line, --json). Every content is checked against its
// SHA-256 (history does that as it reads) and decoded by its schema
// version and migrated like a backup from an order folder. Any damage
// aborts: a point-in-time restore is all of that generation or nothing.
func (e *Engine) historySource(ctx context.Context, r *Report, opts RestoreOptions) ([]candidate, error) {
	hs := e.openHistory(nil)
	var (
		snap *history.Snapshot
		err  error
	)
	if opts.Generation != 0 {
		snap, err = hs.Load(ctx, opts.Generation)
	} else {
		snap, err = hs.At(ctx, opts.At)
	}
	if err != nil {
		return nil, e.historyError(r, "Datenbank unverändert", err)
	}
	r.Generation, r.GenerationTime, r.Records = snap.Info.Seq, snap.Info.ArchiveTime, len(snap.Entries)
	e.Log.Info(fmt.Sprintf("Historie: Generation %d vom %s (Zeit des Archivs) mit %d Datensätzen", snap.Info.Seq,
		snap.Info.ArchiveTime.Local().Format(history.TimeLayout), len(snap.Entries)))
	if len(snap.Entries) == 0 {
		return nil, fmt.Errorf("Datenbank unverändert: Generation %d der Historie enthält keinen Datensatz: %w", snap.Info.Seq, ErrNoBackup)
	}
	chosen := make([]candidate, len(snap.Entries))
	cur := e.Schema.Codecs.Current()
	done := 0
	exportedAt := history.Entry{}.Meta(snap.Info).ExportedAt // one string for all: the generation's
	err = hs.Contents(ctx, snap.Entries, func(en history.Entry, data []byte) error {
		e.step(PhaseRead, done+1, len(snap.Entries))
		done++
		i, ok := entryIndex(snap.Entries, en.RecordID)
		if !ok {
			return fmt.Errorf("record_id %d fehlt in Generation %d", en.RecordID, snap.Info.Seq)
		}
		c, err := e.Schema.Codecs.Lookup(en.Schema)
		if err != nil {
			return e.invalidEntry(r, en, snap.Info.Seq, err)
		}
		rows, ids, warns, err := e.decodeRows(c, data)
		switch {
		case err != nil:
			return e.invalidEntry(r, en, snap.Info.Seq, err)
		case len(rows) != 1:
			return e.invalidEntry(r, en, snap.Info.Seq, fmt.Errorf("%d Datenzeilen statt einer", len(rows)))
		case ids[0].RecordID != en.RecordID || ids[0].AuftragNr != en.AuftragNr:
			return e.invalidEntry(r, en, snap.Info.Seq, fmt.Errorf("Inhalt gehört zu record_id %d/auftrag_nr %s", ids[0].RecordID, ids[0].AuftragNr))
		}
		for _, w := range warns {
			r.warnf(path.Join(en.Folder, DataFile), en.RecordID, "Generation %d: %s", snap.Info.Seq, w)
		}
		p, _ := packRow(rows[0]) // decodeRows refuses a row with a NUL byte
		// meta.json as export wrote it, but without the checksum: as of a
		// loaded backup (scanArchive), nothing reads it any more, and its
		// hex string was some 100 bytes an order.
		m := codec.Meta{SchemaVersion: en.Schema, ExportedAt: exportedAt, AuftragNr: en.AuftragNr, RecordID: en.RecordID, FileSize: en.Size}
		b := &backupFile{dir: en.Folder, dataName: DataFile, metaName: MetaFile, meta: m, rows: []packedRow{p}, valid: true}
		// The identity is read from the packed row when asked: taken from
		// the decoded row its fields would keep the whole parsed data.csv
		// alive (about 450 bytes an order).
		chosen[i] = newCandidate(cur, b, 0)
		chosen[i].pdf = en.PDF
		return nil
	})
	if err != nil {
		return nil, e.historyError(r, "Datenbank unverändert", err)
	}
	for _, a := range hs.Attacked() {
		r.warnf(a.Path, 0, "Historie: %s; gelesen aus dieser Version (history repair macht sie wieder aktuell)", a)
	}
	r.OK = len(chosen)
	return chosen, nil
}

func entryIndex(entries []history.Entry, id int64) (int, bool) {
	lo, hi := 0, len(entries)
	for lo < hi {
		m := (lo + hi) / 2
		if entries[m].RecordID < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(entries) && entries[lo].RecordID == id
}

// invalidContent marks a content of the history that was read but is not
// a valid backup (exit 3).
type invalidContent struct{ err error }

func (e invalidContent) Error() string { return e.err.Error() }
func (e invalidContent) Unwrap() error { return e.err }

func (e *Engine) invalidEntry(r *Report, en history.Entry, seq uint64, err error) error {
	return invalidContent{fmt.Errorf("%s (record_id %d, Auftrag %s) in Generation %d: %w", path.Join(HistoryDir, en.Folder, DataFile), en.RecordID, en.AuftragNr, seq, err)}
}

// historyError reports a failure to read the history and classifies it
// by the rules for backups: what could not be read is an UnreadableError
// (exit 1), damage that was read is invalid (exit 3), a missing
// generation is an error (exit 1).
func (e *Engine) historyError(r *Report, op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var fe *history.FileError
	var bad invalidContent
	switch {
	case errors.As(err, &bad):
		r.errorf("", 0, "Historie: %s", bad.err)
		return fmt.Errorf("%s: %s: %w", op, bad.err, ErrValidation)
	case errors.As(err, &fe) && fe.Op == "lesen" && !errors.Is(err, history.ErrContentMissing) && !errors.Is(err, iofs.ErrNotExist):
		r.unreadablef(fe.Path, 0, "%s", reason(fe.Err))
		return r.unreadableErr(op)
	case errors.As(err, &fe):
		r.errorf(fe.Path, 0, "%s", reason(fe.Err))
		return fmt.Errorf("%s: Historie beschädigt: %s: %w", op, err, ErrValidation)
	}
	r.errorf(HistoryDir, 0, "%s", reason(err))
	return fmt.Errorf("%s: %w", op, err)
}

// checkHistory is verify's check of the history: every generation whole,
// every content it refers to present and matching its SHA-256. Damage
// that makes generations unrestorable is an ERROR naming them (exit 3),
// a file that could not be read is unreadable (exit 1), a leftover of an
// interrupted run a WARNING.
func (e *Engine) checkHistory(ctx context.Context, r *Report) error {
	return e.historyChecked(ctx, r, e.checkHistoryFirst(ctx))
}

// historyCheck is the history's check done but not yet reported.
type historyCheck struct {
	hs     *history.Store
	damage []history.Damage
	err    error
}

// checkHistoryFirst checks the history without reporting anything yet:
// verify does it before it reads the archive and reports it after, as
// before, so that the check's records and the archive's backups are not
// in memory at the same time.
func (e *Engine) checkHistoryFirst(ctx context.Context) historyCheck {
	hs := e.openHistory(nil)
	damage, err := hs.Check(ctx)
	return historyCheck{hs: hs, damage: damage, err: err}
}

// historyChecked reports a check of checkHistoryFirst and then checks
// the history's Object Lock.
func (e *Engine) historyChecked(ctx context.Context, r *Report, c historyCheck) error {
	hs, damage, err := c.hs, c.damage, c.err
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.unreadablef(HistoryDir, 0, "Historie nicht lesbar: %s", reason(err))
		return nil
	}
	for _, d := range damage {
		msg := "Historie: " + d.Reason
		if len(d.Gens) > 0 {
			msg = fmt.Sprintf("Historie: %s; nicht wiederherstellbar: Generation %s", d.Reason, seqs(d.Gens))
		}
		switch {
		case d.Attacked:
			r.errorf(d.Path, 0, "Historie angegriffen oder beschädigt: %s; eine ältere Version beweist sich und wird gelesen. Wieder aktuell machen mit: werkstatt-backup history repair", d.Reason)
		case d.Unreadable:
			r.unreadablef(d.Path, 0, "%s", msg)
		case len(d.Gens) > 0:
			r.errorf(d.Path, 0, "%s", msg)
		default:
			r.warnf(d.Path, 0, "%s", msg)
		}
	}
	return e.checkHistoryLock(ctx, r, hs)
}

// seqs lists generation numbers, the first ten and how many more.
func seqs(gens []uint64) string {
	var b strings.Builder
	for i, g := range gens {
		if i == 10 {
			fmt.Fprintf(&b, " und %d weitere", len(gens)-10)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", g)
	}
	return b.String()
}

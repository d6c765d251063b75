package backup

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	iofs "io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"werkstatt-backup/codec"
	"werkstatt-backup/history"
)

// DefaultMassChangeWindow is how far back the mass-change guard also
// compares: with the generation a week before the newest.
const DefaultMassChangeWindow = 7 * 24 * time.Hour

// DefaultMassChange is the share of backups one export may change or
// remove without --allow-mass-change (config key mass_change).
const DefaultMassChange = 0.25

// ErrMassChange marks an export refused by the mass-change guard (exit 3).
var ErrMassChange = fmt.Errorf("Massenänderung: %w", ErrValidation)

// massChangeGuard refuses an export that would change or remove more than
// Engine.MassChange of all backups, before anything is written. It compares
// the rows with the newest history generation; an archive without a
// history (or whose newest generation cannot be read) is compared with its
// per-order backups: a backup there counts as changed when its meta.json
// describes other content, and nothing counts as removed, since export
// without a history never removes a backup. An empty archive has nothing
// to change. It returns the newest generation (nil: none or unreadable),
// which the history entry of a row that cannot be stored is taken from.
//
// With a history it also returns the records the run would commit if every
// write succeeds (planRecords), so that they are computed once.
func (e *Engine) massChangeGuard(ctx context.Context, r *Report, hs *history.Store, cur codec.Codec, items []exportItem, seen *idSet, opts ExportOptions) (*history.Snapshot, *heldRecords, error) {
	check := e.MassChange > 0 && !opts.AllowMassChange
	if !historyOn || !check && seen.len() == len(items) {
		return nil, nil, nil // nothing needs the newest generation before the commit
	}
	prev, err := hs.Head(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		r.warnf(HistoryDir, 0, "letzte Generation der Historie nicht lesbar: %s", reason(err))
		prev = nil
	}
	if !check {
		return prev, nil, nil
	}
	var m history.MassChange
	var plan *heldRecords
	if prev != nil {
		plan = e.planRecords(ctx, cur, items, seen, nil, prev, newFolderIndex(e.Arch))
		m = history.CompareTo(prev, plan.records)
	} else {
		m = e.compareWithBackups(ctx, cur, items)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	against := ""
	if !m.Exceeds(e.MassChange) && prev != nil {
		if m, against, err = e.comparedWithWindow(ctx, hs, prev, plan); err != nil {
			return nil, nil, err
		}
	}
	if m.Exceeds(e.MassChange) {
		share, limit := percents(m.Share(), e.MassChange)
		return nil, nil, fmt.Errorf("%d von %d Sicherungen würden geändert (%d) oder entfernt (%d)%s, das sind %s (Grenze %s, Schlüssel mass_change); nichts geschrieben. Ist das gewollt, bestätigen mit: export --allow-mass-change: %w",
			m.Changed+m.Removed, m.Total, m.Changed, m.Removed, against, share, limit, ErrMassChange)
	}
	return prev, plan, nil
}

// comparedWithWindow is the mass change against the generation
// MassChangeWindow before the newest (or the oldest, in a younger
// history; none: zero), and how the message names that generation.
func (e *Engine) comparedWithWindow(ctx context.Context, hs *history.Store, prev *history.Snapshot, plan *heldRecords) (history.MassChange, string, error) {
	window := e.MassChangeWindow
	if window == 0 {
		window = DefaultMassChangeWindow
	}
	if window < 0 || plan == nil {
		return history.MassChange{}, "", nil
	}
	old, err := hs.At(ctx, prev.Info.ArchiveTime.Add(-window))
	if errors.Is(err, history.ErrNotFound) {
		// The history is younger than the window: its oldest generation.
		if gens, lerr := hs.List(ctx); lerr == nil && len(gens) > 0 {
			old, err = hs.Load(ctx, gens[0].Seq)
		}
	}
	switch {
	case ctx.Err() != nil:
		return history.MassChange{}, "", ctx.Err()
	case err != nil || old.Info.Seq == prev.Info.Seq:
		return history.MassChange{}, "", nil // no generation that old, or it is the newest
	}
	return history.CompareTo(old, plan.records), fmt.Sprintf(" gegenüber Generation %d vom %s (%s vor der neuesten, Schlüssel mass_change_window)",
		old.Info.Seq, old.Info.ArchiveTime.Local().Format(history.TimeLayout), days(window)), nil
}

// percents renders a share and its limit as whole percents, or with one
// decimal (German comma) where whole ones would read alike though they
// differ: 251 of 1000 is "25,1 %", not "25 %" beside "Grenze 25 %".
func percents(share, limit float64) (string, string) {
	whole := func(v float64) string { return strconv.FormatFloat(100*v, 'f', 0, 64) }
	if whole(share) != whole(limit) || share == limit {
		return whole(share) + " %", whole(limit) + " %"
	}
	one := func(v float64) string {
		return strings.Replace(strconv.FormatFloat(100*v, 'f', 1, 64), ".", ",", 1) + " %"
	}
	return one(share), one(limit)
}

// compareWithBackups counts, for an archive without a history, how many
// of the rows' existing backups this export would change.
func (e *Engine) compareWithBackups(ctx context.Context, cur codec.Codec, items []exportItem) history.MassChange {
	exists := make([]bool, len(items))
	changed := make([]bool, len(items))
	forEach(ctx, len(items), e.Workers, nil, func(i int) {
		it := items[i]
		raw, err := e.readLimited(ctx, path.Join(it.folder, MetaFile), codec.MaxMetaSize)
		if errors.Is(err, iofs.ErrNotExist) {
			return
		}
		exists[i] = true
		if err != nil {
			return // unreadable: export will say so; not counted as a change
		}
		sum := it.sum
		m, err := codec.DecodeMeta(raw)
		changed[i] = err != nil || m.Checksum != hex.EncodeToString(sum[:]) || m.SchemaVersion != cur.Version()
	})
	var m history.MassChange
	for i := range items {
		switch {
		case !exists[i]:
			m.Added++
		case changed[i]:
			m.Total++
			m.Changed++
		default:
			m.Total++
		}
	}
	return m
}

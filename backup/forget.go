package backup

import (
	"context"
	"fmt"
	"strings"
	"time"

	"werkstatt-backup/history"
)

// ForgetOptions are the flags of the forget command.
type ForgetOptions struct {
	Policy history.Retention // zero: Engine.Retention
	DryRun bool              // list what would go, change nothing
}

// ForgetSummary is what forget decided: the generations kept and removed
// (or, dry run, to be removed) and the pack files no longer needed.
type ForgetSummary struct {
	Policy       string          `json:"policy"`
	Kept         []ForgetVerdict `json:"kept"`
	Removed      []ForgetVerdict `json:"removed"`
	PacksRemoved []string        `json:"packs_removed,omitempty"`
	Repacked     []string        `json:"packs_repacked,omitempty"`
	// Retained are the history files forget left because the store's
	// Object Lock still retains them (or a retained generation needs them).
	Retained []string `json:"retained,omitempty"`
	// PDFsRemoved are the PDF copies (_pdfs/) no kept generation and not
	// the current index needs, deleted (or, dry run, to be deleted);
	// PDFsRetained those left because Object Lock still retains them.
	PDFsRemoved  []string `json:"pdfs_removed,omitempty"`
	PDFsRetained []string `json:"pdfs_retained,omitempty"`
}

// ForgetVerdict is one generation and why it is kept.
type ForgetVerdict struct {
	Generation  uint64    `json:"generation"`
	ArchiveTime time.Time `json:"archive_time"`
	Reasons     []string  `json:"reasons,omitempty"`
}

// Forget removes the generations of the history that opts.Policy does not
// keep, then the contents no remaining generation refers to, under the
// archive lock. A damaged history is left unchanged (verify names the
// damage).
func (e *Engine) Forget(ctx context.Context, opts ForgetOptions) (_ *Report, err error) {
	e.init()
	r := e.newReport("forget")
	r.DryRun = opts.DryRun
	if opts.Policy == (history.Retention{}) {
		opts.Policy = e.Retention
	}
	if opts.Policy == (history.Retention{}) {
		opts.Policy = history.DefaultRetention
	}
	e.Log.Info(fmt.Sprintf("Starte forget (%s)...", opts.Policy))
	lock, err := e.lock(ctx, "forget")
	if err != nil {
		return r, err
	}
	defer e.unlock(lock, r, &err)
	hs := e.openHistory(lock)
	res, err := hs.Forget(ctx, opts.Policy, opts.DryRun)
	sum := &ForgetSummary{Policy: opts.Policy.String(), PacksRemoved: res.PacksRemoved, Repacked: res.PacksRepacked, Retained: res.Retained}
	kept := map[uint64]bool{}
	for _, d := range res.Decisions {
		v := ForgetVerdict{Generation: d.Info.Seq, ArchiveTime: d.Info.ArchiveTime, Reasons: d.Reasons}
		if d.Keep {
			kept[d.Info.Seq] = true
			sum.Kept = append(sum.Kept, v)
		} else {
			sum.Removed = append(sum.Removed, v)
		}
	}
	r.Forget, r.Records = sum, len(res.Decisions)
	if err != nil {
		return r, e.historyError(r, "forget", err)
	}
	if !opts.DryRun {
		kept = nil // the history holds only what it keeps
	}
	if err := e.forgetPDFs(ctx, r, hs, sum, kept, opts.DryRun); err != nil {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		return r, e.historyError(r, "forget (PDF-Kopien)", err)
	}
	verb := "entfernt"
	if opts.DryRun {
		verb = "würde entfernt"
	}
	for _, v := range sum.Removed {
		e.Log.Info(fmt.Sprintf("Generation %d vom %s %s", v.Generation, v.ArchiveTime.Local().Format(time.DateTime), verb))
	}
	for _, p := range sum.PacksRemoved {
		e.Log.Info("Nicht mehr benötigte Inhalte entfernt: " + p)
	}
	if n := len(sum.PDFsRemoved); n > 0 {
		e.Log.Info(fmt.Sprintf("PDF-Kopien, die keine behaltene Generation braucht, %s: %d (%s)", verb, n, FirstNames(sum.PDFsRemoved, 5)))
	}
	if n := len(sum.PDFsRetained); n > 0 {
		e.Log.Info(fmt.Sprintf("Object Lock: %d nicht mehr benötigte PDF-Kopien noch gesperrt, bleiben bis zum nächsten forget nach Ablauf der Sperre: %s", n, FirstNames(sum.PDFsRetained, 5)))
	}
	if n := len(sum.Retained); n > 0 {
		e.Log.Info(fmt.Sprintf("Object Lock: %d Dateien der Historie noch gesperrt, bleiben bis zum nächsten forget nach Ablauf der Sperre: %s", n, FirstNames(sum.Retained, 5)))
	}
	r.OK = len(sum.Kept)
	e.finish(r)
	return r, nil
}

// FirstNames lists the first n names and how many more there are.
func FirstNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s und %d weitere", strings.Join(names[:n], ", "), len(names)-n)
}

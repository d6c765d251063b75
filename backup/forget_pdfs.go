package backup

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"slices"
	"strings"
	"time"

	"werkstatt-backup/history"
	"werkstatt-backup/pdf"
)

// forgetPDFs frees the PDF copies (pdf.ObjectName) that no remaining
// generation of the history records and the index of the current copies
// (pdf.IndexFile) does not name: after forget removed the generations
// that needed them, nothing restores them any more. While a remaining
// generation does not record its PDFs (written before format 3, or by an
// export that could not look at every PDF) nothing is freed: which copies
// it needs is not known. kept (dry run) names the generations forget
// keeps; nil: every one there. On a store with Object Lock a copy still
// retained cannot be deleted: it is left and named (sum.PDFsRetained),
// and a later forget frees it. With dryRun it only lists.
func (e *Engine) forgetPDFs(ctx context.Context, r *Report, hs *history.Store, sum *ForgetSummary, kept map[uint64]bool, dryRun bool) error {
	have, err := e.storedPDFs(ctx)
	if err != nil {
		return fmt.Errorf("PDF-Kopien im Archiv auflisten: %w", err)
	}
	if len(have) == 0 {
		return nil
	}
	use, err := hs.PDFsInUse(ctx, kept)
	if err != nil {
		return err
	}
	if len(use.Unknown) > 0 {
		e.Log.Info(fmt.Sprintf("PDF-Kopien: keine freigegeben, %d Generationen der Historie verzeichnen ihre PDFs nicht (geschrieben vor Format 3 oder ohne alle PDFs): %s; frei werden Kopien, sobald forget diese Generationen entfernt hat",
			len(use.Unknown), firstSeqs(use.Unknown, 5)))
		return nil
	}
	idx, _, err := pdf.LoadIndex(ctx, e.Arch)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.warnf(pdf.IndexFile, 0, "Verzeichnis der PDF-Kopien nicht lesbar, keine PDF-Kopie freigegeben: %s", reason(err))
		return nil
	}
	for _, en := range idx.Entries {
		delete(have, pdf.ObjectName(en.SHA256))
	}
	var free []string
	for name := range have {
		sha := strings.TrimSuffix(name[strings.LastIndexByte(name, '/')+1:], ".pdf")
		h, err := history.ParseHash(sha)
		if err == nil && !use.InUse[h] {
			free = append(free, name)
		}
	}
	slices.Sort(free)
	for _, name := range free {
		if err := ctx.Err(); err != nil {
			return err
		}
		if dryRun {
			sum.PDFsRemoved = append(sum.PDFsRemoved, name)
			continue
		}
		if e.Arch.Retains() {
			// A delete of a retained version succeeds on S3 but only hides
			// it: ask first, with a margin for the difference of the clocks.
			until, err := e.Arch.RetainedUntil(ctx, name)
			if err != nil && !errors.Is(err, iofs.ErrNotExist) {
				r.unreadablef(name, 0, "Sperre der PDF-Kopie nicht lesbar, bleibt: %s", reason(err))
				continue
			}
			if until.After(e.Now().Add(-retainMargin)) {
				sum.PDFsRetained = append(sum.PDFsRetained, name)
				e.Log.Debug(fmt.Sprintf("PDF-Kopie %s wird nicht mehr gebraucht, ist aber gesperrt (Object Lock) bis %s", name, until.Local().Format(time.DateTime)))
				continue
			}
		}
		if err := e.fenced(); err != nil {
			return err
		}
		err := e.Arch.RemoveFile(ctx, name)
		switch {
		case err == nil || errors.Is(err, iofs.ErrNotExist):
			sum.PDFsRemoved = append(sum.PDFsRemoved, name)
		case e.Arch.Retains() && errors.Is(err, iofs.ErrPermission):
			sum.PDFsRetained = append(sum.PDFsRetained, name)
		default:
			r.errorf(name, 0, "nicht mehr benötigte PDF-Kopie nicht gelöscht: %s", reason(err))
		}
	}
	return nil
}

// retainMargin: a copy whose retention ended less than this long ago (by
// the client's clock) is taken as still retained.
const retainMargin = time.Hour

// firstSeqs lists the first n generation numbers and how many more.
func firstSeqs(seqs []uint64, n int) string {
	names := make([]string, len(seqs))
	for i, s := range seqs {
		names[i] = fmt.Sprint(s)
	}
	return FirstNames(names, n)
}

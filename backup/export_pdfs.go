package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"

	"werkstatt-backup/pdf"
	"werkstatt-backup/storage"
)

// ErrPDFGuard marks an export whose PDFs were not stored because too many
// of them did not match their hash (the ransomware guard; exit 3).
var ErrPDFGuard = fmt.Errorf("PDF-Schutz: %w", ErrValidation)

// copyPDFs stores the orders' PDFs in the archive when they live elsewhere
// (Engine.PDFs; the seed's layout, PDFs in the archive itself, has nothing
// to copy). Each distinct content is stored once as pdf.ObjectName(its
// SHA-256), and pdf.IndexFile records each order's tree position, size,
// modification time, row hash and content.
//
// A PDF whose tree position, size, modification time and row hash are as
// the index recorded, and whose copy is there, is unchanged and not read.
// Every other PDF is read once: streamed through its hashes into a temp
// file below pdf.TempDir. Only when all are read are the good ones moved to
// their names (a content already stored is not written again); a PDF that
// does not match its row's hash is never stored (a WARNING naming it, exit
// 3), and the order keeps the copy the index had. When more than
// Engine.MassChange of the run's PDFs do not match (ransomware encrypting
// the NAS), none is stored (exit 3) unless --allow-mass-change.
func (e *Engine) copyPDFs(ctx context.Context, r *Report, items []exportItem, opts ExportOptions) error {
	if e.PDFs == nil {
		return nil
	}
	cols, ok := e.pdfColumns()
	if !ok {
		return nil
	}
	sum := &PDFSummary{}
	r.PDFs = sum
	// The index is read as a stream beside the rows in record_id order,
	// and the new one written as a stream (nothing when it is the same).
	u := pdf.NewUpdate(ctx, e.Arch, pdf.IndexFile, pdf.IndexTemp, true)
	defer u.Close()
	have, err := e.storedPDFs(ctx)
	if err != nil {
		return fmt.Errorf("PDF-Kopien im Archiv auflisten: %w", err)
	}
	if !opts.DryRun {
		e.removePDFTemps(ctx, r)
	}

	type job struct {
		o        pdf.Order
		position string
		old      *pdf.Entry // the index's entry
		prev     *pdf.Entry // the entry that stands: old, or the new copy's
		keep     bool       // unchanged: the recorded entry stands
		res      pdf.Result
		temp     string // staged copy, "" = none
	}
	var jobs []*job
	cur := e.Schema.Codecs.Current()
	for _, i := range byRecordID(items) {
		it := items[i]
		prev, had := u.Prev(it.id.RecordID)
		o, position, ok := rowPDF(r, cur, cols, it, "geprüft")
		if !ok {
			if had && !opts.DryRun {
				u.Put(&prev, nil) // a row that no longer names a PDF
			}
			continue
		}
		j := &job{o: o, position: position}
		if had {
			j.old, j.prev = &prev, &prev
		}
		jobs = append(jobs, j)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := u.ReadErr(); err != nil {
		r.warnf(pdf.IndexFile, 0, "Verzeichnis der PDF-Kopien nicht lesbar, alle PDFs ohne gültigen Eintrag werden neu gelesen: %s", reason(err))
	}
	ck := &pdf.Checker{Tree: e.PDFs, Root: e.PDFRoot, Workers: e.Workers}

	// Look at every PDF without reading it.
	var toRead []*job
	var mu sync.Mutex
	forEach(ctx, len(jobs), e.Workers, e.phase(PhaseList), func(i int) {
		j := jobs[i]
		p, fi, err := ck.Locate(ctx, j.o)
		if err != nil {
			j.res = notLocated(j.o, p, err)
			return
		}
		if !opts.Full && sameAsRecorded(j.prev, j.o, p, fi) && have[pdf.ObjectName(j.prev.SHA256)] {
			// Unchanged: the row's path and hash are no longer needed
			// (the recorded entry stands), and not kept for every order.
			j.keep, j.o.FilePath, j.o.Hash = true, "", ""
			return
		}
		mu.Lock()
		toRead = append(toRead, j)
		mu.Unlock()
	})
	if err := ctx.Err(); err != nil {
		return err
	}

	// Read the new and changed ones, staging what is to be stored. On an
	// object store a rename is a copy and a delete (every PDF stored
	// twice): there nothing is staged, and the good ones are read again
	// once the guard has passed and each is written whole to its name
	// (writePDFsWhole).
	direct := !e.Arch.Caps.AtomicRename && e.Arch.Caps.AtomicWrite && !opts.Full
	fsys := e.Arch.FS(ctx)
	if !opts.DryRun && !direct && len(toRead) > 0 && !e.Arch.Caps.ImplicitDirs {
		if err := e.Arch.MkdirAll(ctx, pdf.TempDir); err != nil {
			return fmt.Errorf("%s anlegen: %w", pdf.TempDir, err)
		}
	}
	byID := make(map[int64]*job, len(toRead))
	orders := make([]pdf.Order, len(toRead))
	for i, j := range toRead {
		orders[i], byID[j.o.RecordID] = j.o, j
	}
	var stageErrs []error
	ck.Progress = e.pdfProgress(PhasePDFCopy)
	ck.Read = func(ctx context.Context, res *pdf.Result) (io.Writer, func(*pdf.Result)) {
		j := byID[res.RecordID]
		kind, expected := pdf.KindOf(res.Hash)
		if opts.DryRun || direct || kind == pdf.SHA256 && have[pdf.ObjectName(expected)] && !opts.Full {
			return nil, nil // nothing to write, or that content is stored already
		}
		name := path.Join(pdf.TempDir, strconv.FormatInt(res.RecordID, 10)+".pdf")
		f, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			mu.Lock()
			stageErrs = append(stageErrs, fmt.Errorf("%s anlegen: %w", name, err))
			mu.Unlock()
			return nil, nil
		}
		return f, func(res *pdf.Result) {
			err := error(nil)
			if !e.Arch.BatchSync() {
				err = f.Sync()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil && (res.Status == pdf.Good || res.Status == pdf.NotChecked) {
				j.temp = name
				return
			}
			_ = fsys.Remove(name)
			if err != nil {
				mu.Lock()
				stageErrs = append(stageErrs, fmt.Errorf("%s schreiben: %w", name, err))
				mu.Unlock()
			}
		}
	}
	for i, res := range ck.Check(ctx, orders) {
		byID[orders[i].RecordID].res = res
	}
	if err := ctx.Err(); err != nil {
		e.removePDFTemps(context.WithoutCancel(ctx), r)
		return err
	}

	// Judge.
	var bad, present int
	for _, j := range jobs {
		if j.keep {
			present++
			continue
		}
		switch j.res.Status {
		case pdf.Bad:
			bad++
			present++
		case pdf.Good, pdf.NotChecked:
			present++
		}
	}
	guard := e.MassChange > 0 && !opts.AllowMassChange && present > 0 && float64(bad) > e.MassChange*float64(present)
	if guard {
		e.removePDFTemps(context.WithoutCancel(ctx), r)
		for _, j := range jobs {
			sum.Add(j.res)
			if j.prev != nil { // the history records the copies that stay
				r.addPDFRef(j.prev.RecordID, j.prev.SHA256)
			}
		}
		r.pdfRefsDone = true
		msg := fmt.Sprintf("%d von %d PDFs passen nicht zu ihrem Hash (mehr als mass_change %g %%): möglicherweise verschlüsselt (Ransomware) oder ausgetauscht. Kein PDF gespeichert, die gespeicherten Kopien bleiben unverändert; PDFs prüfen (verify --pdfs), dann erneut exportieren oder mit --allow-mass-change bestätigen", bad, present, e.MassChange*100)
		r.errorf(pdf.StoreDir, 0, "%s", msg)
		sum.Refused = bad
		return fmt.Errorf("%d von %d PDFs passen nicht zu ihrem Hash, keines gespeichert: %w", bad, present, ErrPDFGuard)
	}

	var directErrs map[int64]error
	if direct && !opts.DryRun {
		var again []pdf.Order
		sums, seen := map[int64]string{}, map[string]bool{}
		for _, j := range jobs {
			if j.keep || j.res.Status != pdf.Good && (j.res.Status != pdf.NotChecked || j.prev != nil) {
				continue
			}
			obj := pdf.ObjectName(j.res.SHA256)
			if have[obj] || seen[obj] {
				continue // stored, or the same content as another order's
			}
			seen[obj] = true
			again = append(again, j.o)
			sums[j.o.RecordID] = j.res.SHA256
		}
		ck.Progress = e.pdfProgress(PhasePDFCopy)
		directErrs = e.writePDFsWhole(ctx, ck, again, sums, have, &mu)
		if err := ctx.Err(); err != nil {
			return err
		}
	}

	// Store.
	var refused, missing, unreadable int
	var unverifiable []string
	now := e.Now()
	lockFor := e.historyLock()
	forEach(ctx, len(jobs), e.Workers, e.phase(PhaseWrite), func(i int) {
		j := jobs[i]
		res := j.res
		switch {
		case j.keep:
			r.count(&sum.Unchanged, 1)
			return
		case res.Status == pdf.Missing:
			label := "PDF von Auftrag " + j.o.AuftragNr
			r.warnf(res.Path, j.o.RecordID, "%s fehlt im PDF-Baum (file_path %q)%s", label, j.o.FilePath, keptNote(j.prev))
			r.count(&missing, 1)
			return
		case res.Status == pdf.Unreadable:
			r.unreadablef(res.Path, j.o.RecordID, "PDF von Auftrag %s nicht lesbar: %s", j.o.AuftragNr, reason(res.Err))
			r.count(&unreadable, 1)
			return
		case res.Status == pdf.Bad:
			r.warnf(res.Path, j.o.RecordID, "PDF von Auftrag %s passt nicht zu seinem Hash: erwartet %s %s, gefunden %s; nicht gespeichert%s", j.o.AuftragNr, res.Kind, res.Expected, res.Found, keptNote(j.prev))
			r.count(&refused, 1)
			return
		case res.Status == pdf.NotChecked:
			mu.Lock()
			unverifiable = append(unverifiable, j.o.AuftragNr)
			mu.Unlock()
			if j.prev != nil {
				// Unprovable content never replaces a copy.
				if j.temp != "" {
					_ = fsys.Remove(j.temp)
				}
				j.keep = true
				return
			}
		}
		if opts.DryRun {
			r.count(&sum.Stored, 1)
			return
		}
		obj := pdf.ObjectName(res.SHA256)
		err := directErrs[j.o.RecordID]
		if err == nil {
			err = e.placePDF(ctx, r, j.temp, obj, have, &mu, opts.Full)
		}
		if err != nil {
			r.errorf(obj, j.o.RecordID, "PDF von Auftrag %s nicht gespeichert: %s", j.o.AuftragNr, reason(err))
			r.count(&unreadable, 1)
			return
		}
		r.count(&sum.Stored, 1)
		j.prev = &pdf.Entry{RecordID: j.o.RecordID, AuftragNr: j.o.AuftragNr, Path: res.Path, Position: j.position,
			Size: res.Size, ModTime: res.ModTime, Hash: res.Expected, SHA256: res.SHA256}
		j.keep = true
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(stageErrs) > 0 {
		for _, err := range stageErrs {
			r.errorf(pdf.TempDir, 0, "PDF-Kopie: %s", reason(err))
		}
	}
	for _, j := range jobs {
		sum.Add(j.res)
		if j.prev == nil {
			continue
		}
		en := *j.prev
		if j.keep && j.res.Status != pdf.Bad && j.res.Status != pdf.Missing {
			en.Position = j.position
		}
		if e.Arch.Retains() && !opts.DryRun && en.LockedUntil.Before(now.Add(lockFor/2)) {
			until := now.Add(lockFor)
			if err := e.Arch.Retain(ctx, pdf.ObjectName(en.SHA256), until); err != nil {
				r.errorf(pdf.ObjectName(en.SHA256), en.RecordID, "PDF-Kopie von Auftrag %s nicht gesperrt (Object Lock): %s", en.AuftragNr, reason(err))
			} else {
				en.LockedUntil = until
			}
		}
		if !opts.DryRun {
			u.Put(j.old, &en)
		}
		r.addPDFRef(en.RecordID, en.SHA256)
	}
	r.pdfRefsDone = true
	sum.Refused = refused
	if len(unverifiable) > 0 {
		r.warnf("", 0, "%d PDFs nicht prüfbar (Hash kein SHA-256, SHA-1 oder MD5), neue ungeprüft gespeichert, vorhandene Kopien behalten: Aufträge %s", len(unverifiable), listSome(unverifiable, 10))
	}
	if !opts.DryRun {
		// Only a run that stored copies has something to make durable: a
		// local disk's SyncAll (syncfs) also waits for every other
		// program's writes to the same filesystem.
		if sum.Stored > 0 {
			if err := e.Arch.SyncAll(ctx); err != nil {
				return fmt.Errorf("PDF-Kopien dauerhaft machen: %w", err)
			}
		}
		if _, err := u.Finish(); err != nil {
			return fmt.Errorf("%s schreiben: %w", pdf.IndexFile, err)
		}
	}
	e.Log.Info(sum.String())
	switch {
	case unreadable > 0 || len(stageErrs) > 0:
		return fmt.Errorf("%d PDFs nicht gelesen oder nicht gespeichert", unreadable+len(stageErrs))
	case refused > 0 || missing > 0:
		return fmt.Errorf("%d PDFs passen nicht zu ihrem Hash, %d fehlen: %w", refused, missing, ErrValidation)
	}
	return nil
}

// keptNote says what became of the order's stored copy.
func keptNote(prev *pdf.Entry) string {
	if prev == nil {
		return " (noch keine Kopie im Archiv)"
	}
	return "; die gespeicherte Kopie " + pdf.ObjectName(prev.SHA256) + " bleibt"
}

// placePDF moves the staged copy temp to its content name obj, unless that
// content is stored already (then temp is removed). have is the set of
// stored contents, updated under mu. With full (export --full) a stored
// copy is read first, and one that no longer proves its name (bit rot,
// tampering) is replaced by the checked temp: the one case in which a
// content name is written again.
func (e *Engine) placePDF(ctx context.Context, r *Report, temp, obj string, have map[string]bool, mu *sync.Mutex, full bool) error {
	mu.Lock()
	stored := have[obj]
	mu.Unlock()
	fsys := e.Arch.FS(ctx)
	if stored && full && temp != "" && !e.copyProves(ctx, obj) {
		if err := e.fenced(); err != nil {
			return err
		}
		if err := e.Arch.Rename(ctx, temp, obj); err != nil {
			_ = fsys.Remove(temp)
			return err
		}
		r.warnf(obj, 0, "beschädigte PDF-Kopie durch das geprüfte PDF ersetzt")
		return nil
	}
	if stored {
		if temp != "" {
			_ = fsys.Remove(temp)
		}
		return nil
	}
	if temp == "" {
		return fmt.Errorf("keine Kopie bereitgestellt")
	}
	if err := e.fenced(); err != nil {
		return err
	}
	if _, err := e.Arch.Stat(ctx, obj); err == nil {
		_ = fsys.Remove(temp) // stored meanwhile: a name proves its content
	} else {
		if !e.Arch.Caps.ImplicitDirs {
			if err := e.Arch.MkdirAll(ctx, path.Dir(obj)); err != nil {
				return err
			}
		}
		if err := e.Arch.Rename(ctx, temp, obj); err != nil {
			_ = fsys.Remove(temp)
			return err
		}
	}
	mu.Lock()
	have[obj] = true
	mu.Unlock()
	return nil
}

// copyProves reports whether the stored copy obj still has the SHA-256
// its name states.
func (e *Engine) copyProves(ctx context.Context, obj string) bool {
	sum := strings.TrimSuffix(path.Base(obj), ".pdf")
	ck := &pdf.Checker{Tree: e.Arch, Workers: 1}
	res := ck.Check(ctx, []pdf.Order{{FilePath: obj, Hash: sum}})
	return res[0].Status == pdf.Good
}

// storedPDFs lists the PDF contents stored in the archive by name.
func (e *Engine) storedPDFs(ctx context.Context) (map[string]bool, error) {
	have := map[string]bool{}
	keep := func(name string) {
		base := path.Base(name)
		if sum, ok := strings.CutSuffix(base, ".pdf"); ok && pdf.IsSHA256(sum) && name == pdf.ObjectName(sum) {
			have[name] = true
		}
	}
	if e.Arch.CanList() {
		err := e.Arch.List(ctx, pdf.StoreDir+"/", func(en storage.Entry) error {
			keep(en.Name)
			return nil
		})
		return have, err
	}
	err := e.Arch.WalkDirs(ctx, pdf.StoreDir, func(dir string, entries []os.FileInfo, err error) error {
		if errors.Is(err, iofs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, fi := range entries {
			if fi.Mode().IsRegular() {
				keep(path.Join(dir, fi.Name()))
			}
		}
		return nil
	})
	return have, err
}

// removePDFTemps removes the staged copies of a run that stopped (they
// are ours: only export writes there, under the archive's lock).
func (e *Engine) removePDFTemps(ctx context.Context, r *Report) {
	entries, err := e.Arch.ReadDir(ctx, pdf.TempDir)
	if err != nil {
		return
	}
	fsys := e.Arch.FS(ctx)
	for _, fi := range entries {
		if err := fsys.Remove(path.Join(pdf.TempDir, fi.Name())); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			r.warnf(path.Join(pdf.TempDir, fi.Name()), 0, "temporäre PDF-Kopie nicht entfernt: %s", reason(err))
		}
	}
}

package backup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"werkstatt-backup/codec"
	"werkstatt-backup/history"
	"werkstatt-backup/pdf"
)

// orderPDFs looks at every order's PDF for the history: when the PDFs
// live elsewhere it copies them (copyPDFs), in the seed's layout (PDFs
// inside the archive) it notes them (notePDFs). Either fills r.PDFRefs.
func (e *Engine) orderPDFs(ctx context.Context, r *Report, items []exportItem, opts ExportOptions, listed *listedArchive, folders *folderIndex) error {
	if e.PDFs != nil {
		return e.copyPDFs(ctx, r, items, opts)
	}
	return e.notePDFs(ctx, r, items, opts, listed, folders)
}

// notePDFs records, in the seed's layout, which PDF each order has: the
// SHA-256 of the file its file_path names, for the history (a PDF the
// application or anyone replaced shows in history --auftrag). Nothing is
// copied. A PDF is read only when it is new or its size, modification
// time, place or row hash differ from what the last run recorded in
// pdf.SeenFile; an unchanged one costs a stat, or nothing on a store
// export listed (the listing has every PDF's size and time). Nothing is
// looked at through a symbolic link (export writes through none). One
// that does not match
// its row's hash is recorded as found, with a WARNING naming it (exit 3,
// as when it is copied); a missing one is recorded as none (verify
// reports it).
func (e *Engine) notePDFs(ctx context.Context, r *Report, items []exportItem, opts ExportOptions, listed *listedArchive, folders *folderIndex) error {
	cols, ok := e.pdfColumns()
	if !ok || opts.DryRun {
		return nil
	}
	// The last run's index is read as a stream beside the rows, both in
	// record_id order, and the new one written as a stream (nothing when
	// it is the same): neither is ever held whole.
	u := pdf.NewUpdate(ctx, e.Arch, pdf.SeenFile, pdf.SeenTemp, listed == nil || listed.seenIndex)
	defer u.Close()
	ck := &pdf.Checker{Tree: e.Arch, Root: e.PDFRoot, Workers: e.Workers}
	if e.Arch.Caps.Links {
		ck.Skip = func(ctx context.Context, p string) bool { return throughLink(ctx, folders, p) }
	}
	ck.Progress = e.pdfProgress(PhasePDFCopy)
	var bad, read, unreadable, withPath, noted int
	cur := e.Schema.Codecs.Current()
	order := byRecordID(items)
	r.pdfRefs = make([]pdfRef, 0, len(items))
	// The rows go in batches: what a row's PDF needs while it is looked
	// at (its decoded fields, where it lies) lives as long as its batch,
	// not the run.
	part := make([]exportItem, 0, min(pdfNoteBatch, len(items)))
	for start := 0; start < len(order); start += pdfNoteBatch {
		part = part[:0]
		for _, i := range order[start:min(start+pdfNoteBatch, len(order))] {
			part = append(part, items[i])
		}
		b, err := e.notePDFBatch(ctx, r, cur, cols, part, u, ck, listed, opts)
		if err != nil {
			return err
		}
		withPath += b.withPath
		read += b.read
		unreadable += b.unreadable
		bad += b.bad
		noted += b.noted
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := u.ReadErr(); err != nil {
		if n := u.ReadBefore(); n > 0 {
			r.warnf(pdf.SeenFile, 0, "Verzeichnis der gelesenen PDFs ab Eintrag %d nicht lesbar, die PDFs der Aufträge danach wurden neu gelesen: %s", n+1, reason(err))
		} else {
			r.warnf(pdf.SeenFile, 0, "Verzeichnis der gelesenen PDFs nicht lesbar, alle PDFs wurden neu gelesen: %s", reason(err))
		}
	}
	r.pdfRefsDone = unreadable == 0
	if _, err := u.Finish(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.warnf(pdf.SeenFile, 0, "Verzeichnis der gelesenen PDFs nicht geschrieben, der nächste Lauf liest sie neu: %s", reason(err))
	}
	e.Log.Info(fmt.Sprintf("PDFs für die Historie: %d gelesen, %d unverändert, %d ohne Datei", read, noted-read, withPath-noted-unreadable))
	if bad > 0 {
		return fmt.Errorf("%d PDFs passen nicht zu ihrem Hash: %w", bad, ErrValidation)
	}
	return nil
}

// rowPDF is what export needs of the row to look at its PDF: the
// order's fields and the PDF's place in the archive's layout. ok is false
// for a row that names no PDF and for one whose data.csv bytes do not
// decode (an ERROR saying the PDF was not what, e.g. "geprüft").
func rowPDF(r *Report, cur codec.Codec, cols pdfColumns, it exportItem, what string) (o pdf.Order, position string, ok bool) {
	vals, err := it.values(cur)
	if err != nil {
		r.errorf(path.Join(it.folder, DataFile), it.id.RecordID, "PDF von Auftrag %s nicht %s: %s", it.id.AuftragNr, what, reason(err))
		return o, "", false
	}
	o = cols.order(it.id.ident(), vals)
	if strings.TrimSpace(o.FilePath) == "" {
		return o, "", false
	}
	// The decoded values are cut from one string of the whole data.csv:
	// a job that keeps them would keep all of it.
	o.FilePath, o.Hash = strings.Clone(o.FilePath), strings.Clone(o.Hash)
	return o, pdf.Position(o.FilePath, o.AuftragNr, path.Dir(it.folder)), true
}

// pdfNoteBatch is how many rows notePDFs looks at together (a variable:
// a test makes the batches small).
var pdfNoteBatch = 4096

// pdfNotes counts what notePDFBatch found for its rows.
type pdfNotes struct {
	withPath, read, unreadable, bad, noted int
}

// notePDFBatch locates the PDFs of part (in record_id order), reads those
// new or changed since the last run (u's old index), puts their entries
// into u and adds them to r.pdfRefs.
func (e *Engine) notePDFBatch(ctx context.Context, r *Report, cur codec.Codec, cols pdfColumns, part []exportItem, u *pdf.Update, ck *pdf.Checker, listed *listedArchive, opts ExportOptions) (pdfNotes, error) {
	type job struct {
		o        pdf.Order
		position string
		prev     *pdf.Entry
		keep     bool
		res      pdf.Result
	}
	var out pdfNotes
	jobs := make([]*job, 0, len(part))
	for _, it := range part {
		prev, had := u.Prev(it.id.RecordID)
		o, position, ok := rowPDF(r, cur, cols, it, "vermerkt")
		if !ok {
			if had {
				u.Put(&prev, nil) // a row that no longer names a PDF
			}
			continue
		}
		j := &job{o: o, position: position}
		if had {
			j.prev = &prev
		}
		jobs = append(jobs, j)
	}
	out.withPath = len(jobs)
	var toRead []pdf.Order
	byID := map[int64]*job{}
	var mu sync.Mutex
	forEach(ctx, len(jobs), e.Workers, e.phase(PhaseList), func(i int) {
		j := jobs[i]
		var (
			p   string
			fi  iofs.FileInfo
			err error
		)
		if listed != nil {
			p, fi, err = listed.locate(j.o, e.PDFRoot)
		} else {
			p, fi, err = ck.Locate(ctx, j.o)
		}
		if err != nil {
			j.res = notLocated(j.o, p, err)
			return
		}
		if !opts.Full && sameAsRecorded(j.prev, j.o, p, fi) {
			j.keep = true
			return
		}
		mu.Lock()
		toRead = append(toRead, j.o)
		byID[j.o.RecordID] = j
		mu.Unlock()
	})
	if err := ctx.Err(); err != nil {
		return out, err
	}
	for _, res := range ck.Check(ctx, toRead) {
		byID[res.RecordID].res = res
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	for _, j := range jobs {
		var en *pdf.Entry
		switch {
		case j.keep:
			en = j.prev
		case j.res.Status == pdf.Good || j.res.Status == pdf.Bad || j.res.Status == pdf.NotChecked:
			out.read++
			en = &pdf.Entry{RecordID: j.o.RecordID, AuftragNr: j.o.AuftragNr, Path: j.res.Path,
				Position: j.position, Size: j.res.Size, ModTime: j.res.ModTime,
				Hash: j.res.Expected, SHA256: j.res.SHA256, Bad: j.res.Status == pdf.Bad}
		case j.res.Status == pdf.Unreadable:
			r.unreadablef(j.res.Path, j.o.RecordID, "PDF von Auftrag %s nicht lesbar, in dieser Generation ohne PDF: %s", j.o.AuftragNr, reason(j.res.Err))
			out.unreadable++
		}
		u.Put(j.prev, en)
		if en == nil {
			continue
		}
		out.noted++
		if en.Bad {
			out.bad++
			kind, expected := pdf.KindOf(j.o.Hash)
			r.warnf(en.Path, en.RecordID, "PDF von Auftrag %s passt nicht zu seinem Hash: erwartet %s %s, gefunden SHA-256 %s; so in der Historie vermerkt", en.AuftragNr, kind, expected, en.SHA256)
		}
		r.addPDFRef(en.RecordID, en.SHA256)
	}
	return out, nil
}

// notLocated is the result for an order whose PDF Locate did not find
// (Missing) or could not look at (Unreadable) at p.
func notLocated(o pdf.Order, p string, err error) pdf.Result {
	res := pdf.Result{Order: o, Path: p, Status: pdf.Unreadable, Err: err}
	if errors.Is(err, iofs.ErrNotExist) {
		res.Status = pdf.Missing
	}
	return res
}

// sameAsRecorded reports whether the PDF of o, found at p with fi, is the
// one the last run recorded in prev (same place, size, time and row hash):
// then it need not be read again.
func sameAsRecorded(prev *pdf.Entry, o pdf.Order, p string, fi iofs.FileInfo) bool {
	_, hash := pdf.KindOf(o.Hash)
	return prev != nil && prev.Path == p && prev.Size == fi.Size() && prev.ModTime.Equal(fi.ModTime()) && prev.Hash == hash
}

// throughLink reports whether p lies below a symbolic link of the
// archive (any of its folders, as folders lists them).
func throughLink(ctx context.Context, folders *folderIndex, p string) bool {
	for d := path.Dir(p); d != "." && d != "/" && d != ""; d = path.Dir(d) {
		if folders.linked(ctx, d) != "" {
			return true
		}
	}
	return false
}

// locate finds the order's PDF in the listing, as Checker.Locate finds it
// in the tree: the first candidate the listing shows.
func (la *listedArchive) locate(o pdf.Order, root string) (string, iofs.FileInfo, error) {
	cands := pdf.Candidates(o.FilePath, o.AuftragNr, root)
	for _, p := range cands {
		dir, name := path.Split(p)
		if en, ok := la.folders[strings.TrimSuffix(dir, "/")][name]; ok {
			return p, listedFile{name: name, en: en}, nil
		}
	}
	last := ""
	if len(cands) > 0 {
		last = cands[len(cands)-1]
	}
	return last, nil, fmt.Errorf("file_path %q: kein PDF im Archiv: %w", o.FilePath, iofs.ErrNotExist)
}

// pdfRef is one order's PDF as export saw it: what a history generation
// records of it.
type pdfRef struct {
	RecordID int64
	PDF      history.Hash
}

// addPDFRef adds the order's PDF (sum: its SHA-256 as hex) to r.pdfRefs.
func (r *Report) addPDFRef(id int64, sum string) {
	if h, err := history.ParseHash(sum); err == nil {
		r.pdfRefs = append(r.pdfRefs, pdfRef{RecordID: id, PDF: h})
	}
}

// byRecordID is the indices of items in record_id order (readRows keeps
// the database's order): 4 bytes a row.
func byRecordID(items []exportItem) []int32 {
	order := make([]int32, len(items))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(items[a].id.RecordID, items[b].id.RecordID) })
	return order
}

// pdfHashes are the orders' PDFs of r.pdfRefs sorted by record_id, nil
// when the run did not look at every order's PDF (then its generation
// does not say it records PDFs, and forget frees no copy while it is
// kept).
func pdfHashes(r *Report) []pdfRef {
	if !r.pdfRefsDone {
		return nil
	}
	refs := r.pdfRefs
	if refs == nil {
		refs = []pdfRef{}
	}
	if !slices.IsSortedFunc(refs, comparePDFRefs) {
		slices.SortStableFunc(refs, comparePDFRefs)
	}
	return refs
}

func comparePDFRefs(a, b pdfRef) int { return cmp.Compare(a.RecordID, b.RecordID) }

// setPDFs gives each held record its order's PDF (pdfs sorted by
// record_id; none when pdfs is nil).
func (h *heldRecords) setPDFs(pdfs []pdfRef) {
	for i := range h.records {
		rec := &h.records[i]
		rec.PDF = history.Hash{}
		if j, ok := slices.BinarySearchFunc(pdfs, rec.RecordID, func(p pdfRef, id int64) int { return cmp.Compare(p.RecordID, id) }); ok {
			rec.PDF = pdfs[j].PDF
		}
	}
}

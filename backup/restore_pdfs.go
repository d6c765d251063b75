package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"werkstatt-backup/pdf"
	"werkstatt-backup/storage"
)

// PDFRestoreOptions are the flags of restore --pdfs.
type PDFRestoreOptions struct {
	Target     *storage.Archive // where the PDF tree is written
	TargetName string           // its name for reports
	Auftrag    string           // only this order ("" = all)
	At         time.Time        // zero (and Generation 0): the orders as their current backups hold them
	Generation uint64           // not 0: the orders as generation Generation held them
}

// ErrNoOrder: restore --pdfs --auftrag names an order no backup holds.
var ErrNoOrder = errors.New("Auftrag nicht im Archiv")

// RestorePDFs writes the orders' PDFs into opts.Target as the tree
// <JJJJ>/<auftrag_nr>/<Datei>. Which PDF an order had comes from its
// backup (with At, from the history's generation at or before At: the
// PDF that generation records, checked against its SHA-256, when it
// records one; else its row's hash). Each
// PDF is taken from the archive's copy of that content (_pdfs/, named by
// its SHA-256: also an older content the application replaced since), else
// from the recorded copy of the order (index), else from the PDF tree.
// It is streamed into a temp file beside its place while its hash is
// computed, and moved into place only when it matches the row's hash: a
// reader of the target sees the old file or the checked new one. A PDF
// that cannot be found or does not match is an ERROR (PDFError, exit 1).
func (e *Engine) RestorePDFs(ctx context.Context, opts PDFRestoreOptions) (_ *Report, err error) {
	e.init()
	r := e.newReport("restore-pdfs")
	r.PDFs = &PDFSummary{}
	e.Log.Info("Starte Wiederherstellung der PDFs nach " + opts.TargetName + "...")
	lock, err := e.lockForReading(ctx, r, "restore")
	if err != nil {
		return r, err
	}
	defer e.unlock(lock, r, &err)

	var chosen []candidate
	if opts.At.IsZero() && opts.Generation == 0 {
		files, err := e.scanArchive(ctx, r)
		if err != nil {
			return r, err
		}
		if r.Folders.Seen == 0 {
			return r, e.noBackupError()
		}
		chosen = e.choose(r, files)
	} else if chosen, err = e.historySource(ctx, r, RestoreOptions{At: opts.At, Generation: opts.Generation}); err != nil {
		return r, err
	}
	cols, ok := e.pdfColumns()
	if !ok {
		return r, fmt.Errorf("Schema %s kennt keine PDFs", e.Schema.Codecs.Current().Version())
	}
	recorded, _, err := readCopies(ctx, e.Arch, true)
	if err != nil {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		r.warnf(pdf.IndexFile, 0, "Verzeichnis der PDF-Kopien nicht lesbar, PDFs nur aus ihren Inhalten oder dem PDF-Baum: %s", reason(err))
	}
	have, err := e.storedPDFs(ctx)
	if err != nil {
		return r, fmt.Errorf("PDF-Kopien im Archiv auflisten: %w", err)
	}

	type job struct {
		o        pdf.Order
		position string
		fromArch bool // the source is a copy in the archive
	}
	var jobs []job
	for _, c := range chosen {
		if opts.Auftrag != "" && c.id().AuftragNr != opts.Auftrag {
			continue
		}
		o := cols.order(c.id(), c.vals())
		// Copies: the decoded values are cut from one string of the whole
		// data.csv, which the job would keep.
		o.FilePath, o.Hash = strings.Clone(o.FilePath), strings.Clone(o.Hash)
		if strings.TrimSpace(o.FilePath) == "" {
			r.warnf(c.file.dataPath(), o.RecordID, "Auftrag %s hat kein file_path: kein PDF wiederherzustellen", o.AuftragNr)
			continue
		}
		j := job{o: o, position: pdf.Position(o.FilePath, o.AuftragNr, path.Dir(c.file.dir))}
		kind, hash := pdf.KindOf(o.Hash)
		en, known := findCopy(recorded, o.RecordID)
		switch {
		case !c.pdf.IsZero():
			// The generation records which PDF the order had: that one,
			// from its copy or else from the tree, checked against it.
			sum := c.pdf.String()
			j.o.Hash = sum
			if have[pdf.ObjectName(sum)] {
				j.o.FilePath, j.fromArch = pdf.ObjectName(sum), true
			}
		case kind == pdf.SHA256 && have[pdf.ObjectName(hash)]:
			j.o.FilePath, j.fromArch = pdf.ObjectName(hash), true
		case known && en.Hash == hash && have[en.object()]:
			j.o.FilePath, j.fromArch = en.object(), true
			if j.position == "" {
				j.position = en.Position
			}
		}
		if j.position == "" {
			r.errorf(c.file.dataPath(), o.RecordID, "Auftrag %s: aus file_path %q ergibt sich kein Ort im PDF-Baum", o.AuftragNr, o.FilePath)
			continue
		}
		jobs = append(jobs, j)
	}
	if opts.Auftrag != "" && len(jobs) == 0 && r.Errors == 0 {
		return r, fmt.Errorf("Auftrag %s: %w", opts.Auftrag, ErrNoOrder)
	}

	// Read from two places: the archive's copies and the PDF tree.
	var fromArch, fromTree []pdf.Order
	pos := make(map[int64]string, len(jobs))
	for _, j := range jobs {
		pos[j.o.RecordID] = j.position
		if j.fromArch {
			fromArch = append(fromArch, j.o)
		} else {
			fromTree = append(fromTree, j.o)
		}
	}
	tfs := opts.Target.FS(ctx)
	var mu sync.Mutex
	temps := map[int64]string{}
	var writeErrs []error
	stage := func(ctx context.Context, res *pdf.Result) (io.Writer, func(*pdf.Result)) {
		p := pos[res.RecordID]
		tmp := p + ".wb-tmp"
		if !opts.Target.Caps.ImplicitDirs {
			if err := opts.Target.MkdirAll(ctx, path.Dir(p)); err != nil {
				mu.Lock()
				writeErrs = append(writeErrs, fmt.Errorf("%s anlegen: %w", path.Dir(p), err))
				mu.Unlock()
				return nil, nil
			}
		}
		f, err := tfs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			mu.Lock()
			writeErrs = append(writeErrs, fmt.Errorf("%s anlegen: %w", tmp, err))
			mu.Unlock()
			return nil, nil
		}
		return f, func(res *pdf.Result) {
			err := f.Sync()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			ok := res.Status == pdf.Good || res.Status == pdf.NotChecked && res.Path != "" &&
				(!strings.HasPrefix(res.Path, pdf.StoreDir+"/") || pdf.ObjectName(res.SHA256) == res.Path)
			if err == nil && ok {
				mu.Lock()
				temps[res.RecordID] = tmp
				mu.Unlock()
				return
			}
			_ = tfs.Remove(tmp)
			if err != nil {
				mu.Lock()
				writeErrs = append(writeErrs, fmt.Errorf("%s schreiben: %w", tmp, err))
				mu.Unlock()
			}
		}
	}
	var results []pdf.Result
	for _, src := range []struct {
		tree   *storage.Archive
		root   string
		orders []pdf.Order
	}{{e.Arch, "", fromArch}, {e.pdfTree(), e.PDFRoot, fromTree}} {
		ck := &pdf.Checker{Tree: src.tree, Root: src.root, Workers: e.Workers, Progress: e.pdfProgress(PhasePDFRestore), Read: stage}
		results = append(results, ck.Check(ctx, src.orders)...)
		if err := ctx.Err(); err != nil {
			for _, tmp := range temps {
				_ = opts.Target.FS(context.WithoutCancel(ctx)).Remove(tmp)
			}
			return r, err
		}
	}

	sum := r.PDFs
	var unverifiable []string
	for _, res := range results {
		sum.Add(res)
		target := pos[res.RecordID]
		tmp, staged := temps[res.RecordID]
		switch res.Status {
		case pdf.Missing:
			r.errorf(target, res.RecordID, "PDF von Auftrag %s nicht wiederhergestellt: weder im Archiv noch im PDF-Baum (file_path %q, erwartet %s %s)", res.AuftragNr, res.FilePath, res.Kind, res.Expected)
			sum.hardMissing++
			continue
		case pdf.Bad:
			r.errorf(target, res.RecordID, "PDF von Auftrag %s nicht wiederhergestellt: %s weicht ab (erwartet %s %s, gefunden %s)", res.AuftragNr, res.Path, res.Kind, res.Expected, res.Found)
			sum.hardBad++
			continue
		case pdf.Unreadable:
			r.unreadablef(res.Path, res.RecordID, "PDF von Auftrag %s nicht lesbar: %s", res.AuftragNr, reason(res.Err))
			continue
		case pdf.NotChecked:
			unverifiable = append(unverifiable, res.AuftragNr)
		}
		if !staged {
			continue // its write failed: reported below
		}
		if err := opts.Target.Rename(ctx, tmp, target); err != nil {
			_ = tfs.Remove(tmp)
			r.errorf(target, res.RecordID, "PDF von Auftrag %s nicht an seinen Platz gebracht: %s", res.AuftragNr, reason(err))
			continue
		}
		sum.Restored++
		r.OK++
	}
	for _, err := range writeErrs {
		r.errorf("", 0, "%s: %s", opts.TargetName, reason(err))
	}
	if len(unverifiable) > 0 {
		r.warnf("", 0, "%d PDFs ungeprüft wiederhergestellt: der Hash ihres Datensatzes ist kein SHA-256, SHA-1 oder MD5 (Aufträge %s)", len(unverifiable), listSome(unverifiable, 10))
	}
	r.Records = len(jobs)
	if err := opts.Target.SyncAll(ctx); err != nil {
		return r, fmt.Errorf("%s dauerhaft machen: %w", opts.TargetName, err)
	}
	e.finish(r)
	if err := r.unreadableErr("PDFs nicht vollständig gelesen"); err != nil {
		return r, err
	}
	if err := sum.err(); err != nil {
		return r, err
	}
	if len(writeErrs) > 0 || r.Errors > 0 {
		return r, fmt.Errorf("%d PDFs nicht geschrieben", len(writeErrs)+r.Errors)
	}
	return r, nil
}

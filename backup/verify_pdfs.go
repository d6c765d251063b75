package backup

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"werkstatt-backup/codec"
	"werkstatt-backup/pdf"
	"werkstatt-backup/storage"
)

// PDFError is the error of a run that found orders whose PDF is missing
// or does not match its hash (exit 1: the orders themselves are at risk,
// whatever their backups say). Rows marked incomplete (data_complete = 0)
// are only warned about and not counted here.
type PDFError struct {
	Bad, Missing int
}

func (e *PDFError) Error() string {
	return fmt.Sprintf("%d PDFs weichen von ihrem Hash ab, %d fehlen", e.Bad, e.Missing)
}

// PDFSummary counts what a run did with the orders' PDFs (verify: the
// check; export: the copies; restore --pdfs: the files written).
type PDFSummary struct {
	pdf.Counts
	// Export with PDFs elsewhere: copies stored, recognised unchanged by
	// size and time, and not stored (refused or failed).
	Stored    int `json:"stored,omitempty"`
	Unchanged int `json:"unchanged,omitempty"`
	Refused   int `json:"refused,omitempty"`
	// Restore --pdfs: files written.
	Restored int `json:"restored,omitempty"`
	// Share: verify without --pdfs, the policy that chose them.
	Share string `json:"share,omitempty"`
	// Of: the orders with a PDF in all (the share's whole).
	Of int `json:"of,omitempty"`

	// Copies: verify of an archive whose PDFs live elsewhere, the copies
	// export stored (_pdfs/) of the same orders, each read and compared
	// with the name that proves its content.
	Copies *pdf.Counts `json:"copies,omitempty"`

	hardBad, hardMissing int // of rows not marked incomplete: errors
}

func (s *PDFSummary) String() string {
	switch {
	case s == nil:
		return ""
	case s.Restored > 0:
		return fmt.Sprintf("PDFs: %d wiederhergestellt, %d fehlend, %d falsch", s.Restored, s.Missing, s.Bad)
	case s.Stored > 0 || s.Unchanged > 0 || s.Refused > 0:
		return fmt.Sprintf("PDFs: %d kopiert, %d unverändert, %d abgelehnt, %d fehlend, %d nicht prüfbar", s.Stored, s.Unchanged, s.Refused, s.Missing, s.Unverifiable)
	}
	return s.Counts.String()
}

// pdfColumns are the positions of the columns the PDF check needs in the
// current schema's rows.
type pdfColumns struct{ filePath, hash, complete int }

func (e *Engine) pdfColumns() (pdfColumns, bool) {
	names := codec.Names(e.Schema.Codecs.Current())
	c := pdfColumns{slices.Index(names, "file_path"), slices.Index(names, "hash"), slices.Index(names, "data_complete")}
	return c, c.filePath >= 0 && c.hash >= 0
}

func (c pdfColumns) order(id codec.Identity, vals []string) pdf.Order {
	o := pdf.Order{RecordID: id.RecordID, AuftragNr: id.AuftragNr, FilePath: vals[c.filePath], Hash: vals[c.hash]}
	if c.complete >= 0 {
		o.Incomplete = strings.TrimSpace(vals[c.complete]) == "0"
	}
	return o
}

// pdfTree is where the orders' PDFs live: Engine.PDFs, else the archive.
func (e *Engine) pdfTree() *storage.Archive {
	if e.PDFs != nil {
		return e.PDFs
	}
	return e.Arch
}

// pdfProgress adapts the engine's Progress hook to the PDF reader: files
// done of total in phase, bytes under phase+"_bytes".
func (e *Engine) pdfProgress(phase string) pdf.Progress {
	if e.Progress == nil {
		return nil
	}
	return func(files, total int, bytes int64) {
		e.Progress(phase, files, total)
		e.Progress(phase+PhaseBytesSuffix, int(min(bytes, int64(^uint(0)>>1))), -1)
	}
}

// Phases of the PDF work, as Engine.Progress reports them; a phase's
// bytes so far come as phase+PhaseBytesSuffix with total -1.
const (
	PhasePDFCheck    = "pdf_check"   // verify reading PDFs
	PhasePDFCopy     = "pdf_copy"    // export reading and copying PDFs
	PhasePDFRestore  = "pdf_restore" // restore --pdfs writing PDFs
	PhaseBytesSuffix = "_bytes"
)

// verifyPDFs reads the PDFs of the chosen backups (all with --pdfs, else
// the rotating share of Engine.PDFCheck) and compares each with the hash
// its backup holds, and with --db also with the hash of its row in the
// database.
func (e *Engine) verifyPDFs(ctx context.Context, r *Report, chosen []candidate, opts VerifyOptions) error {
	if !opts.PDFs && e.PDFCheck.Off() {
		return nil
	}
	cols, ok := e.pdfColumns()
	if !ok {
		return nil // a schema without PDFs
	}
	var orders []pdf.Order
	for _, c := range chosen {
		o := cols.order(c.id(), c.vals())
		if strings.TrimSpace(o.FilePath) == "" {
			continue // a field-rule warning already
		}
		orders = append(orders, o)
	}
	var dbHash map[int64]string
	if opts.WithDB {
		var err error
		if dbHash, err = e.rowHashes(ctx, cols); err != nil {
			return err
		}
	}
	sum := &PDFSummary{Of: len(orders)}
	r.PDFs = sum
	pick := orders
	var next pdf.Rotation
	rotating := !opts.PDFs && !e.PDFCheck.All
	now := e.Now()
	if !opts.PDFs {
		sum.Share = e.PDFCheck.String()
		state, err := pdf.LoadRotation(ctx, e.Arch)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.warnf(pdf.RotationFile, 0, "Stand der PDF-Prüfung nicht lesbar, beginne eine neue Runde: %s", reason(err))
		}
		ids := make([]int64, len(orders))
		for i, o := range orders {
			ids[i] = o.RecordID
		}
		var idx []int
		idx, next = state.Plan(e.PDFCheck, ids, now)
		pick = make([]pdf.Order, len(idx))
		for i, j := range idx {
			pick[i] = orders[j]
		}
	}
	ck := &pdf.Checker{Tree: e.pdfTree(), Root: e.PDFRoot, Workers: e.Workers, Progress: e.pdfProgress(PhasePDFCheck)}
	results := ck.Check(ctx, pick)
	if err := ctx.Err(); err != nil {
		return err
	}
	if !opts.PDFs && noneThere(results) {
		// The share found not one PDF: the tree is not where pdfs says
		// (an archive on a share, the PDFs on the NAS, pdfs not set).
		// Said in the log, not an error per order (--pdfs reports each);
		// and no round begins.
		for _, res := range results {
			sum.Add(res)
		}
		e.Log.Info(fmt.Sprintf("PDF-Stichprobe: keines der %d geprüften PDFs im PDF-Baum gefunden (z. B. %s); liegen die PDFs nicht im Archiv, den Schlüssel pdfs setzen (verify --pdfs meldet jedes fehlende PDF als Fehler)", len(results), results[0].Path))
		rotating = false
	} else {
		e.reportPDFs(r, sum, results, dbHash)
	}
	if e.PDFs != nil {
		if err := e.verifyCopies(ctx, r, sum, pick); err != nil {
			return err
		}
	}
	if rotating && len(orders) > 0 {
		switch err := next.Save(ctx, e.Arch); {
		case err == nil:
		case storage.NotWritable(err):
			// A read-only archive (already warned about): the round
			// cannot be kept; each run reads the share from its start.
			e.Log.Info("Stand der PDF-Prüfung nicht gespeichert: Archiv schreibgeschützt")
		default:
			r.warnf(pdf.RotationFile, 0, "Stand der PDF-Prüfung nicht gespeichert (die nächste Prüfung beginnt die Runde neu): %s", reason(err))
		}
	}
	return nil
}

// verifyCopies reads the archive's copies of the orders' PDFs (export
// stores them when the PDFs live elsewhere) and checks each against the
// SHA-256 its name states: a copy that is gone or damaged is an ERROR,
// since it is what restore --pdfs would give back.
func (e *Engine) verifyCopies(ctx context.Context, r *Report, sum *PDFSummary, orders []pdf.Order) error {
	recorded, ok, err := readCopies(ctx, e.Arch, false)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.errorf(pdf.IndexFile, 0, "Verzeichnis der PDF-Kopien nicht lesbar: %s", reason(err))
		return nil
	}
	if !ok {
		return nil // no copies yet (no export since pdfs was set)
	}
	var copies []pdf.Order
	for _, o := range orders {
		if c, ok := findCopy(recorded, o.RecordID); ok {
			copies = append(copies, pdf.Order{RecordID: o.RecordID, AuftragNr: o.AuftragNr, FilePath: c.object(), Hash: c.SHA256.String()})
		}
	}
	ck := &pdf.Checker{Tree: e.Arch, Workers: e.Workers, Progress: e.pdfProgress(PhasePDFCheck)}
	results := ck.Check(ctx, copies)
	if err := ctx.Err(); err != nil {
		return err
	}
	sum.Copies = &pdf.Counts{}
	for _, res := range results {
		sum.Copies.Add(res)
		switch res.Status {
		case pdf.Missing:
			r.errorf(res.FilePath, res.RecordID, "Kopie des PDFs von Auftrag %s fehlt im Archiv", res.AuftragNr)
			sum.hardMissing++
		case pdf.Bad:
			r.errorf(res.FilePath, res.RecordID, "Kopie des PDFs von Auftrag %s beschädigt: Inhalt hat SHA-256 %s", res.AuftragNr, res.Found)
			sum.hardBad++
		case pdf.Unreadable:
			r.unreadablef(res.FilePath, res.RecordID, "Kopie des PDFs von Auftrag %s nicht lesbar: %s", res.AuftragNr, reason(res.Err))
		}
	}
	e.Log.Info("PDF-Kopien im Archiv: " + sum.Copies.String())
	return nil
}

// noneThere reports whether not one of results found its PDF.
func noneThere(results []pdf.Result) bool {
	for _, res := range results {
		if res.Status != pdf.Missing {
			return false
		}
	}
	return len(results) > 0
}

// reportPDFs counts the results and reports every PDF that is missing,
// wrong or unreadable, and once the orders whose hash cannot be checked.
func (e *Engine) reportPDFs(r *Report, sum *PDFSummary, results []pdf.Result, dbHash map[int64]string) {
	var unverifiable []string
	for _, res := range results {
		sum.Add(res)
		level := r.errorf
		if res.Incomplete {
			level = r.warnf
		}
		label := "PDF von Auftrag " + res.AuftragNr
		if res.Incomplete {
			label += " (data_complete = 0)"
		}
		if !res.Incomplete {
			switch res.Status {
			case pdf.Missing:
				sum.hardMissing++
			case pdf.Bad:
				sum.hardBad++
			}
		}
		switch res.Status {
		case pdf.Missing:
			level(res.Path, res.RecordID, "%s fehlt (file_path %q; erwartet %s %s, gefunden: keine Datei)", label, res.FilePath, res.Kind, res.Expected)
		case pdf.Bad:
			level(res.Path, res.RecordID, "%s weicht ab: erwartet %s %s, gefunden %s (%d Bytes)", label, res.Kind, res.Expected, res.Found, res.Size)
		case pdf.Unreadable:
			r.unreadablef(res.Path, res.RecordID, "%s nicht lesbar: %s", label, reason(res.Err))
		case pdf.NotChecked:
			unverifiable = append(unverifiable, res.AuftragNr)
		case pdf.Good:
			if h, ok := dbHash[res.RecordID]; ok {
				if k, v := pdf.KindOf(h); k == res.Kind && v != res.Found {
					level(res.Path, res.RecordID, "%s passt nicht zum Datensatz in der Datenbank: dort %s %s, gefunden %s (die Sicherung ist veraltet)", label, k, v, res.Found)
				}
			}
		}
	}
	if len(unverifiable) > 0 {
		r.warnf("", 0, "%d PDFs nicht prüfbar: der Hash ihres Datensatzes ist kein SHA-256, SHA-1 oder MD5 (Aufträge %s)", len(unverifiable), listSome(unverifiable, 10))
	}
	if sum.Share != "" {
		e.Log.Info(fmt.Sprintf("PDF-Stichprobe (%s, %d von %d): %s", sum.Share, sum.Checked, sum.Of, sum))
		return
	}
	e.Log.Info(sum.String())
}

// listSome joins up to n names and says how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + " und " + strconv.Itoa(len(names)-n) + " weitere"
}

// rowHashes reads the hash column of every row in the database.
func (e *Engine) rowHashes(ctx context.Context, cols pdfColumns) (map[int64]string, error) {
	quiet := newReport("verify", slog.New(slog.NewTextHandler(io.Discard, nil)), e.Now())
	items, _, rows, err := e.readRows(ctx, quiet)
	if err != nil {
		return nil, err
	}
	defer rows.close()
	cur := e.Schema.Codecs.Current()
	m := make(map[int64]string, len(items))
	for _, it := range items {
		vals, err := it.values(cur)
		if err != nil {
			return nil, err
		}
		m[it.id.RecordID] = vals[cols.hash]
	}
	return m, nil
}

// err is the error of the PDFs found missing or wrong in rows not marked
// incomplete; nil when there are none.
func (s *PDFSummary) err() error {
	if s == nil || s.hardBad+s.hardMissing == 0 {
		return nil
	}
	return &PDFError{Bad: s.hardBad, Missing: s.hardMissing}
}

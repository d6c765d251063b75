package backup

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/pdf"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage/objtest"
)

// toObjectStore makes the offsite archive the object-store double (a
// rename there is a copy and a delete) and returns it.
func (o *offsite) toObjectStore() *objtest.Store {
	s := objtest.New(time.Now)
	a := s.Archive(false)
	o.fs, o.e.Arch = a.Fs, a
	return s
}

// TestExportPDFsToObjectStoreWritesEachOnce: on an object store export
// writes each PDF once, straight to its content name: no staged copy
// that a rename would copy again and delete. The copies are
// byte-identical, and an unchanged export writes none.
func TestExportPDFsToObjectStoreWritesEachOnce(t *testing.T) {
	o := newOffsite(t, 15)
	s := o.toObjectStore()
	r := o.export(ExportOptions{})
	if r.PDFs == nil || r.PDFs.Stored != 15 {
		t.Fatalf("export: %+v, want 15 stored\n%s", r.PDFs, problems(r))
	}
	for _, row := range o.rows {
		if got, want := o.stored(t, row), sample.PDF(row[colNr]); !bytes.Equal(got, want) {
			t.Fatalf("copy of %s differs from the PDF", row[colNr])
		}
	}
	// Deleted: only the lock; staging deleted each of the 15 temp copies.
	if c := s.Counts(); c.Deletes > 2 {
		t.Fatalf("%d deletes (PDFs staged and renamed: a copy and a delete each)", c.Deletes)
	}
	if ents, _ := afero.ReadDir(o.fs, pdf.TempDir); len(ents) != 0 {
		t.Fatalf("temp copies left: %d", len(ents))
	}
	s.ResetCounts()
	o.tree.opens.Store(0)
	if r := o.export(ExportOptions{}); r.PDFs.Unchanged != 15 || o.tree.opens.Load() != 0 {
		t.Fatalf("unchanged export: %+v, %d PDFs opened", r.PDFs, o.tree.opens.Load())
	}
}

// changingFs changes one PDF just before it is opened a second time, as
// the application on the NAS might between export's check and its copy.
type changingFs struct {
	afero.Fs
	name  string
	to    []byte
	opens atomic.Int64
}

func (c *changingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if name == c.name && c.opens.Add(1) == 2 {
		if err := afero.WriteFile(c.Fs, name, c.to, 0o644); err != nil {
			return nil, err
		}
	}
	return c.Fs.OpenFile(name, flag, perm)
}

func (c *changingFs) Open(name string) (afero.File, error) { return c.OpenFile(name, os.O_RDONLY, 0) }

// TestExportPDFsToObjectStoreChangedBetweenReads: a PDF whose content
// changes between the check and the second read that writes it is not
// stored under the name of the checked content: an ERROR names the order,
// the other PDFs are stored.
func TestExportPDFsToObjectStoreChangedBetweenReads(t *testing.T) {
	o := newOffsite(t, 6)
	o.toObjectStore()
	victim := o.rows[2]
	ch := &changingFs{Fs: o.tree, name: o.pdfPath(victim), to: []byte("%PDF-1.4\nnachträglich geändert\n")}
	o.e.PDFs = archiveOf(ch)
	r, err := o.e.Export(context.Background(), ExportOptions{})
	if err == nil || r.PDFs == nil || r.PDFs.Stored != 5 {
		t.Fatalf("export: %v, %+v, want an error and 5 stored\n%s", err, r.PDFs, problems(r))
	}
	hasProblem(t, r, LevelError, pdf.ObjectName(sha(sample.PDF(victim[colNr]))), "Auftrag "+victim[colNr]+" nicht gespeichert", "seit dem Prüfen verändert")
	for _, data := range [][]byte{sample.PDF(victim[colNr]), ch.to} {
		if o.exists(pdf.ObjectName(sha(data))) {
			t.Fatalf("a copy of %s was stored (%q…)", victim[colNr], strings.SplitN(string(data), "\n", 2)[0])
		}
	}
}

// TestExportPDFsUnchangedNoSync: an export that stores no PDF makes
// nothing durable for them (a local disk's syncfs also waits for every
// other program's writes); one that stores a PDF does.
func TestExportPDFsUnchangedNoSync(t *testing.T) {
	o := newOffsite(t, 5)
	o.export(ExportOptions{})
	var syncs atomic.Int64
	o.e.Arch.Caps.SyncAll = func(context.Context) error {
		syncs.Add(1)
		return nil
	}
	if r := o.export(ExportOptions{}); r.PDFs.Unchanged != 5 || syncs.Load() != 0 {
		t.Fatalf("unchanged export: %+v, %d syncs", r.PDFs, syncs.Load())
	}
	changed := o.rows[1]
	o.treeWrite(t, changed, sample.PDF(changed[colNr])) // same content, new time: read, stored again
	if r := o.export(ExportOptions{}); r.PDFs.Stored != 1 || syncs.Load() == 0 {
		t.Fatalf("export storing one PDF: %+v, %d syncs", r.PDFs, syncs.Load())
	}
}

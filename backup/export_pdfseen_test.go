package backup

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/pdf"
)

// seenPacer serves pdf.SeenFile in reads of at most 100 bytes, counting
// what it served, and notes at each PDF export looks at (a Stat) how much
// of the index was read by then.
type seenPacer struct {
	afero.Fs
	mu     sync.Mutex
	served int
	atStat []int // served, at each Stat of a PDF
	wrote  bool  // the index or its temp file was opened for writing
}

type pacedFile struct {
	afero.File
	p *seenPacer
}

func (f pacedFile) Read(b []byte) (int, error) {
	n, err := f.File.Read(b[:min(len(b), 100)])
	f.p.mu.Lock()
	f.p.served += n
	f.p.mu.Unlock()
	return n, err
}

func (p *seenPacer) Open(name string) (afero.File, error) {
	f, err := p.Fs.Open(name)
	if err != nil || name != pdf.SeenFile {
		return f, err
	}
	return pacedFile{File: f, p: p}, nil
}

func (p *seenPacer) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return p.Open(name)
	}
	if name == pdf.SeenFile || name == pdf.SeenTemp {
		p.mu.Lock()
		p.wrote = true
		p.mu.Unlock()
	}
	return p.Fs.OpenFile(name, flag, perm)
}

func (p *seenPacer) Stat(name string) (os.FileInfo, error) {
	if strings.HasSuffix(name, ".pdf") {
		p.mu.Lock()
		p.atStat = append(p.atStat, p.served)
		p.mu.Unlock()
	}
	return p.Fs.Stat(name)
}

// TestNotePDFsReadsSeenIndexAsItGoes: an unchanged export in the seed's
// layout reads the last run's index of the PDFs (gelesen.json) beside the
// orders, entry by entry: when it looks at the k-th PDF it has read no
// more of the index than the entries of the orders up to k and the next
// batch's. Its memory does not grow with the index. On main export read
// the index whole before it looked at the first PDF (115 MB live at
// 100,000 orders with what it built of it).
func TestNotePDFsReadsSeenIndexAsItGoes(t *testing.T) {
	defer func(n int) { pdfNoteBatch = n }(pdfNoteBatch)
	pdfNoteBatch = 4
	const n = 60
	w := newPDFWorkshop(t, n, nil)
	w.export(ExportOptions{})
	seen, err := afero.ReadFile(w.fs, pdf.SeenFile)
	if err != nil {
		t.Fatal(err)
	}
	// Where each entry starts in the file (the entries hold no object).
	var starts []int
	for i := 0; ; {
		j := bytes.Index(seen[i:], []byte(`{"record_id"`))
		if j < 0 {
			break
		}
		starts = append(starts, i+j)
		i += j + 1
	}
	if len(starts) != n {
		t.Fatalf("%d entries in %s, want %d", len(starts), pdf.SeenFile, n)
	}
	p := &seenPacer{Fs: w.fs}
	w.e.setFs(p)
	w.export(ExportOptions{})
	if len(p.atStat) < n {
		t.Fatalf("export looked at %d PDFs, want %d", len(p.atStat), n)
	}
	for k, served := range p.atStat {
		// Read by the k-th look: the entries of the batches so far, the
		// next one, and what the reader holds beyond.
		limit := len(seen)
		if e := k + 2*pdfNoteBatch + 2; e < n {
			limit = starts[e] + 200
		}
		if served > limit {
			t.Fatalf("at the PDF %d of %d, %d of the %d bytes of %s were read (at most %d expected): the index is read ahead of the orders", k+1, n, served, len(seen), pdf.SeenFile, limit)
		}
	}
	if after, _ := afero.ReadFile(w.fs, pdf.SeenFile); !bytes.Equal(after, seen) {
		t.Fatalf("unchanged export changed %s", pdf.SeenFile)
	}
	if _, err := w.fs.Stat(pdf.SeenTemp); err == nil {
		t.Fatalf("%s left", pdf.SeenTemp)
	}
	if p.wrote {
		t.Fatalf("unchanged export wrote %s", pdf.SeenFile)
	}
}

// TestNotePDFsDamagedSeenIndex: gelesen.json damaged after its third
// entry: export keeps the three it could read (their PDFs are not read
// again), reads the PDFs of all orders after them, warns naming the file
// and from where, and writes the index anew. An index damaged from its
// start is read by none, and every PDF is read.
func TestNotePDFsDamagedSeenIndex(t *testing.T) {
	const n = 8
	w := newPDFWorkshop(t, n, nil)
	cf := &countingFs{Fs: w.fs}
	w.e.Arch = archiveOf(cf)
	w.export(ExportOptions{})
	good, err := afero.ReadFile(w.fs, pdf.SeenFile)
	if err != nil {
		t.Fatal(err)
	}
	entry := func(i int) int { // where the i-th entry (from 0) starts
		at := 0
		for range i + 1 {
			at += bytes.Index(good[at+1:], []byte(`{"record_id"`)) + 1
		}
		return at
	}
	for _, c := range []struct {
		name  string
		text  []byte
		read  int64
		words []string
	}{
		{"after three", append(slices.Clip(good[:entry(3)]), `{"record_id":`...), n - 3, []string{"ab Eintrag 4", "nicht lesbar"}},
		{"from its start", []byte("kein JSON"), n, []string{"nicht lesbar", "alle PDFs"}},
	} {
		if err := afero.WriteFile(w.fs, pdf.SeenFile, c.text, 0o644); err != nil {
			t.Fatal(err)
		}
		cf.opens.Store(0)
		r := w.export(ExportOptions{})
		if got := cf.opens.Load(); got != c.read {
			t.Fatalf("%s: %d PDFs read, want %d", c.name, got, c.read)
		}
		hasProblem(t, r, LevelWarning, pdf.SeenFile, c.words...)
		if again, _ := afero.ReadFile(w.fs, pdf.SeenFile); !bytes.Equal(again, good) {
			t.Fatalf("%s: index not written anew:\n%s", c.name, again)
		}
	}
}

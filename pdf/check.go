package pdf

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	iofs "io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"werkstatt-backup/storage"
)

// Order is one order whose PDF is to be checked: the fields of its row
// (from its backup or from the database).
type Order struct {
	RecordID  int64
	AuftragNr string
	FilePath  string
	Hash      string // the row's hash column
	// Incomplete: the row's data_complete is 0; a missing or wrong PDF is
	// a warning, not an error.
	Incomplete bool
}

// Status is what Check found for one order's PDF.
type Status int

const (
	Good       Status = iota // the content matches the row's hash
	Bad                      // the content does not match
	Missing                  // no file at any candidate path (or no candidate)
	NotChecked               // the row's hash has no known form: read, but not comparable
	Unreadable               // the file is there but could not be read (I/O, permission)
)

func (s Status) String() string {
	switch s {
	case Good:
		return "gut"
	case Bad:
		return "falsch"
	case Missing:
		return "fehlt"
	case NotChecked:
		return "nicht prüfbar"
	}
	return "nicht lesbar"
}

// Result is one order's PDF as Check found it.
type Result struct {
	Order
	Kind     Kind
	Expected string // the row's hash in lower case
	Path     string // the path read below the tree ("" when missing)
	Found    string // the content's hash in the row's algorithm ("" when not read)
	SHA256   string // the content's SHA-256 (names its copy)
	Size     int64
	ModTime  time.Time
	Status   Status
	Err      error // Missing: what the lookup said; Unreadable: why
}

// Progress is told after each PDF: files done, of total, and bytes read so
// far. It is called from several goroutines, one call at a time.
type Progress func(files, total int, bytes int64)

// Checker reads PDFs below one tree.
type Checker struct {
	Tree    *storage.Archive // the PDF tree
	Root    string           // the tree's own path as file_path may name it (Candidates); "" if unknown
	Workers int              // parallel readers; <= 0: 4
	// Progress, if set, sees every finished PDF.
	Progress Progress
	// Read, if set, is told the bytes of every PDF as they are read, with
	// the result so far (Path, Size set): export copies them there while
	// hashing. It returns the writer or nil to read without copying, and
	// a function called after the last byte with the final result.
	Read func(ctx context.Context, res *Result) (io.Writer, func(res *Result))
	// Skip, if set, names candidate paths not to look at (export: a path
	// through a symbolic link); such a path counts as missing.
	Skip func(ctx context.Context, p string) bool

	rootOnce sync.Once
	rootDirs map[string]bool // names at the tree's root; nil: unknown
}

// atRoot reports whether a candidate's first path element is at the
// tree's root, from one listing of the root: the seed's file_path
// test_archiv/2024/… names a folder the tree (test_archiv itself) does not
// have, and a stat of every such path would cost a round trip per PDF on
// a share. Unknown (the root cannot be listed) counts as there.
func (c *Checker) atRoot(ctx context.Context, p string) bool {
	first, _, nested := strings.Cut(p, "/")
	if !nested {
		return true
	}
	c.rootOnce.Do(func() {
		entries, err := c.Tree.ReadDir(ctx, ".")
		if err != nil {
			return
		}
		c.rootDirs = make(map[string]bool, len(entries))
		for _, fi := range entries {
			c.rootDirs[fi.Name()] = true
		}
	})
	return c.rootDirs == nil || c.rootDirs[first]
}

// bufPool holds the copy buffers: one per worker at a time, whatever the
// size of the PDFs.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// Check reads the PDF of every order and compares it with its row's hash.
// Results are in the order of orders. A cancelled ctx stops handing out
// work; results not reached are Unreadable with ctx's error.
func (c *Checker) Check(ctx context.Context, orders []Order) []Result {
	res := make([]Result, len(orders))
	workers := c.Workers
	if workers <= 0 {
		workers = 4
	}
	var next, done atomic.Int64
	var bytes atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(workers, len(orders)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(orders) {
					return
				}
				if err := ctx.Err(); err != nil {
					res[i] = Result{Order: orders[i], Status: Unreadable, Err: err}
					continue
				}
				res[i] = c.one(ctx, orders[i], &bytes)
				d := done.Add(1)
				if c.Progress != nil {
					mu.Lock()
					c.Progress(int(d), len(orders), bytes.Load())
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return res
}

// Locate finds the order's PDF below the tree without reading it: its path
// and file information, or an error wrapping fs.ErrNotExist when no
// candidate exists.
func (c *Checker) Locate(ctx context.Context, o Order) (string, iofs.FileInfo, error) {
	cands := Candidates(o.FilePath, o.AuftragNr, c.Root)
	if len(cands) == 0 {
		return "", nil, fmt.Errorf("file_path %q nennt keinen Ort im PDF-Baum: %w", o.FilePath, iofs.ErrNotExist)
	}
	var firstErr error
	for i, p := range cands {
		if i < len(cands)-1 && !c.atRoot(ctx, p) {
			continue
		}
		if c.Skip != nil && c.Skip(ctx, p) {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s liegt hinter einem symbolischen Link: %w", p, iofs.ErrNotExist)
			}
			continue
		}
		fi, err := c.Tree.Stat(ctx, p)
		if err == nil && fi.Mode().IsRegular() {
			return p, fi, nil
		}
		if err == nil {
			err = fmt.Errorf("%s ist keine Datei: %w", p, iofs.ErrNotExist)
		}
		if !errors.Is(err, iofs.ErrNotExist) {
			return p, nil, err // could not look: not "missing"
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return cands[len(cands)-1], nil, firstErr
}

func (c *Checker) one(ctx context.Context, o Order, total *atomic.Int64) Result {
	r := Result{Order: o}
	r.Kind, r.Expected = KindOf(o.Hash)
	p, fi, err := c.Locate(ctx, o)
	r.Path = p
	if err != nil {
		r.Err = err
		r.Status = Unreadable
		if errors.Is(err, iofs.ErrNotExist) {
			r.Status = Missing
		}
		return r
	}
	r.Size, r.ModTime = fi.Size(), fi.ModTime()
	if err := c.read(ctx, &r, total); err != nil {
		r.Err, r.Status = err, Unreadable
		if errors.Is(err, iofs.ErrNotExist) {
			r.Status = Missing // gone between the look and the read
		}
		return r
	}
	switch {
	case r.Kind == Unverifiable:
		r.Status = NotChecked
	case r.Found == r.Expected:
		r.Status = Good
	default:
		r.Status = Bad
	}
	return r
}

// read streams the PDF at r.Path through its hashes (and Read's writer).
func (c *Checker) read(ctx context.Context, r *Result, total *atomic.Int64) (err error) {
	f, err := c.Tree.Open(ctx, r.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	s256 := sha256.New()
	var algo hash.Hash
	w := io.Writer(s256)
	if r.Kind != Unverifiable && r.Kind != SHA256 {
		algo = r.Kind.New()
		w = io.MultiWriter(s256, algo)
	}
	var finish func(*Result)
	if c.Read != nil {
		var out io.Writer
		out, finish = c.Read(ctx, r)
		if out != nil {
			w = io.MultiWriter(w, out)
		}
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	n, err := io.CopyBuffer(w, countingReader{f, total}, *bp)
	if err != nil {
		if finish != nil {
			r.Status = Unreadable
			finish(r)
		}
		return fmt.Errorf("%s lesen: %w", r.Path, err)
	}
	r.Size = n // what was read, also when the file grew or shrank meanwhile
	r.SHA256 = hex.EncodeToString(s256.Sum(nil))
	switch {
	case algo != nil:
		r.Found = hex.EncodeToString(algo.Sum(nil))
	case r.Kind == SHA256:
		r.Found = r.SHA256
	}
	if finish != nil {
		switch {
		case r.Kind == Unverifiable:
			r.Status = NotChecked
		case r.Found == r.Expected:
			r.Status = Good
		default:
			r.Status = Bad
		}
		finish(r)
	}
	return nil
}

// countingReader adds what it reads to n (progress in bytes).
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// Counts sum up a check: each order's PDF is in exactly one of Good, Bad,
// Missing, Unverifiable and Unreadable; Checked is their total.
type Counts struct {
	Checked      int   `json:"checked"`
	Good         int   `json:"good"`
	Bad          int   `json:"bad"`
	Missing      int   `json:"missing"`
	Unverifiable int   `json:"unverifiable"`
	Unreadable   int   `json:"unreadable,omitempty"`
	Bytes        int64 `json:"bytes"`
}

// Add counts one result.
func (c *Counts) Add(r Result) {
	c.Checked++
	switch r.Status {
	case Good:
		c.Good++
	case Bad:
		c.Bad++
	case Missing:
		c.Missing++
	case NotChecked:
		c.Unverifiable++
	default:
		c.Unreadable++
	}
	if r.Status == Good || r.Status == Bad || r.Status == NotChecked {
		c.Bytes += r.Size
	}
}

// String is the summary line's part: "PDFs: 2000 geprüft, 1997 gut, 1
// falsch, 1 fehlend, 1 nicht prüfbar".
func (c Counts) String() string {
	s := fmt.Sprintf("PDFs: %d geprüft, %d gut, %d falsch, %d fehlend, %d nicht prüfbar", c.Checked, c.Good, c.Bad, c.Missing, c.Unverifiable)
	if c.Unreadable > 0 {
		s += fmt.Sprintf(", %d nicht lesbar", c.Unreadable)
	}
	return s
}

package history

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"werkstatt-backup/storage"
)

// Store is the history of one archive. Commit and Forget change it and
// must run under the archive lock (lock.AcquireLock), like every other write
// to the archive; List, Load, At, Content, Versions and Check only read.
type Store struct {
	arch     *storage.Archive
	now      func() time.Time
	fence    func() error
	maxChain int
	// head is the newest generation as Head last loaded it, which Commit
	// takes instead of loading it again when it is still the newest (the
	// same file): export asks Head for the mass-change guard first.
	head *loadedHead
	// versions are the history files read from an older version
	// (versions_store.go).
	versions *versionsRead
	// newHistory: Commit may start a new chain although the head marker
	// names a generation that is gone (WithNewHistory).
	newHistory bool
	// pdfs: the records Commit gets carry their orders' PDFs (WithPDFs).
	pdfs bool
	// lock: the history retains what it writes for lockPeriod
	// (objectlock.go); false: the store has no Object Lock.
	lock       bool
	lockPeriod time.Duration
	// storeNow is the store's clock while forget runs on a store with
	// Object Lock (storeClock), nil otherwise.
	storeNow func() time.Time
}

type loadedHead struct {
	ref  genRef
	snap *Snapshot
	st   chainStats
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the client clock recorded as a generation's ClientTime
// (default time.Now). Retention and At never judge by it.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithFence sets a check made before every change to the archive: when it
// fails (the lock's lease may be lost) nothing more is written and the
// error is returned.
func WithFence(fence func() error) Option { return func(s *Store) { s.fence = fence } }

// WithMaxChain sets after how many deltas a full generation is written
// (default DefaultMaxChain).
func WithMaxChain(n int) Option { return func(s *Store) { s.maxChain = max(n, 0) } }

// WithPDFs says that the records Commit gets carry their orders' PDFs
// (Record.PDF, zero: none found): the generations it writes say so
// (GenerationInfo.PDFs), and only PDFs such generations name are kept
// when the copies no generation needs are freed (PDFsInUse).
func WithPDFs() Option { return func(s *Store) { s.pdfs = true } }

// RecordsPDFs sets whether the records the next Commit gets carry their
// orders' PDFs (as WithPDFs): export says so only when it looked at every
// order's PDF.
func (s *Store) RecordsPDFs(on bool) { s.pdfs = on }

// DefaultMaxChain bounds the deltas between two full generations, and so
// the files read to load the newest generation (see doc.go).
const DefaultMaxChain = 128

// Open returns the history of the archive arch. It reads nothing yet; an
// archive without a history has no generations.
func Open(arch *storage.Archive, opts ...Option) *Store {
	s := &Store{arch: arch, versions: &versionsRead{}, now: time.Now, fence: func() error { return nil }, maxChain: DefaultMaxChain}
	for _, o := range opts {
		o(s)
	}
	s.lock = s.lockPeriod > 0 && arch.Retains()
	return s
}

// GenerationInfo describes one generation.
type GenerationInfo struct {
	Seq         uint64
	ArchiveTime time.Time // the time the archive gave its file: retention and At judge by it
	ClientTime  time.Time // the exporting machine's clock, for information
	Records     int
	// Added, Changed and Removed compare with PrevSeq, the generation
	// before it (0: none, everything is added).
	Added, Changed, Removed int
	PrevSeq                 uint64
	Full                    bool // self-contained, not a delta
	File                    string
	// ID is the generation's random id (hex; "" for a generation written
	// in format 1): with Seq it names the generation unmistakably.
	ID string
	// PDFs: the generation records each order's PDF (format 3, written
	// WithPDFs); PDFChanged counts the orders whose PDF is another than
	// in PrevSeq.
	PDFs       bool
	PDFChanged int
}

// Snapshot is one generation with all its entries, sorted by RecordID.
type Snapshot struct {
	Info    GenerationInfo
	Entries []Entry
	// ident is the generation's identity (chain.go); digest is
	// entryDigest of Entries (zero: not computed).
	ident, digest Hash
}

// Entry returns the entry of recordID, if the snapshot has one.
func (s *Snapshot) Entry(recordID int64) (Entry, bool) {
	i, ok := searchEntry(s.Entries, recordID)
	if !ok {
		return Entry{}, false
	}
	return s.Entries[i], true
}

// genRef is a generation file found in gen/.
type genRef struct {
	seq         uint64
	archiveTime time.Time
	id          fileID // zero: format 1
	file        string // path from the archive root
}

// packRef is a pack file found in pack/.
type packRef struct {
	id   fileID // zero: format 1
	file string
}

// listing is what gen/ and pack/ hold.
type listing struct {
	gens    []genRef // ascending by seq, one per seq
	dupes   []genRef // a second file for a seq that has one
	packs   map[uint64][]packRef
	temps   []string
	unknown []string
	// unfinished are generation files newer than the head marker that do
	// not prove themselves (dropUnfinished).
	unfinished []string
	dirs       bool   // gen/ and pack/ both exist
	maxSeq     uint64 // the highest sequence number of any generation or pack file
	// listed are the pack sequence numbers pack/ showed a file for:
	// addPacks adds no file named elsewhere to them.
	listed map[uint64]bool
	// genLinks and packLinks are the head marker's Links (read on a store
	// that keeps versions): the file of a generation and the files of a
	// pack to take instead of those other generations name.
	genLinks  map[uint64]string
	packLinks map[uint64][]packRef
}

// scan lists gen/ and pack/. A missing history is an empty listing.
func (s *Store) scan(ctx context.Context) (*listing, error) {
	l := &listing{packs: map[uint64][]packRef{}, listed: map[uint64]bool{}}
	gens, genOK, err := s.readDir(ctx, genDir)
	if err != nil {
		return nil, err
	}
	// Names sort by sequence number; a backend's listing need not be sorted.
	slices.SortFunc(gens, func(a, b os.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	for _, fi := range gens {
		name, p := fi.Name(), path.Join(genDir, fi.Name())
		seq, t, id, ok := parseGenName(name)
		ref := genRef{seq: seq, archiveTime: t, id: id, file: p}
		switch {
		case strings.HasSuffix(name, tmpSuffix):
			l.temps = append(l.temps, p)
		case !ok || fi.IsDir():
			l.unknown = append(l.unknown, p)
		case len(l.gens) > 0 && l.gens[len(l.gens)-1].seq == seq:
			l.dupes = append(l.dupes, ref)
		default:
			l.gens = append(l.gens, ref)
		}
		if ok {
			l.maxSeq = max(l.maxSeq, seq)
		}
	}
	packs, packOK, err := s.readDir(ctx, packDir)
	if err != nil {
		return nil, err
	}
	l.dirs = genOK && packOK
	for _, fi := range packs {
		name, p := fi.Name(), path.Join(packDir, fi.Name())
		seq, id, ok := parsePackName(name)
		switch {
		case strings.HasSuffix(name, tmpSuffix):
			l.temps = append(l.temps, p)
		case !ok || fi.IsDir():
			l.unknown = append(l.unknown, p)
		default:
			l.packs[seq] = append(l.packs[seq], packRef{id: id, file: p})
			l.maxSeq = max(l.maxSeq, seq)
		}
	}
	for seq := range l.packs {
		l.listed[seq] = true
	}
	s.recoverDeleted(ctx, l)
	if err := s.dropUnfinished(ctx, l); err != nil {
		return nil, err
	}
	return l, nil
}

// readDir lists dir sorted by name; a missing dir is empty (exists false).
func (s *Store) readDir(ctx context.Context, dir string) (fis []os.FileInfo, exists bool, err error) {
	fis, err = s.arch.ReadDir(ctx, dir)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, &FileError{Path: dir, Op: "lesen", Err: err}
	}
	return fis, true, nil
}

func (l *listing) find(seq uint64) (genRef, bool) {
	lo, hi := 0, len(l.gens)
	for lo < hi {
		m := (lo + hi) / 2
		if l.gens[m].seq < seq {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(l.gens) && l.gens[lo].seq == seq {
		return l.gens[lo], true
	}
	return genRef{}, false
}

// insert adds a generation file the listing did not show (sorted by seq).
func (l *listing) insert(ref genRef) {
	i, _ := slices.BinarySearchFunc(l.gens, ref.seq, func(r genRef, seq uint64) int { return cmp.Compare(r.seq, seq) })
	l.gens = slices.Insert(l.gens, i, ref)
	l.maxSeq = max(l.maxSeq, ref.seq)
}

// addPacks adds pack files a generation names for a pack the listing
// showed no file of (deleted from the listing: read from its versions),
// or the files the head marker names for it instead (packLinks).
// A pack the listing shows is taken as listed: a generation names the
// files of its packs as they were when it was written, and forget's
// repack has since replaced some of them by a new file (new id) and
// removed the old one on purpose; that is no attack and no damage.
func (l *listing) addPacks(ps []packRef) {
	for _, p := range ps {
		seq, _, ok := parsePackName(path.Base(p.file))
		if !ok || l.listed[seq] {
			continue
		}
		files := []packRef{p}
		if ls, ok := l.packLinks[seq]; ok {
			files = ls // forget repacked it: the file it wrote
		}
		for _, f := range files {
			if !slices.ContainsFunc(l.packs[seq], func(q packRef) bool { return q.file == f.file }) {
				l.packs[seq] = append(l.packs[seq], f)
			}
		}
		l.maxSeq = max(l.maxSeq, seq)
	}
}

// replace puts ref in place of the file of its generation.
func (l *listing) replace(ref genRef) {
	for i := range l.gens {
		if l.gens[i].seq == ref.seq {
			l.gens[i] = ref
		}
	}
}

func (l *listing) head() (genRef, bool) {
	if len(l.gens) == 0 {
		return genRef{}, false
	}
	return l.gens[len(l.gens)-1], true
}

// FileError names a history file and what went wrong with it.
type FileError struct {
	Path string
	Op   string // "lesen", "schreiben", … or "" for a damaged content
	Err  error
}

func (e *FileError) Error() string {
	if e.Op == "" {
		return e.Path + ": " + e.Err.Error()
	}
	return e.Path + " " + e.Op + ": " + e.Err.Error()
}

func (e *FileError) Unwrap() error { return e.Err }

// maxGenFile and maxPackFile bound what is read of one file.
const (
	maxGenFile  = 256 << 20
	maxPackFile = 512 << 20
)

// readGen reads and decodes one generation file and checks that it is the
// generation its name says.
func (s *Store) readGen(ctx context.Context, ref genRef) (*genFile, error) {
	var g *genFile
	prove := func(data []byte) error {
		if len(data) > maxGenFile {
			return errors.New("Datei ist zu groß")
		}
		var err error
		if g, err = decodeGen(data); err != nil {
			return err
		}
		if g.Seq != ref.seq || g.V2 != !ref.id.zero() || g.V2 && (g.ID != ref.id || !g.Archive.Equal(ref.archiveTime)) {
			return errNotItsName
		}
		return nil
	}
	data, err := s.arch.ReadFile(ctx, ref.file, maxGenFile)
	if err != nil && !isNotExist(err) {
		return nil, &FileError{Path: ref.file, Op: "lesen", Err: err}
	}
	if err == nil {
		err = prove(data)
		if err == nil {
			return g, nil
		}
		err = &FileError{Path: ref.file, Err: err}
	} else {
		err = &FileError{Path: ref.file, Op: "lesen", Err: err}
	}
	if s.fromVersion(ctx, ref.file, maxGenFile, prove) {
		return g, nil
	}
	return nil, err
}

// errNotItsName: a file whose content does not prove its name.
var errNotItsName = errors.New("Datei enthält eine andere Generation als ihr Name sagt")

// readGenL reads generation ref.seq of listing l: ref's file, or when it
// does not prove itself a second file of the same generation that does
// (a forget's rewrite, stopped before it removed one of them), which then
// takes its place in l.
func (s *Store) readGenL(ctx context.Context, l *listing, ref genRef) (*genFile, genRef, error) {
	g, err := s.readGen(ctx, ref)
	if err == nil {
		if s.arch.Versioned() {
			l.addPacks(g.Packs)
		}
		return g, ref, nil
	}
	for i, d := range l.dupes {
		if d.seq != ref.seq {
			continue
		}
		if dg, derr := s.readGen(ctx, d); derr == nil {
			l.dupes[i] = ref
			l.replace(d)
			return dg, d, nil
		}
	}
	return nil, ref, err
}

// dropUnfinished moves the newest generation files that the head marker
// does not name yet and that do not prove themselves out of l.gens: the
// writes of a run stopped before it wrote the marker (on a store whose
// create is not whole in one step). They are leftovers, not damage.
func (s *Store) dropUnfinished(ctx context.Context, l *listing) error {
	hd, _, err := s.readHead(ctx)
	if err != nil {
		return nil // Check names it
	}
	// Without a marker (hd zero), a format-2 generation is unfinished too:
	// Commit writes the marker right after it. A format-1 one never is.
	for len(l.gens) > 0 {
		ref := l.gens[len(l.gens)-1]
		if ref.seq <= hd.Seq || ref.id.zero() {
			return nil
		}
		_, _, err := s.readGenL(ctx, l, ref)
		if err == nil || unreadable(err) {
			return nil
		}
		l.gens = l.gens[:len(l.gens)-1]
		l.unfinished = append(l.unfinished, ref.file)
	}
	return nil
}

func (ref genRef) info(g *genFile) GenerationInfo {
	info := GenerationInfo{
		Seq: ref.seq, ArchiveTime: ref.archiveTime, ClientTime: g.ClientTime,
		Records: g.Records, Added: g.Added, Changed: g.Changed, Removed: g.Removed,
		PrevSeq: g.Prev, Full: g.full(), File: ref.file, PDFs: g.PDFs, PDFChanged: g.PDFChanged,
	}
	if g.V2 {
		info.ID = g.Origin.String()
	}
	return info
}

// List returns every generation, oldest first, from the files' headers.
// A generation file that cannot be read is left out and named in the
// error, which then comes with the generations that could be read.
func (s *Store) List(ctx context.Context) ([]GenerationInfo, error) {
	l, err := s.scan(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]GenerationInfo, 0, len(l.gens))
	var errs []error
	for _, ref := range slices.Clone(l.gens) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g, ref, err := s.readGenL(ctx, l, ref)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, ref.info(g))
	}
	return out, errors.Join(errs...)
}

// ErrNotFound is wrapped when a generation asked for does not exist.
var ErrNotFound = errors.New("keine solche Generation")

// Load returns generation seq with all its entries.
func (s *Store) Load(ctx context.Context, seq uint64) (*Snapshot, error) {
	l, err := s.scan(ctx)
	if err != nil {
		return nil, err
	}
	ref, ok := l.find(seq)
	if !ok {
		return nil, errorf(ErrNotFound, "Historie: Generation %d gibt es nicht", seq)
	}
	snap, _, err := s.load(ctx, l, ref)
	return snap, err
}

// Head returns the newest generation, or nil without an error when the
// archive has none yet (what CompareTo needs before an export).
func (s *Store) Head(ctx context.Context) (*Snapshot, error) {
	l, err := s.scan(ctx)
	if err != nil {
		return nil, err
	}
	ref, ok := l.head()
	if !ok {
		return nil, nil
	}
	snap, st, err := s.load(ctx, l, ref)
	if err == nil {
		s.head = &loadedHead{ref: ref, snap: snap, st: st}
	}
	return snap, err
}

// HeadAndBefore returns the newest generation (nil without an error when
// the archive has none yet), as Head, and the generation the mass-change
// guard also compares with: the one At returns for window before the
// newest one's archive time, or the oldest when every generation is
// younger than that. The second is nil when it is the
// newest itself or cannot be told (the times go backwards) or read:
// the guard then leaves that comparison out. Both are loaded through one
// reader, so that a file of their common chain (the full generation
// both start from) is read and decoded once.
func (s *Store) HeadAndBefore(ctx context.Context, window time.Duration) (*Snapshot, *Snapshot, error) {
	l, err := s.scan(ctx)
	if err != nil {
		return nil, nil, err
	}
	ref, ok := l.head()
	if !ok {
		return nil, nil, nil
	}
	pf := s.prefetch(l)
	snap, st, err := s.loadWith(ctx, pf, ref)
	if err != nil {
		return nil, nil, err
	}
	s.head = &loadedHead{ref: ref, snap: snap, st: st}
	oref, err := l.at(snap.Info.ArchiveTime.Add(-window))
	if errors.Is(err, ErrNotFound) {
		oref, err = l.gens[0], nil // the history is younger than the window
	}
	if err != nil || oref.seq == ref.seq {
		return snap, nil, nil
	}
	old, _, err := s.loadWith(ctx, pf, oref)
	if err != nil {
		return snap, nil, ctx.Err()
	}
	return snap, old, nil
}

// AmbiguousTimeError: the archive's times go backwards along the
// generations, so that "the state at At" is not one generation; the caller
// chooses one by its number.
type AmbiguousTimeError struct {
	At         time.Time
	Candidates []GenerationInfo // by sequence number
}

func (e *AmbiguousTimeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "die Zeiten der Generationen laufen rückwärts (Uhr des Archivs verstellt?), %s ist nicht eindeutig; in Frage kommen", e.At.Local().Format(TimeLayout))
	for i, c := range e.Candidates {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " Generation %d vom %s", c.Seq, c.ArchiveTime.Local().Format(TimeLayout))
	}
	b.WriteString("; bitte mit --generation N (oder --at #N) wählen")
	return b.String()
}

// At returns the last generation (by sequence) whose archive time is at or
// before t: the state restore --at t rebuilds. When a generation before it
// has a later archive time (the archive's clock went back), which one is
// meant is not clear: an *AmbiguousTimeError names the candidates.
func (s *Store) At(ctx context.Context, t time.Time) (*Snapshot, error) {
	l, err := s.scan(ctx)
	if err != nil {
		return nil, err
	}
	ref, err := l.at(t)
	if err != nil {
		return nil, err
	}
	snap, _, err := s.load(ctx, l, ref)
	return snap, err
}

// at finds the generation At(t) loads, without reading any file.
func (l *listing) at(t time.Time) (genRef, error) {
	for i := len(l.gens) - 1; i >= 0; i-- {
		if l.gens[i].archiveTime.After(t) {
			continue
		}
		// The first generation before it with a later time: from the one
		// before that to i, each could be "the state at t".
		if a := slices.IndexFunc(l.gens[:i], func(r genRef) bool { return r.archiveTime.After(t) }); a >= 0 {
			var cands []GenerationInfo
			for _, ref := range l.gens[max(a-1, 0) : i+1] {
				cands = append(cands, GenerationInfo{Seq: ref.seq, ArchiveTime: ref.archiveTime, File: ref.file})
			}
			return genRef{}, &AmbiguousTimeError{At: t, Candidates: cands}
		}
		return l.gens[i], nil
	}
	if len(l.gens) == 0 {
		return genRef{}, errorf(ErrNotFound, "Historie: das Archiv hat keine Generationen (%s fehlt oder ist leer)", genDir)
	}
	return genRef{}, errorf(ErrNotFound, "Historie: keine Generation am oder vor %s (die älteste ist vom %s)",
		t.Local().Format(time.DateTime), l.gens[0].archiveTime.Local().Format(time.DateTime))
}

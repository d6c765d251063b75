package history

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/mem"
	"werkstatt-backup/storage"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(s string) *fakeClock {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &fakeClock{t: t}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// archiveClockFs is an archive whose files get their modification time
// from a fake clock: the "archive's own time" of a share in a test.
type archiveClockFs struct {
	afero.Fs
	clock *fakeClock
}

type timedInfo struct {
	os.FileInfo
	t time.Time
}

func (t timedInfo) ModTime() time.Time { return t.t }

func (a archiveClockFs) Stat(name string) (os.FileInfo, error) {
	fi, err := a.Fs.Stat(name)
	if err != nil {
		return nil, err
	}
	return timedInfo{fi, a.clock.Now()}, nil
}

// row is one database row of the simulated table.
type row struct {
	id      int64
	nr      string
	name    string
	plate   string
	vin     string
	datum   string
	updated int
	data    []byte // csv(), kept up to date
}

var (
	firstNames = []string{"Jürgen", "Anna", "Max", "Sabine", "Özlem", "Klaus", "Maria", "Stefan", "Petra", "Thomas"}
	lastNames  = []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann"}
)

func newRow(rnd *rand.Rand, id int64) row {
	return row{
		id:    id,
		nr:    fmt.Sprintf("%06d", 70000+id),
		name:  firstNames[rnd.IntN(len(firstNames))] + " " + lastNames[rnd.IntN(len(lastNames))],
		plate: fmt.Sprintf("M-%c%c %d", 'A'+rune(rnd.IntN(26)), 'A'+rune(rnd.IntN(26)), 1+rnd.IntN(9999)),
		vin:   fmt.Sprintf("WVWZZZ1KZ%08d", rnd.IntN(100000000)),
		datum: fmt.Sprintf("20%02d-%02d-%02d", 19+rnd.IntN(6), 1+rnd.IntN(12), 1+rnd.IntN(28)),
	}
}

// csv is the row's data.csv as export writes it (about 450 bytes).
func (r row) csv() []byte {
	if r.data == nil {
		return r.render()
	}
	return r.data
}

func (r row) render() []byte {
	year := r.datum[:4]
	return fmt.Appendf(nil, "record_id,auftrag_nr,kunde_name,kunden_nr,kennzeichen,vin,datum,formular_version,"+
		"keywords_json,file_path,hash,data_complete,created_at,updated_at\r\n"+
		"%d,%s,%s,K%05d,%s,%s,%s,neu,\"[\"\"Inspektion\"\", \"\"Bremsen\"\"]\",archiv/%s/%s/%s_Auftrag.pdf,"+
		"%x,1,%sT08:00:00,%sT%02d:%02d:00\r\n",
		r.id, r.nr, r.name, r.id%97000, r.plate, r.vin, r.datum, year, r.nr, r.nr,
		r.nr+r.nr, r.datum, r.datum, 8+r.updated/60%10, r.updated%60)
}

func (r row) record() Record {
	data := r.csv()
	return Record{RecordID: r.id, AuftragNr: r.nr, Folder: r.datum[:4] + "/" + r.nr, Hash: Sum(data), Size: int64(len(data)), Schema: "1.0"}
}

// table is the simulated database.
type table struct {
	rnd    *rand.Rand
	rows   map[int64]row
	nextID int64
}

func newTable(seed uint64, n int) *table {
	t := &table{rnd: rand.New(rand.NewPCG(seed, 1)), rows: map[int64]row{}, nextID: 1}
	for range n {
		t.insert()
	}
	return t
}

func (t *table) insert() int64 {
	id := t.nextID
	t.nextID++
	r := newRow(t.rnd, id)
	r.data = r.render()
	t.rows[id] = r
	return id
}

func (t *table) ids() []int64 {
	ids := make([]int64, 0, len(t.rows))
	for id := range t.rows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (t *table) update(id int64) {
	r := t.rows[id]
	r.updated++
	r.name = firstNames[t.rnd.IntN(len(firstNames))] + " " + lastNames[t.rnd.IntN(len(lastNames))]
	r.data = r.render()
	t.rows[id] = r
}

// churn updates, deletes and inserts n rows in all.
func (t *table) churn(n int) {
	ids := t.ids()
	for i := range n {
		id := ids[t.rnd.IntN(len(ids))]
		switch {
		case i%10 == 8:
			if _, ok := t.rows[id]; ok {
				delete(t.rows, id)
			}
		case i%10 == 9:
			t.insert()
		default:
			if _, ok := t.rows[id]; ok {
				t.update(id)
			}
		}
	}
}

// records is the table as Commit gets it, and the content callback, which
// counts how often it is asked.
func (t *table) records() ([]Record, ContentFunc, *int) {
	var recs []Record
	byID := map[int64][]byte{}
	for _, id := range t.ids() {
		r := t.rows[id]
		recs = append(recs, r.record())
		byID[id] = r.csv()
	}
	calls := new(int)
	return recs, func(r Record) ([]byte, error) {
		*calls++
		return byID[r.RecordID], nil
	}, calls
}

// want is the table as the entries of a snapshot must describe it.
func (t *table) want() map[int64][]byte {
	out := map[int64][]byte{}
	for id, r := range t.rows {
		out[id] = r.csv()
	}
	return out
}

func commit(t testing.TB, s *Store, tb *table) CommitResult {
	t.Helper()
	recs, content, _ := tb.records()
	res, err := s.Commit(context.Background(), recs, content)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return res
}

// assertSnapshot checks that generation seq holds exactly want, contents
// included.
func assertSnapshot(t *testing.T, s *Store, seq uint64, want map[int64][]byte) {
	t.Helper()
	if err := checkSnapshot(s, seq, want); err != nil {
		t.Fatal(err)
	}
}

func checkSnapshot(s *Store, seq uint64, want map[int64][]byte) error {
	ctx := context.Background()
	snap, err := s.Load(ctx, seq)
	if err != nil {
		return fmt.Errorf("Load %d: %w", seq, err)
	}
	if len(snap.Entries) != len(want) {
		return fmt.Errorf("generation %d: %d entries, want %d", seq, len(snap.Entries), len(want))
	}
	got := 0
	err = s.Contents(ctx, snap.Entries, func(e Entry, data []byte) error {
		if w, ok := want[e.RecordID]; !ok || string(w) != string(data) {
			return fmt.Errorf("generation %d record %d: content differs", seq, e.RecordID)
		}
		got++
		return nil
	})
	if err != nil {
		return err
	}
	if got != len(want) {
		return fmt.Errorf("generation %d: %d contents, want %d", seq, got, len(want))
	}
	return nil
}

// historyFiles lists the files under _historie with their sizes.
func historyFiles(t testing.TB, fsys afero.Fs) (map[string]int64, int64) {
	t.Helper()
	files := map[string]int64{}
	var total int64
	err := afero.Walk(fsys, Dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			files[strings.TrimPrefix(p, "/")] = fi.Size()
			total += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, total
}

func memArchive() afero.Fs { return mem.New() }

// archiveOf is fsys as an archive with the mem backend's capabilities.
func archiveOf(fsys afero.Fs) *storage.Archive { return &storage.Archive{Fs: fsys, Caps: mem.Caps()} }

// packOf is the pack file of generation seq in fsys ("" if none).
func packOf(t testing.TB, fsys afero.Fs, seq uint64) string {
	t.Helper()
	fis, err := afero.ReadDir(fsys, packDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, fi := range fis {
		if s, _, ok := parsePackName(fi.Name()); ok && s == seq {
			return packDir + "/" + fi.Name()
		}
	}
	t.Fatalf("no pack of generation %d", seq)
	return ""
}

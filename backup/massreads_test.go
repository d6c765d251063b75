package backup

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/history"
	"werkstatt-backup/sample"
)

// genReadFs counts the opens for reading of each generation file.
type genReadFs struct {
	afero.Fs
	mu    sync.Mutex
	reads map[string]int
}

func (c *genReadFs) count(name string, flag int) {
	if strings.Contains(name, history.Dir+"/gen/") && strings.HasSuffix(name, ".gen") && flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		c.mu.Lock()
		c.reads[strings.TrimPrefix(name, "/")]++
		c.mu.Unlock()
	}
}

func (c *genReadFs) Open(name string) (afero.File, error) {
	c.count(name, os.O_RDONLY)
	return c.Fs.Open(name)
}

func (c *genReadFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	c.count(name, flag)
	return c.Fs.OpenFile(name, flag, perm)
}

// An unchanged export reads each generation file once: the mass-change
// guard loads the newest generation and the one a window before (here
// the oldest, the history being younger than the window) through one
// reader, and Commit takes the newest from the guard. Before, the guard
// loaded the newest, then listed every generation (reading each file)
// and loaded the oldest again: the full generation was read and decoded
// three times before every unchanged export.
func TestUnchangedExportReadsEachGenerationOnce(t *testing.T) {
	f, now := historyFixture(t, sample.Rows(20, 8))
	f.e.MassChange = DefaultMassChange
	for range 3 {
		f.export(ExportOptions{})
		*now = now.Add(time.Hour)
	}
	c := &genReadFs{Fs: genClockFs{Fs: f.fs, now: now}, reads: map[string]int{}}
	f.e.setFs(c)
	f.export(ExportOptions{})
	if len(c.reads) < 3 {
		t.Fatalf("generation files read: %v, want the 3 of the chain", c.reads)
	}
	for name, n := range c.reads {
		if n > 1 {
			t.Errorf("%s read %d times", name, n)
		}
	}
}

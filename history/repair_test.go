package history

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// A pack the newest generation reuses contents from is damaged (a byte
// flipped, cut short, another pack's file under its name) or gone: the next Commit stores those contents again and names
// the pack, so the new generation restores whole; Check names the older
// generations that stay damaged.
func TestCommitRepairsDamagedPacks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, fsys afero.Fs, pack string)
		reason string
	}{
		{"byte flipped", func(t *testing.T, fsys afero.Fs, pack string) { flipByte(t, fsys, pack, 30) }, "Prüfsumme"},
		{"cut short", func(t *testing.T, fsys afero.Fs, pack string) {
			data, _ := afero.ReadFile(fsys, pack)
			_ = afero.WriteFile(fsys, pack, data[:len(data)/3], 0o644)
		}, "Prüfsumme"},
		{"gone", func(t *testing.T, fsys afero.Fs, pack string) { _ = fsys.Remove(pack) }, "fehlt"},
		// Whole and sealed, but another pack's file: its trailer proves
		// it, only the sequence number and id inside tell it apart.
		{"another pack's file", func(t *testing.T, fsys afero.Fs, pack string) {
			data, err := afero.ReadFile(fsys, packOf(t, fsys, 2))
			if err != nil {
				t.Fatal(err)
			}
			_ = afero.WriteFile(fsys, pack, data, 0o644)
		}, "nicht das ihres Namens"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fsys := memArchive()
			s := Open(archiveOf(fsys), WithMaxChain(2))
			tb := newTable(14, 30)
			commit(t, s, tb)
			tb.churn(4)
			commit(t, s, tb)
			pack := packOf(t, fsys, 1)
			tc.damage(t, fsys, pack)
			tb.churn(2)
			res := commit(t, s, tb)
			if len(res.Repaired) != 1 || res.Repaired[0].Path != pack && !strings.Contains(res.Repaired[0].Path, "0000000001") ||
				!strings.Contains(res.Repaired[0].Reason, tc.reason) || res.Repaired[0].Contents == 0 {
				t.Fatalf("repaired %+v", res.Repaired)
			}
			assertSnapshot(t, s, res.Info.Seq, tb.want())
			// The next commit trusts the new pack: nothing to repair.
			if again := commit(t, s, tb); len(again.Repaired) != 0 {
				t.Fatalf("second commit repaired %+v", again.Repaired)
			}
			d, err := s.Check(ctx)
			if err != nil || len(d) == 0 {
				t.Fatalf("Check: %v %v", d, err)
			}
			for _, x := range d {
				for _, g := range x.Gens {
					if g >= res.Info.Seq {
						t.Fatalf("generation %d still damaged: %v", g, x)
					}
				}
			}
		})
	}
}

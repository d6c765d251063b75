package pdf

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

func TestCandidates(t *testing.T) {
	tests := []struct {
		path, nr, root string
		want           []string
	}{
		{"test_archiv/2024/076329/076329_Auftrag.pdf", "076329", "", []string{"test_archiv/2024/076329/076329_Auftrag.pdf", "2024/076329/076329_Auftrag.pdf"}},
		{"2024/076329/076329_Auftrag.pdf", "076329", "", []string{"2024/076329/076329_Auftrag.pdf"}},
		{"/srv/archiv/2024/076329/a.pdf", "076329", "/srv/archiv", []string{"2024/076329/a.pdf"}},
		{"/srv/archiv/x/a.pdf", "076329", "/srv/archiv", []string{"x/a.pdf"}},
		{"/anderswo/2024/076329/a.pdf", "076329", "/srv/archiv", []string{"2024/076329/a.pdf"}},
		{`C:\Werkstatt\Archiv\2024\076329\a.pdf`, "076329", "", []string{"2024/076329/a.pdf"}},
		{`c:\werkstatt\archiv\2024\076329\a.pdf`, "076329", `C:\Werkstatt\Archiv`, []string{"2024/076329/a.pdf"}},
		{`\\nas\share\archiv\2024\076329\a.pdf`, "076329", "", []string{"2024/076329/a.pdf"}},
		{`archiv\2024\076329\a.pdf`, "076329", "", []string{"archiv/2024/076329/a.pdf", "2024/076329/a.pdf"}},
		{"../../etc/2024/076329/passwd", "076329", "", []string{"2024/076329/passwd"}},
		{"../../etc/passwd", "076329", "", nil},
		{"2024/999999/a.pdf", "076329", "", []string{"2024/999999/a.pdf"}},
		{"", "076329", "", nil},
	}
	for _, tt := range tests {
		if got := Candidates(tt.path, tt.nr, tt.root); !slices.Equal(got, tt.want) {
			t.Errorf("Candidates(%q, %q, %q) = %q, want %q", tt.path, tt.nr, tt.root, got, tt.want)
		}
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		v    string
		want Kind
	}{
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", SHA256},
		{"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", SHA256},
		{"da39a3ee5e6b4b0d3255bfef95601890afd80709", SHA1},
		{"d41d8cd98f00b204e9800998ecf8427e", MD5},
		{" d41d8cd98f00b204e9800998ecf8427e ", MD5},
		{"d41d8cd98f00b204e9800998ecf8427g", Unverifiable},
		{"abc123", Unverifiable},
		{"", Unverifiable},
	}
	for _, tt := range tests {
		if got, _ := KindOf(tt.v); got != tt.want {
			t.Errorf("KindOf(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]Policy{"": DefaultPolicy, "alle": {All: true}, "AUS": {}, "5%": {Share: 0.05}, " 12.5 %": {Share: 0.125}} {
		if got, err := ParsePolicy(in); err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"5", "manchmal", "0.5%x", "150%", "-1%"} {
		if _, err := ParsePolicy(bad); err == nil {
			t.Errorf("ParsePolicy(%q): no error", bad)
		}
	}
}

// TestPlanCycle: on a fake clock, every PDF is read at least once in every
// 30 days, whether verify runs nightly, weekly or at odd intervals, while
// orders are added; a fixed 5 % reads all in 20 runs.
func TestPlanCycle(t *testing.T) {
	for _, every := range []time.Duration{24 * time.Hour, 7 * 24 * time.Hour, 13 * time.Hour, 3 * 24 * time.Hour} {
		var st Rotation
		ids := make([]int64, 0, 400)
		for i := range 300 {
			ids = append(ids, int64(i+1))
		}
		start := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
		last := map[int64]time.Time{}
		// Runs that do not divide the cycle may overshoot it by one interval.
		bound := Cycle
		if Cycle%every != 0 {
			bound += every
		}
		for now := start; now.Before(start.Add(120 * 24 * time.Hour)); now = now.Add(every) {
			if len(ids) < 400 && now.Sub(start) > 10*24*time.Hour {
				ids = append(ids, int64(len(ids)+1)) // a new order
			}
			for _, id := range ids {
				if _, ok := last[id]; !ok {
					last[id] = now // known from now on
				}
			}
			var picked []int
			picked, st = st.Plan(DefaultPolicy, ids, now)
			for _, i := range picked {
				if gap := now.Sub(last[ids[i]]); gap > bound {
					t.Fatalf("every %v: order %d read after %v", every, ids[i], gap)
				}
				last[ids[i]] = now
			}
			for _, id := range ids {
				if gap := now.Sub(last[id]); gap > bound {
					t.Fatalf("every %v: order %d not read for %v", every, id, gap)
				}
			}
		}
	}
	var st Rotation
	ids := make([]int64, 100)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	seen := map[int64]bool{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 20 {
		var picked []int
		picked, st = st.Plan(Policy{Share: 0.05}, ids, now)
		if len(picked) != 5 {
			t.Fatalf("5%% of 100: %d", len(picked))
		}
		for _, i := range picked {
			seen[ids[i]] = true
		}
		now = now.Add(time.Hour)
	}
	if len(seen) != 100 {
		t.Fatalf("20 runs at 5%% read %d of 100", len(seen))
	}
}

// statFs counts Stat calls.
type statFs struct {
	afero.Fs
	stats int
}

func (s *statFs) Stat(name string) (os.FileInfo, error) {
	s.stats++
	return s.Fs.Stat(name)
}

// TestLocateSkipsPrefixNotInTree: the seed's file_path test_archiv/2024/…
// below a tree that is test_archiv itself costs one stat per PDF, not two
// (a round trip each on a share); a path as given that lies in the tree
// is still taken first.
func TestLocateSkipsPrefixNotInTree(t *testing.T) {
	mem := afero.NewMemMapFs()
	for _, p := range []string{"2024/000001/a.pdf", "2024/000002/b.pdf", "sonder/2024/000003/c.pdf", "2024/000003/c.pdf"} {
		afero.WriteFile(mem, p, []byte(p), 0o644)
	}
	fs := &statFs{Fs: mem}
	ck := &Checker{Tree: &storage.Archive{Fs: fs}, Workers: 1}
	for _, tc := range []struct{ fp, nr, want string }{
		{"test_archiv/2024/000001/a.pdf", "000001", "2024/000001/a.pdf"},
		{"test_archiv/2024/000002/b.pdf", "000002", "2024/000002/b.pdf"},
		{"sonder/2024/000003/c.pdf", "000003", "sonder/2024/000003/c.pdf"},
	} {
		p, _, err := ck.Locate(context.Background(), Order{FilePath: tc.fp, AuftragNr: tc.nr})
		if err != nil || p != tc.want {
			t.Fatalf("Locate(%q) = %q, %v; want %q", tc.fp, p, err, tc.want)
		}
	}
	if fs.stats != 3 {
		t.Fatalf("%d stats for 3 PDFs, want 3", fs.stats)
	}
}

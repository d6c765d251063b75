package history

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// gensAt makes generations 1, 2, … with these archive times ("2006-01-02
// 15:04" UTC). Their client clock is wildly wrong on purpose: it must not
// matter.
func gensAt(t *testing.T, times ...string) []GenerationInfo {
	t.Helper()
	out := make([]GenerationInfo, len(times))
	for i, s := range times {
		at, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = GenerationInfo{Seq: uint64(i + 1), ArchiveTime: at, ClientTime: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Hour)}
	}
	return out
}

func TestRetentionMatchesRestic(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	daily10 := []string{"2026-11-01 02:00", "2026-11-02 02:00", "2026-11-03 02:00", "2026-11-04 02:00", "2026-11-05 02:00",
		"2026-11-06 02:00", "2026-11-07 02:00", "2026-11-08 02:00", "2026-11-09 02:00", "2026-11-10 02:00"}
	threePerDay := []string{"2026-11-01 02:00", "2026-11-01 12:00", "2026-11-01 20:00",
		"2026-11-02 02:00", "2026-11-02 12:00", "2026-11-02 20:00",
		"2026-11-03 02:00", "2026-11-03 12:00", "2026-11-03 20:00"}
	for _, tc := range []struct {
		name  string
		times []string
		p     Retention
		keep  []uint64 // seqs, newest first
	}{
		{"keep-last", daily10, Retention{Last: 3}, []uint64{10, 9, 8}},
		{"keep-daily, one per day", daily10, Retention{Daily: 3}, []uint64{10, 9, 8}},
		{"keep-daily, several per day: the newest of each", threePerDay, Retention{Daily: 2}, []uint64{9, 6}},
		{"days without generations do not count (gaps)",
			[]string{"2026-11-01 02:00", "2026-11-02 02:00", "2026-11-05 02:00", "2026-11-09 02:00", "2026-11-10 02:00"},
			Retention{Daily: 3}, []uint64{5, 4, 3}},
		{"keep-last and keep-daily overlap: union",
			[]string{"2026-11-01 02:00", "2026-11-02 02:00", "2026-11-02 12:00", "2026-11-03 02:00", "2026-11-03 12:00"},
			Retention{Last: 2, Daily: 2}, []uint64{5, 4, 3}},
		{"counts left at the oldest: it is kept too (restic's 'oldest daily')",
			[]string{"2026-11-01 02:00", "2026-11-01 12:00", "2026-11-02 02:00"},
			Retention{Daily: 5}, []uint64{3, 2, 1}},
		{"keep-daily unlimited",
			[]string{"2026-11-01 02:00", "2026-11-01 12:00", "2026-11-02 02:00", "2026-11-02 12:00", "2026-11-03 02:00"},
			Retention{Daily: -1}, []uint64{5, 4, 2, 1}},
		{"ISO weeks: week 53 of 2026 spans the new year",
			[]string{"2026-12-27 10:00", "2026-12-31 10:00", "2027-01-02 10:00", "2027-01-05 10:00"},
			Retention{Weekly: 2}, []uint64{4, 3}},
		{"keep-yearly takes the last of each year",
			[]string{"2026-12-27 10:00", "2026-12-31 10:00", "2027-01-02 10:00", "2027-01-05 10:00"},
			Retention{Yearly: 2}, []uint64{4, 2}},
		{"keep-monthly",
			[]string{"2026-01-31 10:00", "2026-02-01 10:00", "2026-02-28 10:00", "2026-03-01 10:00"},
			Retention{Monthly: 2}, []uint64{4, 3}},
		{"daily+weekly+monthly like restic's example",
			[]string{"2026-10-30 02:00", "2026-10-31 02:00", "2026-11-01 02:00", "2026-11-02 02:00", "2026-11-08 02:00",
				"2026-11-09 02:00", "2026-11-10 02:00"},
			Retention{Daily: 2, Weekly: 2, Monthly: 2}, []uint64{7, 6, 5, 2}}, // 8 Nov is a Sunday: week of 2–8 Nov
		{"order is by sequence even when the archive clock stepped back",
			[]string{"2026-11-01 02:00", "2026-11-03 02:00", "2026-11-02 02:00"},
			Retention{Last: 1}, []uint64{3}},
		{"everything when asked explicitly", daily10[:3], Retention{AllowEmpty: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.Location = time.UTC
			ds, err := tc.p.Apply(gensAt(t, tc.times...))
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, d := range ds {
				if d.Keep {
					got = append(got, d.Info.Seq)
				}
			}
			if !slices.Equal(got, tc.keep) {
				t.Fatalf("kept %v, want %v\n%v", got, tc.keep, ds)
			}
		})
	}

	t.Run("days are judged in the given time zone", func(t *testing.T) {
		// 21:00Z and 22:00Z are 1 November in CET, 23:30Z is 2 November.
		gens := gensAt(t, "2026-11-01 21:00", "2026-11-01 22:00", "2026-11-01 23:30")
		ds, _ := Retention{Daily: 2, Location: cet}.Apply(gens)
		if got := kept(ds); !slices.Equal(got, []uint64{3, 2}) {
			t.Fatalf("CET: kept %v", got)
		}
		ds, _ = Retention{Daily: 2, Location: time.UTC}.Apply(gens)
		if got := kept(ds); !slices.Equal(got, []uint64{3, 1}) {
			t.Fatalf("UTC: kept %v (one day: newest, then the oldest with a count left)", got)
		}
	})
}

func kept(ds []Decision) []uint64 {
	var out []uint64
	for _, d := range ds {
		if d.Keep {
			out = append(out, d.Info.Seq)
		}
	}
	return out
}

func TestRetentionRefusesNothingAndNonsense(t *testing.T) {
	_, err := Retention{}.Apply(gensAt(t, "2026-11-01 02:00"))
	if !errors.Is(err, ErrEmptyPolicy) || !strings.Contains(err.Error(), "ganze Historie") {
		t.Fatalf("empty policy: %v", err)
	}
	if _, err := (Retention{Daily: -2}).Apply(nil); err == nil || !strings.Contains(err.Error(), "keep-daily -2") {
		t.Fatalf("-2: %v", err)
	}
	if err := DefaultRetention.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := (Retention{Last: 3, Monthly: -1}).String(); got != "--keep-last 3 --keep-monthly unbegrenzt" {
		t.Fatal(got)
	}
}

func TestRetentionReasons(t *testing.T) {
	ds, err := Retention{Last: 1, Daily: 5, Location: time.UTC}.Apply(gensAt(t, "2026-11-01 02:00", "2026-11-01 12:00", "2026-11-02 02:00"))
	if err != nil {
		t.Fatal(err)
	}
	got := [][]string{ds[0].Reasons, ds[1].Reasons, ds[2].Reasons}
	want := [][]string{{"keep-last", "keep-daily"}, {"keep-daily"}, {"keep-daily (älteste)"}}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("reasons %q, want %q", got, want)
		}
	}
}

package history

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/codec"
)

func TestVersionsOfOneOrder(t *testing.T) {
	ctx := context.Background()
	s := Open(archiveOf(memArchive()))
	tb := newTable(31, 5)
	nr := tb.rows[3].nr
	commit(t, s, tb) // 1: first version
	tb.update(1)
	commit(t, s, tb) // 2: record 3 unchanged
	tb.update(3)
	commit(t, s, tb) // 3: second version
	commit(t, s, tb) // 4: unchanged
	delete(tb.rows, 3)
	commit(t, s, tb) // 5: removed
	vs, err := s.Versions(ctx, Selector{AuftragNr: nr})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, map[bool]string{false: "v", true: "weg"}[v.Removed]+string(rune('0'+v.Info.Seq)))
	}
	if strings.Join(got, " ") != "v1 v3 weg5" {
		t.Fatalf("versions %v", got)
	}
	old, err := s.ReadEntry(ctx, vs[0].Entry)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.ReadEntry(ctx, vs[1].Entry)
	if err != nil || string(old) == string(cur) || !strings.Contains(string(cur), nr) {
		t.Fatalf("contents: %v\n%s\n%s", err, old, cur)
	}
	byID, err := s.Versions(ctx, Selector{RecordID: 3})
	if err != nil || len(byID) != 3 {
		t.Fatalf("by record_id: %v %v", byID, err)
	}
	if _, err := s.Versions(ctx, Selector{}); err == nil {
		t.Fatal("empty selector accepted")
	}
}

func TestMassChange(t *testing.T) {
	s := Open(archiveOf(memArchive()))
	tb := newTable(32, 100)
	recs, _, _ := tb.records()
	if head, err := s.Head(context.Background()); head != nil || err != nil {
		t.Fatalf("Head of an empty archive: %v %v", head, err)
	}
	if m := CompareTo(nil, recs); m.Exceeds(0.25) || m.Added != 100 || m.Share() != 0 {
		t.Fatalf("first export counted as mass change: %+v", m)
	}
	commit(t, s, tb)
	snap, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for id := range int64(20) {
		tb.update(id + 1)
	}
	for id := int64(21); id <= 30; id++ {
		delete(tb.rows, id)
	}
	tb.insert()
	recs, _, _ = tb.records()
	m := CompareTo(snap, recs)
	if m.Total != 100 || m.Changed != 20 || m.Removed != 10 || m.Added != 1 || math.Abs(m.Share()-0.30) > 1e-9 {
		t.Fatalf("%+v share %v", m, m.Share())
	}
	if !m.Exceeds(0.25) || m.Exceeds(0.30) || m.Exceeds(0) {
		t.Fatalf("Exceeds wrong for %+v", m)
	}
}

func TestParseTime(t *testing.T) {
	berlin := time.FixedZone("MEZ", 3600)
	for _, tc := range []struct {
		in   string
		want time.Time
		err  string
	}{
		{"2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, berlin), ""},
		{" 2026-11-01 02:00 ", time.Date(2026, 11, 1, 2, 0, 0, 0, berlin), ""},
		{"2026-11-01 02:00:30", time.Date(2026, 11, 1, 2, 0, 30, 0, berlin), ""},
		{"2026-11-01T02:00", time.Date(2026, 11, 1, 2, 0, 0, 0, berlin), ""},
		{"2026-11-01T02:00:00Z", time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC), ""},
		{"2026-11-01T02:00:00+05:30", time.Date(2026, 10, 31, 20, 30, 0, 0, time.UTC), ""},
		{"2026-11-01T02:00:00.5-01:00", time.Date(2026, 11, 1, 3, 0, 0, 5e8, time.UTC), ""},
		{"2026-02-30", time.Time{}, "diesen Tag gibt es nicht"},
		{"2026-13-01", time.Time{}, "diesen Monat gibt es nicht"},
		{"2026-11-01 25:00", time.Time{}, "diese Uhrzeit gibt es nicht"},
		{"2026-1x-01", time.Time{}, "nicht erkannt"},
		{"01.11.2026", time.Time{}, "nicht erkannt"},
		{"gestern", time.Time{}, "nicht erkannt"},
		{"", time.Time{}, "nicht erkannt"},
		{"2026-11-01T02:00:00+25:00", time.Time{}, "nicht erkannt"},
	} {
		got, err := ParseTime(tc.in, berlin)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err == "" && !got.Equal(tc.want):
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
		case tc.err == "" && got.Location() != berlin && !strings.ContainsAny(tc.in[10:], "Z+-"):
			t.Errorf("%q: not read in local time: %v", tc.in, got)
		}
	}
	// Without a location: local time.
	got, err := ParseTime("2026-11-01 02:00", nil)
	if err != nil || got.Location() != time.Local {
		t.Fatalf("%v %v", got, err)
	}
}

func FuzzDecode(f *testing.F) {
	g := &genFile{Seq: 3, Parent: 2, Prev: 2, ClientTime: time.Unix(1, 0), Records: 2, Added: 1,
		Upserts: []Entry{{Record: Record{RecordID: 5, AuftragNr: "076329", Folder: "2024/076329", Size: 3, Schema: "1.0"}, Pack: 3}},
		Deleted: []int64{7}}
	f.Add(encodeGen(g))
	g2 := *g
	g2.V2, g2.ID, g2.Origin, g2.Archive = true, fileID{1}, fileID{1}, time.UnixMilli(5).UTC()
	f.Add(encodeGen(&g2))
	f.Add(encodePack(3, fileID{2}, []blob{{Sum([]byte("abc")), []byte("abc")}}))
	f.Add([]byte(genMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		if g, err := decodeGen(data); err == nil {
			if again, err := decodeGen(encodeGen(g)); err != nil || again.Seq != g.Seq || len(again.Upserts) != len(g.Upserts) {
				t.Fatalf("round trip: %v", err)
			}
		}
		_ = decodePack(data, 3, fileID{2}, func(Hash, []byte) error { return nil })
		_ = decodePack(data, 3, fileID{}, func(Hash, []byte) error { return nil })
	})
}

func TestFieldChanges(t *testing.T) {
	hdr := "record_id,auftrag_nr,kunde_name,vin\r\n"
	old := []byte(hdr + "12,076329,Jürgen Müller,WVWZZZ1\r\n")
	cur := []byte(hdr + "12,076329,\"Müller, Jürgen\",WVWZZZ2\r\n")
	got, err := FieldChanges(old, cur)
	if err != nil {
		t.Fatal(err)
	}
	want := []FieldChange{{"kunde_name", "Jürgen Müller", "Müller, Jürgen"}, {"vin", "WVWZZZ1", "WVWZZZ2"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("%+v", got)
	}
	// Another schema: a new column, a dropped one.
	v2 := []byte("record_id,auftrag_nr,kunde_name,farbe\r\n12,076329,Jürgen Müller,rot\r\n")
	got, err = FieldChanges(old, v2)
	if err != nil || len(got) != 2 || got[0] != (FieldChange{"farbe", "", "rot"}) || got[1] != (FieldChange{"vin", "WVWZZZ1", ""}) {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := FieldChanges(old, []byte(hdr)); err == nil || !strings.Contains(err.Error(), "neuere Fassung: keine Datenzeile") {
		t.Fatalf("header only: %v", err)
	}
	if _, err := FieldChanges([]byte("a\r\n\"x"), cur); err == nil || !strings.HasPrefix(err.Error(), "ältere Fassung") {
		t.Fatalf("bad quoting: %v", err)
	}
}

func TestRecordOfAndMetaRoundTrip(t *testing.T) {
	data := []byte("record_id,auftrag_nr\r\n12,076329\r\n")
	m := codec.Meta{SchemaVersion: "1.0", Checksum: strings.ToUpper(Sum(data).String()), ExportedAt: "2026-11-01T02:00:00",
		AuftragNr: "076329", RecordID: 12, FileSize: int64(len(data))}
	r, err := RecordOf("2024/076329", m)
	if err != nil || r.Hash != Sum(data) || r.Folder != "2024/076329" || r.Size != m.FileSize || r.Schema != "1.0" {
		t.Fatalf("%+v %v", r, err)
	}
	at, _ := time.ParseInLocation("2006-01-02T15:04:05", m.ExportedAt, time.Local)
	back := Entry{Record: r, Pack: 1}.Meta(GenerationInfo{ClientTime: at})
	m.Checksum = strings.ToLower(m.Checksum)
	if back != m {
		t.Fatalf("meta %+v, want %+v", back, m)
	}
	m.Checksum = "xyz"
	if _, err := RecordOf("2024/076329", m); err == nil || !strings.Contains(err.Error(), "2024/076329/meta.json") {
		t.Fatalf("bad checksum: %v", err)
	}
}

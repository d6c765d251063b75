package store

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

func TestScanConversion(t *testing.T) {
	db, _ := newWriteDB(t)
	mustExec(t, db, `CREATE TABLE t (i INTEGER, f REAL, s TEXT, b BLOB, n, d DATE, ts TIMESTAMP);
		INSERT INTO t VALUES (42, 1.5, 'Müller, "Hans"', x'414243', NULL, '2024-07-29', '2024-07-29 10:30:00');
		INSERT INTO t VALUES (-7, 3.0, '', x'', NULL, NULL, '');
		INSERT INTO t VALUES (9223372036854775807, 1e16, ' HH-AB 12', NULL, 0.0001, 'kein Datum', 1722249000);
		INSERT INTO t VALUES (0, 1e-5, 'a' || char(10) || 'b', x'C3B6', -0.0, '', 2.5)`)
	want := [][]string{
		{"42", "1.5", `Müller, "Hans"`, "ABC", "", "2024-07-29", "2024-07-29 10:30:00"},
		{"-7", "3.0", "", "", "", "", ""},
		{"9223372036854775807", "1e+16", " HH-AB 12", "", "0.0001", "kein Datum", "1722249000"},
		{"0", "1e-05", "a\nb", "ö", "-0.0", "", "2.5"},
	}
	var cols []string
	got := [][]string{}
	n, err := db.Scan(context.Background(), "t", func(c, vals []string) error {
		cols = slices.Clone(c)
		got = append(got, slices.Clone(vals))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) || !equalRows(got, want) {
		t.Fatalf("n = %d, rows\n%q\nwant\n%q", n, got, want)
	}
	if wantCols := []string{"i", "f", "s", "b", "n", "d", "ts"}; !slices.Equal(cols, wantCols) {
		t.Errorf("cols = %q, want %q", cols, wantCols)
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{nil, ""},
		{int64(-12), "-12"},
		{float64(100), "100.0"},
		{-0.5, "-0.5"},
		{0.1, "0.1"},
		{123456789.125, "123456789.125"},
		{1e15, "1000000000000000.0"},
		{1.5e300, "1.5e+300"},
		{math.Inf(1), "inf"},
		{math.NaN(), "nan"},
		{[]byte("Öl"), "Öl"},
		{"text", "text"},
		{true, "1"},
		{false, "0"},
		{time.Date(2024, 7, 29, 10, 30, 5, 999, time.UTC), "2024-07-29T10:30:05"},
	} {
		if got := formatValue(tc.in); got != tc.want {
			t.Errorf("formatValue(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestScanStopsOnCallbackError(t *testing.T) {
	db, _ := newWriteDB(t)
	mustExec(t, db, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)")
	stop := errors.New("stop")
	n, err := db.Scan(context.Background(), "t", func(_, vals []string) error {
		if vals[0] == "2" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("n, err = %d, %v; want 2, stop", n, err)
	}
}

func TestScanOrderedByRowid(t *testing.T) {
	db, _ := newWriteDB(t)
	mustExec(t, db, `CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE);
		INSERT INTO t VALUES (3, 'a'), (1, 'c'), (2, 'b')`)
	got := scanAll(t, db, "t")
	if want := [][]string{{"1", "c"}, {"2", "b"}, {"3", "a"}}; !equalRows(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestScanSnapshot(t *testing.T) {
	ctx := context.Background()
	w, path := newWriteDB(t)
	if _, err := w.sql.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, w, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('a'), ('b'), ('c')")

	r, err := OpenRead(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// A second writer, as the web app would be.
	w2, err := OpenWrite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	var seen []string
	n, err := r.Scan(ctx, "t", func(_, vals []string) error {
		if vals[0] == "1" {
			if err := w2.Exec(ctx, "INSERT INTO t (v) VALUES ('neu'); DELETE FROM t WHERE id = 3"); err != nil {
				return err
			}
		}
		seen = append(seen, vals[1])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || !slices.Equal(seen, []string{"a", "b", "c"}) {
		t.Fatalf("Scan saw %d rows %q, want the snapshot a b c", n, seen)
	}
	if got := scanAll(t, r, "t"); len(got) != 3 || got[2][1] != "neu" {
		t.Fatalf("after the scan: %q, want the writer's change", got)
	}
}

func TestColumnsAndCount(t *testing.T) {
	ctx := context.Background()
	db, _ := newWriteDB(t)
	if _, err := db.Columns(ctx, "auftraege"); !errors.Is(err, ErrNoTable) {
		t.Errorf("Columns of missing table: err = %v, want ErrNoTable", err)
	}
	if _, err := db.Scan(ctx, "auftraege", func(_, _ []string) error { return nil }); !errors.Is(err, ErrNoTable) {
		t.Errorf("Scan of missing table: err = %v, want ErrNoTable", err)
	}
	if n, err := db.Count(ctx, "auftraege"); n != 0 || err != nil {
		t.Errorf("Count of missing table = %d, %v; want 0, nil", n, err)
	}
	mustExec(t, db, `CREATE TABLE auftraege (record_id INTEGER PRIMARY KEY, auftrag_nr TEXT, "kunde name" TEXT);
		INSERT INTO auftraege (auftrag_nr) VALUES ('000001'), ('000002')`)
	cols, err := db.Columns(ctx, "auftraege")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"record_id", "auftrag_nr", "kunde name"}; !slices.Equal(cols, want) {
		t.Errorf("Columns = %q, want %q", cols, want)
	}
	if n, err := db.Count(ctx, "auftraege"); n != 2 || err != nil {
		t.Errorf("Count = %d, %v; want 2, nil", n, err)
	}
}

package sample

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRowsDeterministic(t *testing.T) {
	a, b := Rows(300, 42), Rows(300, 42)
	if !slices.EqualFunc(a, b, slices.Equal) {
		t.Fatal("same seed, different rows")
	}
	if c := Rows(300, 43); slices.EqualFunc(a, c, slices.Equal) {
		t.Fatal("different seeds, same rows")
	}
	if d := Rows(10, 42); !slices.EqualFunc(d, a[:10], slices.Equal) {
		t.Fatal("Rows(10) is not a prefix of Rows(300) for the same seed")
	}
	if len(Rows(0, 1)) != 0 {
		t.Fatal("Rows(0) not empty")
	}
}

var (
	reNr       = regexp.MustCompile(`^[0-9]{6}$`)
	reKundenNr = regexp.MustCompile(`^K[0-9]{5}$`)
	rePlate    = regexp.MustCompile(`^ ?[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} [1-9][0-9]{0,3}[EH]?$`)
	reVIN      = regexp.MustCompile(`^[A-HJ-NPR-Z0-9]{17}$`)
	reHash     = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func TestRowsFormat(t *testing.T) {
	const n = 5000
	rows := Rows(n, 2024)
	if len(rows) != n {
		t.Fatalf("len = %d", len(rows))
	}
	nrs := map[string]bool{}
	count := map[string]int{}
	for i, r := range rows {
		if len(r) != len(Columns) {
			t.Fatalf("row %d has %d fields", i, len(r))
		}
		f := map[string]string{}
		for j, c := range Columns {
			f[c] = r[j]
		}
		fail := func(col, why string) { t.Errorf("row %d %s %q: %s", i+1, col, f[col], why) }
		if f["record_id"] != strconv.Itoa(i+1) {
			fail("record_id", "not sequential")
		}
		nr := f["auftrag_nr"]
		if !reNr.MatchString(nr) {
			fail("auftrag_nr", "not 6 digits")
		}
		if nrs[nr] {
			fail("auftrag_nr", "duplicate")
		}
		nrs[nr] = true
		if nr[0] == '0' {
			count["leading zero"]++
		}
		name := f["kunde_name"]
		if name == "" || strings.ContainsAny(name, "\r\n") || strings.TrimSpace(name) != name {
			fail("kunde_name", "empty, multi-line or padded")
		}
		if strings.Contains(name, ",") {
			count["comma"]++
		}
		if strings.Contains(name, `"`) {
			count["quote"]++
		}
		if strings.ContainsAny(name, "äöüÄÖÜß") {
			count["umlaut"]++
		}
		if k := f["kunden_nr"]; k != "" && !reKundenNr.MatchString(k) {
			fail("kunden_nr", "not K + 5 digits")
		}
		if !rePlate.MatchString(f["kennzeichen"]) {
			fail("kennzeichen", "not a German plate")
		}
		if strings.HasPrefix(f["kennzeichen"], " ") {
			count["space"]++
		}
		if v := f["vin"]; v != "" && !reVIN.MatchString(v) {
			fail("vin", "not a VIN")
		}
		if f["kunden_nr"] == "" || f["vin"] == "" {
			count["sparse"]++
		}
		day, err := time.Parse(time.DateOnly, f["datum"])
		if err != nil || day.Format(time.DateOnly) != f["datum"] || day.Year() < 2019 || day.Year() > 2024 {
			fail("datum", "not a real date in 2019..2024")
		}
		if fv := f["formular_version"]; fv != "alt" && fv != "neu" {
			fail("formular_version", "not alt/neu")
		}
		if kw := f["keywords_json"]; kw != "" {
			var m map[string][]int
			if err := json.Unmarshal([]byte(kw), &m); err != nil || len(m) == 0 {
				fail("keywords_json", fmt.Sprintf("not a keyword object: %v", err))
			}
		}
		wantPath := fmt.Sprintf("archiv/%d/%s/%s_Auftrag.pdf", day.Year(), nr, nr)
		if f["file_path"] != wantPath {
			fail("file_path", "want "+wantPath)
		}
		if !reHash.MatchString(f["hash"]) || (i < 50 && f["hash"] != sha256Hex(PDF(nr))) {
			fail("hash", "not the sha256 of PDF(auftrag_nr)")
		}
		if dc := f["data_complete"]; dc != "0" && dc != "1" {
			fail("data_complete", "not 0/1")
		}
		created, err1 := time.Parse("2006-01-02T15:04:05", f["created_at"])
		updated, err2 := time.Parse("2006-01-02T15:04:05", f["updated_at"])
		if err1 != nil || err2 != nil || updated.Before(created) || created.Format(time.DateOnly) != f["datum"] {
			fail("created_at/updated_at", f["updated_at"]+" invalid, before created_at, or not on datum")
		}
	}
	for what, lo := range map[string]int{"leading zero": n / 20, "comma": n / 10, "quote": n / 100,
		"umlaut": n / 4, "space": n / 100, "sparse": n / 50} {
		if count[what] < lo {
			t.Errorf("%d rows with %s, want at least %d", count[what], what, lo)
		}
	}
	if count["space"] > n/25 || count["sparse"] > n/10 {
		t.Errorf("too many padded plates (%d) or sparse rows (%d)", count["space"], count["sparse"])
	}
}

func TestRowsTooMany(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for n > MaxRows")
		}
	}()
	Rows(MaxRows+1, 1)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPDF(t *testing.T) {
	p := PDF("076329")
	if !bytes.HasPrefix(p, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(p, []byte("%%EOF\n")) {
		t.Fatalf("not framed as a PDF:\n%s", p)
	}
	if len(p) < 200 || len(p) > 1000 {
		t.Errorf("size %d, want a few hundred bytes", len(p))
	}
	if !bytes.Contains(p, []byte("(Auftrag 076329) Tj")) {
		t.Error("order number missing")
	}
	// startxref points at the xref table, whose entries point at the objects.
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(p)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(p[xref:], []byte("xref\n0 6\n")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	entries := p[xref+len("xref\n0 6\n"):]
	for i := 1; i <= 5; i++ {
		e := string(entries[20*i : 20*i+20])
		off, _ := strconv.Atoi(e[:10])
		if want := fmt.Sprintf("%d 0 obj\n", i); !bytes.HasPrefix(p[off:], []byte(want)) {
			t.Errorf("xref entry %d = %q does not point at %q", i, e, want)
		}
	}
	// The stream length is exact.
	m = regexp.MustCompile(`(?s)<< /Length (\d+) >>\nstream\n(.*?)\nendstream`).FindSubmatch(p)
	if l, _ := strconv.Atoi(string(m[1])); m == nil || l != len(m[2]) {
		t.Errorf("stream length wrong")
	}
	if !bytes.Equal(PDF("076329"), p) || bytes.Equal(PDF("076330"), p) {
		t.Error("PDF not a function of the order number")
	}
	if !bytes.Contains(PDF(`1(2)\`), []byte(`(Auftrag 1\(2\)\\) Tj`)) {
		t.Error("text not escaped")
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPDFsThroughTheBinary: the seed's layout (PDFs in test_archiv), then a
// 3-2-1 set-up with a second site on the same database whose archive is
// elsewhere: verify --pdfs finds a changed, a truncated and a deleted PDF
// (exit 1, --json counts them, last_run.json too), export --all-sites
// copies every PDF to the offsite archive, restore --pdfs gives them back
// byte-identical and refuses the live tree without --force.
func TestPDFsThroughTheBinary(t *testing.T) {
	dir := workshop(t, 12)
	cfg := `{"db": "test_archiv/werkstatt.db", "log_file": "wb.log", "mass_change": "25%",
  "sites": [
    {"name": "nas", "archiv": "test_archiv"},
    {"name": "offsite", "archiv": "offsite", "pdfs": "test_archiv"}
  ]}`
	if err := os.WriteFile(filepath.Join(dir, "wb.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "offsite"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := []string{"--config", "wb.json"}
	r := wb(t, dir, append(c, "export", "--all-sites")...).expect(t, 0)
	if !strings.Contains(r.stdout, "PDFs: 12 kopiert") {
		t.Fatalf("export --all-sites did not copy the PDFs:\n%s", r.stdout)
	}
	pdfs, _ := filepath.Glob(filepath.Join(dir, "test_archiv", "*", "*", "*.pdf"))
	if len(pdfs) != 12 {
		t.Fatalf("%d PDFs", len(pdfs))
	}
	copies, _ := filepath.Glob(filepath.Join(dir, "offsite", "_pdfs", "*", "*.pdf"))
	if len(copies) != 12 {
		t.Fatalf("%d copies offsite, want 12", len(copies))
	}
	wb(t, dir, append(c, "verify", "--site", "nas", "--pdfs")...).expect(t, 0)
	wb(t, dir, append(c, "verify", "--site", "offsite", "--pdfs")...).expect(t, 0)

	// Damage three PDFs on the NAS.
	orig := map[string][]byte{}
	for _, p := range pdfs {
		orig[p], _ = os.ReadFile(p)
	}
	complete := completePDFs(t, pdfs)
	os.WriteFile(complete[0], append(orig[complete[0]], "x"...), 0o644)
	os.WriteFile(complete[1], orig[complete[1]][:50], 0o644)
	os.Remove(complete[2])
	r = wb(t, dir, append(c, "verify", "--site", "nas", "--pdfs", "--json")...).expect(t, 1)
	var rep struct {
		PDFs struct{ Checked, Good, Bad, Missing, Unverifiable int } `json:"pdfs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.PDFs.Checked != 12 || rep.PDFs.Bad != 2 || rep.PDFs.Missing != 1 {
		t.Fatalf("--json: %v %+v\n%s", err, rep.PDFs, r.stdout)
	}
	last, _ := os.ReadFile(filepath.Join(dir, "last_run.json"))
	if !strings.Contains(string(last), `"bad": 2`) && !strings.Contains(string(last), `"bad":2`) {
		t.Fatalf("last_run.json does not count the PDFs:\n%s", last)
	}
	r = wb(t, dir, append(c, "verify", "--site", "nas", "--pdfs")...).expect(t, 1)
	for _, p := range complete[:3] {
		rel := filepath.ToSlash(strings.TrimPrefix(p, filepath.Join(dir, "test_archiv")+string(filepath.Separator)))
		if !strings.Contains(r.stdout, "ERROR - "+rel+": PDF von Auftrag") {
			t.Fatalf("%s not named:\n%s", rel, r.stdout)
		}
	}

	// Back from the offsite copies, byte-identical.
	wb(t, dir, append(c, "restore", "--site", "offsite", "--pdfs", "test_archiv")...).expect(t, 2)
	r = wb(t, dir, append(c, "restore", "--site", "offsite", "--pdfs", "zurueck")...).expect(t, 0)
	if !strings.Contains(r.stdout, "PDF-Restore abgeschlossen: 12 PDFs wiederhergestellt") {
		t.Fatalf("restore --pdfs:\n%s", r.stdout)
	}
	for p, want := range orig {
		rel := strings.TrimPrefix(p, filepath.Join(dir, "test_archiv"))
		got, err := os.ReadFile(filepath.Join(dir, "zurueck", rel))
		if err != nil || string(got) != string(want) {
			t.Fatalf("%s not restored byte-identical: %v", rel, err)
		}
	}
}

// completePDFs returns the PDFs of rows with data_complete = 1 (a damage
// there is an error, not a warning), at least three.
func completePDFs(t *testing.T, pdfs []string) []string {
	t.Helper()
	var out []string
	for _, p := range pdfs {
		if isComplete(t, p) {
			out = append(out, p)
		}
	}
	if len(out) < 3 {
		t.Fatalf("only %d complete orders", len(out))
	}
	return out
}

// isComplete reads data_complete from the order's data.csv beside its PDF.
func isComplete(t *testing.T, pdf string) bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(pdf), "data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\r\n")
	// data_complete is third from the end (before created_at and
	// updated_at, which hold no comma); the fields before it may.
	f := strings.Split(lines[len(lines)-1], ",")
	return len(f) >= 3 && f[len(f)-3] == "1"
}

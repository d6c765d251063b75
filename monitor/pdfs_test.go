package monitor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMetricsCountPDFs: a run that dealt with PDFs writes their counts;
// a site that never did has no PDF lines at all.
func TestMetricsCountPDFs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wb.prom")
	fin := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	if err := WriteMetrics(path, Run{Command: "export", Site: "a", Finished: fin}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "pdfs") {
		t.Fatalf("PDF metrics without PDFs:\n%s", b)
	}
	run := Run{Command: "verify", Site: "a", Finished: fin, ExitCode: 1, PDFs: &PDFCounts{Checked: 10, Good: 7, Bad: 2, Missing: 1}}
	if err := WriteMetrics(path, run); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	for _, want := range []string{
		`werkstatt_backup_pdfs_checked{command="verify",site="a",archive=""} 10`,
		`werkstatt_backup_pdfs_bad{command="verify",site="a",archive=""} 2`,
		`werkstatt_backup_pdfs_missing{command="verify",site="a",archive=""} 1`,
		`werkstatt_backup_pdfs_unverifiable{command="verify",site="a",archive=""} 0`,
	} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("missing %s in\n%s", want, b)
		}
	}
	if strings.Contains(string(b), `werkstatt_backup_pdfs_checked{command="export"`) {
		t.Fatal("PDF metrics for a run without PDFs")
	}
}

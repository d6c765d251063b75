package logging

import (
	"bytes"
	"log/slog"
	"regexp"
	"testing"
)

func TestSeedFormat(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(&buf, "werkstatt_backup", slog.LevelInfo))
	log.Info("Export abgeschlossen: 150 erfolgreich, 2 Fehler")
	log.Warn("zwei\nZeilen")
	log.Error("2024/076330/data.csv: Checksumme ungültig")
	log.Debug("unsichtbar")
	want := regexp.MustCompile(`^` +
		`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - werkstatt_backup - INFO - Export abgeschlossen: 150 erfolgreich, 2 Fehler\n` +
		`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - werkstatt_backup - WARNING - zwei ⏎ Zeilen\n` +
		`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - werkstatt_backup - ERROR - 2024/076330/data.csv: Checksumme ungültig\n$`)
	if !want.Match(buf.Bytes()) {
		t.Fatalf("log lines do not match the seed format:\n%s", buf.String())
	}
}

package monitor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Metric names in the Prometheus text file, each with the labels command,
// site and archive.
const (
	MetricLastSuccess = "werkstatt_backup_last_success_timestamp_seconds"
	MetricLastRun     = "werkstatt_backup_last_run_timestamp_seconds"
	MetricRecords     = "werkstatt_backup_records"
	MetricErrors      = "werkstatt_backup_errors"
	MetricWarnings    = "werkstatt_backup_warnings"
	MetricDuration    = "werkstatt_backup_duration_seconds"
	MetricExitCode    = "werkstatt_backup_last_exit_code"

	MetricPDFsChecked      = "werkstatt_backup_pdfs_checked"
	MetricPDFsGood         = "werkstatt_backup_pdfs_good"
	MetricPDFsBad          = "werkstatt_backup_pdfs_bad"
	MetricPDFsMissing      = "werkstatt_backup_pdfs_missing"
	MetricPDFsUnverifiable = "werkstatt_backup_pdfs_unverifiable"
)

// metrics in the order they are written, with their HELP text.
var metrics = []struct{ name, help string }{
	{MetricLastSuccess, "Unix time the last run with exit code 0 finished (0: none yet)."},
	{MetricLastRun, "Unix time the last run finished, whatever its outcome."},
	{MetricRecords, "Records (rows or backups) the last run considered."},
	{MetricErrors, "Problems at level ERROR the last run found."},
	{MetricWarnings, "Problems at level WARNING the last run found."},
	{MetricDuration, "Duration of the last run in seconds."},
	{MetricExitCode, "Exit code of the last run (0 success, 1 error, 2 usage, 3 validation, 4 lock, 130 interrupted)."},
	{MetricPDFsChecked, "Order PDFs the last run read or looked for (only runs that dealt with PDFs)."},
	{MetricPDFsGood, "Order PDFs the last run found matching their hash."},
	{MetricPDFsBad, "Order PDFs the last run found not matching their hash."},
	{MetricPDFsMissing, "Order PDFs the last run did not find."},
	{MetricPDFsUnverifiable, "Order PDFs whose row hash has no known form (not SHA-256, SHA-1 or MD5)."},
}

// series identifies one command and site in one archive: a test export of
// the same site into another archive must not overwrite what the nightly
// run into the real one reported.
type series struct{ command, site, archive string }

// WriteMetrics merges run into the Prometheus text file at path (for
// node_exporter's textfile collector, so the name should end in .prom). The
// series of other commands, sites and archives are kept, and so is the last
// success time of this command, site and archive when run failed.
//
// A file written before the archive label existed has series with an empty
// archive: the first run of a command and site with its archive takes the
// last success time over from there and replaces that series.
func WriteMetrics(path string, run Run) error {
	return withLock(path, func() error {
		values := map[series]map[string]float64{}
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			values = parseMetrics(b)
		case !errors.Is(err, iofs.ErrNotExist):
			return err
		}
		key := series{run.Command, run.Site, run.Archive}
		old, had := values[key]
		if legacy := (series{run.Command, run.Site, ""}); key != legacy {
			if o, ok := values[legacy]; ok {
				if !had {
					old = o
				}
				delete(values, legacy)
			}
		}
		v := map[string]float64{
			MetricLastSuccess: old[MetricLastSuccess],
			MetricLastRun:     unixSeconds(run),
			MetricRecords:     float64(run.Records),
			MetricErrors:      float64(run.Errors),
			MetricWarnings:    float64(run.Warnings),
			MetricDuration:    run.Duration,
			MetricExitCode:    float64(run.ExitCode),
		}
		if run.Succeeded() {
			v[MetricLastSuccess] = v[MetricLastRun]
		}
		if p := run.PDFs; p != nil {
			v[MetricPDFsChecked], v[MetricPDFsGood], v[MetricPDFsBad] = float64(p.Checked), float64(p.Good), float64(p.Bad)
			v[MetricPDFsMissing], v[MetricPDFsUnverifiable] = float64(p.Missing), float64(p.Unverifiable)
		}
		values[key] = v
		return writeAtomic(path, formatMetrics(values))
	})
}

func unixSeconds(run Run) float64 {
	return float64(run.Finished.UnixMilli()) / 1000
}

// formatMetrics renders values in the Prometheus text exposition format,
// metrics in a fixed order, series sorted by command, site and archive.
func formatMetrics(values map[series]map[string]float64) []byte {
	keys := make([]series, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b series) int {
		if c := strings.Compare(a.command, b.command); c != 0 {
			return c
		}
		if c := strings.Compare(a.site, b.site); c != 0 {
			return c
		}
		return strings.Compare(a.archive, b.archive)
	})
	var b bytes.Buffer
	for _, m := range metrics {
		if !slices.ContainsFunc(keys, func(k series) bool { _, ok := values[k][m.name]; return ok }) {
			continue // no series has it (the PDF counts of a site that never dealt with PDFs)
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", m.name, m.help, m.name)
		for _, k := range keys {
			v, ok := values[k][m.name]
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "%s{command=%s,site=%s,archive=%s} %s\n", m.name, quoteLabel(k.command), quoteLabel(k.site),
				quoteLabel(k.archive), strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
	return b.Bytes()
}

// quoteLabel quotes a label value: backslash, double quote and newline are
// escaped, as the exposition format requires.
func quoteLabel(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// parseMetrics reads back what formatMetrics wrote. Lines it does not
// understand (comments, other metrics, damage) are skipped.
func parseMetrics(b []byte) map[series]map[string]float64 {
	out := map[series]map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, "{")
		if !ok || !known(name) {
			continue
		}
		labels, rest, ok := parseLabels(rest)
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		k := series{labels["command"], labels["site"], labels["archive"]}
		if out[k] == nil {
			out[k] = map[string]float64{}
		}
		out[k][name] = v
	}
	return out
}

func known(name string) bool {
	return slices.ContainsFunc(metrics, func(m struct{ name, help string }) bool { return m.name == name })
}

// parseLabels reads `a="x",b="y"}` and returns the labels and what follows
// the closing brace.
func parseLabels(s string) (map[string]string, string, bool) {
	labels := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ,")
		if strings.HasPrefix(s, "}") {
			return labels, s[1:], true
		}
		name, rest, ok := strings.Cut(s, "=")
		if !ok || !strings.HasPrefix(rest, `"`) {
			return nil, "", false
		}
		var val strings.Builder
		i := 1
		for ; i < len(rest) && rest[i] != '"'; i++ {
			c := rest[i]
			if c == '\\' && i+1 < len(rest) {
				i++
				switch rest[i] {
				case 'n':
					c = '\n'
				default:
					c = rest[i]
				}
			}
			val.WriteByte(c)
		}
		if i >= len(rest) {
			return nil, "", false
		}
		labels[strings.TrimSpace(name)] = val.String()
		s = rest[i+1:]
	}
}

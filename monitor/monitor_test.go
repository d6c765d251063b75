package monitor

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2024, 7, 29, 2, 0, 0, 0, time.UTC)

func run(command, site string, code int, finished time.Time) Run {
	return Run{Command: command, Site: site, Started: finished.Add(-90 * time.Second), Finished: finished,
		Duration: 90, ExitCode: code, Records: 150, OK: 148, Errors: 2, Warnings: 1,
		Summary: Title(command) + " abgeschlossen: 148 erfolgreich, 2 Fehler"}
}

func TestStatusFileBesideLog(t *testing.T) {
	for log, want := range map[string]string{
		"backup_system.log":                       "last_run.json",
		"/var/log/werkstatt-backup/backup.log":    "/var/log/werkstatt-backup/last_run.json",
		filepath.Join("rel", "dir", "backup.log"): filepath.Join("rel", "dir", "last_run.json"),
	} {
		if got := StatusFile(log); got != want {
			t.Errorf("StatusFile(%q) = %q, want %q", log, got, want)
		}
	}
}

func TestRecordKeepsOtherEntriesAndLastSuccess(t *testing.T) {
	path := filepath.Join(t.TempDir(), StatusFileName)
	if _, err := Load(path); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("Load of a missing file: %v", err)
	}
	must(t, Record(path, run("export", "zentrale", 0, t0)))
	must(t, Record(path, run("export", "nord", 0, t0.Add(time.Minute))))
	must(t, Record(path, run("verify", "zentrale", 0, t0.Add(2*time.Minute))))
	// The next night's export of zentrale fails: its last success stays.
	failed := run("export", "zentrale", 1, t0.Add(24*time.Hour))
	failed.Error = "Archiv smb://backup@nas/archiv: Verbindung abgelehnt"
	must(t, Record(path, failed))

	s, err := Load(path)
	must(t, err)
	if len(s.Runs) != 3 {
		t.Fatalf("entries: %+v", s.Runs)
	}
	order := []string{s.Runs[0].Command + "/" + s.Runs[0].Site, s.Runs[1].Command + "/" + s.Runs[1].Site, s.Runs[2].Command + "/" + s.Runs[2].Site}
	if strings.Join(order, " ") != "export/nord export/zentrale verify/zentrale" {
		t.Errorf("order: %v", order)
	}
	z := s.Find("export", "zentrale")
	if z.ExitCode != 1 || !z.Finished.Equal(t0.Add(24*time.Hour)) || z.LastSuccess == nil || !z.LastSuccess.Equal(t0) {
		t.Errorf("failed entry: %+v", z)
	}
	// A success sets it anew.
	must(t, Record(path, run("export", "zentrale", 0, t0.Add(48*time.Hour))))
	s, _ = Load(path)
	if z := s.Find("export", "zentrale"); !z.LastSuccess.Equal(t0.Add(48 * time.Hour)) {
		t.Errorf("after success: %+v", z)
	}
	// No temp or lock file is left behind; the file is readable by others.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
}

func TestRecordReplacesDamagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), StatusFileName)
	must(t, os.WriteFile(path, []byte("{kaputt"), 0o644))
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "kein gültiges JSON") {
		t.Fatalf("Load: %v", err)
	}
	must(t, Record(path, run("export", "", 0, t0)))
	if s, err := Load(path); err != nil || s.Find("export", "") == nil {
		t.Fatalf("after Record: %v %+v", err, s)
	}
}

// TestConcurrentRecords: runs finishing at the same moment (two sites, two
// cron jobs) each keep their entry.
func TestConcurrentRecords(t *testing.T) {
	dir := t.TempDir()
	path, prom := filepath.Join(dir, StatusFileName), filepath.Join(dir, "wb.prom")
	var wg sync.WaitGroup
	sites := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for _, site := range sites {
		wg.Go(func() {
			if err := Record(path, run("export", site, 0, t0)); err != nil {
				t.Error(err)
			}
			if err := WriteMetrics(prom, run("export", site, 0, t0)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	s, err := Load(path)
	must(t, err)
	if got := s.Sites("export"); strings.Join(got, "") != strings.Join(sites, "") {
		t.Errorf("sites in status: %v", got)
	}
	b, _ := os.ReadFile(prom)
	if n := strings.Count(string(b), MetricRecords+"{"); n != len(sites) {
		t.Errorf("%d record series, want %d:\n%s", n, len(sites), b)
	}
}

func TestLockOfAKilledRunDoesNotBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), StatusFileName)
	// A lock file a killed run left: no process holds its flock any more.
	must(t, os.WriteFile(path+".lock", []byte("4711\n"), 0o644))
	must(t, Record(path, run("export", "", 0, t0)))

	// A lock held by a live writer: Record gives up after lockWait.
	defer func(w time.Duration) { lockWait = w }(lockWait)
	lockWait = 50 * time.Millisecond
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	must(t, err)
	defer f.Close()
	if ok, err := tryLock(f); !ok || err != nil {
		t.Fatalf("tryLock: %v %v", ok, err)
	}
	if err := Record(path, run("export", "", 0, t0)); err == nil || !strings.Contains(err.Error(), "belegt") {
		t.Fatalf("Record under a live lock: %v", err)
	}
	unlock(f)
	must(t, Record(path, run("export", "", 0, t0)))
}

func TestCheck(t *testing.T) {
	now := t0.Add(3*time.Hour + 12*time.Minute)
	ok := run("export", "zentrale", 0, t0)
	ok.LastSuccess = &ok.Finished
	failed := run("export", "nord", 1, t0)
	failed.Error = "Archiv smb://backup@nas-nord/archiv: Verbindung abgelehnt"
	last := t0.Add(-48 * time.Hour)
	failed.LastSuccess = &last
	never := run("export", "sued", 3, t0)
	state := &State{Runs: []Run{ok, failed, never}}

	cases := []struct {
		name    string
		s       *State
		site    string
		maxAge  time.Duration
		ok      bool
		reasons []string
	}{
		{"fresh success", state, "zentrale", 26 * time.Hour, true,
			[]string{"OK: letzter Export (Standort zentrale) erfolgreich am", "vor 3h12m", "Export abgeschlossen: 148 erfolgreich, 2 Fehler"}},
		{"any age", state, "zentrale", 0, true, []string{"OK"}},
		{"too old", state, "zentrale", 3 * time.Hour, false, []string{"FEHLER:", "ist 3h12m alt, älter als 3h"}},
		{"failed", state, "nord", 26 * time.Hour, false,
			[]string{"fehlgeschlagen, Exit-Code 1: Archiv smb://backup@nas-nord/archiv: Verbindung abgelehnt", "letzter Erfolg:", "vor 2d3h"}},
		{"never succeeded", state, "sued", 26 * time.Hour, false, []string{"Exit-Code 3", "noch nie erfolgreich"}},
		{"unknown site", state, "west", 26 * time.Hour, false, []string{"noch kein Export protokolliert für Standort west", "vorhanden für: nord, sued, zentrale"}},
		{"no file", nil, "", 26 * time.Hour, false, []string{"noch kein Export protokolliert"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Check(c.s, "export", c.site, c.maxAge, now)
			if v.OK != c.ok {
				t.Errorf("OK = %v, want %v (%s)", v.OK, c.ok, v.Reason)
			}
			if strings.Contains(v.Reason, "\n") {
				t.Errorf("reason is not one line: %q", v.Reason)
			}
			for _, want := range c.reasons {
				if !strings.Contains(v.Reason, want) {
					t.Errorf("reason %q lacks %q", v.Reason, want)
				}
			}
		})
	}
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                   "0s",
		1500 * time.Millisecond:        "2s",
		12*time.Minute + 3*time.Second: "12m",
		3*time.Hour + 12*time.Minute:   "3h12m",
		26 * time.Hour:                 "26h",
		51 * time.Hour:                 "2d3h",
		8 * 24 * time.Hour:             "8d",
	} {
		if got := Age(d); got != want {
			t.Errorf("Age(%v) = %q, want %q", d, got, want)
		}
	}
}

// promLine is one sample of the text exposition format with our labels.
var promLine = regexp.MustCompile(`^werkstatt_backup_[a-z_]+\{command="[a-z]+",site="[^"]*",archive="[^"]*"\} -?[0-9]+(\.[0-9]+)?$`)

func TestMetricsFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "werkstatt_backup.prom")
	must(t, WriteMetrics(path, run("export", "zentrale", 0, t0)))
	must(t, WriteMetrics(path, run("verify", "", 0, t0.Add(time.Minute))))
	b, err := os.ReadFile(path)
	must(t, err)
	want := `# HELP werkstatt_backup_last_success_timestamp_seconds Unix time the last run with exit code 0 finished (0: none yet).
# TYPE werkstatt_backup_last_success_timestamp_seconds gauge
werkstatt_backup_last_success_timestamp_seconds{command="export",site="zentrale",archive=""} 1722218400
werkstatt_backup_last_success_timestamp_seconds{command="verify",site="",archive=""} 1722218460
# HELP werkstatt_backup_last_run_timestamp_seconds Unix time the last run finished, whatever its outcome.
# TYPE werkstatt_backup_last_run_timestamp_seconds gauge
werkstatt_backup_last_run_timestamp_seconds{command="export",site="zentrale",archive=""} 1722218400
werkstatt_backup_last_run_timestamp_seconds{command="verify",site="",archive=""} 1722218460
# HELP werkstatt_backup_records Records (rows or backups) the last run considered.
# TYPE werkstatt_backup_records gauge
werkstatt_backup_records{command="export",site="zentrale",archive=""} 150
werkstatt_backup_records{command="verify",site="",archive=""} 150
# HELP werkstatt_backup_errors Problems at level ERROR the last run found.
# TYPE werkstatt_backup_errors gauge
werkstatt_backup_errors{command="export",site="zentrale",archive=""} 2
werkstatt_backup_errors{command="verify",site="",archive=""} 2
# HELP werkstatt_backup_warnings Problems at level WARNING the last run found.
# TYPE werkstatt_backup_warnings gauge
werkstatt_backup_warnings{command="export",site="zentrale",archive=""} 1
werkstatt_backup_warnings{command="verify",site="",archive=""} 1
# HELP werkstatt_backup_duration_seconds Duration of the last run in seconds.
# TYPE werkstatt_backup_duration_seconds gauge
werkstatt_backup_duration_seconds{command="export",site="zentrale",archive=""} 90
werkstatt_backup_duration_seconds{command="verify",site="",archive=""} 90
# HELP werkstatt_backup_last_exit_code Exit code of the last run (0 success, 1 error, 2 usage, 3 validation, 4 lock, 130 interrupted).
# TYPE werkstatt_backup_last_exit_code gauge
werkstatt_backup_last_exit_code{command="export",site="zentrale",archive=""} 0
werkstatt_backup_last_exit_code{command="verify",site="",archive=""} 0
`
	if string(b) != want {
		t.Fatalf("metrics file:\n%s\nwant:\n%s", b, want)
	}
	checkExposition(t, b)
}

// checkExposition checks the rules node_exporter's parser enforces: every
// line a comment or a sample, HELP and TYPE once per metric before its
// samples, no sample twice, a newline at the end.
func checkExposition(t *testing.T, b []byte) {
	t.Helper()
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatal("no newline at the end")
	}
	typed, seen := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "# TYPE "):
			f := strings.Fields(l)
			if len(f) != 4 || f[3] != "gauge" || typed[f[2]] {
				t.Errorf("bad or repeated TYPE: %q", l)
			}
			typed[f[2]] = true
		case strings.HasPrefix(l, "# HELP "):
		case promLine.MatchString(l):
			name, _, _ := strings.Cut(l, "{")
			series, _, _ := strings.Cut(l, " ")
			if !typed[name] || seen[series] {
				t.Errorf("sample before its TYPE or repeated: %q", l)
			}
			seen[series] = true
		default:
			t.Errorf("not in the exposition format: %q", l)
		}
	}
}

func TestMetricsKeepLastSuccessOverFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "werkstatt_backup.prom")
	must(t, WriteMetrics(path, run("export", "zentrale", 0, t0)))
	must(t, WriteMetrics(path, run("export", "zentrale", 4, t0.Add(24*time.Hour))))
	// A site that never succeeded reports 0, so "time() - last_success"
	// alerts at once.
	must(t, WriteMetrics(path, run("export", "nord", 1, t0)))
	b, _ := os.ReadFile(path)
	for _, want := range []string{
		`werkstatt_backup_last_success_timestamp_seconds{command="export",site="zentrale",archive=""} 1722218400` + "\n",
		`werkstatt_backup_last_run_timestamp_seconds{command="export",site="zentrale",archive=""} 1722304800` + "\n",
		`werkstatt_backup_last_exit_code{command="export",site="zentrale",archive=""} 4` + "\n",
		`werkstatt_backup_last_success_timestamp_seconds{command="export",site="nord",archive=""} 0` + "\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q:\n%s", want, b)
		}
	}
	checkExposition(t, b)
}

// TestMetricsPerArchive: a test export of a site into another archive
// keeps the nightly archive's series (its last success above all), and a
// file from before the archive label hands its last success over.
func TestMetricsPerArchive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "werkstatt_backup.prom")
	must(t, os.WriteFile(path, []byte(`werkstatt_backup_last_success_timestamp_seconds{command="export",site="zentrale"} 1722000000`+"\n"), 0o644))
	nightly := run("export", "zentrale", 1, t0)
	nightly.Archive = "smb://nas/archiv"
	must(t, WriteMetrics(path, nightly))
	trial := run("export", "zentrale", 0, t0.Add(time.Hour))
	trial.Archive = "/tmp/probe"
	must(t, WriteMetrics(path, trial))
	b, _ := os.ReadFile(path)
	for _, want := range []string{
		`werkstatt_backup_last_success_timestamp_seconds{command="export",site="zentrale",archive="smb://nas/archiv"} 1722000000` + "\n",
		`werkstatt_backup_last_exit_code{command="export",site="zentrale",archive="smb://nas/archiv"} 1` + "\n",
		`werkstatt_backup_last_exit_code{command="export",site="zentrale",archive="/tmp/probe"} 0` + "\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), `site="zentrale"}`) {
		t.Errorf("the series without archive is still there:\n%s", b)
	}
	checkExposition(t, b)
}

func TestMetricsRoundTripOddLabels(t *testing.T) {
	in := map[series]map[string]float64{
		{"export", `a"b\c`, "/srv/x"}:       {MetricRecords: 1, MetricDuration: 0.125},
		{"export", "zeile\n", `s3://b/"p"`}: {MetricRecords: 2},
	}
	out := parseMetrics(formatMetrics(in))
	if len(out) != 2 || out[series{"export", `a"b\c`, "/srv/x"}][MetricDuration] != 0.125 || out[series{"export", "zeile\n", `s3://b/"p"`}][MetricRecords] != 2 {
		t.Fatalf("round trip: %v", out)
	}
	// Foreign and broken lines are skipped, not fatal.
	got := parseMetrics([]byte("other_metric{x=\"1\"} 3\nwerkstatt_backup_records{command=\"export\" 5\nwerkstatt_backup_records{command=\"export\",site=\"\"} x\n"))
	if len(got) != 0 {
		t.Fatalf("parsed garbage: %v", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPerArchive: runs of one command and site in two archives keep an
// entry each; an entry of an older file (no archive_id) is taken over by
// the first run that names its archive; the entries of one command and
// site are bounded, the oldest dropped.
func TestPerArchive(t *testing.T) {
	path := filepath.Join(t.TempDir(), StatusFileName)
	must(t, os.WriteFile(path, []byte(`{"runs": [{"command": "export", "archive": "/srv/archiv", "finished": "2024-07-29T02:00:00Z", "exit_code": 0, "last_success": "2024-07-29T02:00:00Z"}]}`), 0o644))
	s, err := Load(path)
	must(t, err)
	if r := s.FindArchive("export", "", "file:///srv/archiv"); r == nil || r.Archive != "/srv/archiv" {
		t.Fatalf("an old entry stands for any archive: %+v", r)
	}

	nightly := run("export", "", 1, t0.Add(24*time.Hour))
	nightly.Archive, nightly.ArchiveID = "/srv/archiv", "file:///srv/archiv"
	must(t, Record(path, nightly))
	probe := run("export", "", 0, t0.Add(25*time.Hour))
	probe.Archive, probe.ArchiveID = "/tmp/probe", "file:///tmp/probe"
	must(t, Record(path, probe))

	s, err = Load(path)
	must(t, err)
	if len(s.Runs) != 2 {
		t.Fatalf("entries: %+v", s.Runs)
	}
	n := s.FindArchive("export", "", "file:///srv/archiv")
	if n == nil || n.ExitCode != 1 || n.LastSuccess == nil || !n.LastSuccess.Equal(t0) {
		t.Fatalf("the nightly entry took over the old one's last success: %+v", n)
	}
	if r := s.Find("export", ""); r.ArchiveID != "file:///tmp/probe" {
		t.Errorf("Find is the latest in any archive: %+v", r)
	}
	if got := s.Archives("export", ""); strings.Join(got, " ") != "/srv/archiv /tmp/probe" {
		t.Errorf("Archives = %v", got)
	}
	v := CheckQuery(s, Query{Command: "export", ArchiveID: "file:///srv/archiv", Archive: "/srv/archiv"}, t0.Add(26*time.Hour))
	if v.OK || !strings.HasPrefix(v.Reason, "FEHLER: letzter Export am ") {
		t.Errorf("the nightly archive: %+v", v)
	}
	v = CheckQuery(s, Query{Command: "export", ArchiveID: "file:///anders", Archive: "/anders"}, t0.Add(26*time.Hour))
	if v.OK || !strings.Contains(v.Reason, "im Archiv /anders (vorhanden für: /srv/archiv, /tmp/probe;") {
		t.Errorf("an archive without runs: %+v", v)
	}

	for i := range maxArchives + 5 {
		r := run("export", "", 0, t0.Add(time.Duration(30+i)*time.Hour))
		r.ArchiveID = fmt.Sprintf("file:///tmp/probe-%d", i)
		must(t, Record(path, r))
	}
	s, err = Load(path)
	must(t, err)
	if len(s.Runs) != maxArchives || s.FindArchive("export", "", "file:///srv/archiv") != nil || s.FindArchive("export", "", "file:///tmp/probe-24") == nil {
		t.Errorf("%d entries kept, the oldest should go", len(s.Runs))
	}
}

// TestCheckWarnings: exit 3 with every record done is healthy ("OK mit
// Warnungen") unless Strict; exit 3 with errors, or a run that did not get
// to its summary, is a failure.
func TestCheckWarnings(t *testing.T) {
	now := t0.Add(time.Hour)
	warn := run("export", "", 3, t0)
	warn.Errors, warn.Warnings = 0, 4
	s := &State{Runs: []Run{warn}}
	v := CheckQuery(s, Query{Command: "export", MaxAge: 26 * time.Hour}, now)
	if !v.OK || v.Warnings != 4 || !strings.HasPrefix(v.Reason, "OK mit Warnungen: 4; letzter Export am ") {
		t.Errorf("warnings: %+v", v)
	}
	if v := CheckQuery(s, Query{Command: "export", MaxAge: 26 * time.Hour, Strict: true}, now); v.OK || !strings.HasPrefix(v.Reason, "FEHLER (--strict): ") {
		t.Errorf("strict: %+v", v)
	}
	if v := CheckQuery(s, Query{Command: "export", MaxAge: 30 * time.Minute}, now); v.OK || !strings.Contains(v.Reason, "älter als") {
		t.Errorf("too old: %+v", v)
	}
	invalid := run("verify", "", 3, t0) // 2 errors: backups that cannot be trusted
	aborted := warn
	aborted.Command, aborted.Summary = "restore", ""
	s = &State{Runs: []Run{invalid, aborted}}
	for _, c := range []string{"verify", "restore"} {
		if v := CheckQuery(s, Query{Command: c}, now); v.OK || !strings.HasPrefix(v.Reason, "FEHLER: ") {
			t.Errorf("%s: %+v", c, v)
		}
	}
}

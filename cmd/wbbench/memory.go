package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"werkstatt-backup/sample"
)

// memLimit is SPEC 8's peak memory of every command at 100,000 orders;
// memLimitBig the at 1,000,000.
const (
	memLimit    = 150 << 20
	memLimitBig = 250 << 20
)

// memory measures the peak resident memory (VmHWM) of every command on an
// archive of n orders beside the same command of the binary of ref (the
// version before the memory work), and keeps a heap profile of each run of
// ours near its peak (ARCHIV_MEMPROFILE) whose largest entries go into
// the notes: where the bytes live.
func (b *bench) memory(ref string, n int) error {
	base, err := b.baseline(ref)
	if err != nil {
		return err
	}
	db, err := b.sampleDB(n)
	if err != nil {
		return err
	}
	dir := filepath.Join(b.work, fmt.Sprintf("speicher-%d", n))
	limit, limitText := int64(memLimit), "≤ 150 MB peak"
	if n > 100000 {
		limit, limitText = memLimitBig, "≤ 250 MB peak"
	}
	at := time.Now().Add(time.Hour).Format("2006-01-02 15:04")
	type step struct {
		name string
		args func(arch, restoreDB string) []string
		// fresh: the step needs an archive of its own that the export
		// before it made (export fresh starts it).
	}
	steps := []step{
		{"export, fresh archive", func(a, _ string) []string { return []string{"export", "--db", db, "--archiv", a} }},
		{"export, nothing changed", func(a, _ string) []string { return []string{"export", "--db", db, "--archiv", a} }},
		{"verify", func(a, _ string) []string { return []string{"verify", "--archiv", a} }},
		{"verify --pdfs", func(a, _ string) []string { return []string{"verify", "--pdfs", "--archiv", a} }},
		{"restore into an empty database", func(a, r string) []string { return []string{"restore", "--archiv", a, "--db", r} }},
		{"restore --at", func(a, r string) []string { return []string{"restore", "--archiv", a, "--db", r, "--at", at} }},
		{"forget --keep-last 1", func(a, _ string) []string { return []string{"forget", "--archiv", a, "--keep-last", "1"} }},
	}
	bins := []struct{ name, bin string }{{"ours", b.bin}, {"before", base}}
	results := map[string]map[string]measurement{"ours": {}, "before": {}}
	skipped := map[string]map[string]string{"ours": {}, "before": {}}
	for _, bn := range bins {
		arch := filepath.Join(dir, bn.name)
		if err := mkdir(arch); err != nil {
			return err
		}
		if err := writeSamplePDFs(arch, n); err != nil {
			return fmt.Errorf("Beispiel-PDFs: %w", err)
		}
		for i, s := range steps {
			if !supports(bn.bin, s.args(arch, "")) {
				skipped[bn.name][s.name] = "not offered"
				continue
			}
			restoreDB := filepath.Join(dir, fmt.Sprintf("%s-restore-%d.db", bn.name, i))
			prof := filepath.Join(dir, fmt.Sprintf("%s-%d.heap", bn.name, i))
			b.logf("Speicher %s Aufträge (%s): %s", thousands(n), bn.name, s.name)
			args := append(s.args(arch, restoreDB), "--quiet", "--log-file", filepath.Join(b.work, "speicher.log"))
			m, err := b.exec([]string{"ARCHIV_MEMPROFILE=" + prof}, bn.bin, args...)
			if err != nil && !exitedWith(err, 3) {
				return err
			}
			results[bn.name][s.name] = m
			if bn.name == "ours" {
				if top := heapTop(bn.bin, prof, 4); top != "" {
					b.heapNotes = append(b.heapNotes, fmt.Sprintf("%s, %s orders: %s.", s.name, thousands(n), top))
				}
			}
		}
	}
	for _, s := range steps {
		o, p := results["ours"][s.name], results["before"][s.name]
		r := row{work: fmt.Sprintf("peak memory: %s, %s orders", s.name, thousands(n)), target: limitText,
			ours: o, peer: p, peerName: "the same command before the memory work (" + ref + ")", showRSS: true}
		if why := skipped["ours"][s.name]; why != "" {
			r.skipped = why
		}
		r.met = both(o.rss <= limit, p.d == 0 || o.d <= p.d+p.d/10, limitText, "time ≤ 1.1× before")
		b.rows = append(b.rows, r)
	}
	return nil
}

// writeSamplePDFs puts the placeholder PDF of each of the sample's n
// orders where its file_path points in the seed's layout (inside the
// archive), as demo does, so that verify --pdfs reads a PDF for every
// order and export notes them.
func writeSamplePDFs(arch string, n int) error {
	fp, nr := slices.Index(sample.Columns, "file_path"), slices.Index(sample.Columns, "auftrag_nr")
	for _, row := range sample.Rows(n, 1) {
		rel, ok := strings.CutPrefix(row[fp], "archiv/")
		if !ok {
			return fmt.Errorf("file_path %q liegt nicht unter archiv/", row[fp])
		}
		p := filepath.Join(arch, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, sample.PDF(row[nr]), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// supports reports whether bin accepts the flags of args (an older
// version may not know --pdfs): the command's --help lists each of them.
func supports(bin string, args []string) bool {
	out, err := exec.Command(bin, args[0], "--help").CombinedOutput()
	if err != nil {
		return false
	}
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "--") && !strings.Contains(string(out), a) {
			return false
		}
	}
	return true
}

// exitedWith reports whether err is an exit with code (3: done, with
// warnings).
func exitedWith(err error, code int) bool {
	ee, ok := errors.AsType[*exec.ExitError](err)
	return ok && ee.ExitCode() == code
}

// heapTop names the n largest in-use allocation sites of a heap profile,
// "" if the profile is missing.
func heapTop(bin, prof string, n int) string {
	if _, err := os.Stat(prof); err != nil {
		return ""
	}
	out, err := exec.Command("go", "tool", "pprof", "-sample_index=inuse_space", "-top", fmt.Sprintf("-nodecount=%d", n), bin, prof).Output()
	if err != nil {
		return ""
	}
	var parts []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && strings.HasSuffix(f[0], "B") && !strings.HasPrefix(line, " flat") {
			parts = append(parts, f[0]+" "+f[5])
		}
	}
	return strings.Join(parts, ", ")
}

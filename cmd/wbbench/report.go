package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// row is one line of the table.
type row struct {
	work, target string
	ours, peer   measurement
	peerName     string
	met          string
	showRSS      bool
	skipped      string // why the row was not measured
	noted        bool   // a note says why the target is not met
	oursText     string // shown instead of ours (a figure that is no run time)
	peerText     string // shown instead of peer
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// both is the verdict on a target with two conditions.
func both(a, b bool, na, nb string) string {
	if a && b {
		return "yes"
	}
	return fmt.Sprintf("**no** (%s: %s, %s: %s)", na, strings.Trim(yes(a), "*"), nb, strings.Trim(yes(b), "*"))
}

// thousands writes 10000 as 10,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (m measurement) String(rss bool) string {
	if m.d == 0 {
		return "–"
	}
	s := fmtDur(m.d)
	if rss && m.rss > 0 {
		s += fmt.Sprintf(", %d MB peak", m.rss>>20)
	}
	return s
}

// compare says how ours relates to the peer: "3.1× faster" or "1.2× slower".
func compare(ours, peer measurement) string {
	if ours.d == 0 || peer.d == 0 {
		return "–"
	}
	r := float64(peer.d) / float64(ours.d)
	if r >= 1 {
		return fmt.Sprintf("%.1f× faster", r)
	}
	return fmt.Sprintf("%.2f× slower", 1/r)
}

func (b *bench) markdown() string {
	var w bytes.Buffer
	fmt.Fprintf(&w, "# Benchmarks\n\n")
	fmt.Fprintf(&w, "Measured by `make bench` (`cmd/wbbench`) on %s in %s.\n\n", b.started.Format("2006-01-02 15:04"), since(b.started))
	fmt.Fprintf(&w, "| work | target (SPEC 8) | ours | peer, same run | ours vs. peer | met? |\n")
	fmt.Fprintf(&w, "|---|---|---|---|---|---|\n")
	for _, r := range b.rows {
		if r.skipped != "" {
			fmt.Fprintf(&w, "| %s | %s | – | – | – | %s |\n", r.work, r.target, r.skipped)
			continue
		}
		peer := "– (" + r.peerName + " not available)"
		if r.peer.d > 0 {
			peer = r.peer.String(r.showRSS) + " (" + r.peerName + ")"
		}
		ours := r.ours.String(r.showRSS)
		if r.oursText != "" {
			ours, peer = r.oursText, r.peerText
		}
		fmt.Fprintf(&w, "| %s | %s | %s | %s | %s | %s |\n", r.work, r.target, ours, peer, compare(r.ours, r.peer), r.met)
	}
	fmt.Fprintf(&w, "\n## How it was measured\n\n")
	for _, s := range []string{
		fmt.Sprintf("Machine: %s.", machine()),
		fmt.Sprintf("Load average before / after: %s / %s (other work on the machine makes every figure noisier; ours and the peer were measured alternately, so both saw the same conditions).", b.loadStart, b.loadEnd),
		fmt.Sprintf("Every figure is the fastest of %d runs of the real binary (`go build`, as `make build`), its startup included: other work on the machine only ever adds time. The %s-order export and the slow peers (rclone over the latency proxy, Python on the large archive) ran once. Peak memory is the largest VmHWM (/proc) of the runs.", b.runs, thousands(b.big)),
		"Sample data: `sample.Rows` + `sample.CreateDB`, the generator of `werkstatt-backup demo`. Fresh exports go into new, empty directories; nothing is deleted before a measured run, and the working directory is removed only at the end. Leave ten minutes between two runs of `make bench` (or after deleting a large tree): ext4 avoids reusing inodes freed in the last minutes and searches past them for every new file (`recently_deleted` in `perf`), which made fresh exports and `cp -r` alike 2–3× slower (kernel time) for about ten minutes after a run's working directory of a million files was removed.",
		"Durability is the same on both sides: export makes everything durable (local: one `syncfs` for the run, SMB: a FLUSH per file, which Samba turns into `fsync`); the `cp -r` peer ends with `sync -f`. `rclone copy` does not flush at all.",
		"Peers: `cp -r` copies the finished tree (data.csv + meta.json of every order) that export produced; `rsync -rc` compares two identical trees by content and copies nothing; the Python peers (`verify_peer.py`, `restore_peer.py` in `cmd/wbbench/peers.go`) do the seed's verify (meta.json, SHA-256, csv header) and restore (the same checks, then `executemany` into a new SQLite database in one transaction); `rclone copy` (default settings) copies the same finished tree to the same share.",
		"SMB: Samba from the test harness (`backends/smb/smbtest`) on a free port of 127.0.0.1; 10 ms round trips through `internal/latency`, a TCP proxy that holds every byte back 5 ms in each direction without limiting throughput. Export uses its default of 128 workers over 4 sessions on SMB, 8 workers locally.",
		s3Method,
	} {
		fmt.Fprintf(&w, "- %s\n", s)
	}
	if b.ranPDFs {
		fmt.Fprintf(&w, "- %s\n", pdfMethod)
	}
	if b.ranWriter {
		fmt.Fprintf(&w, "- Writer wait: %s\n", writerMethod)
	}
	notes := b.notes
	for _, r := range b.rows {
		if strings.HasPrefix(r.met, "**no**") && !r.noted {
			notes = append(notes, fmt.Sprintf("%s: the fastest of %d runs took %s (target %s) and used %s of CPU (user + system) "+
				"on %d cores; with the load average of %s other programs had a share of the machine.",
				r.work, b.runs, fmtDur(r.ours.d), r.target, fmtDur(r.ours.cpu), runtime.NumCPU(), b.loadEnd))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(&w, "\n## Where a target is not met\n\n")
		for _, s := range notes {
			fmt.Fprintf(&w, "- %s\n", s)
		}
	}
	if len(b.heapNotes) > 0 {
		fmt.Fprintf(&w, "\n## Where the memory lives\n\nThe largest in-use allocation sites of the heap near its peak (`ARCHIV_MEMPROFILE`, `go tool pprof -top`); the resident peak is about twice the live heap (Go's collector lets the heap double between collections).\n\n")
		for _, s := range b.heapNotes {
			fmt.Fprintf(&w, "- %s\n", s)
		}
	}
	return w.String()
}

// machine describes CPU, kernel and tool versions.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	parts := []string{fmt.Sprintf("%s, %d cores", cpu, runtime.NumCPU())}
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		parts = append(parts, strings.TrimSpace(string(out)))
	}
	parts = append(parts, goVersion())
	for _, t := range [][]string{{"Samba", "smbd", "--version"}, {"", "rclone", "version"}, {"", "python3", "--version"}, {"", "rsync", "--version"}} {
		if out, err := exec.Command(t[1], t[2:]...).Output(); err == nil {
			v := strings.Join(strings.Fields(oneLine(string(out))), " ")
			if t[0] != "" {
				v = t[0] + " " + strings.TrimPrefix(v, "Version ")
			}
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, "; ")
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// mergeSection puts the table of a run of some sections (only, as given to
// -only) into the file at path: between the markers of these sections if
// the file has them, else appended, so the full run's table stays.
func mergeSection(path, only, md string) (string, error) {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return "", err
	}
	begin, end := "<!-- wbbench -only "+only+" -->", "<!-- /wbbench -only "+only+" -->"
	body := strings.Replace(md, "# Benchmarks\n", "## Benchmarks: "+only+" (`wbbench -only "+only+"`)\n", 1)
	body = strings.ReplaceAll(body, "\n## ", "\n### ")
	body = strings.Replace(body, "### Benchmarks: ", "## Benchmarks: ", 1)
	block := begin + "\n" + body + end + "\n"
	text := string(old)
	if i, j := strings.Index(text, begin), strings.Index(text, end); i >= 0 && j > i {
		return text[:i] + block + text[j+len(end)+1:], nil
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + "\n" + block, nil
}

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/internal/latency"
)

// s3Method says in BENCHMARKS.md how the S3 rows were measured.
const s3Method = "S3: Versity S3 Gateway (`versitygw`, posix backend, started by `backends/s3/s3test`) on a free port of " +
	"127.0.0.1, plain HTTP, its bucket `archiv` made by the driver. Export gets the secret key through " +
	"`ARCHIV_S3_SECRET_KEY` and plain HTTP through `ARCHIV_S3_INSECURE=1` and writes every fresh run below a new prefix " +
	"(`archiv/fresh-N`, empty before: an empty prefix is an empty archive), with its default of 64 requests in parallel. The peer: `rclone copy` (default settings: 4 transfers, " +
	"8 checkers; its S3 backend with provider Other, configured through `RCLONE_CONFIG_…` variables) of the tree export " +
	"wrote to a local folder, to `archiv/rclone-N` on the same server. Nothing changed: export again into `fresh-1`, " +
	"`rclone copy` again into `rclone-1` (it lists, compares size and modification time, and copies nothing). " +
	"10 ms round trips through `internal/latency`, as for SMB: export fresh and unchanged; rclone only unchanged " +
	"(into `rclone-1`, once), since its fresh copy takes minutes there."

// s3 measures export of b.s3N orders to versitygw on loopback, fresh and
// with nothing changed, beside rclone copy of the same finished tree to
// the same server, and both again through the latency proxy. A failing
// export (a binary that does not know s3:// yet, say) or rclone puts its
// error into the row; only the driver's own failures end the benchmark.
func (b *bench) s3() error {
	dir := filepath.Join(b.work, "s3")
	if err := mkdir(dir); err != nil {
		return err
	}
	n := thousands(b.s3N)
	loopFresh := row{work: "export " + n + " orders to S3 (versitygw on loopback), fresh", target: "faster than `rclone copy`"}
	loopSame := row{work: "export " + n + " orders to S3 (versitygw on loopback), nothing changed", target: "(beside `rclone copy`)"}
	loopList := row{work: "export " + n + " orders to S3 (versitygw on loopback), nothing changed, against one bare listing", target: "≤ 1.2× `rclone lsf -R` of the prefix"}
	farFresh := row{work: "export " + n + " orders to S3, 10 ms round trips, fresh", target: "(for comparison)"}
	farSame := row{work: "export " + n + " orders to S3, 10 ms round trips, nothing changed", target: "(for comparison)"}
	srv, stop, err := s3test.Launch(dir)
	if err != nil {
		for _, r := range []row{loopFresh, loopSame, loopList, farFresh, farSame} {
			r.skipped = "not measured: " + cellText(oneLine(err.Error()), "")
			b.rows = append(b.rows, r)
		}
		return nil
	}
	defer stop()

	db, err := b.sampleDB(b.s3N)
	if err != nil {
		return err
	}
	// The finished tree that rclone copies: what export writes for these orders.
	tree := filepath.Join(dir, "fertig")
	if err := mkdir(tree); err != nil {
		return err
	}
	if _, err := b.wb(nil, "export", "--db", db, "--archiv", tree); err != nil {
		return err
	}
	env := []string{"ARCHIV_S3_SECRET_KEY=" + srv.SecretKey, "ARCHIV_S3_INSECURE=1"}
	// fresh: a new prefix needs nothing first (an empty prefix is an
	// empty archive on S3).
	fresh := func(_ string, f func(int) (measurement, error)) func(int) (measurement, error) { return f }
	export := func(addr, prefix string) func(int) (measurement, error) {
		return func(int) (measurement, error) {
			url := "s3://" + srv.AccessKey + "@" + addr + "/" + s3test.Bucket + "/" + prefix
			return b.wb(env, "export", "--db", db, "--archiv", url)
		}
	}
	rclone, rcEnv, rcErr := b.rcloneS3(srv)
	copyTo := func(addr, prefix string) func(int) (measurement, error) {
		return func(int) (measurement, error) {
			if rcErr != nil {
				return measurement{}, errSkip
			}
			return b.exec(rcEnv(addr), rclone, "copy", tree, "wb:"+s3test.Bucket+"/"+prefix)
		}
	}
	peerMissing := ""
	if rcErr != nil {
		peerMissing = "rclone " + oneLine(rcErr.Error())
	}
	// versitygw's CPU time per run tells where the time goes on loopback.
	withServer := func(f func(int) (measurement, error)) func(int) (measurement, error) {
		return func(i int) (measurement, error) {
			c0 := versitygwCPU(srv.Dir)
			m, err := f(i)
			m.server = versitygwCPU(srv.Dir) - c0
			return m, err
		}
	}
	cells := func(r *row, o, p tries, oursWhy, peerWhy string) {
		var oursText, peerText string
		r.ours, oursText = o.cell(oursWhy, srv.SecretKey)
		r.peer, peerText = p.cell(peerWhy, srv.SecretKey)
		r.oursText, r.peerText, r.peerName = oursText, peerText+peerSuffix(p), "`rclone copy`"
	}

	b.logf("S3 auf Loopback: Export %s Aufträge neu, im Wechsel mit rclone copy", n)
	o, p := b.alternate(b.runs, withServer(func(i int) (measurement, error) {
		p := "fresh-" + strconv.Itoa(i)
		return fresh(p, export(srv.Addr(), p))(i)
	}), withServer(func(i int) (measurement, error) {
		return copyTo(srv.Addr(), "rclone-"+strconv.Itoa(i))(i)
	}))
	cells(&loopFresh, o, p, "", peerMissing)
	loopFresh.met = "not measured"
	if len(o.ms) > 0 && len(p.ms) > 0 {
		loopFresh.met = yes(loopFresh.ours.d < loopFresh.peer.d)
		loopFresh.noted = loopFresh.ours.d >= loopFresh.peer.d
		b.notes = append(b.notes, s3CPUNote(n, o.ms, p.ms, loopFresh.noted))
	}
	b.rows = append(b.rows, loopFresh)
	// The unchanged runs need the first fresh run's archive (and copy).
	freshOK, copyOK := o.first, p.first

	b.logf("S3 auf Loopback: Export ohne Änderungen, im Wechsel mit rclone copy")
	o, p = b.alternate(b.runs, needs(freshOK, export(srv.Addr(), "fresh-1")), needs(copyOK, copyTo(srv.Addr(), "rclone-1")))
	cells(&loopSame, o, p, "the fresh export failed", firstNonEmpty(peerMissing, "the first `rclone copy` failed"))
	loopSame.met = "(for comparison)"
	b.rows = append(b.rows, loopSame)

	// The floor of an unchanged export: one listing of the prefix with
	// size and ETag of every object, which rclone lsf -R also does (it
	// prints the names). Run after run, alternately.
	b.logf("S3 auf Loopback: Export ohne Änderungen, im Wechsel mit rclone lsf -R (die Auflistung allein)")
	list := func(int) (measurement, error) {
		if rcErr != nil {
			return measurement{}, errSkip
		}
		return b.exec(rcEnv(srv.Addr()), rclone, "lsf", "-R", "--files-only", "wb:"+s3test.Bucket+"/fresh-1")
	}
	o, p = b.alternate(b.runs, needs(freshOK, export(srv.Addr(), "fresh-1")), needs(freshOK, list))
	cells(&loopList, o, p, "the fresh export failed", firstNonEmpty(peerMissing, "the fresh export failed"))
	loopList.peerName = "`rclone lsf -R`"
	if loopList.peerText != "" {
		loopList.peerText = strings.TrimSuffix(loopList.peerText, " (`rclone copy`)") + " (`rclone lsf -R`)"
	}
	loopList.met = "not measured"
	if len(o.ms) > 0 && len(p.ms) > 0 {
		ratio := float64(loopList.ours.d) / float64(loopList.peer.d)
		loopList.met = yes(ratio <= 1.2)
		if ratio > 1.2 {
			loopList.noted = true
			b.notes = append(b.notes, fmt.Sprintf("%s: %.2f× the bare listing (%s against %s; CPU %s against %s).",
				loopList.work, ratio, fmtDur(loopList.ours.d), fmtDur(loopList.peer.d), fmtDur(loopList.ours.cpu), fmtDur(loopList.peer.cpu)))
		}
	}
	b.rows = append(b.rows, loopList)

	proxy, err := latency.Start(srv.Addr(), rtt/2)
	if err != nil {
		return err
	}
	defer proxy.Close()
	// A fresh rclone copy through the proxy takes minutes (4 transfers,
	// each file a round trip or more): left out. Its unchanged copy goes
	// into the first loopback copy on the same server.
	b.logf("S3 mit %s Umlaufzeit: Export %s Aufträge neu", rtt, n)
	o, p = b.alternate(b.runs, func(i int) (measurement, error) {
		p := "fern-" + strconv.Itoa(i)
		return fresh(p, export(proxy.Addr, p))(i)
	}, nil)
	cells(&farFresh, o, p, "", "left out, it takes minutes at 10 ms round trips")
	farFresh.met = "–"
	b.rows = append(b.rows, farFresh)
	freshOK = o.first

	b.logf("S3 mit %s Umlaufzeit: Export ohne Änderungen (rclone copy einmal)", rtt)
	o, p = b.alternate(b.runs, needs(freshOK, export(proxy.Addr, "fern-1")), once(needs(copyOK, copyTo(proxy.Addr, "rclone-1"))))
	cells(&farSame, o, p, "the fresh export failed", firstNonEmpty(peerMissing, "the first `rclone copy` failed"))
	farSame.met = "–"
	b.rows = append(b.rows, farSame)
	return nil
}

// tries are the runs of one side of a row: the measurements, and the
// error that ended them (a failed side is not run again).
type tries struct {
	ms    []measurement
	err   error
	first bool // the first run succeeded: its archive or copy exists
}

// alternate runs ours and peer in turn, runs times each, like series,
// but a failing side only stops itself: its error goes into the row.
// errSkip from either side skips that run.
func (b *bench) alternate(runs int, ours, peer func(int) (measurement, error)) (o, p tries) {
	for i := 1; i <= runs; i++ {
		o.run(i, ours)
		p.run(i, peer)
	}
	return o, p
}

func (t *tries) run(i int, f func(int) (measurement, error)) {
	if t.err != nil || f == nil {
		return
	}
	m, err := f(i)
	switch {
	case errors.Is(err, errSkip):
	case err != nil:
		t.err = err
	default:
		t.ms = append(t.ms, m)
		if i == 1 {
			t.first = true
		}
	}
}

// cell is the figure of one side and its text in the table: the fastest
// run, or why there is none (its error, without secret, or why).
func (t tries) cell(why, secret string) (measurement, string) {
	switch {
	case t.err != nil:
		return measurement{}, "failed: " + cellText(errLine(t.err), secret)
	case len(t.ms) == 0:
		return measurement{}, "not measured: " + cellText(why, secret)
	}
	m := best(t.ms)
	return m, m.String(false)
}

// peerSuffix names the peer after its figure.
func peerSuffix(p tries) string {
	if p.err == nil && len(p.ms) > 0 {
		return " (`rclone copy`)"
	}
	return ""
}

// needs runs f only when ok (the run it builds on succeeded).
func needs(ok bool, f func(int) (measurement, error)) func(int) (measurement, error) {
	return func(i int) (measurement, error) {
		if !ok {
			return measurement{}, errSkip
		}
		return f(i)
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// errLine is what a failed run said: the last line of the command's
// output (bench.exec puts it after the first line), else the error's
// first line.
func errLine(err error) string {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	for i := len(lines) - 1; i > 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return lines[0]
}

// cellText makes s fit a table cell: without the secret, without line
// breaks and table separators, not longer than 300 characters.
func cellText(s, secret string) string {
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "***")
	}
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", `\|`)
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

// rcloneS3 finds rclone and returns the environment that configures a
// remote "wb" for the server at an address: rclone's S3 backend, provider
// Other, the server's keys (only in the child's environment).
func (b *bench) rcloneS3(srv *s3test.Server) (string, func(addr string) []string, error) {
	path, err := exec.LookPath("rclone")
	if err != nil {
		return "", nil, errors.New("nicht installiert (apt-get install -y rclone)")
	}
	conf := filepath.Join(b.work, "rclone-s3.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		return "", nil, err
	}
	return path, func(addr string) []string {
		return []string{"RCLONE_CONFIG=" + conf, "RCLONE_CONFIG_WB_TYPE=s3", "RCLONE_CONFIG_WB_PROVIDER=Other",
			"RCLONE_CONFIG_WB_ENDPOINT=http://" + addr, "RCLONE_CONFIG_WB_REGION=us-east-1",
			"RCLONE_CONFIG_WB_ACCESS_KEY_ID=" + srv.AccessKey, "RCLONE_CONFIG_WB_SECRET_ACCESS_KEY=" + srv.SecretKey}
	}, nil
}

// s3CPUNote says how the CPU time of the loopback runs splits between the
// client and versitygw, and why the target is missed if it is.
func s3CPUNote(n string, ours, peer []measurement, missed bool) string {
	oc, pc := medianCPU(ours), medianCPU(peer)
	o, p := best(ours), best(peer)
	note := fmt.Sprintf("S3 on loopback: per run of %s orders, export used %s of CPU and versitygw %s for it; "+
		"`rclone copy` of the same files used %s and versitygw %s (medians). Client and server share the machine's cores.",
		n, fmtDur(oc.cpu), fmtDur(oc.server), fmtDur(pc.cpu), fmtDur(pc.server))
	if missed {
		note += fmt.Sprintf(" Export took %s against rclone's %s (%.2f× its time), with %s of CPU on both sides against rclone's %s.",
			fmtDur(o.d), fmtDur(p.d), float64(o.d)/float64(p.d), fmtDur(oc.cpu+oc.server), fmtDur(pc.cpu+pc.server))
	}
	return note
}

// versitygwCPU is the CPU time (user + system) the versitygw serving dir
// has used so far.
func versitygwCPU(dir string) time.Duration {
	const ticks = 100 // USER_HZ on Linux
	var total int64
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), "versitygw") || !strings.Contains(string(cmdline), dir) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", p.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		for _, i := range []int{11, 12} { // utime stime
			if i < len(f) {
				v, _ := strconv.ParseInt(f[i], 10, 64)
				total += v
			}
		}
	}
	return time.Duration(total) * time.Second / ticks
}

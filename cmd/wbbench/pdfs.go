package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/backends/smb/smbtest"
)

// pdfMethod says in BENCHMARKS.md how the PDF rows were measured.
const pdfMethod = "PDFs: sample orders whose rows' `hash` is the SHA-256 of a PDF of random bytes (not compressible) " +
	"after a PDF header, 50–500 KB each (uniform), in the tree `<JJJJ>/<auftrag_nr>/<auftrag_nr>_Auftrag.pdf` their " +
	"`file_path` resolves to. Copy: into a new folder of the share or a new prefix of the bucket, first (not measured) an " +
	"export of the rows without PDFs, then (measured) the export with `pdfs` (`ARCHIV_PDFS`) naming the local tree, which " +
	"finds every row unchanged and stores every PDF, each checked against its hash, beside `rclone copy` of the PDF tree " +
	"to the same server (default settings). `verify --pdfs` of an archive in the seed's " +
	"layout (the PDFs inside the archive, hard links to the same files) beside `find -print0 | xargs -0 -P2 -n 500 sha256sum` " +
	"over the same PDFs, both from the page cache; the rate is the PDFs' bytes over the run's time. Unchanged: export again " +
	"into a local archive made by an export with `pdfs`, beside export again into one made without. Peak memory: a fresh local " +
	"export with `pdfs` of the same number of orders whose PDFs are all 50 KB, and all 500 KB."

// pdfs measures the orders' PDFs: their copy to Samba and to versitygw on
// loopback beside rclone copy, verify --pdfs beside sha256sum in two
// processes, an unchanged export with pdfs beside one without, and the
// peak memory of the copy for small and for large PDFs.
func (b *bench) pdfs() error {
	dir := filepath.Join(b.work, "pdfs")
	n := thousands(b.pdfN)
	b.logf("PDFs: %s Aufträge mit PDFs von 50–500 KB anlegen", n)
	t := time.Now()
	tree, err := makePDFTree(filepath.Join(dir, "gemischt"), b.pdfN, 50_000, 500_000, 1)
	if err != nil {
		return fmt.Errorf("PDF-Baum anlegen: %w", err)
	}
	b.logf("PDFs: %s in %s", tree, since(t))
	withPDFs := func(root string) []string { return []string{"ARCHIV_PDFS=" + root} }

	// verify --pdfs beside sha256sum, seed layout: the PDFs in the archive.
	seed := filepath.Join(dir, "seed")
	if _, err := b.sh(nil, fmt.Sprintf("cp -al %q %q", tree.root, seed)); err != nil {
		return err
	}
	if _, err := b.wb(nil, "export", "--db", tree.db, "--archiv", seed); err != nil {
		return err
	}
	b.logf("PDFs: verify --pdfs im Wechsel mit sha256sum (2 Prozesse)")
	o, p := b.alternate(b.runs, func(int) (measurement, error) {
		return b.wb(nil, "verify", "--pdfs", "--archiv", seed)
	}, func(int) (measurement, error) {
		return b.sh(nil, fmt.Sprintf("find %q -name '*.pdf' -print0 | xargs -0 -P2 -n 500 sha256sum >/dev/null", seed))
	})
	vr := row{work: "`verify --pdfs`, " + tree.String(), target: "≥ 80 % of the rate of `sha256sum` in 2 processes"}
	b.pdfCells(&vr, o, p, "`sha256sum` ×2", "")
	if vr.ours.d > 0 && vr.peer.d > 0 {
		ro, rp := mbps(tree.bytes, vr.ours.d), mbps(tree.bytes, vr.peer.d)
		vr.met = yes(ro >= 0.8*rp) + fmt.Sprintf(" (%.0f against %.0f MB/s, %.0f %%)", ro, rp, 100*ro/rp)
	}
	b.rows = append(b.rows, vr)

	// An unchanged export with pdfs beside the same without.
	mit, ohne := filepath.Join(dir, "mit-pdfs"), filepath.Join(dir, "ohne-pdfs")
	for _, d := range []string{mit, ohne} {
		if err := mkdir(d); err != nil {
			return err
		}
	}
	if _, err := b.wb(withPDFs(tree.root), "export", "--db", tree.db, "--archiv", mit); err != nil {
		return err
	}
	if _, err := b.wb(nil, "export", "--db", tree.db, "--archiv", ohne); err != nil {
		return err
	}
	b.logf("PDFs: Export ohne Änderungen mit pdfs, im Wechsel mit demselben ohne PDFs")
	o, p = b.alternate(b.runs, func(int) (measurement, error) {
		return b.wb(withPDFs(tree.root), "export", "--db", tree.db, "--archiv", mit)
	}, func(int) (measurement, error) {
		return b.wb(nil, "export", "--db", tree.db, "--archiv", ohne)
	})
	sr := row{work: "export " + n + " orders, nothing changed, `pdfs` set (" + tree.String() + ")", target: "≤ 1.2× the same export without PDFs"}
	b.pdfCells(&sr, o, p, "the same export without PDFs", "")
	if sr.ours.d > 0 && sr.peer.d > 0 {
		x := float64(sr.ours.d) / float64(sr.peer.d)
		sr.met = yes(x <= 1.2) + fmt.Sprintf(" (%.2f×)", x)
	}
	b.rows = append(b.rows, sr)

	if err := b.pdfMemory(dir, n); err != nil {
		return err
	}
	if err := b.pdfSMB(dir, n, tree); err != nil {
		return err
	}
	return b.pdfS3(dir, n, tree)
}

// pdfMemory measures the peak memory of a fresh local export with pdfs
// for PDFs of 50 KB and of 500 KB, the same number of orders.
func (b *bench) pdfMemory(dir, n string) error {
	small, err := makePDFTree(filepath.Join(dir, "klein"), b.pdfN, 50_000, 50_000, 2)
	if err != nil {
		return fmt.Errorf("PDF-Baum anlegen: %w", err)
	}
	large, err := makePDFTree(filepath.Join(dir, "gross"), b.pdfN, 500_000, 500_000, 3)
	if err != nil {
		return fmt.Errorf("PDF-Baum anlegen: %w", err)
	}
	b.logf("PDFs: Spitzenspeicher des Exports, %s gegen %s", small, large)
	fresh := func(t pdfTree, name string) func(int) (measurement, error) {
		return func(i int) (measurement, error) {
			d := filepath.Join(dir, name+"-"+strconv.Itoa(i))
			if err := mkdir(d); err != nil {
				return measurement{}, err
			}
			return b.wb([]string{"ARCHIV_PDFS=" + t.root}, "export", "--db", t.db, "--archiv", d)
		}
	}
	o, p := b.alternate(b.runs, fresh(large, "speicher-gross"), fresh(small, "speicher-klein"))
	r := row{work: "peak memory, fresh local export of " + n + " orders with `pdfs`: PDFs of 500 KB (" + large.String() + ") against 50 KB (" + small.String() + ")",
		target: "independent of PDF size (≤ 1.25× the 50 KB peak)", showRSS: true}
	b.pdfCells(&r, o, p, "50 KB PDFs", "")
	if r.ours.rss > 0 && r.peer.rss > 0 {
		x := float64(r.ours.rss) / float64(r.peer.rss)
		r.met = yes(x <= 1.25) + fmt.Sprintf(" (%.2f×)", x)
	}
	b.rows = append(b.rows, r)
	return nil
}

// pdfSMB measures the PDF copy to Samba on loopback beside rclone copy
// of the PDF tree to the same share.
func (b *bench) pdfSMB(dir, n string, tree pdfTree) error {
	r := row{work: "copy " + tree.String() + " to Samba on loopback (export with `pdfs`, the " + n + " rows backed up before)", target: "at least as fast as `rclone copy`"}
	srvDir := filepath.Join(b.work, "psmb") // short: smbd's sockets live below it
	if err := mkdir(srvDir); err != nil {
		return err
	}
	srv, stop, err := smbtest.Launch(srvDir)
	if err != nil {
		r.skipped = "not measured: " + cellText(oneLine(err.Error()), "")
		b.rows = append(b.rows, r)
		return nil
	}
	defer stop()
	rclone, rcEnv, rcErr := b.rclone(srv)
	b.logf("PDFs: Export mit PDFs nach Samba, im Wechsel mit rclone copy der PDFs")
	return b.pdfCopy(r, tree, copyTarget{
		server: "smbd",
		creds:  []string{"ARCHIV_SMB_PASSWORD=" + srv.Password},
		url: func(i int) string {
			return fmt.Sprintf("smb://%s@%s/%s/pdf-export-%d", srv.User, srv.Addr(), srv.Share, i)
		},
		mkdir:     func(i int) error { return shareDir(srv, "pdf-export-"+strconv.Itoa(i)) },
		serverCPU: func() time.Duration { return smbdCPU(srvDir) },
		settle:    200 * time.Millisecond, // the connection's smbd exits after the client
		rclone: func(i int) (measurement, error) {
			if rcErr != nil {
				return measurement{}, errSkip
			}
			return b.exec(rcEnv(srv.Addr()), rclone, "copy", tree.root, "wb:"+srv.Share+"/pdf-rclone-"+strconv.Itoa(i))
		},
		rcloneErr: rcErr,
	})
}

// pdfS3 measures the PDF copy to versitygw on loopback beside rclone copy
// of the PDF tree to the same server.
func (b *bench) pdfS3(dir, n string, tree pdfTree) error {
	r := row{work: "copy " + tree.String() + " to S3, versitygw on loopback (export with `pdfs`, the " + n + " rows backed up before)", target: "at least as fast as `rclone copy`"}
	srvDir := filepath.Join(b.work, "ps3")
	if err := mkdir(srvDir); err != nil {
		return err
	}
	srv, stop, err := s3test.Launch(srvDir)
	if err != nil {
		r.skipped = "not measured: " + cellText(oneLine(err.Error()), "")
		b.rows = append(b.rows, r)
		return nil
	}
	defer stop()
	rclone, rcEnv, rcErr := b.rcloneS3(srv)
	b.logf("PDFs: Export mit PDFs nach S3, im Wechsel mit rclone copy der PDFs")
	return b.pdfCopy(r, tree, copyTarget{
		server: "versitygw",
		creds:  []string{"ARCHIV_S3_SECRET_KEY=" + srv.SecretKey, "ARCHIV_S3_INSECURE=1"},
		url: func(i int) string {
			return "s3://" + srv.AccessKey + "@" + srv.Addr() + "/" + s3test.Bucket + "/pdf-export-" + strconv.Itoa(i)
		},
		serverCPU: func() time.Duration { return versitygwCPU(srv.Dir) },
		rclone: func(i int) (measurement, error) {
			if rcErr != nil {
				return measurement{}, errSkip
			}
			return b.exec(rcEnv(srv.Addr()), rclone, "copy", tree.root, "wb:"+s3test.Bucket+"/pdf-rclone-"+strconv.Itoa(i))
		},
		rcloneErr: rcErr,
	})
}

// copyTarget is a server the PDF copy rows write to.
type copyTarget struct {
	server    string                           // its process, for the CPU note
	creds     []string                         // export's environment for it
	url       func(i int) string               // archive of the i-th run
	mkdir     func(i int) error                // makes that archive's folder (nil: none needed)
	serverCPU func() time.Duration             // the server's CPU time so far
	settle    time.Duration                    // wait after a run before its server CPU is read
	rclone    func(i int) (measurement, error) // the peer's i-th run
	rcloneErr error                            // why there is no peer
}

// pdfCopy measures, alternately, export with pdfs into an archive whose
// rows an unmeasured export stored before, and rclone copy of the PDF
// tree to the same server, and adds the row r.
func (b *bench) pdfCopy(r row, tree pdfTree, t copyTarget) error {
	withServer := func(f func(int) (measurement, error)) func(int) (measurement, error) {
		return func(i int) (measurement, error) {
			c0 := t.serverCPU()
			m, err := f(i)
			time.Sleep(t.settle)
			m.server = t.serverCPU() - c0
			return m, err
		}
	}
	prepare := func(i int) error { // the rows, before the measured run
		if t.mkdir != nil {
			if err := t.mkdir(i); err != nil {
				return err
			}
		}
		_, err := b.wb(t.creds, "export", "--db", tree.db, "--archiv", t.url(i))
		return err
	}
	env := append(slices.Clone(t.creds), "ARCHIV_PDFS="+tree.root)
	o, p := b.alternate(b.runs, withPrepared(prepare, withServer(func(i int) (measurement, error) {
		return b.wb(env, "export", "--db", tree.db, "--archiv", t.url(i))
	})), withServer(t.rclone))
	why := ""
	if t.rcloneErr != nil {
		why = "rclone " + oneLine(t.rcloneErr.Error())
	}
	b.pdfCells(&r, o, p, "`rclone copy`", why)
	b.pdfCPUNote(&r, t.server, o, p)
	b.rows = append(b.rows, r)
	return nil
}

// pdfCPUNote says how the CPU time of a copy row's runs splits between
// the client and the server (medians), and marks the row noted when its
// target is missed: client and server share the machine's cores.
func (b *bench) pdfCPUNote(r *row, server string, o, p tries) {
	if len(o.ms) == 0 || len(p.ms) == 0 {
		return
	}
	oc, pc := medianCPU(o.ms), medianCPU(p.ms)
	note := fmt.Sprintf("%s: per run, export used %s of CPU and %s %s for it; `rclone copy` of the PDFs alone used %s and %s %s (medians).",
		r.work, fmtDur(oc.cpu), server, fmtDur(oc.server), fmtDur(pc.cpu), server, fmtDur(pc.server))
	if r.noted = r.ours.d > r.peer.d; r.noted {
		how := "stages each PDF under `_pdfs/tmp/` until all are checked (the ransomware guard stores none when too many " +
			"do not match), then renames it to its content name, and flushes each (a FLUSH, an fsync in Samba); rclone writes " +
			"each file once and flushes nothing."
		if server == "versitygw" {
			how = "reads each PDF twice: once to check them all (the ransomware guard stores none when too many do not match), " +
				"then again for its one PUT to its content name (S3 has no rename, staging would store each PDF twice)."
		}
		note += fmt.Sprintf(" Export took %s against rclone's %s (%.2f×). Export also backs up the %s rows with their history and %s",
			fmtDur(r.ours.d), fmtDur(r.peer.d), float64(r.ours.d)/float64(r.peer.d), thousands(b.pdfN), how)
	}
	b.notes = append(b.notes, note)
}

// pdfCells fills a row's figures from both sides' runs; met says whether
// ours is at least as fast as the peer (rows with another target set met
// afterwards).
func (b *bench) pdfCells(r *row, o, p tries, peerName, peerWhy string) {
	var oursText, peerText string
	r.ours, oursText = o.cell("", "")
	r.peer, peerText = p.cell(firstNonEmpty(peerWhy, "no run succeeded"), "")
	r.peerName = peerName
	if o.err != nil || p.err != nil || len(p.ms) == 0 {
		r.oursText, r.peerText = oursText, peerText
		if len(p.ms) > 0 {
			r.peerText += " (" + peerName + ")"
		}
	}
	r.met = "not measured"
	if r.ours.d > 0 && r.peer.d > 0 {
		r.met = yes(r.ours.d <= r.peer.d)
	}
}

// withPrepared runs prepare(i) before the measured f(i), outside its
// measurement: the copy rows time the PDFs into an archive that holds the
// rows already.
func withPrepared(prepare func(int) error, f func(int) (measurement, error)) func(int) (measurement, error) {
	return func(i int) (measurement, error) {
		if err := prepare(i); err != nil {
			return measurement{}, fmt.Errorf("Zeilen vorab sichern: %w", err)
		}
		return f(i)
	}
}

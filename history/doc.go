// Package history keeps every export of the archive as a generation that
// can be restored later, inside the archive itself, at a cost that grows
// with what changed, not with the archive. It is storage only: the engine
// (backup/) calls Commit after an export, At/Load and Contents for
// restore --at, List and Versions for the history command, Changes for
// history --changes (two generations compared, record_id by record_id,
// contents read only for changed records), Forget with a
// Retention, Check for verify, and CompareTo for the mass-change guard.
//
// # Layout (format 3)
//
//	_historie/gen/0000000042-20261129T020003.117Z-<id>.gen   one per generation
//	_historie/pack/0000000042-<id>.pack                      contents new in generation 42
//	_historie.kopf                                           head marker (archive root)
//
// <id> is a random 128-bit id (32 hex digits) fixed before the file is
// written; the file repeats its sequence number and id (and a
// generation its archive time) inside, under the file's SHA-256 trailer,
// so a name whose content does not prove it (another file's bytes,
// garbage, a cut-off) is damage. Every history file is created only if
// absent (exclusive create; on S3 one PUT with If-None-Match: *) and
// never renamed or written over. Packs are named by an id rather than by
// the SHA-256 of their bytes because entries point to a pack by its
// sequence number, and a content is proven by its own SHA-256 wherever
// it is found: forget's repack and a stopped rewrite can leave a second
// file of the same pack under a new id without any generation having to
// change, while hash names would make every generation name the pack's
// hash (32 bytes per pack and generation) and be rewritten with it.
//
// Sequence numbers are never used twice: the next is one above the
// highest number of any file or of the head marker. Each generation
// records its identity (sequence number, origin id, archive and client
// time, record count and the SHA-256 digest of its entries) and the
// identity of the generation before it: a chain, so a generation missing
// or replaced in the middle is damage naming its number. The head marker,
// outside _historie, names the newest generation's number and identity
// and the highest number used; it is replaced (not a history file) after
// each generation, so a vanished or cut-short history is damage too, and
// export refuses to start a new history over it without --new-history.
// forget keeps the chain whole: a kept generation after a removed one is
// rewritten as a new file (new id, same origin and identity) linked to
// the one now before it, and the head marker follows when the newest goes.
//
// On a store that keeps versions (S3 with versioning or Object Lock) a
// history file whose current version is missing or does not prove
// itself is read from the newest older version that does; Check names it
// and RestoreVersions (history repair) makes that version current. Names
// deleted from the listing are found again from the head marker (which
// names the newest generation's file) along each generation's link to
// the file of the one before it; each generation also names the pack
// files its upserts need. forget writes files in place of others (a kept
// generation rewritten after a gap, a pack repacked) and removes the old
// ones on purpose, so what older files name goes stale: the head marker
// lists the files written in their place (Links), and the walk takes
// those, so that it stops where forget cut the history and never reads
// or names as attacked what forget removed (on S3 forget's removal
// deletes every version; on a store that leaves a delete marker the old
// file would still be there). A pack the listing shows is taken as
// listed, whatever file a generation names for it.
//
// Format 3 is format 2 with each order's PDF: every entry carries the
// SHA-256 of the order's PDF as the export found it (Record.PDF; empty:
// none found), and the generation says whether it records PDFs (PDFs: an
// export that could not look at every PDF says it does not) and how many
// orders' PDFs changed since the generation before (PDFChanged, for
// history). The entry digest takes a PDF only when one is known, so
// entries read from format 1 and 2 (no PDFs) keep their digest and
// identity, and a format-2 history is continued in format 3 without a
// break of the chain; the first PDFs recorded are no change (neither for
// Changed and the mass-change guard, which compare rows only, nor for
// Versions). PDFsInUse collects the PDFs the generations record, so that
// the engine's forget can free the PDF copies (_pdfs/, package pdf) no
// kept generation needs; while a generation that records no PDFs is kept,
// nothing is freed. A PDF adds 33 bytes to an entry (a SHA-256 does not
// compress): about 330 KB more per full generation of 10,000 orders,
// while a delta carries only the orders that changed (none known: 1
// byte). Format-2 and format-1 files are read as they are;
// code before format 3 cannot read a format-3 generation.
//
// Format 1 (until format 2: "0000000042-<time>.gen" and
// "0000000042.pack", written to a temp name and renamed) is read as it
// is; new generations are written in format 2 and link to the newest
// format-1 one, whose identity is computed from its entries.
//
// The folder starts with an underscore, so it is never taken for a year
// folder, and holds no data.csv or meta.json, so verify and restore of
// the per-order files never see it.
//
// # Why packs, deltas and full generations
//
// A content (one data.csv, ~450 bytes) is addressed by its SHA-256, the
// checksum meta.json already holds. Storing each content as its own file,
// as git's loose objects do, would cost a file per changed order: on a
// share a create, write, flush and rename each, and on disk a 4 KiB block
// each for 450 bytes. So, as restic and kopia do, the contents a run adds
// go into one pack file per run, compressed as one deflate stream (the
// CSV header and similar rows compress about 6:1 at deflate's fastest
// level, which is ten times faster than its default and only 20 % larger:
// a fresh export of 10,000 orders spends about 50 ms on it; a content's
// hash is not stored but recomputed on reading, which also verifies it).
//
// The generation file lists every record's entry (record_id, auftrag_nr,
// folder, content hash, size, schema version, which pack holds the
// content, and from format 3 its PDF's SHA-256). Listing all 10,000 entries every night would cost ~400 KB a
// night, more than the changes themselves, so a generation is normally a
// delta against the generation before it (entries added or changed,
// record_ids removed), and now and then a full one, like litestream's
// snapshots plus WAL segments: a full one is written when the deltas since
// the last full one hold as many entries as the table (then loading reads
// at most about twice a full generation, and storage is at most about
// twice the deltas), or after DefaultMaxChain deltas (an unchanged table
// writes empty deltas). Loading reads a chain's files in parallel batches.
// Content-addressed chunks of the entry list (restic's trees, kopia's
// index blobs) were not taken: orders change at random places of the
// list, so 1 % of changes would touch most chunks.
//
// Measured (BenchmarkHistoryGrowth, in-memory archive): 365 daily
// generations of 10,000 orders with 1 % of them changing every day take
// 5.9 MB, 1.02 times the bytes of one full set of data.csv + meta.json
// files (5.8 MB), in 730 files against the full set's 20,004 (in 4 KiB
// blocks 0.10 times); the target is under 3 times.
// An unchanged run writes one file of about 200 bytes (format 2: ids,
// chain link and digest; 1,000 orders for a year grow 1.45× a full set
// instead of 1.30× in format 1, TestGrowthOfAYear).
//
// # Crash safety
//
// Each file ends with the SHA-256 of its content, so a damaged file is
// refused as a whole. Commit creates the pack, syncs it and its folder,
// then the generation file likewise, then replaces the head marker. A
// crash leaves at most an unused pack, a temp file, or (where a create is
// not whole in one step) a generation file newer than the head marker
// that does not prove itself: a leftover the next Commit removes, never
// damage. Commit also reads every pack the new generation reuses
// contents from and stores a content again when its pack is missing or
// damaged, so damage does not carry into new generations. That proof is
// the file's trailer and the sequence number and id at the start of its
// body, not an unpacking of every content: a file that passes is the
// pack written under that name, byte for byte (truncation, a flipped
// byte, another pack's file and a missing file all fail it), and costs
// one SHA-256 of the compressed file (unpacking and hashing every
// content was about three quarters of the CPU time of an unchanged
// Commit of 10,000 records, BenchmarkCommitUnchanged). A pack that fails it is unpacked and its contents counted, with
// the stored versions where the store keeps them. Commit does not skip
// the read by a tag remembered from an earlier run: a local tag is the
// SHA-256 of the content (a read anyway), size and modification time do
// not change for bit rot or a flip within the clock's tick, and an S3
// ETag is the server's record of what was PUT, which a byte flipped on
// the server's disk leaves as it was; each would let a damaged pack
// pass until verify reads it. The caller
// holds the archive lock; WithFence stops every write once the lock may
// be lost.
//
// # Time
//
// Generations are ordered by sequence number. Each records the client's
// clock (ClientTime, for information) and the archive's: the modification
// time the backend reports for the pack just written (or a small probe
// file when there is none), to the millisecond, frozen into the
// generation's name and content so that copying the archive does not
// change it. At refuses to guess when these times go backwards along the
// sequence (AmbiguousTimeError). Retention and At judge by the
// archive's time and the order, so a host with a wrong clock cannot push
// good generations out of a share. (On a local disk the archive's time is
// the same machine's clock; a backend that reports no modification time
// gets the client's.)
package history

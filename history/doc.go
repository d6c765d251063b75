// Package history keeps every export of the archive as a generation that
// can be restored later, inside the archive itself, at a cost that grows
// with what changed, not with the archive. It is storage only: the engine
// (backup/) calls Commit after an export, At/Load and Contents for
// restore --at, List and Versions for the history command, Forget with a
// Retention, Check for verify, and CompareTo for the mass-change guard.
//
// # Layout
//
//	_historie/gen/0000000042-20261129T020003.117Z.gen   one per generation
//	_historie/pack/0000000042.pack                      contents new in generation 42
//
// The folder starts with an underscore, so it is never taken for a year
// folder, and holds no data.csv or meta.json, so verify and restore of the
// per-order files never see it. A generation file's name carries its
// sequence number (ten digits: names sort in order) and the time the
// archive gave the file when it was written (UTC, milliseconds).
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
// folder, content hash, size, schema version, and which pack holds the
// content). Listing all 10,000 entries every night would cost ~400 KB a
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
// An unchanged run writes one file of about 100 bytes.
//
// # Crash safety
//
// Every file is written to a .tmp name, synced, and renamed into place;
// each file ends with the SHA-256 of its content, so a damaged file is
// refused as a whole. Commit writes the pack first, syncs its folder, then
// the generation file, and syncs that folder: a crash leaves at most an
// unused pack or temp file, which nothing reads and the next Commit or
// Forget removes (see Forget for its order of steps). The caller holds the
// archive lock; WithFence stops every write once the lock may be lost.
//
// # Time
//
// Generations are ordered by sequence number. Each records the client's
// clock (ClientTime, for information) and the archive's: the modification
// time the backend reports for the new file, frozen into its name so that
// copying the archive does not change it. Retention and At judge by the
// archive's time and the order, so a host with a wrong clock cannot push
// good generations out of a share. (On a local disk the archive's time is
// the same machine's clock; a backend that reports no modification time
// gets the client's.)
package history

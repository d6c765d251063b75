package backup

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"path"

	"werkstatt-backup/codec"
	"werkstatt-backup/storage"
)

// A folder's data.csv and meta.json are replaced so that a crash at any
// instant leaves a pair that verify accepts:
//
//  1. stagePair: data.tmp.csv and meta.tmp.json are written and made durable
//     (the old pair is intact);
//  2. commitPair: data.tmp.csv is renamed over data.csv,
//  3. then meta.tmp.json over meta.json (the commit marker).
//
// Between 2 and 3 the new data.csv is described by meta.tmp.json, which
// loadBackup accepts in place of a meta.json that no longer matches, and
// the next export or migrate rolls forward.
//
// With sync, every file and the folder are synced on their own. Without,
// the caller must make all staged files durable before committing any and
// the renames durable afterwards (Archive.BatchSync, SyncAll): one call for
// a run.

// writePair stages and commits one pair, each step synced; on a store
// that writes files whole it writes the pair in place (writeInPlace),
// with no more requests than what the folder holds (st) needs.
func (e *Engine) writePair(ctx context.Context, dir string, data []byte, meta codec.Meta, st pairState) error {
	if e.Arch.Caps.AtomicWrite {
		return e.writeInPlace(ctx, dir, data, meta, st)
	}
	if err := e.stagePair(ctx, dir, data, meta, true); err != nil {
		return err
	}
	return e.commitPair(ctx, dir, true)
}

func (e *Engine) stagePair(ctx context.Context, dir string, data []byte, meta codec.Meta, sync bool) error {
	dataTmp, metaTmp := path.Join(dir, DataTemp), path.Join(dir, MetaTemp)
	if err := e.fenced(); err != nil {
		return err
	}
	if _, err := e.Arch.WriteFile(ctx, dataTmp, data, storage.WriteOpts{Sync: sync}); err != nil {
		return err
	}
	if err := e.fenced(); err != nil {
		return err // data.tmp.csv stays: removing it would change the archive, too
	}
	if _, err := e.Arch.WriteFile(ctx, metaTmp, codec.EncodeMeta(meta), storage.WriteOpts{Sync: sync}); err != nil {
		if e.fenced() == nil {
			_ = e.Arch.Remove(context.WithoutCancel(ctx), dataTmp, storage.Always)
		}
		return err
	}
	return nil
}

func (e *Engine) commitPair(ctx context.Context, dir string, sync bool) error {
	dataTmp, metaTmp := path.Join(dir, DataTemp), path.Join(dir, MetaTemp)
	if err := e.fenced(); err != nil {
		return err
	}
	if err := e.Arch.Rename(ctx, dataTmp, path.Join(dir, DataFile)); err != nil {
		// meta.tmp.json stays: on a network share a rename can fail after
		// it happened (the reply was lost), and then it is the only marker
		// that describes the new data.csv. Otherwise it is a leftover the
		// next export removes.
		if e.fenced() == nil {
			_ = e.Arch.Remove(context.WithoutCancel(ctx), dataTmp, storage.Always)
		}
		return fmt.Errorf("%s umbenennen: %w", dataTmp, err)
	}
	// A lost lock between the two renames leaves data.csv described by
	// meta.tmp.json, as a crash there would: verify accepts it, the next
	// export or migrate rolls it forward.
	if err := e.fenced(); err != nil {
		return err
	}
	if err := e.Arch.Rename(ctx, metaTmp, path.Join(dir, MetaFile)); err != nil {
		// data.csv is new and meta.tmp.json describes it: leave it for the
		// roll-forward rather than delete the only matching marker.
		return fmt.Errorf("%s umbenennen: %w", metaTmp, err)
	}
	if !sync {
		return nil
	}
	return e.Arch.SyncDir(ctx, dir)
}

// On a store that writes a file whole or not at all (Capabilities.
// AtomicWrite: an object store's PUT) a rename is a copy and a delete, so
// the pair is written in place, each file in one request, in an order
// that never leaves an old pair torn. What the folder held decides how
// much is needed (pairState):
//
//   - No meta.json yet (a new order): data.csv, then meta.json, the
//     commit mark. Two requests. A stop between them leaves a data.csv
//     without meta.json: verify reports that first backup as unfinished
//     (not valid), the next export completes it; there was no old backup
//     to tear.
//   - data.csv already holds the new bytes (the listing's size and hash
//     say so: a first backup stopped before its meta.json, or only
//     meta.json differs): meta.json alone. One request.
//   - Otherwise an old pair exists and data.csv changes:
//     1. meta.tmp.json, describing the new data.csv (the old pair is
//     intact; a stop here leaves a temp file the next export removes);
//     2. data.csv (now described by meta.tmp.json, as between the renames);
//     3. meta.json (the commit mark);
//     4. meta.tmp.json is removed (a leftover describes data.csv, which
//     the next export rolls forward).
//     Four requests instead of the six of temp files and renames.
//
// No folder is made or checked first: the store's folders are implicit
// (Capabilities.ImplicitDirs; export skips them there). No file is
// removed when a write fails: the store keeps the old one whole.

// pairState is what the caller knows of a folder before it writes a pair
// there: whether a meta.json exists, and whether data.csv already holds
// exactly the bytes to be written.
type pairState struct {
	hasMeta  bool
	sameData bool
}

// writeInPlace writes one pair in place (see above).
func (e *Engine) writeInPlace(ctx context.Context, dir string, data []byte, meta codec.Meta, st pairState) error {
	metaTmp := path.Join(dir, MetaTemp)
	enc := codec.EncodeMeta(meta)
	type file struct {
		name string
		data []byte
	}
	var files []file
	marker := false
	switch {
	case st.sameData:
		files = []file{{path.Join(dir, MetaFile), enc}}
	case !st.hasMeta:
		files = []file{{path.Join(dir, DataFile), data}, {path.Join(dir, MetaFile), enc}}
	default:
		files = []file{{metaTmp, enc}, {path.Join(dir, DataFile), data}, {path.Join(dir, MetaFile), enc}}
		marker = true
	}
	for _, f := range files {
		if err := e.fenced(); err != nil {
			return err
		}
		if err := e.writeWhole(ctx, f.name, f.data); err != nil {
			return err // names the file and the step
		}
	}
	if !marker {
		return nil
	}
	if err := e.fenced(); err != nil {
		return nil // the pair is written; the next export removes the marker
	}
	// The pair is complete: removing its marker is clean-up, also after
	// an interruption.
	if err := e.Arch.Remove(context.WithoutCancel(ctx), metaTmp, storage.Always); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		e.Log.Warn(fmt.Sprintf("%s nicht entfernt (%s); der nächste Export räumt auf", metaTmp, reason(err)))
	}
	return nil
}

// writeWhole stores data as name on a store that writes files whole (one
// request where the store has a WriteFile). Unlike a temp file, a failed
// write is not removed: it is the real name, and the store still holds its
// old content.
func (e *Engine) writeWhole(ctx context.Context, name string, data []byte) error {
	_, err := e.Arch.WriteFile(ctx, name, data, storage.WriteOpts{Sync: true})
	return err
}

// rollForward completes a pair a stopped run left between the two renames:
// meta.tmp.json, which describes data.csv, replaces meta.json. The caller
// has checked that it does.
func (e *Engine) rollForward(ctx context.Context, dir string, sync bool) error {
	metaTmp := path.Join(dir, MetaTemp)
	if err := e.fenced(); err != nil {
		return err
	}
	if err := e.Arch.Rename(ctx, metaTmp, path.Join(dir, MetaFile)); err != nil {
		return fmt.Errorf("%s umbenennen: %w", metaTmp, err)
	}
	if !sync {
		return nil
	}
	return e.Arch.SyncDir(ctx, dir)
}

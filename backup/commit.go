package backup

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"

	"werkstatt-backup/atomicfile"
	"werkstatt-backup/codec"
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
// the renames durable afterwards (Capabilities.SyncAll): one call for a run.

// writePair stages and commits one pair, each step synced; on a store
// that writes files whole it writes the pair in place (writeInPlace).
func (e *Engine) writePair(dir string, data []byte, meta codec.Meta) error {
	if e.Caps.AtomicWrite {
		return e.writeInPlace(dir, data, meta)
	}
	if err := e.stagePair(dir, data, meta, true); err != nil {
		return err
	}
	return e.commitPair(dir, true)
}

func (e *Engine) stagePair(dir string, data []byte, meta codec.Meta, sync bool) error {
	dataTmp, metaTmp := path.Join(dir, DataTemp), path.Join(dir, MetaTemp)
	if err := e.fenced(); err != nil {
		return err
	}
	if err := atomicfile.WriteTemp(e.Fs, e.Caps, dataTmp, data, 0o644, sync); err != nil {
		return err
	}
	if err := e.fenced(); err != nil {
		return err // data.tmp.csv stays: removing it would change the archive, too
	}
	if err := atomicfile.WriteTemp(e.Fs, e.Caps, metaTmp, codec.EncodeMeta(meta), 0o644, sync); err != nil {
		if e.fenced() == nil {
			_ = e.Fs.Remove(dataTmp)
		}
		return err
	}
	return nil
}

func (e *Engine) commitPair(dir string, sync bool) error {
	dataTmp, metaTmp := path.Join(dir, DataTemp), path.Join(dir, MetaTemp)
	if err := e.fenced(); err != nil {
		return err
	}
	if err := e.Fs.Rename(dataTmp, path.Join(dir, DataFile)); err != nil {
		// meta.tmp.json stays: on a network share a rename can fail after
		// it happened (the reply was lost), and then it is the only marker
		// that describes the new data.csv. Otherwise it is a leftover the
		// next export removes.
		if e.fenced() == nil {
			_ = e.Fs.Remove(dataTmp)
		}
		return fmt.Errorf("%s umbenennen: %w", dataTmp, err)
	}
	// A lost lock between the two renames leaves data.csv described by
	// meta.tmp.json, as a crash there would: verify accepts it, the next
	// export or migrate rolls it forward.
	if err := e.fenced(); err != nil {
		return err
	}
	if err := e.Fs.Rename(metaTmp, path.Join(dir, MetaFile)); err != nil {
		// data.csv is new and meta.tmp.json describes it: leave it for the
		// roll-forward rather than delete the only matching marker.
		return fmt.Errorf("%s umbenennen: %w", metaTmp, err)
	}
	if !sync {
		return nil
	}
	return atomicfile.SyncDir(e.Fs, e.Caps, dir)
}

// On a store that writes a file whole or not at all (Capabilities.
// AtomicWrite: an object store's PUT) a rename is a copy and a delete
// (four requests for a pair, on top of the two temp writes), so the pair
// is written in place, in an order that keeps the folder acceptable to
// verify at every instant, as the renames do:
//
//  1. meta.tmp.json, describing the new data.csv (the old pair is intact;
//     a stop here leaves a temp file the next export removes);
//  2. data.csv (now described by meta.tmp.json, as between the renames);
//  3. meta.json (the commit marker);
//  4. meta.tmp.json is removed (a leftover describes data.csv, which the
//     next export rolls forward).
//
// Four requests instead of six. No file is removed when a write fails:
// the store keeps the old one whole.

// writeInPlace writes one pair in place (see above).
func (e *Engine) writeInPlace(dir string, data []byte, meta codec.Meta) error {
	metaTmp := path.Join(dir, MetaTemp)
	enc := codec.EncodeMeta(meta)
	for _, f := range []struct {
		name string
		data []byte
	}{{metaTmp, enc}, {path.Join(dir, DataFile), data}, {path.Join(dir, MetaFile), enc}} {
		if err := e.fenced(); err != nil {
			return err
		}
		if err := e.writeWhole(f.name, f.data); err != nil {
			return fmt.Errorf("%s schreiben: %w", f.name, err)
		}
	}
	if err := e.fenced(); err != nil {
		return nil // the pair is written; the next export removes the marker
	}
	if err := e.Fs.Remove(metaTmp); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		e.Log.Warn(fmt.Sprintf("%s nicht entfernt (%s); der nächste Export räumt auf", metaTmp, reason(err)))
	}
	return nil
}

// writeWhole stores data as name on a store that writes files whole:
// with the store's WriteFile (one request), else create, write, sync,
// close. Unlike a temp file, a failed write is not removed: it is the
// real name, and the store still holds its old content.
func (e *Engine) writeWhole(name string, data []byte) error {
	if e.Caps.WriteFile != nil {
		return e.Caps.WriteFile(context.TODO(), name, data, 0o644, true)
	}
	f, err := e.Fs.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rollForward completes a pair a stopped run left between the two renames:
// meta.tmp.json, which describes data.csv, replaces meta.json. The caller
// has checked that it does.
func (e *Engine) rollForward(dir string, sync bool) error {
	metaTmp := path.Join(dir, MetaTemp)
	if err := e.fenced(); err != nil {
		return err
	}
	if err := e.Fs.Rename(metaTmp, path.Join(dir, MetaFile)); err != nil {
		return fmt.Errorf("%s umbenennen: %w", metaTmp, err)
	}
	if !sync {
		return nil
	}
	return atomicfile.SyncDir(e.Fs, e.Caps, dir)
}

package backup

import (
	"fmt"
	"path"

	"werkstatt-backup/codec"
	archfs "werkstatt-backup/fs"
)

// writePair replaces a folder's data.csv and meta.json so that a crash at
// any instant leaves a pair that verify accepts:
//
//  1. data.tmp.csv and meta.tmp.json are written and synced (old pair intact);
//  2. data.tmp.csv is renamed over data.csv;
//  3. meta.tmp.json is renamed over meta.json (the commit marker).
//
// Between 2 and 3 the new data.csv is described by meta.tmp.json, which
// loadBackup accepts in place of a meta.json that no longer matches, and
// the next export or migrate rolls forward.
func (e *Engine) writePair(dir string, data []byte, meta codec.Meta) error {
	dataTmp, metaTmp := path.Join(dir, DataTemp), path.Join(dir, MetaTemp)
	if err := archfs.WriteTemp(e.Fs, dataTmp, data, 0o644); err != nil {
		return err
	}
	if err := archfs.WriteTemp(e.Fs, metaTmp, codec.EncodeMeta(meta), 0o644); err != nil {
		_ = e.Fs.Remove(dataTmp)
		return err
	}
	if err := e.Fs.Rename(dataTmp, path.Join(dir, DataFile)); err != nil {
		_ = e.Fs.Remove(dataTmp)
		_ = e.Fs.Remove(metaTmp)
		return fmt.Errorf("%s umbenennen: %w", dataTmp, err)
	}
	if err := e.Fs.Rename(metaTmp, path.Join(dir, MetaFile)); err != nil {
		// data.csv is new and meta.tmp.json describes it: leave it for the
		// roll-forward rather than delete the only matching marker.
		return fmt.Errorf("%s umbenennen: %w", metaTmp, err)
	}
	return archfs.SyncDir(e.Fs, dir)
}

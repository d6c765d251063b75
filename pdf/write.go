package pdf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// IndexWriter writes an index file as a stream, entry by entry in
// record_id order, in the same bytes as Index.SaveFile: where the
// archive replaces a file by renaming (a disk, SMB) into its temp file,
// which Commit syncs and renames over the index; on a store whose writes
// are atomic (an object store's PUT, stored whole) the text is held and
// written whole, as that store holds every file it writes.
type IndexWriter struct {
	ctx        context.Context
	a          *storage.Archive
	name, temp string
	f          afero.File // the temp file; nil when held
	held       *bytes.Buffer
	w          *bufio.Writer
	n          int
	err        error
}

// CreateIndex starts writing the index name through temp.
func CreateIndex(ctx context.Context, a *storage.Archive, name, temp string) (*IndexWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := &IndexWriter{ctx: ctx, a: a, name: name, temp: temp}
	if a.Caps.AtomicWrite {
		w.held = &bytes.Buffer{}
		w.w = bufio.NewWriter(w.held)
		return w, nil
	}
	if !a.Caps.ImplicitDirs {
		if err := a.MkdirAll(ctx, StoreDir); err != nil {
			return nil, err
		}
	}
	f, err := a.FS(ctx).OpenFile(temp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s anlegen: %w", temp, err)
	}
	w.f, w.w = f, bufio.NewWriterSize(f, 256<<10)
	return w, nil
}

// Add writes the next entry.
func (w *IndexWriter) Add(e Entry) error {
	if w.err != nil {
		return w.err
	}
	data, err := json.Marshal(e)
	if err != nil {
		w.err = err
		return err
	}
	sep := ","
	if w.n == 0 {
		sep = `{"version":1,"auftraege":[`
	}
	w.n++
	w.write(sep)
	if w.err == nil {
		if _, err := w.w.Write(data); err != nil {
			w.err = w.writeErr(err)
		}
	}
	return w.err
}

func (w *IndexWriter) write(s string) {
	if w.err != nil {
		return
	}
	if _, err := io.WriteString(w.w, s); err != nil {
		w.err = w.writeErr(err)
	}
}

func (w *IndexWriter) writeErr(err error) error {
	return fmt.Errorf("%s schreiben: %w", w.tempName(), err)
}

func (w *IndexWriter) tempName() string {
	if w.f == nil {
		return w.name
	}
	return w.temp
}

// Commit ends the index and puts it in place of the old one; on an
// error the temp file is gone and the old index stands.
func (w *IndexWriter) Commit() error {
	if w.n == 0 {
		w.write(`{"version":1,"auftraege":null}`) // what json.Marshal makes of no entries
	} else {
		w.write("]}")
	}
	if w.err == nil {
		if err := w.w.Flush(); err != nil {
			w.err = w.writeErr(err)
		}
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	if w.f == nil {
		return w.a.Replace(w.ctx, w.name, w.temp, w.held.Bytes())
	}
	f := w.f
	w.f = nil
	fsys := w.a.FS(w.ctx)
	err := f.Sync()
	if err != nil {
		err = fmt.Errorf("%s Sync: %w", w.temp, err)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%s schließen: %w", w.temp, cerr)
	}
	if err == nil {
		if rerr := fsys.Rename(w.temp, w.name); rerr != nil {
			err = fmt.Errorf("%s nach %s umbenennen: %w", w.temp, w.name, rerr)
		}
	}
	if err != nil {
		_ = fsys.Remove(w.temp)
	}
	return err
}

// Abort drops what was written: the old index stands.
func (w *IndexWriter) Abort() {
	if w.f != nil {
		_ = w.f.Close()
		_ = w.a.FS(context.WithoutCancel(w.ctx)).Remove(w.temp)
		w.f = nil
	}
	w.held = nil
}

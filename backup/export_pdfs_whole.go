package backup

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"

	"werkstatt-backup/pdf"
	"werkstatt-backup/storage"
)

// errPDFChanged: a PDF read a second time to be written had another
// content than when it was checked.
var errPDFChanged = errors.New("das PDF hat sich seit dem Prüfen verändert")

// writePDFsWhole reads the PDFs of orders a second time and writes each whole
// to its content name in one request (an object store's PUT), when it
// still has the SHA-256 sums holds for it from the first read; copyPDFs
// does this instead of staging on a store whose rename is a copy and a
// delete. The content is held in memory while it is written: one PDF per
// worker, as the store's own files do. It returns the orders whose PDF
// was not written, with why; each written content is added to have.
func (e *Engine) writePDFsWhole(ctx context.Context, ck *pdf.Checker, orders []pdf.Order, sums map[int64]string, have map[string]bool, mu *sync.Mutex) map[int64]error {
	errs := map[int64]error{}
	fail := func(id int64, err error) {
		mu.Lock()
		errs[id] = err
		mu.Unlock()
	}
	ck.Read = func(ctx context.Context, res *pdf.Result) (io.Writer, func(*pdf.Result)) {
		buf := bytes.NewBuffer(make([]byte, 0, res.Size))
		return buf, func(res *pdf.Result) {
			if res.Status != pdf.Good && res.Status != pdf.NotChecked || res.SHA256 != sums[res.RecordID] {
				fail(res.RecordID, errPDFChanged)
				return
			}
			if err := e.fenced(); err != nil {
				fail(res.RecordID, err)
				return
			}
			obj := pdf.ObjectName(res.SHA256)
			if _, err := e.Arch.WriteFile(ctx, obj, buf.Bytes(), storage.WriteOpts{Sync: true}); err != nil {
				fail(res.RecordID, err)
				return
			}
			mu.Lock()
			have[obj] = true
			mu.Unlock()
		}
	}
	defer func() { ck.Read = nil }()
	for _, res := range ck.Check(ctx, orders) {
		mu.Lock()
		_, failed := errs[res.RecordID]
		mu.Unlock()
		if !failed && res.Status != pdf.Good && res.Status != pdf.NotChecked {
			err := res.Err
			if err == nil {
				err = errPDFChanged
			}
			fail(res.RecordID, err)
		}
	}
	return errs
}

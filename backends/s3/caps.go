package s3

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// DefaultWorkers is how many file operations run at once when the user
// did not choose: each is one HTTP request of a round trip or so, and
// the server answers many at once. Against versitygw on loopback (2
// shared cores, 3,000 PUTs of 600 bytes) 4 workers made 540 PUTs/s and
// 16 to 128 made 590 to 800/s, the machine being the limit; over a WAN
// with 20 to 50 ms per round trip 64 in flight are needed for 1,300 to
// 3,000 requests a second.
const DefaultWorkers = 64

// objectInfo is an object of a listing.
type objectInfo = minio.ObjectInfo

// capabilities declares what this archive guarantees and offers (see
// storage.Capabilities); lock tells whether the bucket has Object Lock.
func (fs *Fs) capabilities(lock bool) storage.Capabilities {
	caps := storage.Capabilities{
		AtomicRename:    false, // copy + delete
		AtomicWrite:     true,  // one PUT
		ExclusiveCreate: true,  // PUT with If-None-Match: *
		ImplicitDirs:    true,
		DefaultWorkers:  DefaultWorkers,
		ReadFile:        fs.readFile,
		ReadDir: func(ctx context.Context, name string) ([]os.FileInfo, error) {
			return fs.bind(ctx).ReadDir(name)
		},
		WriteFile:   fs.writeFile,
		List:        fs.list,
		ContentHash: contentHash,
		// Nothing to flush for a folder: saves the GET and the listing
		// of opening it.
		SyncDir: func(context.Context, string) error { return nil },
		// SyncAll stays nil: a PUT is durable when it returns.
		Bind: func(ctx context.Context) afero.Fs { return fs.bind(ctx) },
	}
	if lock {
		caps.ObjectLock = &storage.ObjectLock{Retain: fs.retain, RetainedUntil: fs.retainedUntil}
	}
	fs.condCaps(&caps)
	return caps
}

// readFile reads name in one GET: its content, or the first limit+1
// bytes of a longer file.
func (fs *Fs) readFile(ctx context.Context, name string, limit int64) ([]byte, error) {
	rel := clean(name)
	if rel == "" {
		return nil, pathErr("open", name, errIsDir)
	}
	data, _, err := fs.c.get(ctx, fs.key(rel), max(limit, 0))
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return data, nil
}

var errIsDir = errors.New("ist ein Ordner")

// writeFile stores data as name in one PUT; sync changes nothing, a PUT
// is durable when it returns.
func (fs *Fs) writeFile(ctx context.Context, name string, data []byte, _ os.FileMode, _ bool) error {
	rel := clean(name)
	if rel == "" {
		return pathErr("open", name, errIsDir)
	}
	_, err := fs.c.put(ctx, fs.key(rel), data, putMode{})
	return pathErr("close", name, err)
}

// ReadDir lists the folder name in one listing (1,000 entries a request),
// sorted by name; a folder with nothing in it does not exist.
func (fs *Fs) ReadDir(name string) ([]os.FileInfo, error) {
	infos, err := fs.readDir(fs.key(clean(name)))
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	if len(infos) == 0 && clean(name) != "" {
		return nil, pathErr("open", name, iofs.ErrNotExist)
	}
	return infos, nil
}

// readDir lists the folder with key dirKey as FileInfos.
func (fs *Fs) readDir(dirKey string) ([]os.FileInfo, error) {
	entries, err := fs.c.readDir(fs.ctx, dirKey)
	if err != nil {
		return nil, err
	}
	out := make([]os.FileInfo, len(entries))
	for i, e := range entries {
		if e.dir {
			out[i] = dirInfo(e.name)
		} else {
			out[i] = &fileInfo{name: e.name, size: e.obj.Size, mtime: e.obj.LastModified}
		}
	}
	return out, nil
}

// list reports every file below the folder prefix in one recursive
// listing, in lexical order of the keys.
func (fs *Fs) list(ctx context.Context, prefix string, fn func(storage.Entry) error) error {
	rel := clean(prefix)
	root := dirPrefix(fs.key(""))
	from := dirPrefix(fs.key(rel))
	if rel == "" {
		from = root
	}
	var fnErr error // fn's own error goes back unchanged
	emit := func(o objectInfo) error {
		if strings.HasSuffix(o.Key, "/") {
			return nil // a folder marker
		}
		fnErr = fn(storage.Entry{
			Name:    strings.TrimPrefix(o.Key, root),
			Size:    o.Size,
			Hash:    normETag(o.ETag),
			ModTime: o.LastModified,
		})
		return fnErr
	}
	err := fs.c.listParallel(ctx, from, emit)
	if fnErr != nil {
		return fnErr
	}
	return pathErr("list", path.Clean(prefix), err)
}

// listWorkers bounds the sub-listings listParallel runs at once.
const listWorkers = 8

// listParallel lists every key below from in lexical order, like a
// recursive listing, but lists each sub-folder of from (an archive's year
// folders, its history) on its own and at the same time: a recursive
// listing is one page of 1,000 keys after the other, each a round trip
// (10,000 orders are 20 pages), the sub-listings overlap them. The level
// below from is listed first, with the delimiter; its files and the
// sub-folders' keys then go to fn in key order.
func (c *conn) listParallel(ctx context.Context, from string, fn func(objectInfo) error) error {
	var top []objectInfo // files directly below from, and sub-folders (Key ending in "/")
	if err := c.list(ctx, from, false, 0, func(o objectInfo) error {
		if o.Key != from {
			top = append(top, o)
		}
		return nil
	}); err != nil {
		return err
	}
	slices.SortFunc(top, func(a, b objectInfo) int { return strings.Compare(a.Key, b.Key) })
	subs := make([][]objectInfo, len(top))
	errs := make([]error, len(top))
	sem := make(chan struct{}, listWorkers)
	var wg sync.WaitGroup
	for i, o := range top {
		if !strings.HasSuffix(o.Key, "/") {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = c.list(ctx, o.Key, true, 0, func(o objectInfo) error {
				subs[i] = append(subs[i], o)
				return nil
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	for i, o := range top {
		if !strings.HasSuffix(o.Key, "/") {
			subs[i] = []objectInfo{o}
		}
		for _, k := range subs[i] {
			if err := fn(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// retain sets name's retention (compliance mode) to until.
func (fs *Fs) retain(ctx context.Context, name string, until time.Time) error {
	k := fs.key(clean(name))
	mode := minio.Compliance
	u := until.UTC()
	err := fs.c.call(ctx, func(ctx context.Context) error {
		return fs.c.cl().PutObjectRetention(ctx, fs.c.bucket, k, minio.PutObjectRetentionOptions{
			Mode: &mode, RetainUntilDate: &u,
		})
	})
	return pathErr("retain", name, err)
}

// retainedUntil returns name's retention end, the zero time if none. It
// reads the object's lock headers with a HEAD (minio-go's
// GetObjectRetention cannot parse every server's answer: versitygw names
// the XML element ObjectLockRetention); on AWS the caller needs the
// s3:GetObjectRetention permission for them.
func (fs *Fs) retainedUntil(ctx context.Context, name string) (time.Time, error) {
	info, err := fs.c.head(ctx, fs.key(clean(name)))
	if err != nil {
		return time.Time{}, pathErr("retention", name, err)
	}
	v := info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date")
	if v == "" {
		return time.Time{}, nil
	}
	until, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, pathErr("retention", name, fmt.Errorf("Aufbewahrungsfrist %q des S3-Servers unlesbar", v))
	}
	return until, nil
}

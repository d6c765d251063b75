package s3

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
)

// errStop ends a listing early without an error.
var errStop = errors.New("stop")

// list lists the keys below prefix (which ends in "/" or is ""), all pages
// (1,000 keys each), calling fn for each in lexical order; recursive
// lists every key below, else one level with sub-"folders" as keys ending
// in "/". A listing of many pages may take longer than s3_timeout as a
// whole: the deadline applies to each wait for the next page, so a slow
// but moving listing completes and a stuck one ends. fn returning errStop
// ends the listing with nil.
func (c *conn) list(parent context.Context, prefix string, recursive bool, maxKeys int, fn func(minio.ObjectInfo) error) error {
	if err := c.down.open(time.Now()); err != nil {
		return err
	}
	if err := parent.Err(); err != nil {
		return c.translate(err, err)
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var expired atomic.Bool
	watchdog := time.AfterFunc(c.timeout, func() { expired.Store(true); cancel() })
	defer watchdog.Stop()

	var fnErr error
	opts := minio.ListObjectsOptions{Prefix: prefix, Recursive: recursive, MaxKeys: maxKeys}
	for obj := range c.cl().ListObjects(ctx, c.bucket, opts) {
		watchdog.Reset(c.timeout)
		if obj.Err != nil {
			return c.listErr(obj.Err, ctx, &expired)
		}
		if fnErr = fn(obj); fnErr != nil {
			break
		}
	}
	if errors.Is(fnErr, errStop) {
		return nil
	}
	if fnErr != nil {
		return fnErr
	}
	if ctx.Err() != nil { // the channel closed because ctx ended
		return c.listErr(ctx.Err(), ctx, &expired)
	}
	return nil
}

func (c *conn) listErr(err error, ctx context.Context, expired *atomic.Bool) error {
	ctxErr := ctx.Err()
	if expired.Load() {
		ctxErr = context.DeadlineExceeded
	}
	return c.noteDown(c.translate(err, ctxErr))
}

// entry is one name in a folder listing.
type entry struct {
	name string // last element
	dir  bool
	obj  minio.ObjectInfo
}

// readDir lists the folder with key prefix dirKey ("" = bucket root, else
// without trailing slash), sorted by name. Keys ending in "/" that name
// the folder itself (folder markers other tools create) are left out.
func (c *conn) readDir(ctx context.Context, dirKey string) ([]entry, error) {
	prefix := dirPrefix(dirKey)
	var out []entry
	err := c.list(ctx, prefix, false, 0, func(o minio.ObjectInfo) error {
		rest := strings.TrimPrefix(o.Key, prefix)
		switch {
		case rest == "":
			return nil // a folder marker of the folder itself
		case strings.HasSuffix(rest, "/"):
			out = append(out, entry{name: strings.TrimSuffix(rest, "/"), dir: true, obj: o})
		default:
			out = append(out, entry{name: path.Base(rest), obj: o})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b entry) int {
		if n := strings.Compare(a.name, b.name); n != 0 || a.dir == b.dir {
			return n
		}
		if a.dir {
			return 1
		}
		return -1
	})
	// A name can be both a file and a folder on S3 ("a" and "a/x"); the
	// file wins, as a file system cannot show both.
	out = slices.CompactFunc(out, func(a, b entry) bool { return a.name == b.name })
	return out, nil
}

// hasChildren reports whether any key lies below the folder dirKey: one
// listing of at most one key.
func (c *conn) hasChildren(ctx context.Context, dirKey string) (bool, error) {
	found := false
	prefix := dirPrefix(dirKey)
	err := c.list(ctx, prefix, false, 1, func(o minio.ObjectInfo) error {
		if o.Key == prefix {
			return nil // a folder marker alone does not make it non-empty
		}
		found = true
		return errStop
	})
	return found, err
}

// dirPrefix is the listing prefix of the folder dirKey.
func dirPrefix(dirKey string) string {
	if dirKey == "" {
		return ""
	}
	return dirKey + "/"
}

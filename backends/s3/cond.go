package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"

	"werkstatt-backup/storage"
)

// Whole and conditional writes, and the versions of a name, on S3:
//
//   - WriteCond is one PUT of the whole content: Always plain,
//     IfAbsent with If-None-Match: *, IfMatch with If-Match: <ETag>. The
//     server checks the condition and stores in one step (versitygw under
//     its per-key publish lock, AWS natively). A conditional PUT is sent
//     once, never retried: a retry of one whose answer was lost would fail
//     its own condition and report our own object as someone else's. Such
//     a lost answer is an error; the caller reads the tag to see whether
//     its content is there. 412 is fs.ErrExist for IfAbsent and
//     storage.ErrChanged for IfMatch; a missing key under IfMatch (404) is
//     ErrChanged and fs.ErrNotExist.
//   - A tag is the ETag: the hex MD5 of the content for our single-part
//     PUTs. The same content stored again has the same tag again.
//   - ReadTag is one GET; the ETag comes with the content.
//   - RemoveCond: Always removes as Remove does. IfMatch is refused
//     (storage.ErrUnsupported): AWS honours If-Match on DELETE, but
//     versitygw 1.8.0 evaluates it outside the lock its conditional PUTs
//     take, so a DELETE could remove content a conditional PUT stored a
//     moment before. Users of CompareAndSwap therefore never delete (the
//     archive lock writes a "free" record instead).
//   - RemoveFile is one DELETE on an unversioned bucket. On a versioned
//     bucket it lists the key's versions (one request) and deletes them
//     (one or two requests, see removeVersions): a delete marker would
//     make versitygw refuse a later If-None-Match create of the name.
//   - IfAbsent on a versioned bucket where the name's current version is
//     a delete marker (a removal Object Lock turned into a marker, or
//     someone with the backup's key deleting every object): versitygw
//     answers 412 although a read finds nothing (for S3 the name is
//     absent). The markers on top are deleted (what they hid is current
//     again) and the create is sent once more: 412 then means the name exists again with its
//     older version, which the caller reads as any existing content (the
//     archive lock: the record it left). Without this the lock could not
//     be taken after a deletion attack ("meldet ihn als vorhanden, beim
//     Lesen aber als nicht vorhanden").
//   - Versions (versioned buckets only) is one listing of the key's
//     versions; ReadVersion one GET with versionId; RestoreVersion one
//     server-side copy of the version onto the key (a new current version).

func (fs *Fs) condCaps(c *storage.Capabilities) {
	c.CompareAndSwap = true
	c.WriteCond = fs.writeCond
	c.ReadTag = fs.readTag
	c.RemoveCond = fs.removeCond
	c.RemoveFile = fs.removeFileCap
	if fs.c.versioned {
		c.Versions = fs.versionsOf
		c.ReadVersion = fs.readVersion
		c.RestoreVersion = fs.restoreVersion
	}
}

func (fs *Fs) writeCond(ctx context.Context, name string, data []byte, cond storage.Cond) (storage.Tag, error) {
	rel := clean(name)
	if rel == "" {
		return "", pathErr("open", name, errIsDir)
	}
	var mode putMode
	tag, match := cond.Match()
	switch {
	case cond.Absent():
		mode.ifNoneMatch = true
	case match && tag == "":
		return "", pathErr("open", name, fmt.Errorf("%w (%s: Tag unbekannt)", storage.ErrChanged, cond))
	case match:
		mode.ifMatch = string(tag)
	}
	etag, err := fs.c.put(ctx, fs.key(rel), data, mode)
	if err != nil && mode.ifNoneMatch && errors.Is(err, iofs.ErrExist) && fs.c.versioned {
		var unhidden bool
		if unhidden, err = fs.c.unhide(ctx, fs.key(rel), err); unhidden {
			etag, err = fs.c.put(ctx, fs.key(rel), data, mode)
		}
	}
	if err != nil {
		switch {
		case match && errors.Is(err, iofs.ErrNotExist):
			err = fmt.Errorf("%w: %w", storage.ErrChanged, err)
		case match && errors.Is(err, iofs.ErrExist): // 412
			err = fmt.Errorf("%w (%s)", storage.ErrChanged, cond)
		}
		return "", pathErr("open", name, err)
	}
	if etag == "" { // a server that sends no ETag
		etag = contentHash(data)
	}
	return storage.Tag(etag), nil
}

func (fs *Fs) readTag(ctx context.Context, name string, limit int64) ([]byte, storage.Tag, error) {
	rel := clean(name)
	if rel == "" {
		return nil, "", pathErr("open", name, errIsDir)
	}
	data, info, err := fs.c.get(ctx, fs.key(rel), max(limit, 0))
	if err != nil {
		return nil, "", pathErr("open", name, err)
	}
	etag := normETag(info.ETag)
	if etag == "" {
		return nil, "", pathErr("open", name, errors.New("S3-Server sendet kein ETag"))
	}
	return data, storage.Tag(etag), nil
}

func (fs *Fs) removeCond(ctx context.Context, name string, cond storage.Cond) error {
	if cond.None() {
		return fs.bind(ctx).Remove(name)
	}
	return pathErr("remove", name, fmt.Errorf("Bedingung %s beim Löschen: %w", cond, storage.ErrUnsupported))
}

// removeFileCap removes name, which the caller knows is a file: no check
// whether it is a folder (see the comment at the top).
func (fs *Fs) removeFileCap(ctx context.Context, name string) error {
	rel := clean(name)
	if rel == "" {
		return pathErr("remove", name, errIsDir)
	}
	return pathErr("remove", name, fs.c.remove(ctx, fs.key(rel)))
}

// versionsOf lists every version and delete marker of exactly name,
// newest first. The listing has no retention dates (RetainUntil zero).
func (fs *Fs) versionsOf(ctx context.Context, name string) ([]storage.Version, error) {
	rel := clean(name)
	k := fs.key(rel)
	var out []storage.Version
	err := fs.c.call(ctx, func(ctx context.Context) error {
		out = out[:0]
		for o := range fs.c.cl().ListObjects(ctx, fs.c.bucket, minio.ListObjectsOptions{Prefix: k, WithVersions: true}) {
			if o.Err != nil {
				return o.Err
			}
			if o.Key != k {
				continue
			}
			v := storage.Version{ID: o.VersionID, ModTime: o.LastModified, Current: o.IsLatest, DeleteMarker: o.IsDeleteMarker}
			if !o.IsDeleteMarker {
				v.Size, v.Tag = o.Size, storage.Tag(normETag(o.ETag))
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, pathErr("versions", name, err)
	}
	// S3 lists a key's versions newest first; make sure of it.
	slices.SortStableFunc(out, func(a, b storage.Version) int {
		if a.Current != b.Current {
			if a.Current {
				return -1
			}
			return 1
		}
		return b.ModTime.Compare(a.ModTime)
	})
	return out, nil
}

func (fs *Fs) readVersion(ctx context.Context, name, id string, limit int64) ([]byte, error) {
	k := fs.key(clean(name))
	var data []byte
	err := fs.c.call(ctx, func(ctx context.Context) error {
		body, _, _, err := minio.Core{Client: fs.c.cl()}.GetObject(ctx, fs.c.bucket, k, minio.GetObjectOptions{VersionID: id})
		if err != nil {
			return err
		}
		defer body.Close()
		var r io.Reader = body
		if limit >= 0 {
			r = io.LimitReader(body, limit+1)
		}
		data, err = io.ReadAll(r)
		return err
	})
	if err != nil {
		return nil, pathErr("open", versionName(name, id), err)
	}
	return data, nil
}

func (fs *Fs) restoreVersion(ctx context.Context, name, id string) error {
	k := fs.key(clean(name))
	err := fs.c.call(ctx, func(ctx context.Context) error {
		_, err := fs.c.cl().CopyObject(ctx,
			minio.CopyDestOptions{Bucket: fs.c.bucket, Object: k},
			minio.CopySrcOptions{Bucket: fs.c.bucket, Object: k, VersionID: id})
		return err
	})
	return pathErr("restore", versionName(name, id), err)
}

// versionName names a version in messages: "name (Version id)".
func versionName(name, id string) string {
	return strings.TrimSpace(name + " (Version " + id + ")")
}

// unhide deletes the delete markers on top of key's versions (see the
// comment at the top). It reports whether there were any; err (the 412)
// is returned unchanged when there were none, else any error of its own.
func (c *conn) unhide(ctx context.Context, key string, err412 error) (bool, error) {
	var markers []minio.ObjectInfo
	err := c.call(ctx, func(ctx context.Context) error {
		var all []minio.ObjectInfo
		for o := range c.cl().ListObjects(ctx, c.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
			if o.Err != nil {
				return o.Err
			}
			if o.Key == key {
				all = append(all, o)
			}
		}
		// Newest first; the markers on top are those before the first
		// real version.
		slices.SortStableFunc(all, func(a, b minio.ObjectInfo) int {
			if a.IsLatest != b.IsLatest {
				if a.IsLatest {
					return -1
				}
				return 1
			}
			return b.LastModified.Compare(a.LastModified)
		})
		markers = markers[:0]
		for _, o := range all {
			if !o.IsDeleteMarker {
				break
			}
			markers = append(markers, minio.ObjectInfo{Key: key, VersionID: o.VersionID})
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if len(markers) == 0 {
		return false, err412
	}
	if _, err := c.removeObjects(ctx, markers); err != nil {
		return false, err
	}
	return true, nil
}

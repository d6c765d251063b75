package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
)

// The single requests the Fs is made of. Each is one call (see conn.call)
// and returns a translated error.

// get reads the object key whole, or its first limit+1 bytes if limit >= 0
// and it is longer: one GET.
func (c *conn) get(ctx context.Context, key string, limit int64) ([]byte, minio.ObjectInfo, error) {
	var data []byte
	var info minio.ObjectInfo
	err := c.call(ctx, func(ctx context.Context) error {
		body, oi, _, err := minio.Core{Client: c.cl()}.GetObject(ctx, c.bucket, key, minio.GetObjectOptions{})
		if err != nil {
			return err
		}
		defer body.Close()
		info = oi
		var r io.Reader = body
		if limit >= 0 {
			r = io.LimitReader(body, limit+1)
		}
		data, err = io.ReadAll(r)
		return err
	})
	return data, info, err
}

// head returns the object key's size, ETag and time: one HEAD.
func (c *conn) head(ctx context.Context, key string) (minio.ObjectInfo, error) {
	var info minio.ObjectInfo
	err := c.call(ctx, func(ctx context.Context) (err error) {
		info, err = c.cl().StatObject(ctx, c.bucket, key, minio.StatObjectOptions{})
		return err
	})
	return info, err
}

// putMode is the condition of a PUT.
type putMode struct {
	ifNoneMatch bool   // If-None-Match: * (create only if absent)
	ifMatch     string // If-Match: the ETag the object must still have
}

// put stores data as the object key in one single-part PUT, so that its
// ETag is the MD5 of data (ContentHash), with no server-side encryption
// that would change that. It sends data with its length, Content-MD5 and
// its SHA-256 in the signature: a plain request the server checks whole.
// (minio-go's PutObject would use a chunked streaming signature over
// plain HTTP, whose unread rest a server that answers a failed condition
// early leaves on a kept-alive connection, spoiling the next request.)
// It returns the new ETag.
func (c *conn) put(ctx context.Context, key string, data []byte, mode putMode) (string, error) {
	opts := minio.PutObjectOptions{
		ContentType:          "application/octet-stream",
		DisableMultipart:     true,
		DisableContentSha256: true, // no streaming signature; the hash is passed below
	}
	if mode.ifNoneMatch {
		opts.SetMatchETagExcept("*")
	}
	if mode.ifMatch != "" {
		opts.SetMatchETag(mode.ifMatch)
	}
	client := c.cl()
	if mode.ifNoneMatch || mode.ifMatch != "" {
		client = c.once
	}
	sum := md5.Sum(data)
	sha := sha256.Sum256(data)
	var etag string
	err := c.call(ctx, func(ctx context.Context) error {
		info, err := minio.Core{Client: client}.PutObject(ctx, c.bucket, key, bytes.NewReader(data), int64(len(data)),
			base64.StdEncoding.EncodeToString(sum[:]), hex.EncodeToString(sha[:]), opts)
		etag = normETag(info.ETag)
		return err
	})
	return etag, err
}

// remove deletes the object key. Deleting a missing key succeeds, as S3
// does. On a versioned bucket every version of the key is deleted, so
// that no delete marker is left: a delete marker makes some servers
// (versitygw) refuse a later create with If-None-Match: * as if the key
// existed, and the archive lock is created that way after every release.
// A version under Object Lock cannot be deleted; the name is then hidden
// by a delete marker, as a plain delete does, and the version stays.
func (c *conn) remove(ctx context.Context, key string) error {
	if c.versioned {
		return c.removeMany(ctx, []string{key})
	}
	return c.call(ctx, func(ctx context.Context) error {
		return c.cl().RemoveObject(ctx, c.bucket, key, minio.RemoveObjectOptions{})
	})
}

// removeFile is Remove's delete of a name that is not the root: it fails
// with ENOTEMPTY when key is a folder holding objects, else deletes key as
// remove does. On a versioned bucket the listing of key's versions also
// shows whether a folder key/ exists (a common prefix), so that a file
// costs one listing and one delete, not a folder check on top.
func (c *conn) removeFile(ctx context.Context, key string) error {
	if !c.versioned {
		if err := c.refuseFolder(ctx, key); err != nil {
			return err
		}
		return c.remove(ctx, key)
	}
	vs, folder, err := c.versions(ctx, key)
	if err != nil {
		return err
	}
	if folder {
		if err := c.refuseFolder(ctx, key); err != nil {
			return err
		}
	}
	return c.removeVersions(ctx, vs)
}

// refuseFolder returns ENOTEMPTY if key is a folder holding objects (a
// folder marker alone does not count).
func (c *conn) refuseFolder(ctx context.Context, key string) error {
	ok, err := c.hasChildren(ctx, key)
	if err == nil && ok {
		err = syscall.ENOTEMPTY
	}
	return err
}

// copy copies the object src to dst on the server.
func (c *conn) copy(ctx context.Context, src, dst string) error {
	return c.call(ctx, func(ctx context.Context) error {
		_, err := c.cl().CopyObject(ctx,
			minio.CopyDestOptions{Bucket: c.bucket, Object: dst},
			minio.CopySrcOptions{Bucket: c.bucket, Object: src})
		return err
	})
}

// removeMany deletes keys in batches (up to 1,000 a request); on a
// versioned bucket every version of each key (see remove).
func (c *conn) removeMany(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	objs := make([]minio.ObjectInfo, 0, len(keys))
	if !c.versioned {
		for _, k := range keys {
			objs = append(objs, minio.ObjectInfo{Key: k})
		}
		_, err := c.removeObjects(ctx, objs)
		return err
	}
	for _, k := range keys {
		vs, _, err := c.versions(ctx, k)
		if err != nil {
			return err
		}
		objs = append(objs, vs...)
	}
	return c.removeVersions(ctx, objs)
}

// removeVersions deletes the versions objs on a versioned bucket; a name
// whose version Object Lock retains is hidden by a delete marker. The
// older versions go first and each name's current version last, in a
// request of its own: a server that deletes the current version first
// brings the next older one back as current (versitygw 1.8.0 moves it
// into place), and a create with If-None-Match: * in between succeeded
// although the name existed again a moment later. Two runs both got the
// archive lock that way (conformance LockUnderLoad on a versioned bucket).
func (c *conn) removeVersions(ctx context.Context, objs []minio.ObjectInfo) error {
	older := slices.DeleteFunc(slices.Clone(objs), func(o minio.ObjectInfo) bool { return o.IsLatest })
	current := slices.DeleteFunc(slices.Clone(objs), func(o minio.ObjectInfo) bool { return !o.IsLatest })
	var refused []string
	for _, batch := range [][]minio.ObjectInfo{older, current} {
		r, err := c.removeObjects(ctx, batch)
		if err != nil {
			return err
		}
		refused = append(refused, r...)
	}
	// Versions under Object Lock: hide the names with a delete marker.
	hide := make([]minio.ObjectInfo, 0, len(refused))
	for _, k := range slices.Compact(slices.Sorted(slices.Values(refused))) {
		hide = append(hide, minio.ObjectInfo{Key: k})
	}
	_, err := c.removeObjects(ctx, hide)
	return err
}

// versions lists every version and delete marker of exactly key; folder
// reports that the listing also showed key/ (a folder of that name: it
// holds objects or is a folder marker).
func (c *conn) versions(ctx context.Context, key string) (out []minio.ObjectInfo, folder bool, err error) {
	err = c.call(ctx, func(ctx context.Context) error {
		out, folder = out[:0], false
		for o := range c.cl().ListObjects(ctx, c.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
			if o.Err != nil {
				return o.Err
			}
			switch o.Key {
			case key:
				out = append(out, minio.ObjectInfo{Key: o.Key, VersionID: o.VersionID, IsLatest: o.IsLatest})
			case key + "/":
				folder = true
			}
		}
		return nil
	})
	return out, folder, err
}

// removeObjects deletes objs (with their VersionID, if set) in batches.
// It returns the keys whose version the server refused to delete because
// Object Lock retains it, and the first other error.
func (c *conn) removeObjects(ctx context.Context, objs []minio.ObjectInfo) (refused []string, err error) {
	if len(objs) == 0 {
		return nil, nil
	}
	err = c.call(ctx, func(ctx context.Context) error {
		ch := make(chan minio.ObjectInfo, len(objs))
		for _, o := range objs {
			ch <- o
		}
		close(ch)
		var first error
		for e := range c.cl().RemoveObjects(ctx, c.bucket, ch, minio.RemoveObjectsOptions{}) {
			switch {
			case e.Err == nil:
			case e.VersionID != "" && minio.ToErrorResponse(e.Err).Code == "AccessDenied":
				refused = append(refused, e.ObjectName)
			case first == nil:
				first = e.Err
			}
		}
		return first
	})
	return refused, err
}

// versioning reports whether the bucket keeps versions (enabled or
// suspended: suspended buckets still hold the versions made before).
func (c *conn) versioning(ctx context.Context) (bool, error) {
	var status string
	err := c.call(ctx, func(ctx context.Context) error {
		cfg, err := c.cl().GetBucketVersioning(ctx, c.bucket)
		status = cfg.Status
		return err
	})
	if err != nil {
		var se *s3Error
		if errors.As(err, &se) || errors.Is(err, os.ErrPermission) {
			return false, nil // a server without versioning, or no right to ask
		}
		return false, c.openErr(err)
	}
	return status == "Enabled" || status == "Suspended", nil
}

// normETag is an ETag without quotes, in lower case.
func normETag(etag string) string {
	return strings.ToLower(strings.Trim(etag, `"`))
}

// contentHash is the ETag S3 gives a single-part PUT of data.
func contentHash(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

// modTime is the object's time, or now for a file not yet stored.
func modTime(info minio.ObjectInfo) time.Time {
	if info.LastModified.IsZero() {
		return time.Now()
	}
	return info.LastModified
}

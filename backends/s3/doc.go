// Package s3 is the archive backend for S3-compatible object stores
// (scheme "s3"): s3://[ACCESS_KEY@]host[:port]/bucket[/prefix], through
// github.com/minio/minio-go/v7. It works with AWS S3, Ceph RGW, MinIO,
// Versity S3 Gateway and the like.
//
// Design:
//   - Fs is an afero.Fs over the objects below the prefix: the archive name
//     "2024/076329/data.csv" is the key "prefix/2024/076329/data.csv";
//     names are cleaned and cannot leave the prefix.
//   - Every request is one call with its own deadline (s3_timeout, default
//     30 s) under its caller's ctx (the capability funcs, Bind's view of
//     the Fs): cancelling it ends the call in flight at once, a call under
//     an ended ctx is not sent, and a clean-up under
//     context.WithoutCancel runs normally (conn.call). The Fs itself runs
//     under context.Background. minio-go tries a request that meets a network
//     error or a 5xx answer at most 3 times, so an unreachable server is an
//     error within about a second; a wrong key is not retried, nor is a
//     conditional PUT (a retry would fail its own condition).
//   - Library errors are translated in one place (translate) into
//     *os.PathError with io/fs sentinels (NoSuchKey → ErrNotExist,
//     AccessDenied → ErrPermission, a failed condition → ErrExist) or a
//     German error; only the S3 error code and the server's message are
//     kept, never a request, header or signature.
//
// Semantics compared with a local disk:
//   - Folders are implicit (Capabilities.ImplicitDirs): Mkdir and MkdirAll
//     create nothing, a folder exists while a key lies below it, a file can
//     be written without its folder. Folder marker objects ("name/") that
//     other tools create are ignored.
//   - Open reads a file whole with one GET and serves Read, ReadAt and Seek
//     from memory (archive files are small). A file opened for writing is
//     held in memory and stored with one single-part PUT on Sync or Close:
//     it appears whole or not at all (AtomicWrite), and its ETag is the MD5
//     of its bytes (ContentHash). Without O_TRUNC the old content is read
//     first.
//   - O_CREATE|O_EXCL fails at once if a HEAD finds the name; the first
//     Sync or Close stores the whole content with If-None-Match: *
//     (ExclusiveCreate: one client of many wins, the others get ErrExist
//     there); later ones require that object's ETag (If-Match), so a file
//     replaced meanwhile by another client (a lock taken over) is not
//     overwritten. No empty object is stored first: a writer killed
//     before its Close leaves nothing. The handle's conditional writes are
//     one PUT each (cond.go, Capabilities.WriteCond).
//   - Rename is a server-side copy, then a delete: not atomic
//     (AtomicRename false). Folders cannot be renamed.
//   - Remove of a folder that still holds a key is ENOTEMPTY; of a name
//     with neither an object nor a key below it (a folder just emptied, or
//     a name never written: S3 cannot tell them apart) it succeeds, as a
//     DELETE of a missing key does. RemoveAll lists once and deletes in
//     batches of 1,000.
//   - Chmod does nothing (objects have no mode; access is the bucket's
//     policy); Chown and Chtimes fail: an object's time is when it was
//     stored.
//   - On a bucket with Object Lock, Capabilities.ObjectLock sets
//     compliance-mode retentions and reads them back from the object's
//     lock headers (one HEAD).
//
// The secret key is held in memory only and never appears in an error.
package s3

// Package smb is the archive backend for SMB2/3 shares (scheme "smb"):
// smb://[domain;]user@host[:port]/share[/dir]. It talks SMB itself through
// github.com/cloudsoda/go-smb2, so nothing is mounted and no root rights
// are needed.
//
// Design:
//   - Fs is an afero.Fs rooted at the archive directory inside the share;
//     archive names ("2024/076329/data.csv") become share paths with
//     backslashes and can never leave the root.
//   - A pool of a few sessions (Backend.Sessions, default 4), each its own
//     TCP connection with the share mounted, carries the calls of the
//     engine's workers; each session also multiplexes concurrent calls.
//   - Every call has a deadline (option smb_timeout, DefaultTimeout) and
//     runs under its caller's ctx (Capabilities.Bind, the capability
//     funcs): cancelling it ends the call in flight at once; a clean-up
//     passes context.WithoutCancel and keeps its deadline only. The Fs
//     without Bind runs under context.Background (see callCtx). A
//     session whose connection broke is replaced before the next call,
//     with exponential backoff while the server is unreachable; idempotent
//     calls that were cut off are retried once on the new session. Rename
//     and exclusive create are not retried (their first try may have
//     happened), and a file handle dies with its session.
//   - Library errors are translated in one place (translate) into
//     *os.PathError with io/fs sentinels (ErrNotExist, ErrExist,
//     ErrPermission) or syscall errors (ENOTEMPTY, ENOTDIR, ...).
//
// Semantics compared with a local disk:
//   - Rename replaces an existing file in one step (FileRenameInformation
//     with ReplaceIfExists; upstream hirochachacha/go-smb2 v1.1.0 sends 0
//     and cannot). Over SMB a file that another handle holds open cannot
//     be replaced or deleted; Rename and Remove wait for such short-lived
//     handles for up to Backend.BusyWait.
//   - O_CREATE|O_EXCL is an atomic FILE_CREATE on the server.
//   - File.Sync sends SMB2 FLUSH. Sync on a read-only handle, which
//     includes directories, succeeds without a round trip, and the
//     archive's SyncDir (storage.Archive.SyncDir through
//     Capabilities.SyncDir) sends nothing: SMB has no directory flush,
//     the server commits renames itself.
//   - Permission bits map to the read-only attribute only; Chown is not
//     supported.
//
// Options (Describe): smb_user and smb_domain when the URL has none,
// smb_timeout, smb_password_file; the password comes from smb_password
// (ARCHIV_SMB_PASSWORD only), else the file, else the URL. It is held in
// memory only and never appears in an error.
package smb

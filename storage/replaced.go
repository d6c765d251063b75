package storage

import iofs "io/fs"

// ErrReplaced is the error of writing a file created with O_EXCL when the
// storage found it replaced or removed by someone else before its content
// was stored (an object store's PUT conditional on the object the create
// made). It counts as fs.ErrExist: the name is someone else's now, and the
// writer must leave it alone — not remove it as its own failed create.
var ErrReplaced error = replacedError{}

type replacedError struct{}

func (replacedError) Error() string {
	return "wurde inzwischen von einem anderen Programm ersetzt oder gelöscht"
}

func (replacedError) Is(target error) bool { return target == iofs.ErrExist }

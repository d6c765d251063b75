package history

import (
	"errors"
	"fmt"
	iofs "io/fs"
)

// errorf formats a message that wraps sentinel (if not nil), so callers can
// test errors.Is without the sentinel's text in the message.
func errorf(sentinel error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if sentinel == nil {
		return plainError(msg)
	}
	return wrapped{msg: msg, err: sentinel}
}

type plainError string

func (e plainError) Error() string { return string(e) }

type wrapped struct {
	msg string
	err error
}

func (w wrapped) Error() string { return w.msg }
func (w wrapped) Unwrap() error { return w.err }

func isNotExist(err error) bool { return errors.Is(err, iofs.ErrNotExist) }

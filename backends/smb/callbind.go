package smb

import (
	"context"
	"sync"
	"time"
)

var _ context.Context = (*callCtx)(nil)

// callCtx is the context the library sees for one pooled call, and for
// every later call on a file opened in it: the library binds a file to
// the context of the share it was opened through, for all its calls, so a
// plain context.WithTimeout would expire in the middle of a long write,
// and a context of the first caller would end the file's later calls
// made under another one. begin arms it for one call under the caller's
// ctx and a deadline, end disarms it. Calls on one file are serialized by
// the file, so begin/end never overlap. Nothing here outlives a call:
// there is no stored run; the caller's ctx of each call decides.
type callCtx struct {
	parent context.Context // the pool's context: closing the Fs ends every call

	mu         sync.Mutex
	done       chan struct{}
	err        error
	deadline   time.Time
	timer      *time.Timer
	stopParent func() bool
	stopCaller func() bool
	byCaller   bool // the caller's ctx ended the call
}

func newCallCtx(parent context.Context) *callCtx {
	return &callCtx{parent: parent, done: make(chan struct{})}
}

// begin starts a call under caller that may take at most d: it ends at
// the deadline, when the pool is closed, or at once when caller is
// cancelled.
func (c *callCtx) begin(caller context.Context, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	done := make(chan struct{})
	c.done, c.err, c.byCaller, c.deadline = done, nil, false, time.Now().Add(d)
	c.timer = time.AfterFunc(d, func() { c.expire(done, context.DeadlineExceeded, false) })
	c.stopParent = context.AfterFunc(c.parent, func() { c.expire(done, context.Canceled, false) })
	c.stopCaller = context.AfterFunc(caller, func() { c.expire(done, context.Canceled, true) })
}

// end finishes the call; the context stays quiet until the next begin.
func (c *callCtx) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.stopParent()
		c.stopCaller()
		c.timer, c.stopParent, c.stopCaller = nil, nil, nil
	}
	c.deadline = time.Time{}
}

// expire ends the call begun with done, if it still runs; byCaller says
// that the caller's ctx ended it.
func (c *callCtx) expire(done chan struct{}, err error, byCaller bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == done && c.err == nil {
		c.err, c.byCaller = err, byCaller
		close(done)
	}
}

// cancelledByCaller reports whether the caller's ctx ended the call.
func (c *callCtx) cancelledByCaller() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byCaller
}

func (c *callCtx) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline, !c.deadline.IsZero()
}

func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

func (c *callCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *callCtx) Value(key any) any { return c.parent.Value(key) }

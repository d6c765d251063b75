package smb

import (
	"context"
	"sync"
	"time"
)

var _ context.Context = (*callCtx)(nil)

// callCtx gives every call on one open file its own deadline. The library
// binds a file to the context of the share it was opened through, for all
// its later calls; a plain context.WithTimeout would therefore expire in
// the middle of a long write. begin arms a new deadline, end disarms it.
// Calls on one file are serialized by the file, so begin/end never overlap.
type callCtx struct {
	parent context.Context // the pool's context: closing the Fs ends every call

	mu         sync.Mutex
	done       chan struct{}
	err        error
	deadline   time.Time
	timer      *time.Timer
	stopParent func() bool
}

func newCallCtx(parent context.Context) *callCtx {
	return &callCtx{parent: parent, done: make(chan struct{})}
}

// begin starts a call that may take at most d.
func (c *callCtx) begin(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	done := make(chan struct{})
	c.done, c.err, c.deadline = done, nil, time.Now().Add(d)
	c.timer = time.AfterFunc(d, func() { c.expire(done, context.DeadlineExceeded) })
	c.stopParent = context.AfterFunc(c.parent, func() { c.expire(done, context.Canceled) })
}

// end finishes the call; the context stays quiet until the next begin.
func (c *callCtx) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.stopParent()
		c.timer, c.stopParent = nil, nil
	}
	c.deadline = time.Time{}
}

func (c *callCtx) expire(done chan struct{}, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == done && c.err == nil {
		c.err = err
		close(done)
	}
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

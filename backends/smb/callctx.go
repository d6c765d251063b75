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
//
// run is the context of the run that opened the archive. A call begun
// while the run is live ends at once when the run is cancelled (Ctrl+C)
// instead of waiting out its deadline; a call begun after the
// cancellation (releasing the lock, removing a temp file) runs with its
// deadline only, so that a cancelled run can clean up.
type callCtx struct {
	parent context.Context // the pool's context: closing the Fs ends every call
	run    context.Context // nil: no run to follow

	mu         sync.Mutex
	done       chan struct{}
	err        error
	deadline   time.Time
	timer      *time.Timer
	stopParent func() bool
	stopRun    func() bool
	byRun      bool // the run's cancellation ended the call
}

func newCallCtx(parent, run context.Context) *callCtx {
	return &callCtx{parent: parent, run: run, done: make(chan struct{})}
}

// begin starts a call that may take at most d.
func (c *callCtx) begin(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	done := make(chan struct{})
	c.done, c.err, c.byRun, c.deadline = done, nil, false, time.Now().Add(d)
	c.timer = time.AfterFunc(d, func() { c.expire(done, context.DeadlineExceeded) })
	c.stopParent = context.AfterFunc(c.parent, func() { c.expire(done, context.Canceled) })
	c.stopRun = func() bool { return false }
	if c.run != nil && c.run.Err() == nil {
		c.stopRun = context.AfterFunc(c.run, func() { c.expireBy(done, context.Canceled, true) })
	}
}

// end finishes the call; the context stays quiet until the next begin.
func (c *callCtx) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.stopParent()
		c.stopRun()
		c.timer, c.stopParent, c.stopRun = nil, nil, nil
	}
	c.deadline = time.Time{}
}

func (c *callCtx) expire(done chan struct{}, err error) { c.expireBy(done, err, false) }

// expireBy ends the call begun with done, if it still runs; byRun says
// that the run's cancellation ended it.
func (c *callCtx) expireBy(done chan struct{}, err error, byRun bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == done && c.err == nil {
		c.err, c.byRun = err, byRun
		close(done)
	}
}

// cancelledByRun reports whether the run's cancellation ended the call.
func (c *callCtx) cancelledByRun() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byRun
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

package s3

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

// conn is one opened bucket: the client, where the archive lives in it and
// how every call is bounded.
type conn struct {
	client *minio.Client
	// once is the same client without retries, for conditional PUTs: a
	// retry of one whose answer was lost would fail its own condition
	// (412) and report someone else's file where there is ours.
	once      *minio.Client
	transport *http.Transport
	bucket    string
	prefix    string // "" or "dir/sub" (no slashes around it)
	endpoint  string // HOST[:PORT], for messages
	accessKey string // for messages; not a secret
	secret    string // only to redact it from texts we did not write
	timeout   time.Duration
	// versioned: the bucket keeps versions (Object Lock needs it). A
	// delete there removes every version of the key, not only adds a
	// delete marker (see remove).
	versioned bool
	// down remembers that the server was unreachable (see breaker).
	down breaker
}

// breaker keeps a run whose server died from failing its remaining files
// one by one at minio-go's pace: each failed attempt costs a retry pause
// even without retries, and 400 orders took minutes. Once the server has
// been unreachable for openAfter (a short blip is retried as usual), calls
// fail at once with the last error; one call a second tries the server
// again, and any answer of the server closes the breaker.
type breaker struct {
	mu    sync.Mutex
	err   error     // the unreachable error; nil while the server answers
	first time.Time // the first failure of this outage
	tried time.Time // the last attempt
}

const (
	openAfter = 2 * time.Second // how long the server must be unreachable before calls fail at once
	retryDown = time.Second     // how often a call then tries the server
)

// open returns the error to fail with at once, or nil if this call may
// go to the server.
func (b *breaker) open(now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil || now.Sub(b.first) < openAfter || now.Sub(b.tried) >= retryDown {
		b.tried = now
		return nil
	}
	return b.err
}

func (b *breaker) note(err error, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case errors.Is(err, ErrUnreachable):
		if b.err == nil {
			b.first = now
		}
		b.err, b.tried = err, now
	case errors.Is(err, context.Canceled):
		// the run's doing: says nothing about the server
	default:
		b.err = nil // the server answered
	}
}

func (b *breaker) isDown() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err != nil
}

// cl is the client for the next request: without retries while the
// server is down.
func (c *conn) cl() *minio.Client {
	if c.down.isDown() {
		return c.once
	}
	return c.client
}

// call runs fn with a context of its own: ctx (the caller's) bounded by
// c.timeout. Cancelling ctx ends fn in flight at once; a clean-up after
// a cancelled run passes context.WithoutCancel(ctx) and gets its full
// timeout. A call with ctx already ended is not sent. The error fn
// returns is translated (see translate).
func (c *conn) call(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return c.translate(err, err)
	}
	if err := c.down.open(time.Now()); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := fn(cctx)
	if err == nil {
		c.down.note(nil, time.Now())
		return nil
	}
	return c.noteDown(c.translate(err, cctx.Err()))
}

// noteDown marks the server down when err says it is unreachable.
func (c *conn) noteDown(err error) error {
	c.down.note(err, time.Now())
	return err
}

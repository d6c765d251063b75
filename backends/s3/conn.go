package s3

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
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
	run       context.Context // the run's context (storage.Backend.Open)
	// versioned: the bucket keeps versions (Object Lock needs it). A
	// delete there removes every version of the key, not only adds a
	// delete marker (see remove).
	versioned bool
	// down is set while the server is unreachable: calls then make one
	// attempt instead of minio-go's retries with their pauses, so that a
	// run whose server died fails its remaining files at once instead of
	// a second each (400 orders took minutes to fail one by one).
	down atomic.Bool
}

// cl is the client for the next request: without retries while the
// server is down.
func (c *conn) cl() *minio.Client {
	if c.down.Load() {
		return c.once
	}
	return c.client
}

// call runs fn with a context of its own: it ends after c.timeout, or at
// once when the run is cancelled while fn is in flight. A call that starts
// after the run was cancelled still gets its full timeout, so that a
// cancelled run can release its lock and remove its temp files. The error
// fn returns is translated (see translate).
func (c *conn) call(fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if c.run.Err() == nil {
		stop := context.AfterFunc(c.run, cancel)
		defer stop()
	}
	err := fn(ctx)
	if err == nil {
		c.down.Store(false)
		return nil
	}
	ctxErr := ctx.Err()
	if ctxErr == context.Canceled && c.run.Err() == nil {
		ctxErr = nil // fn's own doing, not the run's
	}
	return c.noteDown(c.translate(err, ctxErr))
}

// noteDown marks the server down when err says it is unreachable.
func (c *conn) noteDown(err error) error {
	if errors.Is(err, ErrUnreachable) {
		c.down.Store(true)
	}
	return err
}

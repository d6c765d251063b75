package s3

import (
	"context"
	"net/http"
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
		return nil
	}
	ctxErr := ctx.Err()
	if ctxErr == context.Canceled && c.run.Err() == nil {
		ctxErr = nil // fn's own doing, not the run's
	}
	return c.translate(err, ctxErr)
}

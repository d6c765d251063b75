package s3

import (
	"errors"
	"testing"
	"time"
)

// TestBreaker: after an unreachable error calls fail at once with it,
// one call a second goes to the server, and any answer closes it.
func TestBreaker(t *testing.T) {
	var b breaker
	t0 := time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)
	if err := b.open(t0); err != nil {
		t.Fatalf("closed breaker: %v", err)
	}
	down := &netError{endpoint: "127.0.0.1:9", cause: errors.New("Verbindung abgelehnt")}
	b.note(down, t0)
	if err := b.open(t0.Add(300 * time.Millisecond)); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("within a second of the failure: %v, want the unreachable error at once", err)
	}
	if err := b.open(t0.Add(retryDown)); err != nil {
		t.Fatalf("a second later one call may try: %v", err)
	}
	if err := b.open(t0.Add(retryDown + time.Millisecond)); err == nil {
		t.Fatal("only one call a second may try")
	}
	b.note(canceledError{}, t0.Add(2*retryDown))
	if !b.isDown() {
		t.Fatal("a cancelled call closed the breaker")
	}
	b.note(&s3Error{code: "NoSuchKey"}, t0.Add(2*retryDown))
	if b.isDown() || b.open(t0.Add(2*retryDown)) != nil {
		t.Fatal("an answer of the server did not close the breaker")
	}
}

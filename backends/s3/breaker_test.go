package s3

import (
	"errors"
	"testing"
	"time"
)

// TestBreaker: a short outage is retried as usual; once the server has
// been unreachable for openAfter, calls fail at once with the last error,
// one call a second goes to the server, and any answer closes it.
func TestBreaker(t *testing.T) {
	var b breaker
	t0 := time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	if err := b.open(t0); err != nil {
		t.Fatalf("closed breaker: %v", err)
	}
	down := &netError{endpoint: "127.0.0.1:9", cause: errors.New("Verbindung abgelehnt")}
	b.note(down, t0)
	if err := b.open(at(300 * time.Millisecond)); err != nil {
		t.Fatalf("a blip of 300ms: %v, want the call to go to the server", err)
	}
	b.note(down, at(openAfter))
	if err := b.open(at(openAfter + 300*time.Millisecond)); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("unreachable for %s: %v, want the error at once", openAfter, err)
	}
	if err := b.open(at(openAfter + retryDown)); err != nil {
		t.Fatalf("a second later one call may try: %v", err)
	}
	if err := b.open(at(openAfter + retryDown + time.Millisecond)); err == nil {
		t.Fatal("only one call a second may try")
	}
	b.note(canceledError{}, at(3*openAfter))
	if !b.isDown() {
		t.Fatal("a cancelled call closed the breaker")
	}
	b.note(&s3Error{code: "NoSuchKey"}, at(3*openAfter))
	if b.isDown() || b.open(at(3*openAfter)) != nil {
		t.Fatal("an answer of the server did not close the breaker")
	}
}

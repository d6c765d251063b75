package latency

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer echoes every connection until the client closes its side.
func echoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return l.Addr().String()
}

func startProxy(t *testing.T, target string, delay time.Duration) *Proxy {
	t.Helper()
	p, err := Start(target, delay)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends msg and reads its echo, returning how long it took.
func roundTrip(t *testing.T, c net.Conn, msg []byte) time.Duration {
	t.Helper()
	start := time.Now()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("echo differs from what was sent")
	}
	return time.Since(start)
}

func TestRoundTripTakesTwiceTheDelay(t *testing.T) {
	const delay = 5 * time.Millisecond
	p := startProxy(t, echoServer(t), delay)
	c := dial(t, p.Addr)
	// Every round trip takes at least the delay twice. Other work on the
	// machine only adds time, so only the fastest of them says whether the
	// proxy itself adds more (a busy machine made single round trips 80ms).
	fastest := time.Hour
	for i := range 5 {
		rtt := roundTrip(t, c, []byte("ping"))
		if rtt < 2*delay {
			t.Errorf("round trip %d took %s, want at least %s", i, rtt, 2*delay)
		}
		fastest = min(fastest, rtt)
	}
	if fastest > 2*delay+40*time.Millisecond {
		t.Errorf("fastest of 5 round trips took %s, want about %s", fastest, 2*delay)
	}
}

// Requests sent back to back overlap: fifty of them take about one round
// trip, not fifty.
func TestPipelinedRequestsOverlap(t *testing.T) {
	const delay = 20 * time.Millisecond
	p := startProxy(t, echoServer(t), delay)
	c := dial(t, p.Addr)
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		for range 50 {
			if _, err := c.Write([]byte("request.")); err != nil {
				errc <- err
				return
			}
			time.Sleep(time.Millisecond)
		}
		errc <- nil
	}()
	got := make([]byte, 50*len("request."))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	// One after the other they would take 50 round trips (2s); the bound
	// lies halfway, far above what a busy machine adds to one round trip
	// and 50ms of sending (240ms seen).
	if took < 2*delay || took > 25*2*delay {
		t.Errorf("50 pipelined requests took %s, want about %s + 50ms of sending, far below 50 round trips", took, 2*delay)
	}
}

// A large transfer arrives intact and in order, and the end of the
// client's stream reaches the server (half-close), which then ends its own.
func TestLargeTransferAndHalfClose(t *testing.T) {
	p := startProxy(t, echoServer(t), time.Millisecond)
	c := dial(t, p.Addr)
	msg := make([]byte, 4<<20)
	rand.Read(msg)
	go func() {
		c.Write(msg)
		c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("got %d bytes back, want the %d sent, unchanged", len(got), len(msg))
	}
}

func TestCloseCutsConnections(t *testing.T) {
	p, err := Start(echoServer(t), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr)
	roundTrip(t, c, []byte("hallo"))
	done := make(chan struct{})
	go func() {
		p.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close does not return while a connection is open")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection still open after Close")
	}
	if _, err := net.Dial("tcp", p.Addr); err == nil {
		t.Fatal("proxy still accepts connections after Close")
	}
}

package smb

import (
	"bytes"
	"errors"
	"net"
	"testing"
)

// recConn records every Write on the wire as one segment.
type recConn struct {
	net.Conn
	segments [][]byte
	err      error
}

func (c *recConn) Write(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	c.segments = append(c.segments, bytes.Clone(b))
	return len(b), nil
}

// The library's header and message go out in one write, in order, and
// each Write reports what the library handed it.
func TestNetConnSendsHeaderWithMessage(t *testing.T) {
	rec := &recConn{}
	c := &netConn{Conn: rec}
	big := bytes.Repeat([]byte{0xfe}, maxKeptBuf+1)
	msgs := [][]byte{[]byte("\xfeSMB erste"), []byte("\xfeSMB zweite Nachricht"), big, []byte("\xfeSMB danach")}
	var want [][]byte
	for _, m := range msgs {
		hdr := []byte{0, byte(len(m) >> 16), byte(len(m) >> 8), byte(len(m))}
		if n, err := c.Write(hdr); n != 4 || err != nil {
			t.Fatalf("header: %d, %v", n, err)
		}
		if n, err := c.Write(m); n != len(m) || err != nil {
			t.Fatalf("message: %d, %v", n, err)
		}
		want = append(want, append(hdr, m...))
	}
	// A write that is no header passes through at once.
	if n, err := c.Write([]byte("roh")); n != 3 || err != nil {
		t.Fatalf("plain write: %d, %v", n, err)
	}
	want = append(want, []byte("roh"))
	if len(rec.segments) != len(want) {
		t.Fatalf("%d writes on the connection, want %d", len(rec.segments), len(want))
	}
	for i := range want {
		if !bytes.Equal(rec.segments[i], want[i]) {
			t.Errorf("write %d: % x..., want % x...", i, rec.segments[i][:min(12, len(rec.segments[i]))], want[i][:12])
		}
	}
	if cap(c.buf) > maxKeptBuf {
		t.Errorf("kept a buffer of %d bytes", cap(c.buf))
	}
	if c.failed.Load() {
		t.Error("marked failed without an error")
	}
}

func TestNetConnWriteErrorMarksFailed(t *testing.T) {
	rec := &recConn{err: errors.New("connection reset")}
	c := &netConn{Conn: rec}
	if _, err := c.Write([]byte{0, 0, 0, 3}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Write([]byte("abc")); err == nil || n != 0 {
		t.Errorf("message: %d, %v; want the connection's error", n, err)
	}
	if !c.failed.Load() {
		t.Error("a failed write did not mark the connection failed")
	}
}

package smb

import (
	"net"
	"sync/atomic"
)

// netConn is the TCP connection under one SMB session. It remembers that
// the connection failed, so a session whose server went away is replaced
// before the next call instead of failing it, and it sends each SMB message
// in one piece.
//
// go-smb2 writes every message as two writes: the 4-byte direct-TCP header
// (a zero byte and the message length), then the message. On a TCP_NODELAY
// connection that is two segments, and the server wakes up twice for every
// request. netConn holds such a header back and writes it together with the
// message that follows, in one write (copying the message costs far less
// than a segment). The library writes only from its sender goroutine, and
// always the message right after its header, so a held header never
// waits; should it ever write something else next, the bytes still go out
// in their order.
type netConn struct {
	net.Conn
	failed atomic.Bool

	// Only the library's single sender goroutine writes (header, message,
	// header, ...), so hdr and held need no lock.
	hdr  [4]byte
	held bool
	buf  []byte // header and message, sent with one Write
}

// maxKeptBuf is the largest buffer netConn keeps between writes; a larger
// message (a big write) gets a buffer of its own.
const maxKeptBuf = 256 << 10

func (c *netConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.failed.Store(true)
	}
	return n, err
}

func (c *netConn) Write(b []byte) (int, error) {
	if !c.held && len(b) == len(c.hdr) && b[0] == 0 {
		copy(c.hdr[:], b)
		c.held = true
		return len(b), nil
	}
	var n int
	var err error
	if c.held {
		c.held = false
		c.buf = append(append(c.buf[:0], c.hdr[:]...), b...)
		n, err = c.Conn.Write(c.buf)
		// The header was reported written already; count only b.
		n = max(n-len(c.hdr), 0)
		if cap(c.buf) > maxKeptBuf {
			c.buf = nil
		}
	} else {
		n, err = c.Conn.Write(b)
	}
	if err != nil {
		c.failed.Store(true)
	}
	return n, err
}

func (c *netConn) Close() error {
	c.failed.Store(true)
	return c.Conn.Close()
}

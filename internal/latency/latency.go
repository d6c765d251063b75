// Package latency is a TCP proxy that holds back every byte for a fixed
// time in each direction, so that a protocol can be measured on loopback as
// if the server were far away: 5ms each way is a 10ms round trip. Only the
// delay is added, not a bandwidth limit: bytes that arrive back to back
// leave back to back, so pipelined requests overlap as on a real link.
// It is a tool for benchmarks and tests.
package latency

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Proxy accepts connections on Addr and connects each to the target.
type Proxy struct {
	Addr   string        // host:port the proxy listens on (127.0.0.1)
	Target string        // host:port it connects to
	Delay  time.Duration // added to each direction

	l     net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
}

// Start listens on a free port of 127.0.0.1 and forwards to target with
// delay added in each direction.
func Start(target string, delay time.Duration) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: l.Addr().String(), Target: target, Delay: delay, l: l, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

// Close stops listening, cuts every open connection and waits until all
// goroutines have ended.
func (p *Proxy) Close() error {
	err := p.l.Close()
	p.mu.Lock()
	p.done = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// track remembers c for Close; false if the proxy is closing.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) accept() {
	for {
		client, err := p.l.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(client) {
			return
		}
		p.wg.Go(func() { p.serve(client) })
	}
}

// serve connects client to the target and forwards both ways until both
// directions have ended.
func (p *Proxy) serve(client net.Conn) {
	defer p.untrack(client)
	server, err := net.Dial("tcp", p.Target)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	var wg sync.WaitGroup
	wg.Go(func() { p.forward(server, client) })
	wg.Go(func() { p.forward(client, server) })
	wg.Wait()
}

// chunk is what one Read returned, and when it may be written on.
type chunk struct {
	data []byte
	due  time.Time
}

// forward copies src to dst, each chunk Delay after it was read. Reading
// goes on while earlier chunks wait, so the delay does not slow the
// throughput. At the end of src the write side of dst is closed, after
// the delay like the data; on an error both are closed.
func (p *Proxy) forward(dst, src net.Conn) {
	queue := make(chan chunk, 1024)
	var wg sync.WaitGroup
	wg.Go(func() {
		for c := range queue {
			time.Sleep(time.Until(c.due))
			if _, err := dst.Write(c.data); err != nil {
				src.Close()
				for range queue { // let the reader finish
				}
				return
			}
		}
	})
	buf := make([]byte, 64<<10)
	var err error
	for {
		var n int
		n, err = src.Read(buf)
		if n > 0 {
			queue <- chunk{data: append([]byte(nil), buf[:n]...), due: time.Now().Add(p.Delay)}
		}
		if err != nil {
			break
		}
	}
	end := time.Now().Add(p.Delay)
	close(queue)
	wg.Wait()
	if !errors.Is(err, io.EOF) {
		dst.Close()
		return
	}
	time.Sleep(time.Until(end))
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	} else {
		dst.Close()
	}
}

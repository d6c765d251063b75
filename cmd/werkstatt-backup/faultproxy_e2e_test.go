package main

import (
	"io"
	"net"
	"sync"
	"testing"
)

// cutProxy stands between the binary and a test server (Samba,
// versitygw) and lets a test kill the server at a moment chosen by an
// event: the n-th byte the client sends. When the bytes sent through it
// (all connections together) reach the threshold, the chunk that reached
// it is held back, the proxy calls cut (which kills the server), and then
// closes every connection. Later connections are forwarded again (to a
// server that is dead until the test restarts it).
type cutProxy struct {
	addr   string
	target string
	l      net.Listener

	mu    sync.Mutex
	conns map[net.Conn]bool
	sent  int64 // client → server bytes since arm
	when  func(sent int64) bool
	cut   func()
	fired chan struct{} // closed when cut ran
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: l.Addr().String(), target: target, l: l, conns: map[net.Conn]bool{}}
	go p.accept()
	t.Cleanup(func() {
		l.Close()
		p.closeAll()
	})
	return p
}

// arm counts from zero and calls cut when at bytes were sent (at 0:
// never); it returns a channel closed once cut ran.
func (p *cutProxy) arm(at int64, cut func()) <-chan struct{} {
	return p.armWhen(func(sent int64) bool { return at > 0 && sent >= at }, cut)
}

// armWhen calls cut before forwarding the first chunk for which when
// (given the bytes sent since, that chunk included) is true.
func (p *cutProxy) armWhen(when func(sent int64) bool, cut func()) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent, p.when, p.cut = 0, when, cut
	p.fired = make(chan struct{})
	return p.fired
}

// bytesSent is what the client sent since arm.
func (p *cutProxy) bytesSent() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

func (p *cutProxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *cutProxy) serve(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns[client], p.conns[server] = true, true
	p.mu.Unlock()
	go func() {
		io.Copy(client, server)
		client.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 && !p.count(n) {
			break
		}
		if n > 0 {
			if _, werr := server.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	client.Close()
	server.Close()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// count adds n bytes; false when they reach the threshold: then the
// server is killed and every connection closed, and the chunk is dropped.
func (p *cutProxy) count(n int) bool {
	p.mu.Lock()
	p.sent += int64(n)
	if p.cut == nil || !p.when(p.sent) {
		p.mu.Unlock()
		return true
	}
	cut, fired := p.cut, p.fired
	p.cut = nil
	p.mu.Unlock()
	cut()
	p.closeAll()
	close(fired)
	return false
}

func (p *cutProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

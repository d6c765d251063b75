package smb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	smb2 "github.com/cloudsoda/go-smb2"
)

// config is everything a pool needs to (re)connect. The password stays in
// here and in the library's NTLM initiator; nothing prints a config.
type config struct {
	addr      string // host:port, as shown in messages
	host      string // for the UNC name \\host\share
	share     string
	user      string
	domain    string
	password  string
	timeout   time.Duration // deadline of each call
	sessions  int           // pool size
	reconnect time.Duration // longest total time spent reconnecting one session
	busyWait  time.Duration // how long a call waits for a file another handle holds
	callBegun func()        // tests: told when a call's request is about to go out
}

// account is DOMAIN\user or user, for messages.
func (c *config) account() string {
	if c.domain != "" {
		return c.domain + `\` + c.user
	}
	return c.user
}

// pool is a fixed set of slots, each holding at most one SMB session with
// the share mounted. Calls are spread round-robin over the slots; one
// session carries many concurrent calls (the library multiplexes them by
// message id), the slots let the server work on several at once (Samba
// serves each TCP connection in its own process).
type pool struct {
	cfg    config
	ctx    context.Context // cancelled by close; parent of every call's context
	cancel context.CancelFunc
	slots  []*slot
	next   atomic.Uint32

	mu        sync.Mutex
	downErr   error // the last failed reconnect, reported without retrying until downUntil
	downUntil time.Time

	closeOnce sync.Once
}

// downHold is how long a failed reconnect is reported to further calls
// before the next try, so that a dead server fails a run quickly instead
// of every call waiting out its own backoff.
const downHold = 2 * time.Second

// slot holds one session; mu serializes (re)connecting it.
type slot struct {
	mu  sync.Mutex
	cur *conn
}

// conn is one TCP connection with its session and mounted share.
type conn struct {
	slot    *slot
	tcp     *netConn
	session *smb2.Session
	share   *smb2.Share
	large   chan struct{} // one token per large request in flight (see largeRequest)
}

func newPool(cfg config) *pool {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pool{cfg: cfg, ctx: ctx, cancel: cancel, slots: make([]*slot, cfg.sessions)}
	for i := range p.slots {
		p.slots[i] = &slot{}
	}
	return p
}

func (p *pool) closed() bool { return p.ctx.Err() != nil }

// dial connects, logs on and mounts the share, all within one timeout.
func (p *pool) dial(ctx context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.timeout)
	defer cancel()
	var nd net.Dialer
	raw, err := nd.DialContext(ctx, "tcp", p.cfg.addr)
	if err != nil {
		if p.closed() {
			return nil, errClosed
		}
		return nil, p.dialError(err)
	}
	tcp := &netConn{Conn: raw}
	d := &smb2.Dialer{MaxCreditBalance: maxCredits, Initiator: &smb2.NTLMInitiator{
		User:     p.cfg.user,
		Password: p.cfg.password,
		Domain:   p.cfg.domain,
	}}
	s, err := d.DialConn(ctx, tcp, p.cfg.host)
	if err != nil {
		tcp.Close()
		return nil, p.setupError(err)
	}
	sh, err := s.WithContext(ctx).Mount(p.cfg.share)
	if err != nil {
		// Close without a LOGOFF: after a timed-out TREE_CONNECT the
		// library's sender may still be writing that request, and go-smb2
		// encodes the next one into memory it has not finished with (a data
		// race seen under load). The server drops the session with the
		// connection.
		tcp.Close()
		return nil, p.mountError(err)
	}
	return &conn{tcp: tcp, session: s, share: sh, large: make(chan struct{}, maxLarge)}, nil
}

// connect makes the first session (at Open): one try, no backoff, so that
// a wrong password or a closed port is reported at once.
func (p *pool) connect(ctx context.Context) error {
	c, err := p.dial(ctx)
	if err != nil {
		return err
	}
	s := p.slots[0]
	s.mu.Lock()
	c.slot, s.cur = s, c
	s.mu.Unlock()
	p.next.Store(uint32(len(p.slots) - 1)) // the next call uses this session
	return nil
}

// get returns a live session of the next slot, connecting it if it has
// none or its connection broke (with backoff, see reconnect, which ends
// when ctx does).
func (p *pool) get(ctx context.Context) (*conn, error) {
	if p.closed() {
		return nil, errClosed
	}
	s := p.slots[int(p.next.Add(1))%len(p.slots)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && !s.cur.broken() {
		return s.cur, nil
	}
	if s.cur != nil {
		s.cur.close()
		s.cur = nil
	}
	if err := p.down(); err != nil {
		return nil, err
	}
	c, err := p.reconnect(ctx)
	if err != nil {
		return nil, err
	}
	c.slot, s.cur = s, c
	return c, nil
}

// reconnect dials with exponential backoff (50ms, 100ms, ... at most 2s
// apart) while the server is unreachable, for at most cfg.reconnect in
// total. A refused logon or a missing share is final at once. It ends
// when the pool is closed or the caller's ctx ends.
func (p *pool) reconnect(caller context.Context) (*conn, error) {
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	stop := context.AfterFunc(caller, cancel)
	defer stop()
	start := time.Now()
	delay := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		c, err := p.dial(ctx)
		if err == nil {
			p.setDown(nil)
			return c, nil
		}
		if ctx.Err() != nil && !p.closed() { // the caller was cancelled
			return nil, fmt.Errorf("SMB-Verbindung zu %s: %w", p.cfg.addr, context.Canceled)
		}
		if !errors.Is(err, ErrUnreachable) || p.closed() {
			return nil, err
		}
		if time.Since(start)+delay > p.cfg.reconnect {
			var ce *connectError
			errors.As(err, &ce)
			err = connErr(ce.kind, "%s (Verbindung nach %d Versuchen in %s nicht wieder aufgebaut)",
				ce.msg, attempt, time.Since(start).Round(time.Millisecond))
			p.setDown(err)
			return nil, err
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			if p.closed() {
				return nil, errClosed
			}
			return nil, fmt.Errorf("SMB-Verbindung zu %s: %w", p.cfg.addr, context.Canceled)
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func (p *pool) down() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.downErr != nil && time.Now().Before(p.downUntil) {
		return p.downErr
	}
	return nil
}

func (p *pool) setDown(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.downErr, p.downUntil = err, time.Now().Add(downHold)
}

// call is one attempt of an operation: a pooled session's share bound to
// a context with a fresh deadline.
type call struct {
	sh      *smb2.Share
	conn    *conn
	ctx     *callCtx        // ended after the attempt; a file opened in it keeps it
	caller  context.Context // the caller's ctx; a file opened in the call keeps it too
	attempt int             // 0, or 1 for the retry after a broken connection
}

// do runs fn on a pooled session under ctx, the caller's: cancelling it
// ends the call in flight at once; each attempt has its own deadline. If the connection breaks during the call
// and retry is set (idempotent calls), or the server rejected the call for
// an expired session, fn runs once more on a new connection. A call that times out closes its connection: a server that
// does not answer one call will not answer the next on it either.
func (p *pool) do(ctx context.Context, retry bool, fn func(cl *call) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		c, err := p.get(ctx)
		if err != nil {
			return err
		}
		cctx := newCallCtx(p.ctx)
		cctx.begin(ctx, p.cfg.timeout)
		if p.cfg.callBegun != nil {
			p.cfg.callBegun()
		}
		err = fn(&call{sh: c.share.WithContext(cctx), conn: c, ctx: cctx, caller: ctx, attempt: attempt})
		cctx.end()
		if err == nil {
			return nil
		}
		lost := isConnLost(err) || c.broken()
		if lost || isTimeout(err) || cctx.cancelledByCaller() {
			// A request the library gave up on may still be answered;
			// the next call gets a fresh connection.
			c.drop()
		}
		if !lost || !(retry || rejected(err)) || attempt > 0 || p.closed() || cctx.cancelledByCaller() {
			return err
		}
	}
}

// rejected reports an answer that says the server did not carry out the
// request because the session or tree was gone (an idle session dropped
// by Windows): such a request can be repeated even if not idempotent.
func rejected(err error) bool {
	code, ok := statusOf(err)
	return ok && (code == statusNetworkNameDeleted || code == statusUserSessionDeleted || code == statusNetworkSessionExpire)
}

// whileBusy repeats fn while busy(err) holds, for up to cfg.busyWait: a
// file another handle has open cannot be deleted or replaced over SMB
// (sharing violation, or for rename "access denied"), unlike on a local
// disk, but such handles are short-lived (a concurrent reader).
// It stops waiting when ctx ends.
func (p *pool) whileBusy(ctx context.Context, busy func(error) bool, fn func() error) error {
	deadline := time.Now().Add(p.cfg.busyWait)
	delay := time.Millisecond
	for {
		err := fn()
		if err == nil || !busy(err) || time.Now().After(deadline) || p.closed() || ctx.Err() != nil {
			return err
		}
		time.Sleep(delay/2 + rand.N(delay))
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// close logs off every session. Calls after close fail with errClosed.
func (p *pool) close() error {
	p.closeOnce.Do(func() {
		p.cancel()
		var wg sync.WaitGroup
		for _, s := range p.slots {
			s.mu.Lock()
			c := s.cur
			s.cur = nil
			s.mu.Unlock()
			if c != nil {
				wg.Go(c.logoff)
			}
		}
		wg.Wait()
	})
	return nil
}

// broken reports whether the TCP connection has failed.
func (c *conn) broken() bool { return c.tcp.failed.Load() }

// drop takes a failed connection out of its slot and closes it; the next
// call on the slot reconnects.
func (c *conn) drop() {
	s := c.slot
	if s != nil {
		s.mu.Lock()
		if s.cur == c {
			s.cur = nil
		}
		s.mu.Unlock()
	}
	c.close()
}

// close closes the TCP connection without logging off; the server drops
// the session and its handles.
func (c *conn) close() { c.tcp.Close() }

// logoff ends the session politely, within a short deadline.
func (c *conn) logoff() {
	if !c.broken() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = c.session.WithContext(ctx).Logoff()
		cancel()
	}
	c.close()
}

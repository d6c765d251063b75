package s3_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	s3backend "werkstatt-backup/backends/s3"
	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/storage"
)

// proxy sits between the backend and the server: it counts requests and
// reports each one's arrival on arrived (if not nil), so a test knows a
// call is in flight without waiting for time to pass.
type proxy struct {
	srv      *httptest.Server
	requests atomic.Int64
	arrived  chan string
	// loseAnswer, if set, decides for a request that the server gets it
	// and answers, but the answer never reaches the client: its
	// connection is closed instead.
	loseAnswer func(r *http.Request) bool

	logMu sync.Mutex
	log   []string // requests as request(r) names them, if logging
	logOn bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	u, err := url.Parse("http://" + target)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = nil
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		p.logMu.Lock()
		if p.logOn {
			p.log = append(p.log, request(r))
		}
		p.logMu.Unlock()
		if p.arrived != nil {
			select {
			case p.arrived <- r.Method + " " + r.URL.Path:
			default:
			}
		}
		if p.loseAnswer != nil && p.loseAnswer(r) {
			rp.ServeHTTP(httptest.NewRecorder(), r) // done on the server
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// request names a request: method, the query's keys, the condition
// headers ("PUT If-None-Match", "GET ?versions", "POST ?delete").
func request(r *http.Request) string {
	s := r.Method
	var keys []string
	for k := range r.URL.Query() {
		if k != "prefix" && k != "delimiter" && k != "max-keys" && k != "encoding-type" && k != "list-type" &&
			k != "fetch-owner" && k != "continuation-token" && k != "marker" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		s += " ?" + k
	}
	for _, h := range []string{"If-None-Match", "If-Match"} {
		if r.Header.Get(h) != "" {
			s += " " + h
		}
	}
	return s
}

// record starts logging requests and returns a func that stops and
// returns what was logged.
func (p *proxy) record() func() []string {
	p.logMu.Lock()
	p.log, p.logOn = nil, true
	p.logMu.Unlock()
	return func() []string {
		p.logMu.Lock()
		defer p.logMu.Unlock()
		p.logOn = false
		return p.log
	}
}

// addr is the proxy's HOST:PORT.
func (p *proxy) addr() string { return p.srv.Listener.Addr().String() }

// location is srv's archive URL with host and port replaced by addr.
func location(t *testing.T, srv *s3test.Server, addr, bucket, prefix string) storage.Location {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	loc := srv.Location(bucket, prefix).(s3backend.Location)
	loc.Host, loc.Port = host, n
	return loc
}

// open opens loc with opts under the run context ctx.
func open(t *testing.T, ctx context.Context, loc storage.Location, opts storage.Options) *storage.Archive {
	t.Helper()
	a, err := s3backend.Backend{}.Open(ctx, loc, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", loc, err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// within fails the test if ch does not deliver within a generous safety
// deadline: a guard against a hang, not a timing assertion.
func within[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("%s: nothing after a minute", what)
	}
	var zero T
	return zero
}

var zeroTime time.Time

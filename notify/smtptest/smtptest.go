// Package smtptest is a tiny SMTP server for tests: it listens on a free
// loopback port, offers STARTTLS with a self-signed certificate made at
// start, accepts AUTH PLAIN for one user and keeps every message it gets.
// It speaks just enough of RFC 5321 for a mail client to deliver.
package smtptest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one mail the server accepted.
type Message struct {
	From string
	To   []string
	Data string // headers and body, as sent, dot-unstuffed
	User string // who logged in ("" = nobody)
	TLS  bool   // whether it came over TLS
}

// Server is a running test server.
type Server struct {
	Addr    string // host:port
	CertPEM []byte // the server's self-signed certificate
	Pool    *x509.CertPool

	user, password string
	noTLS          bool // do not offer STARTTLS
	tlsConf        *tls.Config
	ln             net.Listener

	mu     sync.Mutex
	msgs   []Message
	logins int // AUTH attempts
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

// Option changes how a test server behaves.
type Option func(*Server)

// WithoutSTARTTLS makes a server that never offers STARTTLS, as an old or
// misconfigured one does: a client must not log in there in clear.
func WithoutSTARTTLS() Option { return func(s *Server) { s.noTLS = true } }

// Start starts a server that takes logins of user with password (user ""
// takes mail without login); t's cleanup stops it.
func Start(t testing.TB, user, password string, opts ...Option) *Server {
	t.Helper()
	certPEM, cert, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	s := &Server{Addr: ln.Addr().String(), CertPEM: certPEM, Pool: pool, user: user, password: password,
		tlsConf: &tls.Config{Certificates: []tls.Certificate{cert}}, ln: ln, conns: map[net.Conn]bool{}}
	for _, o := range opts {
		o(s)
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close() // a client that gave up without QUIT
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// Logins returns how many times a client tried to log in.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Messages returns the messages received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// session talks SMTP with one client.
func (s *Server) session(c net.Conn) {
	defer func() { c.Close() }()
	_ = c.SetDeadline(time.Now().Add(time.Minute)) // a stuck client must not hang the test's cleanup forever
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(lines ...string) {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		w.Flush()
	}
	var (
		isTLS bool
		user  string
		msg   Message
	)
	say("220 localhost ESMTP smtptest")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			switch {
			case isTLS:
				say("250-localhost", "250-AUTH PLAIN", "250 8BITMIME")
			case s.noTLS:
				say("250-localhost", "250-AUTH PLAIN", "250 8BITMIME") // and would take a password in clear
			default:
				say("250-localhost", "250-STARTTLS", "250 8BITMIME")
			}
		case "STARTTLS":
			if isTLS || s.noTLS {
				say("503 schon TLS")
				continue
			}
			say("220 bereit für TLS")
			tc := tls.Server(c, s.tlsConf)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, isTLS = tc, true
			r, w = bufio.NewReader(c), bufio.NewWriter(c)
			user, msg = "", Message{}
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			if !isTLS && !s.noTLS || !strings.EqualFold(mech, "PLAIN") {
				say("504 nur PLAIN nach STARTTLS")
				continue
			}
			if initial == "" {
				say("334 ")
				if initial, err = r.ReadString('\n'); err != nil {
					return
				}
				initial = strings.TrimSpace(initial)
			}
			raw, _ := base64.StdEncoding.DecodeString(initial)
			parts := strings.Split(string(raw), "\x00")
			s.mu.Lock()
			s.logins++
			s.mu.Unlock()
			if len(parts) == 3 && s.user != "" && parts[1] == s.user && parts[2] == s.password {
				user = parts[1]
				say("235 angemeldet")
			} else {
				say("535 Anmeldung fehlgeschlagen")
			}
		case "MAIL":
			if s.user != "" && user == "" {
				say("530 Anmeldung nötig")
				continue
			}
			msg = Message{From: address(arg), User: user, TLS: isTLS}
			say("250 ok")
		case "RCPT":
			msg.To = append(msg.To, address(arg))
			say("250 ok")
		case "DATA":
			say("354 Daten bis <CRLF>.<CRLF>")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			msg.Data = b.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, msg)
			s.mu.Unlock()
			msg = Message{User: user, TLS: isTLS}
			say("250 angenommen")
		case "RSET", "NOOP":
			say("250 ok")
		case "QUIT":
			say("221 tschüss")
			return
		default:
			say("502 unbekannt")
		}
	}
}

// address takes the address out of "FROM:<a@b> SIZE=1" or "TO:<a@b>".
func address(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return arg
	}
	return arg[i+1 : j]
}

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned() ([]byte, tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return certPEM, cert, err
}

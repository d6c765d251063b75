package notify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"werkstatt-backup/notify/smtptest"
)

func TestDue(t *testing.T) {
	for _, c := range []struct {
		on                string
		ok, warning, fail bool
	}{
		{OnError, false, false, true},
		{OnWarning, false, true, true},
		{OnAlways, true, true, true},
		{"nie", false, false, false},
	} {
		tg := Target{Webhook: "http://x", On: c.on}
		if tg.Due(LevelOK) != c.ok || tg.Due(LevelWarning) != c.warning || tg.Due(LevelError) != c.fail {
			t.Errorf("on %q: Due = %v %v %v, want %v %v %v", c.on, tg.Due(LevelOK), tg.Due(LevelWarning), tg.Due(LevelError), c.ok, c.warning, c.fail)
		}
	}
}

func TestRedactAndCheckWebhook(t *testing.T) {
	if got := Redact("https://hc.example:8443/ping/5f0c-uuid?x=1"); got != "https://hc.example:8443/…" {
		t.Errorf("Redact = %q", got)
	}
	if got := Redact("http://host"); got != "http://host" {
		t.Errorf("Redact = %q", got)
	}
	for _, bad := range []string{"ftp://host/x", "hc.example/ping", "https://", "https://u:p@host/x", "://"} {
		if CheckWebhook(bad) == nil {
			t.Errorf("CheckWebhook(%q) accepted", bad)
		}
	}
	if err := CheckWebhook("https://hc.example/ping/abc"); err != nil {
		t.Error(err)
	}
}

// TestWebhook: the run's JSON is POSTed as it is; a 5xx answer and a
// server that is down are errors that never name the URL's path.
func TestWebhook(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/kaputt") {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	down := downURL(t)

	msg := Message{Subject: "Export FEHLER", Text: "t", JSON: []byte(`{"command":"export","exit_code":1}`)}
	targets := []Target{
		{Webhook: srv.URL + "/ping/geheim", On: OnError},
		{Webhook: srv.URL + "/ok-only", On: OnAlways},
		{Webhook: srv.URL + "/kaputt", On: OnWarning},
		{Webhook: down + "/ping/geheim", On: OnError},
	}
	res := Send(context.Background(), targets, SMTP{}, LevelError, msg)
	if len(res) != 4 || res[0].Err != nil || res[1].Err != nil || res[2].Err == nil || res[3].Err == nil {
		t.Fatalf("results: %+v", res)
	}
	if !strings.Contains(res[2].Err.Error(), "500") {
		t.Errorf("5xx: %v", res[2].Err)
	}
	for _, r := range res[2:] {
		if strings.Contains(r.Err.Error(), "geheim") || strings.Contains(r.Target.String(), "geheim") {
			t.Errorf("the URL's token reached a message: %v / %s", r.Err, r.Target)
		}
	}
	if len(bodies) != 3 || bodies[0] != `POST /ping/geheim application/json {"text":"Export FEHLER","command":"export","exit_code":1}` {
		t.Fatalf("server got: %q", bodies)
	}

	// A good run reaches only "immer".
	res = Send(context.Background(), targets, SMTP{}, LevelOK, msg)
	if len(res) != 1 || res[0].Target.Webhook != srv.URL+"/ok-only" {
		t.Fatalf("OK run: %+v", res)
	}
}

// downURL is the URL of a port that was just free: nothing listens there.
func downURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// TestMail: mail goes over STARTTLS with a login to the test's own SMTP
// server; a wrong password and a server that is down are errors that do
// not show the password.
func TestMail(t *testing.T) {
	srv := smtptest.Start(t, "backup", "s3cr3t-pw")
	conf := SMTP{Host: srv.Addr, User: "backup", Password: "s3cr3t-pw", From: "archiv@werkstatt.de",
		TLSConfig: &tls.Config{RootCAs: srv.Pool, ServerName: "127.0.0.1"}}
	msg := Message{Subject: "werkstatt-backup: Export FEHLER", Text: "Export abgebrochen: Archiv fehlt\n", JSON: []byte("{}")}
	targets := []Target{{Mail: "admin@werkstatt.de, chef@werkstatt.de", On: OnWarning}}

	res := Send(context.Background(), targets, conf, LevelError, msg)
	if len(res) != 1 || res[0].Err != nil {
		t.Fatalf("send: %+v", res)
	}
	got := srv.Messages()
	if len(got) != 1 || !got[0].TLS || got[0].User != "backup" || got[0].From != "archiv@werkstatt.de" ||
		strings.Join(got[0].To, " ") != "admin@werkstatt.de chef@werkstatt.de" ||
		!strings.Contains(got[0].Data, "Subject: werkstatt-backup: Export FEHLER") || !strings.Contains(got[0].Data, "Archiv fehlt") {
		t.Fatalf("received: %+v", got)
	}
	if res := Send(context.Background(), targets, conf, LevelOK, msg); len(res) != 0 {
		t.Fatalf("an OK run mailed: %+v", res)
	}

	bad := conf
	bad.Password = "falsch-pw"
	res = Send(context.Background(), targets, bad, LevelError, msg)
	if len(res) != 1 || res[0].Err == nil || strings.Contains(res[0].Err.Error(), "falsch-pw") {
		t.Fatalf("wrong password: %+v", res)
	}

	// A certificate the client does not trust: no mail, no password sent.
	untrusted := conf
	untrusted.TLSConfig = nil
	untrusted.Host = "127.0.0.1:" + strings.Split(srv.Addr, ":")[1]
	if res := Send(context.Background(), targets, untrusted, LevelError, msg); len(res) != 1 || res[0].Err == nil {
		t.Fatalf("untrusted certificate: %+v", res)
	}

	down := conf
	down.Host = strings.TrimPrefix(downURL(t), "http://")
	res = Send(context.Background(), targets, down, LevelError, msg)
	if len(res) != 1 || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "SMTP 127.0.0.1:") {
		t.Fatalf("server down: %+v", res)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

func TestWebhookBody(t *testing.T) {
	for _, c := range []struct{ subject, in, want string }{
		{"S", `{"a":1}`, `{"text":"S","a":1}`},
		{"S", `{}`, `{"text":"S"}`},
		{"S", "\n {\"a\": 1}", `{"text":"S","a": 1}`},
		{"S", `{"text":"eigener"}`, `{"text":"eigener"}`},
		{"S", `[1]`, `[1]`},
		{"", `{"a":1}`, `{"a":1}`},
	} {
		got := string(Message{Subject: c.subject, JSON: []byte(c.in)}.webhookBody())
		if got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%q: not JSON", got)
		}
	}
}

// TestMailNeedsSTARTTLS: a server that offers no STARTTLS gets neither the
// password nor the mail.
func TestMailNeedsSTARTTLS(t *testing.T) {
	srv := smtptest.Start(t, "backup", "s3cr3t-pw", smtptest.WithoutSTARTTLS())
	conf := SMTP{Host: srv.Addr, User: "backup", Password: "s3cr3t-pw"}
	res := Send(context.Background(), []Target{{Mail: "admin@werkstatt.de", On: OnAlways}}, conf, LevelOK, Message{Subject: "s", Text: "t"})
	if len(res) != 1 || res[0].Err == nil || srv.Logins() != 0 || len(srv.Messages()) != 0 {
		t.Fatalf("results %+v, %d logins, %d messages", res, srv.Logins(), len(srv.Messages()))
	}
}

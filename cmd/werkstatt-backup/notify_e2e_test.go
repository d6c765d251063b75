package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"werkstatt-backup/notify/smtptest"
)

// hooks is a webhook receiver: it keeps each POST's path and JSON body.
type hooks struct {
	*httptest.Server
	mu   sync.Mutex
	got  []hookCall
	fail bool // answer 500
}

type hookCall struct {
	path string
	body map[string]any
}

func newHooks(t *testing.T) *hooks {
	h := &hooks{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil || r.Method != http.MethodPost {
			t.Errorf("webhook got %s %q: %v", r.Method, b, err)
		}
		h.mu.Lock()
		h.got = append(h.got, hookCall{r.URL.Path, body})
		fail := h.fail
		h.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

// take returns the calls so far and forgets them.
func (h *hooks) take() []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	got := h.got
	h.got = nil
	return got
}

// freeAddr is an address nothing listens on (a port that was just free).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestNotifyWebhookAndMail: each target hears of the runs its "on" asks
// for: the webhook on "immer" of every run, the one on "fehler" of the
// failed run only (with exit_code and error in the JSON), the mail on
// "warnung" (STARTTLS, login with the password from the environment) of
// the run with warnings and of the failed one. The password is never shown.
func TestNotifyWebhookAndMail(t *testing.T) {
	dir := workshop(t, 3)
	hk := newHooks(t)
	smtp := smtptest.Start(t, "backup", "pw-Geheim-42")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, smtp.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := sitesConfig(t, map[string]any{
		"db":       filepath.Join(dir, "test_archiv", "werkstatt.db"),
		"archiv":   filepath.Join(dir, "test_archiv"),
		"log_file": filepath.Join(dir, "backup_system.log"),
		"notify": []map[string]any{
			{"webhook": hk.URL + "/ping/immer-token", "on": "immer"},
			{"webhook": hk.URL + "/ping/fehler-token", "on": "fehler"},
			{"mail": "admin@werkstatt.de", "on": "warnung"},
		},
		"smtp_host": smtp.Addr,
		"smtp_user": "backup",
		"smtp_from": "archiv@werkstatt.de",
	})
	// The test's CA, the way an admin adds a company CA.
	env := []string{"ARCHIV_SMTP_PASSWORD=pw-Geheim-42", "SSL_CERT_FILE=" + caFile}

	// A good run: only "immer".
	r := wbEnv(t, dir, env, "export", "--config", cfg).expect(t, 0)
	calls := hk.take()
	if len(calls) != 1 || calls[0].path != "/ping/immer-token" || calls[0].body["command"] != "export" ||
		calls[0].body["exit_code"] != 0.0 || calls[0].body["records"] != 3.0 {
		t.Fatalf("webhooks after a good run: %+v\n%s", calls, r.stderr)
	}
	if n := len(smtp.Messages()); n != 0 {
		t.Fatalf("%d mails after a good run", n)
	}

	// Warnings: "immer" and the mail.
	badDates(t, filepath.Join(dir, "test_archiv", "werkstatt.db"), 1)
	r = wbEnv(t, dir, env, "export", "--config", cfg).expect(t, 3)
	if calls = hk.take(); len(calls) != 1 || calls[0].body["exit_code"] != 3.0 {
		t.Fatalf("webhooks after warnings: %+v", calls)
	}
	mails := smtp.Messages()
	if len(mails) != 1 || !mails[0].TLS || mails[0].User != "backup" || mails[0].To[0] != "admin@werkstatt.de" ||
		!strings.Contains(mails[0].Data, "Subject: werkstatt-backup: Export mit Warnungen") ||
		!strings.Contains(mails[0].Data, "Auftrag 900000 verletzt Feldregeln") {
		t.Fatalf("mail after warnings: %+v\nstderr: %s", mails, r.stderr)
	}

	// A failed run: all three.
	if err := os.Rename(filepath.Join(dir, "test_archiv"), filepath.Join(dir, "weg")); err != nil {
		t.Fatal(err)
	}
	r = wbEnv(t, dir, env, "export", "--config", cfg, "--db", filepath.Join(dir, "weg", "werkstatt.db")).expect(t, 1)
	calls = hk.take()
	if len(calls) != 2 || calls[1].path != "/ping/fehler-token" || calls[1].body["exit_code"] != 1.0 ||
		!strings.Contains(calls[1].body["error"].(string), "test_archiv") {
		t.Fatalf("webhooks after a failure: %+v", calls)
	}
	if mails = smtp.Messages(); len(mails) != 2 || !strings.Contains(mails[1].Data, "Subject: werkstatt-backup: Export FEHLER") {
		t.Fatalf("mails after a failure: %+v", mails)
	}

	log, _ := os.ReadFile(filepath.Join(dir, "backup_system.log"))
	show := wbEnv(t, dir, env, "config", "show", "--config", cfg).expect(t, 0)
	for _, out := range []string{string(log), show.stdout, r.stdout, r.stderr} {
		if strings.Contains(out, "pw-Geheim-42") || strings.Contains(out, "-token") {
			t.Fatalf("a secret reached the output:\n%s", out)
		}
	}
	if !strings.Contains(string(log), "INFO - Benachrichtigung gesendet: Mail admin@werkstatt.de") {
		t.Errorf("log:\n%s", log)
	}
}

// TestNotifyFailureKeepsExitCode: a webhook and an SMTP server that are
// down, a webhook that answers 500 and an unreadable password file are
// each a WARNING in the log and on stderr; the run's exit code is its own.
func TestNotifyFailureKeepsExitCode(t *testing.T) {
	dir := workshop(t, 2)
	hk := newHooks(t)
	hk.mu.Lock()
	hk.fail = true
	hk.mu.Unlock()
	down := freeAddr(t)
	cfg := sitesConfig(t, map[string]any{
		"db":       filepath.Join(dir, "test_archiv", "werkstatt.db"),
		"archiv":   filepath.Join(dir, "test_archiv"),
		"log_file": filepath.Join(dir, "backup_system.log"),
		"notify": []map[string]any{
			{"webhook": "http://" + down + "/ping/abc", "on": "immer"},
			{"webhook": hk.URL + "/hook", "on": "immer"},
			{"mail": "admin@werkstatt.de", "on": "immer"},
		},
		"smtp_host": freeAddr(t),
	})
	r := wb(t, dir, "export", "--config", cfg).expect(t, 0)
	for _, want := range []string{
		"Benachrichtigung (Webhook http://" + down + "/…) fehlgeschlagen: nicht erreichbar",
		"Benachrichtigung (Webhook " + hk.URL + "/…) fehlgeschlagen: Antwort HTTP 500",
		"Benachrichtigung (Mail admin@werkstatt.de) fehlgeschlagen: SMTP 127.0.0.1:",
	} {
		if !strings.Contains(r.stderr, "werkstatt-backup: Warnung: "+want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "backup_system.log"))
	if n := strings.Count(string(log), "WARNING - Benachrichtigung ("); n != 3 {
		t.Errorf("%d WARNING lines for notifications:\n%s", n, log)
	}
	// A failing run stays exit 1; so does its record.
	wb(t, dir, "export", "--config", cfg, "--archiv", filepath.Join(dir, "fehlt")).expect(t, 1)

	// An unreadable password file: the mail is not sent, the run is fine.
	cfg2 := sitesConfig(t, map[string]any{
		"db": filepath.Join(dir, "test_archiv", "werkstatt.db"), "archiv": filepath.Join(dir, "test_archiv"),
		"log_file":  filepath.Join(dir, "backup_system.log"),
		"notify":    []map[string]any{{"mail": "admin@werkstatt.de", "on": "immer"}},
		"smtp_host": freeAddr(t), "smtp_user": "backup", "smtp_password_file": filepath.Join(dir, "fehlt.pass"),
	})
	r = wb(t, dir, "verify", "--config", cfg2).expect(t, 0)
	if !strings.Contains(r.stderr, "smtp_password_file "+filepath.Join(dir, "fehlt.pass")+" nicht lesbar") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

// TestNotifyConfigErrors: a bad "on", a bad URL and a mail target without
// smtp_host are configuration errors (exit 2) naming the file and the key.
func TestNotifyConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		notify any
		key    string
	}{
		{[]map[string]any{{"webhook": "https://hc.example/ping/x", "on": "error"}}, ": notify[0].on: \"error\": erlaubt sind fehler, warnung, immer"},
		{[]map[string]any{{"webhook": "hc.example/ping/x", "on": "fehler"}}, ": notify[0].webhook: muss mit http:// oder https:// beginnen"},
		{[]map[string]any{{"mail": "admin@werkstatt.de", "on": "fehler"}}, ": notify[0].mail: ein Mail-Ziel braucht smtp_host"},
	} {
		cfg := sitesConfig(t, map[string]any{"archiv": dir, "notify": c.notify})
		r := wb(t, dir, "verify", "--config", cfg).expect(t, 2)
		if !strings.Contains(r.stderr, "Konfiguration "+cfg+c.key) {
			t.Errorf("stderr lacks %q:\n%s", cfg+c.key, r.stderr)
		}
	}
}

// Package notify tells someone how a run ended: it POSTs the run's JSON
// object to webhooks (healthchecks-style ping URLs, chat webhooks) and
// sends e-mail over SMTP with STARTTLS (github.com/wneessen/go-mail).
//
// Each target says when it wants to hear: on failures (fehler), on
// failures and warnings (warnung) or after every run (immer). Sending is
// best effort: Send reports each target's error and never fails the run;
// the caller logs them as warnings. No error text names a password, and a
// webhook's URL, whose path is often its secret token, is named only by
// its scheme and host (Redact).
package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// When a target is notified: the values of its "on".
const (
	OnError   = "fehler"  // the run failed
	OnWarning = "warnung" // the run failed or ended with warnings
	OnAlways  = "immer"   // after every run
)

// Ons lists the valid values of "on".
var Ons = []string{OnError, OnWarning, OnAlways}

// Level is how a run ended, as far as notifications care.
type Level int

const (
	LevelOK      Level = iota // exit code 0
	LevelWarning              // exit code 3, everything done, with warnings
	LevelError                // anything else
)

// String is the German word mails and logs use.
func (l Level) String() string {
	switch l {
	case LevelOK:
		return "OK"
	case LevelWarning:
		return "mit Warnungen"
	}
	return "FEHLER"
}

// Target is one receiver: a webhook URL or a mail address (one of them),
// and when it wants to hear.
type Target struct {
	Webhook string `json:"webhook,omitempty"`
	Mail    string `json:"mail,omitempty"`
	On      string `json:"on"`
}

// Due reports whether t wants to hear of a run that ended at level l.
func (t Target) Due(l Level) bool {
	switch t.On {
	case OnAlways:
		return true
	case OnWarning:
		return l >= LevelWarning
	case OnError:
		return l >= LevelError
	}
	return false
}

// String names the target for logs: "Webhook https://hc.example/…" or
// "Mail admin@werkstatt.de".
func (t Target) String() string {
	if t.Webhook != "" {
		return "Webhook " + Redact(t.Webhook)
	}
	return "Mail " + t.Mail
}

// Redact shows a webhook URL by scheme and host only: its path and query
// are often the secret (a chat webhook's token, a ping URL's UUID).
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(URL)"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		s += "/…"
	}
	return s
}

// CheckWebhook checks a webhook URL: http or https with a host.
func CheckWebhook(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("keine gültige URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("muss mit http:// oder https:// beginnen, nicht %q", u.Scheme+":")
	case u.Host == "":
		return errors.New("URL ohne Host")
	case u.User != nil:
		return errors.New("URL mit Benutzer oder Passwort; der Dienst nennt eine URL mit Token im Pfad")
	}
	return nil
}

// SMTP is how mail is sent.
type SMTP struct {
	Host     string // host, or host:port; port 587 (STARTTLS) unless given, 465 = TLS from the start
	User     string // "" = no login
	Password string // never printed
	From     string // sender address; "" = werkstatt-backup@<host name>
	// TLSConfig, if set, checks the server's certificate (tests: a
	// self-signed one); nil = the system's roots for Host.
	TLSConfig *tls.Config
}

// DefaultSMTPPort is the submission port (STARTTLS).
const DefaultSMTPPort = 587

// HostPort splits Host into host and port (DefaultSMTPPort if none).
func (s SMTP) HostPort() (string, int, error) {
	host, port := s.Host, DefaultSMTPPort
	if h, p, err := net.SplitHostPort(s.Host); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, fmt.Errorf("Port %q ungültig", p)
		}
		host, port = h, n
	}
	if host == "" || strings.ContainsAny(host, "/ ") {
		return "", 0, fmt.Errorf("%q ist kein Hostname", s.Host)
	}
	return host, port, nil
}

// Message is what a run's notification says.
type Message struct {
	Subject string // one line: the mail's subject, and a webhook's "text"
	Text    string // the mail's body
	JSON    []byte // the run's --json object: a webhook's body
}

// webhookBody is m.JSON with "text": m.Subject added in front, the field
// chat webhooks (Slack, Mattermost, Rocket.Chat, Google Chat) show; a ping
// URL ignores it. JSON that is no object, or has a "text", is sent as it is.
func (m Message) webhookBody() []byte {
	var probe map[string]json.RawMessage
	if m.Subject == "" || json.Unmarshal(m.JSON, &probe) != nil || probe["text"] != nil {
		return m.JSON
	}
	text, _ := json.Marshal(m.Subject)
	body := bytes.TrimLeft(m.JSON, " \t\r\n")[1:] // after the "{"
	sep := []byte(",")
	if len(probe) == 0 {
		sep = nil
	}
	return slices.Concat([]byte(`{"text":`), text, sep, body)
}

// Timeouts: a notification never holds up the next cron run for long.
var (
	WebhookTimeout = 15 * time.Second
	MailTimeout    = 30 * time.Second
)

// Result is the outcome of one target.
type Result struct {
	Target Target
	Err    error // nil: sent
}

// Send sends m to every target due at level l, one after another, and
// returns what happened to each one it tried. ctx bounds them all; each
// has its own timeout too.
func Send(ctx context.Context, targets []Target, smtp SMTP, l Level, m Message) []Result {
	var out []Result
	for _, t := range targets {
		if !t.Due(l) {
			continue
		}
		var err error
		if t.Webhook != "" {
			err = postWebhook(ctx, t.Webhook, m.webhookBody())
		} else {
			err = sendMail(ctx, smtp, t.Mail, m)
		}
		out = append(out, Result{t, err})
	}
	return out
}

// postWebhook POSTs body as JSON to raw. Any 2xx answer is success.
func postWebhook(ctx context.Context, raw string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, raw, bytes.NewReader(body))
	if err != nil {
		return errors.New("keine gültige URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "werkstatt-backup")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// *url.Error names the whole URL, token included: keep its cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("keine Antwort nach %s", WebhookTimeout)
		}
		return fmt.Errorf("nicht erreichbar: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("Antwort HTTP %s", resp.Status)
	}
	return nil
}

// sendMail sends m to the addresses in to (comma-separated) over SMTP with
// STARTTLS (required: a password never crosses the network in clear), or
// TLS from the start on port 465.
func sendMail(ctx context.Context, s SMTP, to string, m Message) error {
	host, port, err := s.HostPort()
	if err != nil {
		return fmt.Errorf("smtp_host: %w", err)
	}
	msg := mail.NewMsg()
	from := s.From
	if from == "" {
		from = "werkstatt-backup@" + host
	}
	if err := msg.From(from); err != nil {
		return fmt.Errorf("Absender %q ungültig", from)
	}
	if err := msg.To(splitAddresses(to)...); err != nil {
		return fmt.Errorf("Empfänger %q ungültig", to)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(mail.TypeTextPlain, m.Text)

	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(MailTimeout)}
	if port == 465 {
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	tlsConf := s.TLSConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	opts = append(opts, mail.WithTLSConfig(tlsConf))
	if s.User != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(s.User), mail.WithPassword(s.Password))
	}
	c, err := mail.NewClient(host, opts...)
	if err != nil {
		return fmt.Errorf("SMTP %s:%d: %s", host, port, clean(err, s.Password))
	}
	ctx, cancel := context.WithTimeout(ctx, MailTimeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("SMTP %s:%d: %s", host, port, clean(err, s.Password))
	}
	return nil
}

// splitAddresses splits "a@x, b@y" into its addresses.
func splitAddresses(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// clean is err's text with the password, should a server echo it, removed.
func clean(err error, password string) string {
	s := err.Error()
	if password != "" {
		s = strings.ReplaceAll(s, password, "***")
	}
	return s
}

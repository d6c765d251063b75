package s3

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"werkstatt-backup/storage"
)

var _ storage.Location = Location{}

// Location is an archive in an S3 bucket:
// s3://[ACCESS_KEY@]HOST[:PORT]/BUCKET[/PREFIX]. It holds no secret: the
// secret key comes from the options, never from the URL.
type Location struct {
	AccessKey string // from the URL; empty: s3_access_key
	Host      string // host name or IP address, without brackets
	Port      int    // 0: the scheme's default (443, or 80 with s3_insecure)
	Bucket    string
	Prefix    string // "" or a clean slash path without leading or trailing slash
}

// Scheme implements storage.Location.
func (Location) Scheme() string { return "s3" }

// String is the URL form; it never holds a secret.
func (l Location) String() string {
	var b strings.Builder
	b.WriteString("s3://")
	if l.AccessKey != "" {
		b.WriteString(url.PathEscape(l.AccessKey))
		b.WriteByte('@')
	}
	b.WriteString(l.endpoint())
	b.WriteByte('/')
	b.WriteString(l.Bucket)
	if l.Prefix != "" {
		b.WriteByte('/')
		b.WriteString(l.Prefix)
	}
	return b.String()
}

// endpoint is HOST[:PORT] as minio-go and the messages want it.
func (l Location) endpoint() string {
	if l.Port == 0 {
		if strings.Contains(l.Host, ":") {
			return "[" + l.Host + "]"
		}
		return l.Host
	}
	return net.JoinHostPort(l.Host, strconv.Itoa(l.Port))
}

// errSecretInURL is the one message for a secret key written into the URL.
// It never repeats the URL, which holds the secret.
var errSecretInURL = errors.New("S3-URL enthält einen Secret-Key (ACCESS_KEY:SECRET@…): das ist nicht erlaubt, " +
	"weil eine Befehlszeile für alle Benutzer sichtbar ist; den Secret-Key über ARCHIV_S3_SECRET_KEY oder s3_secret_key_file angeben")

// Parse parses what follows "s3://". Errors name the wrong part and never
// echo the user part of the URL.
func (Backend) Parse(rest string) (storage.Location, error) {
	return parseLocation(rest)
}

func parseLocation(rest string) (Location, error) {
	const form = "s3://[ACCESS_KEY@]HOST[:PORT]/BUCKET[/PREFIX]"
	var loc Location
	if secretInURL(rest) {
		return loc, errSecretInURL
	}
	authority, pth, _ := strings.Cut(rest, "/")
	userPart := ""
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userPart, authority = authority[:i], authority[i+1:]
		if strings.Contains(userPart, ":") {
			return loc, errSecretInURL
		}
		ak, err := url.PathUnescape(userPart)
		if err != nil || ak == "" {
			return loc, fmt.Errorf("S3-URL: Access-Key vor dem @ ist leer oder falsch kodiert (%s)", form)
		}
		loc.AccessKey = ak
	}
	if strings.ContainsAny(rest, "?#") {
		return loc, fmt.Errorf("S3-URL: Abfrageteil (?…) oder Fragment (#…) ist nicht erlaubt (%s)", form)
	}
	if authority == "" {
		return loc, fmt.Errorf("S3-URL: Host fehlt (%s)", form)
	}
	u, err := url.Parse("s3://" + authority)
	if err != nil || u.Hostname() == "" || u.Path != "" {
		return loc, fmt.Errorf("S3-URL: Host %q ist ungültig (%s)", authority, form)
	}
	loc.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return loc, fmt.Errorf("S3-URL: Port %q ist ungültig (1–65535)", p)
		}
		loc.Port = n
	}
	bucket, prefix, _ := strings.Cut(pth, "/")
	if bucket == "" {
		return loc, fmt.Errorf("S3-URL: Bucket fehlt (%s)", form)
	}
	if reason := bucketProblem(bucket); reason != "" {
		return loc, fmt.Errorf("S3-URL: Bucket-Name ist ungültig: %s", reason)
	}
	loc.Bucket = bucket
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix != "" {
		p, err := url.PathUnescape(prefix)
		if err != nil {
			return loc, fmt.Errorf("S3-URL: Präfix %q ist falsch kodiert", prefix)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return loc, fmt.Errorf("S3-URL: Präfix %q enthält einen leeren Teil, \".\" oder \"..\"", p)
			}
		}
		loc.Prefix = p
	}
	return loc, nil
}

// secretInURL reports a URL of the form ACCESS:SECRET@…, also when the
// secret holds a "/" (which AWS secret keys may). A ":" before the first
// "@" is a port only if digits up to the first "/" follow it.
func secretInURL(rest string) bool {
	user, _, ok := strings.Cut(rest, "@")
	if !ok {
		return false
	}
	_, afterColon, ok := strings.Cut(user, ":")
	if !ok {
		return false
	}
	port, _, slash := strings.Cut(afterColon, "/")
	if !slash || port == "" {
		return true
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return true
		}
	}
	return false
}

// bucketProblem says what is wrong with an S3 bucket name, "" if nothing
// (3–63 characters: lower-case letters, digits, dots and hyphens, starting
// and ending with a letter or digit).
func bucketProblem(b string) string {
	if len(b) < 3 || len(b) > 63 {
		return "3 bis 63 Zeichen erlaubt"
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && c != '.' && c != '-' {
			return "nur Kleinbuchstaben, Ziffern, Punkt und Bindestrich erlaubt"
		}
		if (i == 0 || i == len(b)-1) && !alnum {
			return "muss mit einem Buchstaben oder einer Ziffer beginnen und enden"
		}
	}
	return ""
}

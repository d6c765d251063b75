package fs

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Location is a parsed archive location.
type Location struct {
	Scheme   string // "file", "mem", "smb" or an unknown scheme kept as written
	Path     string // file: OS path as given (cleaned); mem: the name; smb: directory inside the share ("" = share root)
	Host     string // smb only
	Port     int    // smb only, 0 = default 445
	Share    string // smb only
	User     string // smb only
	Domain   string // smb only ("DOMAIN;user@host" syntax)
	Password string // smb only, only if given in the URL (discouraged); never printed by String()
}

// ParseLocation parses a plain path, file:///abs/path, mem://name or
// smb://[domain;]user[:password]@host[:port]/share[/dir...]. Other
// scheme://rest forms are returned with Scheme and Path=rest so that the
// Registry can report the unknown scheme.
func ParseLocation(s string) (Location, error) {
	if strings.TrimSpace(s) == "" {
		return Location{}, errors.New("Archiv-Pfad fehlt")
	}
	scheme, rest, ok := splitScheme(s)
	if !ok {
		if scheme, ok := missingSlash(s); ok {
			// As the URL it was meant to be, so that redact hides a password.
			meant := redact(scheme + ":/" + s[len(scheme)+1:])
			return Location{}, fmt.Errorf("ungültiger Archiv-Ort: nach %q fehlt ein Schrägstrich (gemeint ist wohl %q); ein lokaler Ordner dieses Namens ist mit ./ davor gemeint", scheme+":", meant)
		}
		return Location{Scheme: "file", Path: filepath.Clean(s)}, nil
	}
	var (
		l   Location
		err error
	)
	switch scheme {
	case "file":
		l, err = parseFile(rest)
	case "mem":
		l, err = parseMem(rest)
	case "smb":
		l, err = parseSMB(rest)
	default:
		return Location{Scheme: scheme, Path: rest}, nil
	}
	if err != nil {
		return Location{}, fmt.Errorf("ungültiger Archiv-Ort %q: %w", redact(s), err)
	}
	return l, nil
}

// missingSlash reports a URL with one slash too few: "smb:/host/share",
// "file:/srv/archiv". Taken as a local path it would quietly become a
// folder named "smb:" in the working directory.
func missingSlash(s string) (scheme string, ok bool) {
	scheme, rest, found := strings.Cut(s, ":")
	if !found || len(scheme) < 2 || !strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "//") {
		return "", false
	}
	for j, c := range scheme {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		other := c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
		if !letter && (j == 0 || !other) {
			return "", false
		}
	}
	return strings.ToLower(scheme), true
}

// splitScheme splits "scheme://rest". A one-letter scheme is a Windows
// drive letter, not a scheme.
func splitScheme(s string) (scheme, rest string, ok bool) {
	i := strings.Index(s, "://")
	if i < 2 {
		return "", "", false
	}
	for j, c := range s[:i] {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		other := c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
		if !letter && (j == 0 || !other) {
			return "", "", false
		}
	}
	return strings.ToLower(s[:i]), s[i+3:], true
}

func parseFile(rest string) (Location, error) {
	if rest == "" {
		return Location{}, errors.New("file-URL ohne Pfad")
	}
	if !strings.HasPrefix(rest, "/") {
		host, _, _ := strings.Cut(rest, "/")
		if strings.Contains(rest, "@") {
			// A user and password may be in front of the host: never echo
			// them (the URL in the message is redacted already).
			return Location{}, errors.New("file-URL mit Host wird nicht unterstützt (erwartet file:///absoluter/pfad)")
		}
		return Location{}, fmt.Errorf("file-URL mit Host %q wird nicht unterstützt (erwartet file:///absoluter/pfad)", host)
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return Location{}, errors.New("ungültige %-Kodierung im Pfad")
	}
	if runtime.GOOS == "windows" && len(p) >= 3 && p[2] == ':' {
		p = p[1:] // file:///C:/archiv
	}
	p = filepath.Clean(filepath.FromSlash(p))
	if !filepath.IsAbs(p) {
		return Location{}, errors.New("file-URL braucht einen absoluten Pfad")
	}
	return Location{Scheme: "file", Path: p}, nil
}

func parseMem(name string) (Location, error) {
	if name == "" {
		return Location{}, errors.New("mem-Name fehlt")
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-'
		if !ok && strings.Contains(name, "@") { // maybe user:password@: never echo it
			return Location{}, errors.New("mem-Name enthält unerlaubte Zeichen (erlaubt: A-Z a-z 0-9 . _ -)")
		}
		if !ok {
			return Location{}, fmt.Errorf("mem-Name %q enthält unerlaubte Zeichen (erlaubt: A-Z a-z 0-9 . _ -)", name)
		}
	}
	return Location{Scheme: "mem", Path: name}, nil
}

// parseSMB parses [domain;]user[:password]@host[:port]/share[/dir...].
// Reasons never echo parts that might hold the password.
func parseSMB(rest string) (Location, error) {
	l := Location{Scheme: "smb"}
	authority, p, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		if err := parseUserinfo(&l, authority[:i]); err != nil {
			return Location{}, err
		}
		authority = authority[i+1:]
	} else if strings.Contains(p, "@") {
		// Most likely a password with an unescaped "/"; never let it end up
		// in Share or Path, which are printed.
		return Location{}, errors.New("\"@\" im Pfad: Sonderzeichen im Passwort als %XX kodieren (\"/\" als %2F, \"@\" als %40)")
	}
	if err := parseHostPort(&l, authority); err != nil {
		return Location{}, err
	}
	share, dir, _ := strings.Cut(p, "/")
	var err error
	if l.Share, err = url.PathUnescape(share); err != nil {
		return Location{}, errors.New("ungültige %-Kodierung in der SMB-Freigabe")
	}
	if l.Share == "" {
		return Location{}, errors.New("SMB-Freigabe fehlt (erwartet smb://benutzer@host/freigabe[/ordner])")
	}
	if dir, err = url.PathUnescape(dir); err != nil {
		return Location{}, errors.New("ungültige %-Kodierung im SMB-Ordner")
	}
	for _, seg := range strings.Split(dir, "/") {
		if seg == ".." {
			return Location{}, errors.New("SMB-Ordner darf kein \"..\" enthalten")
		}
	}
	l.Path = strings.TrimPrefix(path.Clean("/"+dir), "/")
	return l, nil
}

func parseUserinfo(l *Location, userinfo string) error {
	if d, u, ok := strings.Cut(userinfo, ";"); ok {
		domain, err := url.PathUnescape(d)
		if err != nil {
			return errors.New("ungültige %-Kodierung in der SMB-Domäne")
		}
		l.Domain, userinfo = domain, u
	}
	u, pw, hasPw := strings.Cut(userinfo, ":")
	user, err := url.PathUnescape(u)
	if err != nil {
		return errors.New("ungültige %-Kodierung im SMB-Benutzer")
	}
	if user == "" {
		return errors.New("SMB-Benutzer fehlt vor \"@\"")
	}
	l.User = user
	if hasPw {
		if l.Password, err = url.PathUnescape(pw); err != nil {
			return errors.New("ungültige %-Kodierung im SMB-Passwort")
		}
	}
	return nil
}

func parseHostPort(l *Location, hostport string) error {
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") { // IPv6 literal
		end := strings.Index(hostport, "]")
		if end < 0 {
			return errors.New("SMB-Host: \"]\" fehlt")
		}
		host, port = hostport[1:end], hostport[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return errors.New("SMB-Host ungültig")
		}
		port = strings.TrimPrefix(port, ":")
	} else if h, p, ok := strings.Cut(hostport, ":"); ok {
		host, port = h, p
		if port == "" {
			return errors.New("SMB-Port fehlt nach \":\"")
		}
	}
	if host == "" {
		return errors.New("SMB-Host fehlt")
	}
	l.Host = host
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return errors.New("SMB-Port ungültig (erlaubt: 1-65535)")
		}
		l.Port = n
	}
	return nil
}

// String returns the display form; a password is shown as "***".
func (l Location) String() string {
	switch l.Scheme {
	case "file":
		return l.Path
	case "mem":
		return "mem://" + l.Path
	case "smb":
		var b strings.Builder
		b.WriteString("smb://")
		if l.User != "" {
			if l.Domain != "" {
				b.WriteString(l.Domain + ";")
			}
			b.WriteString(l.User)
			if l.Password != "" {
				b.WriteString(":***")
			}
			b.WriteString("@")
		}
		host := l.Host
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		b.WriteString(host)
		if l.Port != 0 {
			b.WriteString(":" + strconv.Itoa(l.Port))
		}
		b.WriteString("/" + l.Share)
		if l.Path != "" {
			b.WriteString("/" + l.Path)
		}
		return b.String()
	default:
		// An unknown scheme is kept as written, a password included.
		return redact(l.Scheme + "://" + l.Path)
	}
}

// redact replaces a password in "scheme://user:password@..." by "***". It
// uses the last "@" so that an unescaped "/" or "@" in the password is
// still hidden; redacting too much is better than leaking.
func redact(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	start := i + 3
	at := strings.LastIndex(s[start:], "@")
	if at < 0 {
		return s
	}
	colon := strings.Index(s[start:start+at], ":")
	if colon < 0 {
		return s
	}
	return s[:start+colon+1] + "***" + s[start+at:]
}

package smb

import (
	"errors"
	"net/url"
	"path"
	"strconv"
	"strings"

	"werkstatt-backup/storage"
)

// Location is an archive folder on an SMB share.
type Location struct {
	Host     string
	Port     int // 0 = DefaultPort
	Share    string
	Path     string // directory inside the share ("" = share root)
	User     string
	Domain   string // "DOMAIN;user@host" syntax
	Password string // only if given in the URL (discouraged); never printed by String()
}

// Scheme is "smb".
func (Location) Scheme() string { return "smb" }

// String returns the display form; a password is shown as "***".
func (l Location) String() string {
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
}

// Place names the archive without the user and without regard to case
// (SMB compares names so): two sites must not share one.
func (l Location) Place() string {
	port := l.Port
	if port == 0 {
		port = DefaultPort
	}
	return strings.ToLower(l.Host + ":" + strconv.Itoa(port) + "/" + l.Share + "/" + l.Path)
}

// Parse parses [domain;]user[:password]@host[:port]/share[/dir...], what
// follows "smb://". Reasons never echo parts that might hold the password.
func (Backend) Parse(rest string) (storage.Location, error) {
	l, err := parseSMB(rest)
	if err != nil {
		return nil, err
	}
	return l, nil
}

func parseSMB(rest string) (Location, error) {
	var l Location
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

package local

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"

	"werkstatt-backup/storage"
)

// ParsePath takes a plain local path, written without a scheme.
func (Backend) ParsePath(p string) (storage.Location, error) {
	return Location{Path: filepath.Clean(p)}, nil
}

// Parse parses what follows "file://": an absolute path ("/srv/archiv",
// %-encoded), no host.
func (Backend) Parse(rest string) (storage.Location, error) {
	if rest == "" {
		return nil, errors.New("file-URL ohne Pfad")
	}
	if !strings.HasPrefix(rest, "/") {
		host, _, _ := strings.Cut(rest, "/")
		if strings.Contains(rest, "@") {
			// A user and password may be in front of the host: never echo
			// them (the URL in the message is redacted already).
			return nil, errors.New("file-URL mit Host wird nicht unterstützt (erwartet file:///absoluter/pfad)")
		}
		return nil, fmt.Errorf("file-URL mit Host %q wird nicht unterstützt (erwartet file:///absoluter/pfad)", host)
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return nil, errors.New("ungültige %-Kodierung im Pfad")
	}
	if runtime.GOOS == "windows" && len(p) >= 3 && p[2] == ':' {
		p = p[1:] // file:///C:/archiv
	}
	p = filepath.Clean(filepath.FromSlash(p))
	if !filepath.IsAbs(p) {
		return nil, errors.New("file-URL braucht einen absoluten Pfad")
	}
	return Location{Path: p}, nil
}

package all

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"werkstatt-backup/backends/local"
	"werkstatt-backup/backends/mem"
	"werkstatt-backup/backends/smb"
	"werkstatt-backup/storage"
)

// secretOf returns what redact hides in s: from the first ":" after
// "scheme://" to the last "@", the password of a userinfo ("" if none).
func secretOf(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return ""
	}
	rest := s[i+3:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pw, ok := strings.Cut(rest[:at], ":")
	if !ok {
		return ""
	}
	return pw
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"./test_archiv", "/srv/archiv/", `C:\archiv`, "C://archiv", "file:///srv/archiv", "FILE:///srv/mein%20archiv",
		"mem://test", "smb://backup@nas-nord/archiv", "smb://WERKSTATT;backup:geheim@nas:1445/archiv/2024/nord",
		"smb://u:p%40ss%2Fw@nas/Werkstatt%20Daten/a//b/", "smb://u@[fe80::1]:445/share", "ftp://server/x",
		"smb://u:geheim@host:99999/s", "smb://u:geh/eim@host/s", "file://u:geheim@host/x", "mem://u:geheim@x",
		"ftp://u:geheim@host/x", "smb://host/share/../x", "smb://", "smb://@h/s", "smb://u@h:/s", "smb://u@[::1/s",
		"file://", "file:///%zz", "mem://", "://x", "",
	} {
		f.Add(s)
	}
	reg := Registry()
	f.Fuzz(func(t *testing.T, s string) {
		l, err := reg.Parse(s)
		secret := secretOf(s)
		if err != nil {
			// The password is never echoed, neither by the redacted URL nor
			// by the reason (when it is long enough to be recognised and
			// appears only once in the input).
			if len(secret) >= 4 && strings.Count(s, secret) == 1 && strings.Contains(err.Error(), secret) {
				t.Fatalf("Parse(%q) error shows the password %q: %v", s, secret, err)
			}
			if l != nil {
				t.Fatalf("Parse(%q) returned %+v with error %v", s, l, err)
			}
			if se := (*storage.SchemeError)(nil); errors.As(err, &se) && se.Scheme == "" {
				t.Fatalf("Parse(%q): scheme error without a scheme", s)
			}
			return
		}
		shown := l.String()
		switch l := l.(type) {
		case local.Location:
			if l.Path != filepath.Clean(l.Path) {
				t.Fatalf("Parse(%q): path %q not clean", s, l.Path)
			}
		case mem.Location:
			if l.Name == "" || strings.ContainsAny(l.Name, "/\\:@ ") {
				t.Fatalf("Parse(%q): mem name %q", s, l.Name)
			}
		case smb.Location:
			if l.Host == "" || l.Share == "" || l.Port < 0 || l.Port > 65535 {
				t.Fatalf("Parse(%q) = %+v", s, l)
			}
			if l.Path != "" && (path.Clean("/"+l.Path) != "/"+l.Path || strings.Contains("/"+l.Path+"/", "/../")) {
				t.Fatalf("Parse(%q): directory %q", s, l.Path)
			}
			// What is shown does not depend on the password at all.
			other := l
			if other.Password != "" {
				other.Password = "anders"
			}
			if other.String() != shown {
				t.Fatalf("Parse(%q).String() = %q shows the password", s, shown)
			}
		default:
			t.Fatalf("Parse(%q) = %T, a location of no backend", s, l)
		}
	})
}

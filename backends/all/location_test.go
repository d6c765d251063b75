package all

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"werkstatt-backup/backends/local"
	"werkstatt-backup/backends/mem"
	"werkstatt-backup/backends/smb"
	"werkstatt-backup/storage"
)

// parse is the program's Parse of an archive location.
func parse(s string) (storage.Location, error) { return Registry().Parse(s) }

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want storage.Location
	}{
		{"./test_archiv", local.Location{Path: "test_archiv"}},
		{"/srv/archiv/", local.Location{Path: filepath.Clean("/srv/archiv")}},
		{`C:\archiv`, local.Location{Path: filepath.Clean(`C:\archiv`)}},
		{"C://archiv", local.Location{Path: filepath.Clean("C://archiv")}},
		{"file:///srv/archiv", local.Location{Path: filepath.FromSlash("/srv/archiv")}},
		{"FILE:///srv/mein%20archiv", local.Location{Path: filepath.FromSlash("/srv/mein archiv")}},
		{"mem://test", mem.Location{Name: "test"}},
		{"mem://a.B_c-9", mem.Location{Name: "a.B_c-9"}},
		{"smb://backup@nas-nord/archiv", smb.Location{User: "backup", Host: "nas-nord", Share: "archiv"}},
		{"smb://nas/archiv/", smb.Location{Host: "nas", Share: "archiv"}},
		{"smb://WERKSTATT;backup:geheim@nas:1445/archiv/2024/nord",
			smb.Location{Domain: "WERKSTATT", User: "backup", Password: "geheim",
				Host: "nas", Port: 1445, Share: "archiv", Path: "2024/nord"}},
		{"smb://u:p%40ss%2Fw@nas/Werkstatt%20Daten/a//b/",
			smb.Location{User: "u", Password: "p@ss/w", Host: "nas", Share: "Werkstatt Daten", Path: "a/b"}},
		{"smb://u@[fe80::1]:445/share", smb.Location{User: "u", Host: "fe80::1", Port: 445, Share: "share"}},
		{"smb://u@192.168.1.5/share", smb.Location{User: "u", Host: "192.168.1.5", Share: "share"}},
		{"./smb:/x", local.Location{Path: filepath.Clean("smb:/x")}},
		{"C:/archiv", local.Location{Path: filepath.Clean("C:/archiv")}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parse(tc.in)
			if err != nil {
				t.Fatalf("parse(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("parse(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want []string // substrings of the error
	}{
		{"", []string{"Archiv-Pfad fehlt"}},
		{"   ", []string{"Archiv-Pfad fehlt"}},
		{"file://", []string{"ohne Pfad"}},
		{"file://server/x", []string{`"file://server/x"`, `Host "server"`}},
		{"mem://", []string{"mem-Name fehlt"}},
		{"mem://a/b", []string{`"a/b"`, "unerlaubte Zeichen"}},
		{"smb://", []string{"SMB-Host fehlt"}},
		{"smb://nas", []string{"SMB-Freigabe fehlt"}},
		{"smb://u:geheim@nas", []string{`"smb://u:***@nas"`, "SMB-Freigabe fehlt"}},
		{"smb://u:geheim@nas:0/s", []string{"SMB-Port ungültig"}},
		{"smb://u:geheim@nas:65536/s", []string{"SMB-Port ungültig"}},
		{"smb://u:geheim@nas:abc/s", []string{"SMB-Port ungültig"}},
		{"smb://u:geheim@nas:/s", []string{"SMB-Port fehlt"}},
		{"smb://:geheim@nas/s", []string{"SMB-Benutzer fehlt"}},
		{"smb://u@[::1/s", []string{`"]" fehlt`}},
		{"smb://u@nas/s/../x", []string{`".."`}},
		{"smb://u:ge/heim@nas/s", []string{"***"}}, // unescaped "/" in the password
		{"smb://u:%zz@nas/s", []string{"%-Kodierung", "***"}},
		{"smb://u:123/geheim@nas/s", []string{`"smb://u:***@nas/s"`, "%2F"}},
		{"smb:/nas/archiv", []string{`nach "smb:" fehlt ein Schrägstrich`}},
		{"SMB:/nas/archiv", []string{`nach "smb:" fehlt ein Schrägstrich`}},
		{"file:/srv/archiv", []string{`nach "file:" fehlt ein Schrägstrich`}},
		{"smb:/u:geheim@nas/s", []string{"***"}},
		{"ftp://server/x", []string{`unbekanntes Archiv-Schema "ftp" (bekannt: file, mem, s3, smb)`}},
		{"ftp://u:geheim@server/x", []string{`unbekanntes Archiv-Schema "ftp"`}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := parse(tc.in)
			if err == nil {
				t.Fatalf("parse(%q): no error", tc.in)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "geheim") || strings.Contains(msg, "heim") {
				t.Errorf("error %q leaks the password", msg)
			}
		})
	}
}

func TestLocationString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/srv/archiv", filepath.Clean("/srv/archiv")},
		{"file:///srv/archiv", filepath.FromSlash("/srv/archiv")},
		{"mem://test", "mem://test"},
		{"smb://backup@nas-nord/archiv", "smb://backup@nas-nord/archiv"},
		{"smb://D;u:geheim@nas:1445/s/a/b", "smb://D;u:***@nas:1445/s/a/b"},
		{"smb://u@[fe80::1]/s", "smb://u@[fe80::1]/s"},
	}
	for _, tc := range tests {
		l, err := parse(tc.in)
		if err != nil {
			t.Fatalf("parse(%q): %v", tc.in, err)
		}
		if got := l.String(); got != tc.want {
			t.Errorf("parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(tc.want, "***") {
			continue
		}
		again, err := parse(l.String())
		if err != nil || again != l {
			t.Errorf("round trip of %q: %+v, %v", tc.in, again, err)
		}
	}
}

// TestUnknownSchemeIsSchemeError: an unknown scheme is a *SchemeError (a
// usage error, exit 2), not a parse error of some backend.
func TestUnknownSchemeIsSchemeError(t *testing.T) {
	_, err := parse("s3x://bucket/x")
	if se := (*storage.SchemeError)(nil); !errors.As(err, &se) || se.Scheme != "s3x" {
		t.Errorf("parse(s3x://…) = %v, want a *SchemeError", err)
	}
}

// TestSameArchive: two SMB URLs naming one folder of one share are one
// archive whatever the user, the case or a trailing slash.
func TestSameArchive(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"smb://backup@NAS/Archiv/x", "smb://werk;admin@nas/archiv/x/", true},
		{"smb://backup@nas/archiv/x", "smb://backup@nas:445/archiv/x", true},
		{"smb://backup@nas/archiv/a", "smb://backup@nas/archiv/b", false},
		{"smb://backup@nas/archiv/a", "smb://backup@nas2/archiv/a", false},
		{"/srv/a", "/srv/a/", true},
		{"/srv/a", "/srv/A", false},
		{"mem://a", "mem://a", true},
		{"mem://a", "/a", false},
	} {
		la, err := parse(c.a)
		if err != nil {
			t.Fatal(err)
		}
		lb, err := parse(c.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := storage.SameArchive(la, lb); got != c.same {
			t.Errorf("SameArchive(%s, %s) = %v, want %v", c.a, c.b, got, c.same)
		}
	}
}

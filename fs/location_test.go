package fs

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLocation(t *testing.T) {
	tests := []struct {
		in   string
		want Location
	}{
		{"./test_archiv", Location{Scheme: "file", Path: "test_archiv"}},
		{"/srv/archiv/", Location{Scheme: "file", Path: filepath.Clean("/srv/archiv")}},
		{`C:\archiv`, Location{Scheme: "file", Path: filepath.Clean(`C:\archiv`)}},
		{"C://archiv", Location{Scheme: "file", Path: filepath.Clean("C://archiv")}},
		{"file:///srv/archiv", Location{Scheme: "file", Path: filepath.FromSlash("/srv/archiv")}},
		{"FILE:///srv/mein%20archiv", Location{Scheme: "file", Path: filepath.FromSlash("/srv/mein archiv")}},
		{"mem://test", Location{Scheme: "mem", Path: "test"}},
		{"mem://a.B_c-9", Location{Scheme: "mem", Path: "a.B_c-9"}},
		{"smb://backup@nas-nord/archiv", Location{Scheme: "smb", User: "backup", Host: "nas-nord", Share: "archiv"}},
		{"smb://nas/archiv/", Location{Scheme: "smb", Host: "nas", Share: "archiv"}},
		{"smb://WERKSTATT;backup:geheim@nas:1445/archiv/2024/nord",
			Location{Scheme: "smb", Domain: "WERKSTATT", User: "backup", Password: "geheim",
				Host: "nas", Port: 1445, Share: "archiv", Path: "2024/nord"}},
		{"smb://u:p%40ss%2Fw@nas/Werkstatt%20Daten/a//b/",
			Location{Scheme: "smb", User: "u", Password: "p@ss/w", Host: "nas", Share: "Werkstatt Daten", Path: "a/b"}},
		{"smb://u@[fe80::1]:445/share", Location{Scheme: "smb", User: "u", Host: "fe80::1", Port: 445, Share: "share"}},
		{"smb://u@192.168.1.5/share", Location{Scheme: "smb", User: "u", Host: "192.168.1.5", Share: "share"}},
		{"ftp://server/x", Location{Scheme: "ftp", Path: "server/x"}},
		{"s3://bucket", Location{Scheme: "s3", Path: "bucket"}},
		{"./smb:/x", Location{Scheme: "file", Path: filepath.Clean("smb:/x")}},
		{"C:/archiv", Location{Scheme: "file", Path: filepath.Clean("C:/archiv")}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLocation(tc.in)
			if err != nil {
				t.Fatalf("ParseLocation(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("ParseLocation(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseLocationErrors(t *testing.T) {
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
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseLocation(tc.in)
			if err == nil {
				t.Fatalf("ParseLocation(%q): no error", tc.in)
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
		{"ftp://x/y", "ftp://x/y"},
	}
	for _, tc := range tests {
		l, err := ParseLocation(tc.in)
		if err != nil {
			t.Fatalf("ParseLocation(%q): %v", tc.in, err)
		}
		if got := l.String(); got != tc.want {
			t.Errorf("ParseLocation(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(tc.want, "***") {
			continue
		}
		again, err := ParseLocation(l.String())
		if err != nil || again != l {
			t.Errorf("round trip of %q: %+v, %v", tc.in, again, err)
		}
	}
}

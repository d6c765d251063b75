package config

import (
	"fmt"
	"strings"
	"time"

	archfs "werkstatt-backup/fs"
)

// Entry is one setting as `config show` prints it.
type Entry struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`         // default, file, site, env, flag; "" = not set
	From   string `json:"from,omitempty"` // the file, site, variable or flag
	// Note qualifies a default whose effect depends on the archive, e.g.
	// workers: "über SMB 128".
	Note string `json:"note,omitempty"`
}

// Show lists every setting of cfg with its source, in a fixed order. Secrets
// are "***", and a password given in an smb:// URL is redacted too.
func Show(cfg Config, src Sources) []Entry {
	out := make([]Entry, 0, len(keys))
	for _, k := range keys {
		var val string
		switch p := cfg.field(k.name).(type) {
		case *string:
			val = *p
		case *time.Duration:
			val = p.String()
		case *int:
			val = fmt.Sprint(*p)
		case *Share:
			val = p.String()
		case *Retention:
			val = p.String()
		case *HistoryLock:
			if *p != 0 {
				val = p.String()
			}
		}
		switch {
		case k.secret && val != "":
			val = "***"
		case k.kind == kindLocation:
			val = redactURL(val)
		}
		s := src[k.name]
		e := Entry{Key: k.name, Value: val, Source: s.Kind, From: s.Where}
		if s.Kind == FromDefault {
			e.Note = k.defNote
		}
		out = append(out, e)
	}
	return out
}

// redactURL hides a password in an smb:// URL, or in a URL of a scheme no
// backend knows (which is shown as written otherwise).
func redactURL(s string) string {
	loc, err := archfs.ParseLocation(s)
	if err != nil {
		// Not reached for a resolved Config; hide all user info to be safe.
		if i, j := strings.Index(s, "://"), strings.LastIndex(s, "@"); i >= 0 && j > i {
			return s[:i+3] + "***" + s[j:]
		}
		return s
	}
	if loc.Scheme == "file" || loc.Scheme == "mem" {
		return s
	}
	return loc.String()
}

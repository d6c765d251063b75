package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"werkstatt-backup/storage"
)

// Entry is one setting as `config show` prints it.
type Entry struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`         // default, file, site, env, flag; "" = not set
	From   string `json:"from,omitempty"` // the file, site, variable or flag
	// Note qualifies a default whose effect depends on the archive, e.g.
	// workers: "über SMB 128" (from the backends' declarations).
	Note string `json:"note,omitempty"`
}

// Show lists every setting of cfg with its source, in a fixed order. Secrets
// are "***", and a password given in an archive URL is redacted too.
func Show(cfg Config, src Sources) []Entry {
	out := make([]Entry, 0, len(keys))
	for _, k := range keys {
		var val string
		field := cfg.field(k.name)
		if k.backend != "" {
			field = cfg.Backend[k.name]
		}
		switch p := field.(type) {
		case string:
			val = p
		case time.Duration:
			val = p.String()
		case int:
			val = fmt.Sprint(p)
		case bool:
			val = fmt.Sprint(p)
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
		case *MassChangeWindow:
			val = p.String()
		case *HistoryLock:
			if *p != 0 {
				val = p.String()
			}
		case *Notify:
			val = p.String()
		case *Zeitplan:
			if *p != nil {
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

// redactURL hides a password in an archive URL: the backend's display
// form, or for a URL no backend parses every user info.
func redactURL(s string) string {
	if s == "" {
		return s
	}
	loc, err := parseLocation(s)
	if errors.As(err, new(*storage.SchemeError)) {
		return storage.Redact(s) // shown as written, but for a password
	}
	if err != nil {
		// Not reached for a resolved Config; hide all user info to be safe.
		if i, j := strings.Index(s, "://"), strings.LastIndex(s, "@"); i >= 0 && j > i {
			return s[:i+3] + "***" + s[j:]
		}
		return s
	}
	if loc.Scheme() == "file" {
		return s // a path as given, relative or not
	}
	return loc.String()
}

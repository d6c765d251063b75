package config

import (
	"fmt"

	archfs "werkstatt-backup/fs"
)

// Entry is one setting as `config show` prints it.
type Entry struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// Show lists every setting of cfg with its source; secrets are "***", and a
// password given in the archive URL is redacted too.
func Show(cfg Config, src map[string]Source) []Entry {
	values := map[string]string{
		"db":                cfg.DB,
		"archiv":            redactURL(cfg.Archiv),
		"log_file":          cfg.LogFile,
		"lock_timeout":      cfg.LockTimeout.String(),
		"workers":           fmt.Sprint(cfg.Workers),
		"smb_user":          cfg.SMBUser,
		"smb_domain":        cfg.SMBDomain,
		"smb_password_file": cfg.SMBPasswordFile,
		"smb_password":      "",
	}
	if cfg.SMBPassword != "" {
		values["smb_password"] = "***"
	}
	out := make([]Entry, 0, len(keys))
	for _, k := range keys {
		s := src[k.name]
		if s == "" {
			s = "nicht gesetzt"
		}
		out = append(out, Entry{Key: k.name, Value: values[k.name], Source: s})
	}
	return out
}

// redactURL hides a password in an smb:// URL.
func redactURL(s string) string {
	if loc, err := archfs.ParseLocation(s); err == nil && loc.Scheme == "smb" {
		return loc.String()
	}
	return s
}

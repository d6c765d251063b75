package smb

import (
	"os"
	"strings"

	"werkstatt-backup/storage"
)

// Option keys of the SMB backend (config file, --smb-… flags and
// ARCHIV_SMB_… environment).
const (
	OptUser         = "smb_user"
	OptDomain       = "smb_domain"
	OptTimeout      = "smb_timeout"
	OptPasswordFile = "smb_password_file"
	OptPassword     = "smb_password"
)

// Describe declares the scheme "smb", its URL form and its options.
func (Backend) Describe() storage.Description {
	return storage.Description{
		Scheme:  "smb",
		Syntax:  "smb://[domäne;]benutzer@host[:port]/freigabe[/ordner]",
		Summary: "ein Ordner auf einer SMB-Freigabe (Windows, Samba, NAS)",
		Workers: DefaultWorkers,
		Options: []storage.Option{
			{Key: OptUser, Kind: storage.OptString, Help: "SMB-Benutzer, falls nicht in der URL"},
			{Key: OptDomain, Kind: storage.OptString, Help: "SMB-Domäne, falls nicht in der URL"},
			// An admin with a slow line gives every call longer.
			{Key: OptTimeout, Kind: storage.OptDuration, Default: DefaultTimeout, MinDuration: minTimeout,
				Help: "Frist für jeden einzelnen SMB-Aufruf (Verbinden, Lesen, Schreiben); auf langsamen Leitungen erhöhen"},
			{Key: OptPasswordFile, Kind: storage.OptPath, Help: "Datei mit dem SMB-Passwort (statt ARCHIV_SMB_PASSWORD)"},
			// The password itself never goes into a file (readable by
			// others, lands in backups) nor onto the command line (ps).
			{Key: OptPassword, Kind: storage.OptString, Secret: true, Help: "SMB-Passwort, nur aus ARCHIV_SMB_PASSWORD"},
		},
	}
}

// password picks the password: smb_password (the environment), else the
// password file, else the URL's. It is never printed or logged; a file
// that cannot be read is an *storage.OptionError naming its key.
func password(loc Location, opts storage.Options) (string, error) {
	if pw := opts.String(OptPassword); pw != "" {
		return pw, nil
	}
	if file := opts.String(OptPasswordFile); file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", &storage.OptionError{Key: OptPasswordFile, Reason: readReason(file, err)}
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return loc.Password, nil
}

// readReason is err of reading file, without Go's "open " prefix.
func readReason(file string, err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// Package config loads the effective settings of a run with viper, highest
// first: flags the user set > ARCHIV_* environment > the selected site's
// entry > the file's top level > defaults. The file is --config, else
// $ARCHIV_CONFIG, else ./.archiv_config.json if present.
//
// Relative paths in the file are relative to the file's directory (so a cron
// job finds them from any working directory); relative paths from flags and
// the environment are relative to the working directory, as usual.
package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// kind is how a setting's value is parsed and checked.
type kind int

const (
	kindString   kind = iota
	kindPath          // a local path: relative ones in the file are relative to the file
	kindLocation      // a local path or a URL (smb://, mem://, file://)
	kindDuration
	kindInt
	kindShare     // a share of the backups: "25%" or a fraction 0…1 (Share)
	kindRetention // forget's rules: an object or "last=10 daily=14 …" (Retention)
	kindLockDays  // history_lock: days as a number or "56d" (HistoryLock)
	kindNumber    // a whole number, 0 or more (a backend's OptInt)
	kindBool      // true/false, 1/0, ja/nein (a backend's OptBool)
	kindNotify    // notify: a list of targets (Notify)
	kindZeitplan  // schedule's jobs: a list of {befehl, zeit} (Zeitplan)
	kindWindow    // mass_change_window: days as a number, "7d" or a duration (MassChangeWindow)
)

// key is one setting: its name in the file (and, upper-cased with the
// ARCHIV_ prefix, in the environment), its flag and its default.
type key struct {
	name   string
	flag   string // "" = no flag
	kind   kind
	def    any // nil = no default
	secret bool
	fileOK bool // may appear in the config file
	help   string
	minDur time.Duration // kindDuration: the smallest value accepted
	suffix string        // the value must end with it (metrics_file: ".prom")
	// defNote qualifies the default where the value in effect depends on
	// more than this table (config show prints it beside the default).
	defNote string
	backend string             // the scheme of the backend that declares it; "" = the program's own
	env     []string           // further environment variables, read in order when ARCHIV_… is unset
	check   func(string) error // kindString: a further check of a value that is set
	// topOnly: only at the file's top level, never in a site.
	topOnly bool
}

// keys are the settings: the program's own (baseKeys) and those the
// archive backends declare (UseBackends).
var keys = baseKeys

// baseKeys are the program's own settings. The help of archiv and workers
// is completed by UseBackends from the backends' declarations.
var baseKeys = []key{
	{name: "db", flag: "db", kind: kindPath, fileOK: true, help: "Pfad der SQLite-Datenbank (werkstatt.db)"},
	{name: "archiv", flag: "archiv", kind: kindLocation, fileOK: true, help: "Archiv: Pfad oder URL"},
	{name: "log_file", flag: "log-file", kind: kindPath, def: "backup_system.log", fileOK: true, help: "Logdatei (wird angehängt)"},
	{name: "lock_timeout", flag: "lock-timeout", kind: kindDuration, def: 30 * time.Second, fileOK: true, help: "wie lange auf .backup.lock gewartet wird (30s, 2m oder Sekunden als Zahl)"},
	{name: "workers", flag: "workers", kind: kindInt, def: defaultWorkers, fileOK: true, help: "parallele Dateioperationen (1-256; ohne Angabe 8)"},
	{name: "mass_change", flag: "mass-change", kind: kindShare, def: Share(0.25), fileOK: true,
		help: "export ändert oder entfernt höchstens diesen Anteil der Sicherungen ohne --allow-mass-change (\"25%\" oder 0.25; 0 schaltet die Prüfung ab)"},
	{name: "mass_change_window", kind: kindWindow, def: DefaultMassChangeWindow, fileOK: true,
		help: "export vergleicht außerdem mit der Generation so lange vor der neuesten, damit auch eine über Nächte verteilte Massenänderung auffällt (Tage als Zahl, \"7d\" oder \"36h\"; 0 schaltet den Vergleich ab)"},
	{name: "retention", kind: kindRetention, def: DefaultRetention, fileOK: true,
		help: "was forget von der Historie behält, wenn keine --keep-* Option angegeben ist (Objekt oder \"last=10 daily=14 weekly=8 monthly=24 yearly=10\"; -1 = unbegrenzt)"},
	{name: "history_lock", flag: "history-lock", kind: kindLockDays, fileOK: true, defNote: "aus retention: max(daily Tage, weekly Wochen), mit der Vorgabe 56 Tage",
		help: "wie lange die Dateien der Historie auf einem Speicher mit Object Lock unveränderbar sind (Tage als Zahl oder \"56d\"; ohne Angabe aus retention abgeleitet)"},
	{name: "pdfs", kind: kindLocation, fileOK: true, defNote: "das Archiv selbst (PDFs liegen im Archiv, nichts zu kopieren)",
		help: "wo die PDFs der Aufträge liegen (Pfad oder URL); liegt das Archiv woanders, kopiert export jedes neue oder geänderte PDF dorthin"},
	{name: "pdf_check", flag: "pdf-check", kind: kindString, fileOK: true, check: checkPDFCheck, defNote: "jedes PDF mindestens einmal in 30 Tagen",
		help: "wie viele PDFs verify ohne --pdfs liest: \"alle\", \"aus\" oder ein Anteil je Lauf wie \"5%\""},
	{name: "metrics_file", flag: "metrics-file", kind: kindPath, fileOK: true, suffix: ".prom", help: "Prometheus-Textdatei (*.prom) für den textfile collector von node_exporter, nach jedem Lauf aktualisiert"},
	{name: "notify", kind: kindNotify, fileOK: true,
		help: `wen ein Lauf benachrichtigt: Liste von Zielen [{"webhook": "https://…", "on": "fehler"}, {"mail": "admin@…", "on": "warnung"}]; on: fehler, warnung oder immer`},
	{name: "smtp_host", kind: kindString, fileOK: true, check: checkSMTPHost, help: "SMTP-Server für Mail-Ziele von notify (host oder host:port; Port 587 mit STARTTLS, 465 mit TLS)"},
	{name: "smtp_user", kind: kindString, fileOK: true, help: "SMTP-Benutzer (ohne: keine Anmeldung)"},
	{name: "smtp_from", kind: kindString, fileOK: true, check: checkAddress, help: "Absender der Mails (ohne: werkstatt-backup@<smtp_host>)"},
	{name: "smtp_password_file", kind: kindPath, fileOK: true, help: "Datei mit dem SMTP-Passwort (statt ARCHIV_SMTP_PASSWORD)"},
	{name: "smtp_password", kind: kindString, secret: true, help: "SMTP-Passwort, nur aus ARCHIV_SMTP_PASSWORD"},
	{name: "zeitplan", kind: kindZeitplan, fileOK: true, topOnly: true,
		help: "was schedule ohne --at ausführt: Liste von {\"befehl\": \"export\", \"zeit\": \"0 2 * * *\"} (in der Umgebung crontab-Zeilen, getrennt durch \";\")"},
}

func lookupKey(name string) (key, bool) {
	for _, k := range keys {
		if k.name == name {
			return k, true
		}
	}
	return key{}, false
}

// envName is the environment variable of a setting, e.g. ARCHIV_LOCK_TIMEOUT.
func envName(name string) string {
	b := []byte("ARCHIV_" + name)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// RegisterFlags defines the flag of every setting on fs (the CLI's
// persistent flags), with the defaults of this package, so the command line
// and the loader cannot drift apart. Resolve only takes the flags the user
// actually set; a flag's default never hides the environment or the file.
func RegisterFlags(fs *pflag.FlagSet) {
	for _, k := range keys {
		if k.flag == "" {
			continue
		}
		usage := fmt.Sprintf("%s [$%s]", k.help, strings.Join(append([]string{envName(k.name)}, k.env...), ", $"))
		v := &flagValue{kind: k.kind}
		if k.def != nil {
			v.text = fmt.Sprint(k.def)
		}
		fs.Var(v, k.flag, usage)
		if k.kind == kindBool {
			// --s3-insecure alone means yes, as with any switch;
			// --s3-insecure=nein turns it off.
			fs.Lookup(k.flag).NoOptDefVal = "ja"
		}
	}
}

// flagValue is a setting's flag. It keeps the text as typed; Resolve checks
// it with the same rules as a value from the file or the environment, so
// "--lock-timeout 30" means 30 seconds there as everywhere, and a bad value
// is an *Error naming the flag. Its type is the German word help shows
// ("--workers ANZAHL").
type flagValue struct {
	text string
	kind kind
}

func (v *flagValue) String() string     { return v.text }
func (v *flagValue) Set(s string) error { v.text = s; return nil }

func (v *flagValue) Type() string {
	switch v.kind {
	case kindPath:
		return "PFAD"
	case kindLocation:
		return "PFAD|URL"
	case kindDuration:
		return "DAUER"
	case kindInt:
		return "ANZAHL"
	case kindShare:
		return "ANTEIL"
	case kindRetention:
		return "REGELN"
	case kindLockDays:
		return "TAGE"
	case kindNumber:
		return "ZAHL"
	case kindBool:
		return "ja|nein"
	case kindNotify:
		return "ZIELE"
	case kindZeitplan:
		return "Zeitplan"
	case kindWindow:
		return "DAUER"
	}
	return "NAME"
}

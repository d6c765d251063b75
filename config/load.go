package config

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Config is the effective configuration of one run (of one site).
type Config struct {
	Site        string   // selected site, "" for the top level
	File        string   // config file read, "" if none
	Sites       []string // names of all sites in the file, in file order
	DB          string
	Archiv      string
	LogFile     string
	MetricsFile string // Prometheus text file, "" = none
	LockTimeout time.Duration
	Workers     int
	MassChange  Share // export's mass-change guard; 0 = off
	// MassChangeWindow: the guard also compares with the generation this
	// long before the newest; 0 = off.
	MassChangeWindow MassChangeWindow
	Retention        Retention   // what forget keeps by default
	HistoryLock      HistoryLock // Object Lock period of the history; 0 = derived from Retention
	Notify           Notify      // who hears how a run ended
	PDFs             string      // where the orders' PDFs live; "" = the archive itself
	PDFCheck         string      // verify's share of PDFs without --pdfs; "" = every PDF once in 30 days
	// SMTP settings for Notify's mail targets. SMTPPassword comes from
	// the environment only; never print it.
	SMTPHost, SMTPUser, SMTPFrom, SMTPPasswordFile, SMTPPassword string
	Zeitplan                                                     Zeitplan // the jobs of schedule without --at; nil = none
	// Backend holds the values of the backends' options (smb_user, …)
	// that are set or have a default, by key, typed as their kind:
	// string, time.Duration, int or bool. Secrets among them come from the
	// environment only; never print them.
	Backend map[string]any

	src     Sources // where each value came from (KeyError)
	siteIdx int     // the site's place in the file's sites, -1 = none
}

// BackendOptions returns the values of the options the backend of scheme
// declares, for its Open.
func (c Config) BackendOptions(scheme string) map[string]any {
	out := make(map[string]any)
	for _, k := range keys {
		if v, ok := c.Backend[k.name]; ok && k.backend == scheme {
			out[k.name] = v
		}
	}
	return out
}

// field returns a pointer to the field of the setting called name.
func (c *Config) field(name string) any {
	switch name {
	case "db":
		return &c.DB
	case "archiv":
		return &c.Archiv
	case "log_file":
		return &c.LogFile
	case "metrics_file":
		return &c.MetricsFile
	case "lock_timeout":
		return &c.LockTimeout
	case "workers":
		return &c.Workers
	case "mass_change":
		return &c.MassChange
	case "mass_change_window":
		return &c.MassChangeWindow
	case "retention":
		return &c.Retention
	case "history_lock":
		return &c.HistoryLock
	case "notify":
		return &c.Notify
	case "pdfs":
		return &c.PDFs
	case "pdf_check":
		return &c.PDFCheck
	case "smtp_host":
		return &c.SMTPHost
	case "smtp_user":
		return &c.SMTPUser
	case "smtp_from":
		return &c.SMTPFrom
	case "smtp_password_file":
		return &c.SMTPPasswordFile
	case "smtp_password":
		return &c.SMTPPassword
	case "zeitplan":
		return &c.Zeitplan
	}
	if k, ok := lookupKey(name); ok && k.backend != "" {
		return nil // in c.Backend
	}
	panic("config: kein Feld für " + name)
}

// set stores a value parseValue returned.
func (c *Config) set(name string, v any) {
	if k, ok := lookupKey(name); ok && k.backend != "" {
		if c.Backend == nil {
			c.Backend = make(map[string]any)
		}
		c.Backend[name] = v
		return
	}
	switch p := c.field(name).(type) {
	case *string:
		*p = v.(string)
	case *time.Duration:
		*p = v.(time.Duration)
	case *int:
		*p = v.(int)
	case *Share:
		*p = v.(Share)
	case *Retention:
		*p = v.(Retention)
	case *HistoryLock:
		*p = v.(HistoryLock)
	case *MassChangeWindow:
		*p = v.(MassChangeWindow)
	case *Notify:
		*p = v.(Notify)
	case *Zeitplan:
		*p = v.(Zeitplan)
	}
}

// Kinds of Source, lowest precedence first.
const (
	FromDefault = "default"
	FromFile    = "file"
	FromSite    = "site"
	FromEnv     = "env"
	FromFlag    = "flag"
)

// Source says where a setting's value came from.
type Source struct {
	Kind  string // FromDefault … FromFlag; "" = not set anywhere
	Where string // the file's path, the site's name, the variable (ARCHIV_DB) or the flag (--db)
}

func (s Source) String() string {
	switch {
	case s.Kind == "":
		return "nicht gesetzt"
	case s.Where == "":
		return s.Kind
	}
	return s.Kind + " " + s.Where
}

// Sources maps each setting's name to where its value came from.
type Sources map[string]Source

// Loader holds the configuration file, read once; Resolve then builds the
// Config of the top level or of one site.
type Loader struct {
	file *file
}

// Load finds and reads the config file: configFlag (--config), else
// $ARCHIV_CONFIG, else ./.archiv_config.json if it exists. fsys is where
// files are read (nil: the OS). The whole file, every site included, is
// checked here, so a mistake in one site stops every command.
func Load(fsys afero.Fs, configFlag string) (*Loader, error) {
	if fsys == nil {
		fsys = afero.NewOsFs()
	}
	path := configFlag
	if path == "" {
		path = os.Getenv("ARCHIV_CONFIG")
	}
	if path == "" {
		_, err := fsys.Stat(DefaultFile)
		if errors.Is(err, iofs.ErrNotExist) {
			return &Loader{}, nil
		} else if err != nil {
			return nil, &Error{File: DefaultFile, Reason: err.Error()}
		}
		path = DefaultFile
	}
	f, err := readFile(fsys, path)
	if err != nil {
		return nil, err
	}
	return &Loader{file: f}, nil
}

// File returns the path of the config file read, "" if none.
func (l *Loader) File() string {
	if l.file == nil {
		return ""
	}
	return l.file.path
}

// Sites returns the names of the sites in the file, in file order.
func (l *Loader) Sites() []string {
	if l.file == nil {
		return nil
	}
	names := make([]string, len(l.file.sites))
	for i, s := range l.file.sites {
		names[i] = s.name
	}
	return names
}

// Resolve merges the layers for siteName ("" = top level only) with one
// viper instance: defaults, the file's top level, the site's entry, the
// ARCHIV_* environment and the flags the user set in flags (nil: none).
// Every value is then checked; a bad one is an *Error naming where it came
// from (ARCHIV_WORKERS, --workers, …).
func (l *Loader) Resolve(siteName string, flags *pflag.FlagSet) (Config, Sources, error) {
	v := viper.New()
	src := make(Sources, len(keys))
	for _, k := range keys {
		if k.def != nil {
			v.SetDefault(k.name, k.def)
			src[k.name] = Source{Kind: FromDefault}
		}
	}
	cfg := Config{Site: siteName, siteIdx: -1}
	if l.file != nil {
		cfg.File = l.file.path
		cfg.Sites = l.Sites()
		if err := merge(v, src, l.file.top, Source{Kind: FromFile, Where: l.file.path}); err != nil {
			return cfg, nil, err
		}
	}
	if siteName != "" {
		s, err := l.site(siteName)
		if err != nil {
			return cfg, nil, err
		}
		cfg.Site = s.name
		cfg.siteIdx = slices.IndexFunc(l.file.sites, func(x site) bool { return x.name == s.name })
		if err := merge(v, src, s.values, Source{Kind: FromSite, Where: s.name}); err != nil {
			return cfg, nil, err
		}
	}
	for _, k := range keys {
		// Bind every key explicitly: viper would not see the environment
		// variable of a key that is set nowhere else (viper #761). The
		// first variable set wins, as in viper.
		envs := append([]string{envName(k.name)}, k.env...)
		if err := v.BindEnv(append([]string{k.name}, envs...)...); err != nil {
			return cfg, nil, err
		}
		for _, env := range envs {
			if os.Getenv(env) != "" { // viper, too, takes an empty variable as unset
				src[k.name] = Source{Kind: FromEnv, Where: env}
				break
			}
		}
		if flags == nil || k.flag == "" {
			continue
		}
		// Bind only the flags the user set, so that a flag's default never
		// hides the environment or the file (viper #671, #1010).
		if f := flags.Lookup(k.flag); f != nil && f.Changed {
			if err := v.BindPFlag(k.name, f); err != nil {
				return cfg, nil, err
			}
			src[k.name] = Source{Kind: FromFlag, Where: "--" + k.flag}
		}
	}
	for _, k := range keys {
		raw := v.Get(k.name)
		if raw == nil {
			continue
		}
		// Viper returns what the winning layer holds; check it with the same
		// rules for every layer (viper's own casts would read "010" as 8).
		val, err := parseValue(k, raw)
		if err != nil {
			return cfg, nil, valueError(cfg.File, k, src[k.name], err)
		}
		cfg.set(k.name, val)
	}
	cfg.src = src
	if i, ok := cfg.Notify.HasMail(); ok && strings.TrimSpace(cfg.SMTPHost) == "" {
		return cfg, nil, cfg.keyError("notify", fmt.Sprintf("[%d].mail", i),
			"ein Mail-Ziel braucht smtp_host (in der Datei oben oder beim Standort, oder ARCHIV_SMTP_HOST)")
	}
	return cfg, src, nil
}

// KeyError is an *Error about the value of key that names where that value
// came from: the flag, the environment variable, or the file with the
// key's place in it ("sites[1].s3_secret_key_file"); a key set nowhere is
// named as itself, without blaming a file. For problems found after
// Resolve, such as a backend refusing an option or a database that is not
// there.
func (c Config) KeyError(key, reason string) *Error {
	return c.keyError(key, "", reason)
}

// keyError is KeyError about a part of key's value (sub: "[0].mail").
func (c Config) keyError(key, sub, reason string) *Error {
	s := c.src[key]
	switch s.Kind {
	case FromFlag, FromEnv:
		return &Error{Key: s.Where + sub, Reason: reason}
	case FromFile:
		return &Error{File: c.File, Key: key + sub, Reason: reason}
	case FromSite:
		if c.siteIdx >= 0 {
			return &Error{File: c.File, Key: fmt.Sprintf("sites[%d].%s%s", c.siteIdx, key, sub), Reason: reason}
		}
	}
	return &Error{Key: key + sub, Reason: reason}
}

// valueError names where a bad value was given.
func valueError(file string, k key, s Source, err error) error {
	switch s.Kind {
	case FromEnv, FromFlag:
		key, reason := withSub(s.Where, err)
		return &Error{Key: key, Reason: reason}
	}
	// File values are checked when the file is read; this is a safety net.
	key, reason := withSub(k.name, err)
	return &Error{File: file, Key: key, Reason: reason}
}

// Require checks that the settings a command needs are set, naming where
// they can be given.
func Require(cfg Config, names ...string) error {
	for _, n := range names {
		k, ok := lookupKey(n)
		if !ok {
			panic("config: Require: unbekannter Schlüssel " + n)
		}
		if s, ok := cfg.field(n).(*string); ok && strings.TrimSpace(*s) != "" {
			continue
		}
		reason := fmt.Sprintf("nicht gesetzt (--%s, %s oder %q in der Konfigurationsdatei)", k.flag, envName(n), n)
		if cfg.Site == "" && len(cfg.Sites) > 0 {
			reason += fmt.Sprintf("; die Datei beschreibt Standorte, --site NAME oder --all-sites wählen (%s)", strings.Join(cfg.Sites, ", "))
		}
		return &Error{File: cfg.File, Key: n, Reason: reason}
	}
	return nil
}

// site finds a site by name, ignoring case; an unknown name lists the known ones.
func (l *Loader) site(name string) (site, error) {
	if l.file == nil {
		return site{}, &Error{Key: "--site", Reason: fmt.Sprintf("Standort %q unbekannt: keine Konfigurationsdatei (--config, ARCHIV_CONFIG oder %s)", name, DefaultFile)}
	}
	for _, s := range l.file.sites {
		if strings.EqualFold(s.name, name) {
			return s, nil
		}
	}
	if len(l.file.sites) == 0 {
		return site{}, &Error{File: l.file.path, Key: "--site", Reason: fmt.Sprintf("Standort %q unbekannt: die Datei beschreibt keine Standorte (sites)", name)}
	}
	return site{}, &Error{File: l.file.path, Key: "--site", Reason: fmt.Sprintf("Standort %q unbekannt (bekannt: %s)", name, strings.Join(l.Sites(), ", "))}
}

// merge lays a file section over v's config layer and records the source.
func merge(v *viper.Viper, src Sources, values map[string]any, s Source) error {
	m := make(map[string]any, len(values))
	for k, x := range values {
		m[k] = x
		src[k] = s
	}
	if err := v.MergeConfigMap(m); err != nil {
		return &Error{Reason: err.Error()}
	}
	return nil
}

// String describes c for debugging with the password redacted, so that
// printing a Config by mistake never leaks it.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "config.Config{Site:%q File:%q", c.Site, c.File)
	for _, e := range Show(c, nil) {
		fmt.Fprintf(&b, " %s:%q", e.Key, e.Value)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

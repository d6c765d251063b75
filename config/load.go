package config

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Config is the effective configuration of one run (of one site).
type Config struct {
	Site            string // selected site, "" for the top level
	File            string // config file read, "" if none
	DB              string
	Archiv          string
	LogFile         string
	LockTimeout     time.Duration
	Workers         int
	SMBUser         string
	SMBDomain       string
	SMBPasswordFile string
	SMBPassword     string // from ARCHIV_SMB_PASSWORD only; never print it
}

// Source says where a setting's value came from: "flag", "env",
// "site <name>", "file <path>" or "default".
type Source = string

// Loader reads the configuration file once; Resolve then builds the
// Config of the top level or of one site.
type Loader struct {
	file *file
}

// Load finds and reads the config file: configFlag (--config), else
// $ARCHIV_CONFIG, else ./.archiv_config.json if it exists. fsys is where
// files are read (nil: the OS).
func Load(fsys afero.Fs, configFlag string) (*Loader, error) {
	if fsys == nil {
		fsys = afero.NewOsFs()
	}
	path := configFlag
	if path == "" {
		path = os.Getenv("ARCHIV_CONFIG")
	}
	if path == "" {
		if _, err := fsys.Stat(DefaultFile); err != nil {
			return &Loader{}, nil
		}
		path = DefaultFile
	}
	f, err := readFile(fsys, path)
	if err != nil {
		return nil, err
	}
	return &Loader{file: f}, nil
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

// Resolve merges the layers for siteName ("" = top level only) and the flags
// the user set in flags; it checks that required settings are present.
func (l *Loader) Resolve(siteName string, flags *pflag.FlagSet) (Config, map[string]Source, error) {
	v := viper.New()
	src := make(map[string]Source, len(keys))
	for _, k := range keys {
		if k.def != nil {
			v.SetDefault(k.name, k.def)
			src[k.name] = "default"
		}
	}
	cfg := Config{Site: siteName}
	if l.file != nil {
		cfg.File = l.file.path
		if err := merge(v, src, l.file.top, "file "+l.file.path); err != nil {
			return cfg, nil, err
		}
	}
	if siteName != "" {
		s, err := l.site(siteName)
		if err != nil {
			return cfg, nil, err
		}
		cfg.Site = s.name
		if err := merge(v, src, s.values, "site "+s.name); err != nil {
			return cfg, nil, err
		}
	}
	v.SetEnvPrefix("ARCHIV")
	for _, k := range keys {
		// Bind every key explicitly: viper's Unmarshal/Get would not see an
		// environment variable of a key that is set nowhere else (viper #761).
		env := envName(k.name)
		if err := v.BindEnv(k.name, env); err != nil {
			return cfg, nil, err
		}
		if raw, ok := os.LookupEnv(env); ok && raw != "" {
			if _, err := parseValue(k, raw); err != nil {
				return cfg, nil, &Error{Key: env, Reason: err.Error()}
			}
			src[k.name] = "env"
		}
		if flags == nil || k.flag == "" {
			continue
		}
		// Only flags the user set take part, so a flag's default never hides
		// the environment or the file (viper #671, #1010).
		if f := flags.Lookup(k.flag); f != nil && f.Changed {
			if _, err := parseValue(k, f.Value.String()); err != nil {
				return cfg, nil, &Error{Key: "--" + k.flag, Reason: err.Error()}
			}
			if err := v.BindPFlag(k.name, f); err != nil {
				return cfg, nil, err
			}
			src[k.name] = "flag"
		}
	}
	cfg.DB = v.GetString("db")
	cfg.Archiv = v.GetString("archiv")
	cfg.LogFile = v.GetString("log_file")
	cfg.LockTimeout = v.GetDuration("lock_timeout")
	cfg.Workers = v.GetInt("workers")
	cfg.SMBUser = v.GetString("smb_user")
	cfg.SMBDomain = v.GetString("smb_domain")
	cfg.SMBPasswordFile = v.GetString("smb_password_file")
	cfg.SMBPassword = v.GetString("smb_password")
	return cfg, src, nil
}

// Require checks that the settings a command needs are set, naming where
// they can be given.
func Require(cfg Config, names ...string) error {
	for _, n := range names {
		var val string
		switch n {
		case "db":
			val = cfg.DB
		case "archiv":
			val = cfg.Archiv
		}
		if strings.TrimSpace(val) == "" {
			k, _ := lookupKey(n)
			return &Error{File: cfg.File, Key: n, Reason: fmt.Sprintf("nicht gesetzt (--%s, %s oder %q in %s)", k.flag, envName(n), n, DefaultFile)}
		}
	}
	return nil
}

func (l *Loader) site(name string) (site, error) {
	if l.file != nil {
		for _, s := range l.file.sites {
			if strings.EqualFold(s.name, name) {
				return s, nil
			}
		}
	}
	known := l.Sites()
	sort.Strings(known)
	where := "keine Konfigurationsdatei"
	if l.file != nil {
		where = l.file.path
	}
	if len(known) == 0 {
		return site{}, &Error{Key: "--site", Reason: fmt.Sprintf("Standort %q unbekannt: %s beschreibt keine Standorte", name, where)}
	}
	return site{}, &Error{File: where, Key: "--site", Reason: fmt.Sprintf("Standort %q unbekannt (bekannt: %s)", name, strings.Join(known, ", "))}
}

// merge lays a file section over v's config layer and records the source.
func merge(v *viper.Viper, src map[string]Source, values map[string]any, source string) error {
	if err := v.MergeConfigMap(values); err != nil {
		return &Error{Reason: err.Error()}
	}
	for k := range values {
		src[k] = source
	}
	return nil
}

package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/afero"
)

// Error is a configuration problem (exit 2); it names the file and key.
type Error struct {
	File   string // config file, if the problem is in one
	Key    string // the setting, e.g. "sites[1].archiv"
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("Konfiguration")
	if e.File != "" {
		b.WriteString(" " + e.File)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Reason)
	return b.String()
}

// DefaultFile is read from the working directory when no file is named.
const DefaultFile = ".archiv_config.json"

// file is a parsed config file: its top level and its sites, keys lower-cased
// and relative paths already resolved against the file's directory.
type file struct {
	path  string
	top   map[string]any
	sites []site
}

type site struct {
	name   string
	values map[string]any
}

// readFile parses and checks a config file. Keys are matched
// case-insensitively, as viper does; unknown keys are an error.
func readFile(fsys afero.Fs, path string) (*file, error) {
	data, err := afero.ReadFile(fsys, path)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, &Error{File: path, Reason: "Datei nicht gefunden"}
	} else if err != nil {
		return nil, &Error{File: path, Reason: err.Error()}
	}
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, &Error{File: path, Reason: "kein gültiges JSON-Objekt: " + jsonError(data, err)}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{File: path, Reason: err.Error()}
	}
	f := &file{path: path}
	dir := filepath.Dir(abs)
	if f.top, err = section(path, "", raw, dir, true); err != nil {
		return nil, err
	}
	if s, ok := f.top["sites"]; ok {
		delete(f.top, "sites")
		if f.sites, err = parseSites(path, s, dir); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// section checks one object's keys and values and resolves relative paths.
func section(path, prefix string, raw map[string]any, dir string, top bool) (map[string]any, error) {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		name := strings.ToLower(k)
		where := prefix + k
		if name == "sites" && top {
			out[name] = v
			continue
		}
		if name == "name" && !top {
			continue
		}
		kd, ok := lookupKey(name)
		if !ok {
			return nil, &Error{File: path, Key: where, Reason: "unbekannter Schlüssel (bekannt: " + strings.Join(fileKeyNames(top), ", ") + ")"}
		}
		if !kd.fileOK {
			return nil, &Error{File: path, Key: where, Reason: "gehört nicht in die Datei; " + envName(name) + " oder smb_password_file verwenden"}
		}
		val, err := parseValue(kd, v)
		if err != nil {
			return nil, &Error{File: path, Key: where, Reason: err.Error()}
		}
		out[name] = resolvePath(kd, val, dir)
	}
	return out, nil
}

func parseSites(path string, v any, dir string) ([]site, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, &Error{File: path, Key: "sites", Reason: "muss eine Liste von Objekten sein"}
	}
	var sites []site
	for i, e := range list {
		where := fmt.Sprintf("sites[%d]", i)
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, &Error{File: path, Key: where, Reason: "muss ein Objekt sein"}
		}
		name, _ := lookupCI(obj, "name").(string)
		if strings.TrimSpace(name) == "" {
			return nil, &Error{File: path, Key: where + ".name", Reason: "fehlt oder ist leer"}
		}
		if slices.ContainsFunc(sites, func(s site) bool { return strings.EqualFold(s.name, name) }) {
			return nil, &Error{File: path, Key: where + ".name", Reason: fmt.Sprintf("Standort %q ist doppelt", name)}
		}
		values, err := section(path, where+".", obj, dir, false)
		if err != nil {
			return nil, err
		}
		if _, ok := values["archiv"]; !ok {
			return nil, &Error{File: path, Key: where + ".archiv", Reason: fmt.Sprintf("Standort %q hat kein archiv", name)}
		}
		sites = append(sites, site{name: name, values: values})
	}
	return sites, nil
}

func lookupCI(obj map[string]any, name string) any {
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func fileKeyNames(top bool) []string {
	var names []string
	for _, k := range keys {
		if k.fileOK {
			names = append(names, k.name)
		}
	}
	if top {
		names = append(names, "sites")
	} else {
		names = append(names, "name")
	}
	return names
}

// resolvePath makes a relative local path from the file absolute against the
// file's directory, so a cron job works from any working directory.
func resolvePath(k key, v any, dir string) any {
	s, ok := v.(string)
	if !ok || s == "" {
		return v
	}
	switch k.kind {
	case kindPath:
	case kindLocation:
		if strings.Contains(s, "://") {
			return v
		}
	default:
		return v
	}
	if filepath.IsAbs(s) {
		return s
	}
	return filepath.Join(dir, s)
}

// jsonError turns a decoding error into "Zeile L, Spalte C: reason".
func jsonError(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return err.Error()
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Sprintf("Zeile %d, Spalte %d: %v", line, col, err)
}

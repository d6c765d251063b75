package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// Error is a configuration problem (exit 2); it names the file and key.
type Error struct {
	File   string // config file, if the problem is in one
	Key    string // the setting, e.g. "sites[1].archiv", "ARCHIV_WORKERS", "--workers"
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

// file is a parsed config file: its top level and its sites, keys lower-cased,
// values typed and relative paths already resolved against the file's directory.
type file struct {
	path  string // as named (for messages)
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
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	raw, err := decodeObject(data)
	if err != nil {
		return nil, &Error{File: path, Reason: err.Error()}
	}
	if dup := duplicateKey(json.NewDecoder(bytes.NewReader(data)), ""); dup != "" {
		return nil, &Error{File: path, Key: dup, Reason: "steht doppelt im selben Objekt (der zweite Wert ersetzte den ersten stillschweigend)"}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{File: path, Reason: err.Error()}
	}
	dir := filepath.Dir(abs)
	f := &file{path: path}
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

// decodeObject decodes exactly one JSON object, numbers as json.Number.
func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errors.New("kein gültiges JSON: " + jsonError(data, err))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("muss ein JSON-Objekt {…} sein, nicht %s", describe(v))
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		rest := bytes.TrimLeft(data[end:], " \t\r\n")
		at := int64(len(data) - len(rest))
		return nil, fmt.Errorf("kein gültiges JSON: %s: weiterer Inhalt nach dem Objekt", position(data, at+1))
	}
	return obj, nil
}

// duplicateKey returns the path ("db", "sites[1].archiv") of the first key
// that appears twice in the same object of a valid JSON document, or "".
// Decoding into a map keeps only the last of them.
func duplicateKey(dec *json.Decoder, path string) string {
	tok, err := dec.Token()
	if err != nil {
		return ""
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return ""
			}
			k, _ := t.(string)
			where := k
			if path != "" {
				where = path + "." + k
			}
			if seen[k] {
				return where
			}
			seen[k] = true
			if dup := duplicateKey(dec, where); dup != "" {
				return dup
			}
		}
		_, _ = dec.Token()
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if dup := duplicateKey(dec, fmt.Sprintf("%s[%d]", path, i)); dup != "" {
				return dup
			}
		}
		_, _ = dec.Token()
	}
	return ""
}

// section checks one object's keys and values and resolves relative paths.
// Keys are checked in sorted order so that the first error is always the same.
func section(path, prefix string, raw map[string]any, dir string, top bool) (map[string]any, error) {
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make(map[string]any, len(raw))
	seen := make(map[string]string, len(raw))
	for _, k := range names {
		v := raw[k]
		name := strings.ToLower(k)
		where := prefix + k
		if first, dup := seen[name]; dup {
			return nil, &Error{File: path, Key: where, Reason: fmt.Sprintf("doppelt (auch als %q; Groß-/Kleinschreibung zählt nicht)", first)}
		}
		seen[name] = k
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
		if kd.topOnly && !top {
			return nil, &Error{File: path, Key: where, Reason: "gehört auf die oberste Ebene der Datei, nicht in einen Standort (ein schedule für alle; --site oder --all-sites wählt, wofür die Befehle laufen)"}
		}
		if !kd.fileOK {
			reason := "gehört nicht in die Datei; " + envName(name) + " verwenden"
			if alt := secretFileKey(name); alt != "" {
				reason = "gehört nicht in die Datei; " + envName(name) + " oder " + alt + " verwenden"
			}
			return nil, &Error{File: path, Key: where, Reason: reason}
		}
		val, err := parseValue(kd, v)
		if err != nil {
			key, reason := withSub(where, err)
			return nil, &Error{File: path, Key: key, Reason: reason}
		}
		out[name] = resolvePath(kd, val, dir)
	}
	return out, nil
}

func parseSites(path string, v any, dir string) ([]site, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, &Error{File: path, Key: "sites", Reason: "muss eine Liste von Objekten sein, nicht " + describe(v)}
	}
	var sites []site
	for i, e := range list {
		where := fmt.Sprintf("sites[%d]", i)
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, &Error{File: path, Key: where, Reason: "muss ein Objekt sein, nicht " + describe(e)}
		}
		name, err := siteName(obj)
		if err != nil {
			return nil, &Error{File: path, Key: where + ".name", Reason: err.Error()}
		}
		if j := slices.IndexFunc(sites, func(s site) bool { return strings.EqualFold(s.name, name) }); j >= 0 {
			return nil, &Error{File: path, Key: where + ".name", Reason: fmt.Sprintf("Standort %q ist doppelt (wie sites[%d])", name, j)}
		}
		values, err := section(path, where+".", obj, dir, false)
		if err != nil {
			return nil, err
		}
		a, _ := values["archiv"].(string)
		if a == "" {
			return nil, &Error{File: path, Key: where + ".archiv", Reason: fmt.Sprintf("Standort %q hat kein archiv (jeder Standort braucht sein eigenes)", name)}
		}
		// Two sites in one archive would overwrite each other's backups of
		// the same order number, and lock each other out.
		if j := slices.IndexFunc(sites, func(s site) bool { return sameArchive(s.values["archiv"].(string), a) }); j >= 0 {
			return nil, &Error{File: path, Key: where + ".archiv", Reason: fmt.Sprintf("dasselbe Archiv wie Standort %q (sites[%d]); jeder Standort braucht sein eigenes", sites[j].name, j)}
		}
		sites = append(sites, site{name: name, values: values})
	}
	return sites, nil
}

// sameArchive reports whether two checked archiv values name the same place.
func sameArchive(a, b string) bool {
	la, errA := parseLocation(a)
	lb, errB := parseLocation(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return storage.SameArchive(la, lb)
}

// siteName returns a site's name. It becomes part of the logger name
// (werkstatt_backup.<name>), so it is one word: letters, digits, ".", "_", "-".
func siteName(obj map[string]any) (string, error) {
	var v any
	found := false
	for k, x := range obj {
		if strings.EqualFold(k, "name") {
			v, found = x, true
		}
	}
	if !found {
		return "", errors.New("fehlt (jeder Standort braucht einen Namen)")
	}
	name, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("muss ein Text sein, nicht %s", describe(v))
	}
	if name == "" {
		return "", errors.New("ist leer")
	}
	for _, c := range name {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && c != '.' && c != '_' && c != '-' {
			return "", fmt.Errorf("%q: nur Buchstaben, Ziffern, \".\", \"_\" und \"-\" erlaubt", name)
		}
	}
	return name, nil
}

func fileKeyNames(top bool) []string {
	var names []string
	if !top {
		names = append(names, "name")
	}
	for _, k := range keys {
		if k.fileOK {
			names = append(names, k.name)
		}
	}
	if top {
		names = append(names, "sites")
	}
	return names
}

// resolvePath makes a relative local path from the file absolute against the
// file's directory, so a cron job works from any working directory. URLs
// (mem://, smb://, file:///abs) are left as they are.
func resolvePath(k key, v any, dir string) any {
	s, ok := v.(string)
	if !ok || s == "" {
		return v
	}
	switch k.kind {
	case kindPath:
	case kindLocation:
		if isURL(s) {
			return s
		}
	default:
		return v
	}
	if filepath.IsAbs(s) {
		return s
	}
	return filepath.Join(dir, s)
}

// isURL reports whether an archiv value is a URL rather than a plain path.
func isURL(s string) bool {
	loc, err := parseLocation(s)
	if err != nil {
		return true // an unknown scheme, or not reached for checked values; never join a URL to a path
	}
	if loc.Scheme() != "file" {
		return true
	}
	return len(s) >= len("file://") && strings.EqualFold(s[:len("file://")], "file://")
}

// jsonError turns a decoding error into "Zeile L, Spalte C: reason".
func jsonError(data []byte, err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return position(data, se.Offset) + ": " + strings.TrimPrefix(se.Error(), "json: ")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return position(data, int64(len(data))+1) + ": unerwartetes Dateiende"
	}
	return err.Error()
}

// position names the byte at offset off-1 (json's offsets count the bytes
// read, including the offending one) as 1-based line and column; the column
// counts characters, not bytes.
func position(data []byte, off int64) string {
	off = min(max(off-1, 0), int64(len(data)))
	before := data[:off]
	line := 1 + bytes.Count(before, []byte("\n"))
	col := 1 + len([]rune(string(before[bytes.LastIndexByte(before, '\n')+1:])))
	return fmt.Sprintf("Zeile %d, Spalte %d", line, col)
}

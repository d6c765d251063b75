package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"werkstatt-backup/notify"
	"werkstatt-backup/storage"
)

// Bounds of workers.
const (
	minWorkers = 1
	maxWorkers = 256
)

// parseValue checks a value against its key's kind and returns it typed:
// string, time.Duration or int. Values come from the file (JSON types, numbers
// as json.Number), from the environment (strings) or from flags (strings, or
// the typed values the file layer already holds). Reasons never quote a
// secret's value.
func parseValue(k key, v any) (any, error) {
	switch k.kind {
	case kindDuration:
		d, err := parseDuration(v)
		if err == nil && d < k.minDur {
			return nil, fmt.Errorf("muss mindestens %s sein, nicht %s", k.minDur, d)
		}
		return d, err
	case kindInt:
		return parseInt(v)
	case kindShare:
		return parseShare(v)
	case kindRetention:
		return parseRetention(v)
	case kindLockDays:
		return parseHistoryLock(v)
	case kindNumber:
		return parseNumber(v)
	case kindBool:
		return parseBool(v)
	case kindNotify:
		return parseNotify(v)
	case kindZeitplan:
		return parseZeitplan(v)
	case kindWindow:
		return parseMassChangeWindow(v)
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("muss ein Text sein, nicht %s", describe(v))
	}
	if k.suffix != "" && s != "" && !strings.HasSuffix(s, k.suffix) {
		return nil, fmt.Errorf("%q muss auf %s enden (node_exporter liest nur *%s-Dateien)", s, k.suffix, k.suffix)
	}
	if k.check != nil && strings.TrimSpace(s) != "" {
		if err := k.check(s); err != nil {
			return nil, err
		}
	}
	if k.kind == kindLocation && s != "" {
		// Parse redacts a password in its error. An unknown scheme is
		// reported when the archive is opened (a usage error, exit 2),
		// so that `config show` still shows the file.
		if _, err := parseLocation(s); err != nil && !errors.As(err, new(*storage.SchemeError)) {
			return nil, err
		}
	}
	return s, nil
}

// checkSMTPHost checks smtp_host: a host name or address, with a port or not.
func checkSMTPHost(s string) error {
	_, _, err := notify.SMTP{Host: s}.HostPort()
	return err
}

// checkAddress checks a mail address (smtp_from).
func checkAddress(s string) error {
	if _, err := mail.ParseAddress(s); err != nil {
		return fmt.Errorf("keine gültige Mail-Adresse: %q", s)
	}
	return nil
}

// parseDuration takes a Go duration ("30s", "1m30s") or a number of
// seconds ("30", in the file also as a JSON number). Negative durations are
// refused.
func parseDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		if x < 0 {
			return 0, fmt.Errorf("keine gültige Dauer: %s ist negativ", x)
		}
		return x, nil
	case json.Number:
		f, err := x.Float64()
		if err != nil || f < 0 || f > math.MaxInt64/float64(time.Second) {
			return 0, fmt.Errorf("keine gültige Dauer: %s (Sekunden als Zahl oder Text wie \"30s\")", x)
		}
		return time.Duration(f * float64(time.Second)), nil
	case string:
		if _, err := strconv.ParseFloat(x, 64); err == nil {
			return parseDuration(json.Number(x)) // plain seconds, as in the file
		}
		d, err := time.ParseDuration(x)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("keine gültige Dauer: %q (Beispiele: 30s, 2m, 1m30s)", x)
		}
		return d, nil
	}
	return 0, fmt.Errorf("keine gültige Dauer: %s (Beispiele: \"30s\", \"2m\")", describe(v))
}

// parseInt takes a decimal whole number between minWorkers and maxWorkers
// (workers is the only number setting). "010" is ten, never octal.
func parseInt(v any) (int, error) {
	n, err := wholeNumber(v, 64, false)
	var te wrongType
	switch {
	case errors.As(err, &te):
		return 0, te
	case err != nil:
		return 0, fmt.Errorf("keine ganze Zahl: %q", fmt.Sprint(v))
	case n < minWorkers || n > maxWorkers:
		return 0, fmt.Errorf("muss zwischen %d und %d liegen, nicht %d", minWorkers, maxWorkers, n)
	}
	return int(n), nil
}

// parseNumber takes a decimal whole number, 0 or more.
func parseNumber(v any) (int, error) {
	n, err := wholeNumber(v, 32, true)
	var te wrongType
	switch {
	case errors.As(err, &te):
		return 0, te
	case err != nil || n < 0:
		return 0, fmt.Errorf("keine ganze Zahl ab 0: %q", fmt.Sprint(v))
	}
	return int(n), nil
}

// wrongType: a number setting got a value of another type.
type wrongType struct{ v any }

func (e wrongType) Error() string { return "muss eine ganze Zahl sein, nicht " + describe(e.v) }

// wholeNumber reads v (an int, a JSON number or text, spaces around text
// trimmed if trim) as a decimal whole number that fits in bits bits.
func wholeNumber(v any, bits int, trim bool) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case json.Number:
		return strconv.ParseInt(string(x), 10, bits)
	case string:
		if trim {
			x = strings.TrimSpace(x)
		}
		return strconv.ParseInt(x, 10, bits)
	}
	return 0, wrongType{v}
}

// parseBool takes true/false (JSON or text), 1/0 and ja/nein.
func parseBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "1", "ja", "yes", "on":
			return true, nil
		case "false", "0", "nein", "no", "off", "":
			return false, nil
		}
		return false, fmt.Errorf("kein Wahrheitswert: %q (erlaubt: true/false, 1/0, ja/nein)", x)
	case json.Number:
		switch string(x) {
		case "1":
			return true, nil
		case "0":
			return false, nil
		}
	}
	return false, fmt.Errorf("muss true oder false sein, nicht %s", describe(v))
}

// describe names a JSON value's type for an error, without its value.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "ein Wahrheitswert"
	case json.Number, int, float64:
		return "eine Zahl"
	case []any:
		return "eine Liste"
	case map[string]any:
		return "ein Objekt"
	case string:
		return "ein Text"
	}
	return fmt.Sprintf("%T", v)
}

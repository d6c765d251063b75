package config

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	archfs "werkstatt-backup/fs"
)

// parseValue checks a value from the file (JSON types) or the environment
// and flags (strings) against its key's kind and returns it typed:
// string, time.Duration or int.
func parseValue(k key, v any) (any, error) {
	switch k.kind {
	case kindDuration:
		return parseDuration(v)
	case kindInt:
		return parseInt(v)
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("muss ein Text sein, nicht %s", describe(v))
	}
	if k.kind == kindLocation && s != "" {
		if _, err := archfs.ParseLocation(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func parseDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case json.Number:
		f, err := x.Float64()
		if err != nil || f < 0 {
			return 0, fmt.Errorf("keine gültige Dauer: %s", x)
		}
		return time.Duration(f * float64(time.Second)), nil
	case string:
		d, err := time.ParseDuration(x)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("keine gültige Dauer: %q (Beispiele: 30s, 2m, 1m30s)", x)
		}
		return d, nil
	}
	return 0, fmt.Errorf("keine gültige Dauer: %s", describe(v))
}

func parseInt(v any) (int, error) {
	var n int64
	var err error
	switch x := v.(type) {
	case int:
		n = int64(x)
	case json.Number:
		n, err = x.Int64()
	case string:
		n, err = strconv.ParseInt(x, 10, 64)
	default:
		return 0, fmt.Errorf("muss eine ganze Zahl sein, nicht %s", describe(v))
	}
	if err != nil {
		return 0, fmt.Errorf("keine ganze Zahl: %v", v)
	}
	if n < 1 || n > 256 {
		return 0, fmt.Errorf("muss zwischen 1 und 256 liegen, nicht %d", n)
	}
	return int(n), nil
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "ein Wahrheitswert"
	case json.Number:
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

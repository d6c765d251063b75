package codec

import (
	"regexp"
	"time"
)

var isoPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$`)

// ParseTimestamp parses an ISO 8601 timestamp as the schema allows it:
// YYYY-MM-DDTHH:MM:SS with an optional fraction and an optional offset
// (Z, +HH:MM or +HHMM). A timestamp without an offset is read as UTC, so
// comparisons do not depend on the machine's time zone.
func ParseTimestamp(s string) (time.Time, bool) {
	m := isoPattern.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	layout := "2006-01-02T15:04:05"
	if m[1] != "" {
		layout += ".999999999"
	}
	switch {
	case m[2] == "Z":
		layout += "Z07:00"
	case len(m[2]) == 6:
		layout += "-07:00"
	case len(m[2]) == 5:
		layout += "-0700"
	}
	t, err := time.Parse(layout, s)
	return t, err == nil
}

// ParseDate parses a calendar date YYYY-MM-DD; February 30th is not one.
func ParseDate(s string) (time.Time, bool) {
	if len(s) != 10 {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", s)
	return t, err == nil
}

package history

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// atLayouts are the forms ParseTime accepts without an offset, read in the
// given location.
var atLayouts = []string{
	"2006-01-02",
	"2006-01-02 15:04",
	"2006-01-02 15:04:05",
	TimeLayout,
	"2006-01-02T15:04",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05.000",
}

// TimeLayout is how a generation's archive time is shown (history,
// restore --at), in local time to the millisecond: ParseTime reads it
// back, so the time shown for a generation selects that generation.
const TimeLayout = "2006-01-02 15:04:05.000"

// ParseAt reads restore --at's value: "#N" is generation N, anything else
// a time for ParseTime (seq 0).
func ParseAt(s string, loc *time.Location) (t time.Time, seq uint64, err error) {
	if n, ok := strings.CutPrefix(strings.TrimSpace(s), "#"); ok {
		seq, err := strconv.ParseUint(n, 10, 64)
		if err != nil || seq == 0 {
			return time.Time{}, 0, fmt.Errorf("Generation %q ungültig: erwartet #N mit einer Nummer, die history zeigt", truncate(s, 60))
		}
		return time.Time{}, seq, nil
	}
	t, err = ParseTime(s, loc)
	return t, 0, err
}

// ParseTime reads a point in time for restore --at: "2026-11-01" (00:00 of
// that day, so the state before that day's runs), "2026-11-01 02:00",
// "2026-11-01 02:00:30", the same with "T", or RFC 3339 with an offset or
// Z ("2026-11-01T02:00:00+01:00"). Times without an offset are in loc
// (the local time zone when nil).
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.Local
	}
	v := strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	var rangeErr error
	for _, layout := range atLayouts {
		if len(v) != len(layout) {
			continue
		}
		t, err := time.ParseInLocation(layout, v, loc)
		if err == nil {
			return t, nil
		}
		if strings.Contains(err.Error(), "out of range") {
			rangeErr = err
		}
	}
	if rangeErr != nil {
		return time.Time{}, fmt.Errorf("Zeitpunkt %q ungültig: %s", truncate(s, 60), parseReason(rangeErr))
	}
	return time.Time{}, fmt.Errorf("Zeitpunkt %q nicht erkannt: erwartet 2026-11-01, 2026-11-01 02:00 "+
		"oder RFC 3339 wie 2026-11-01T02:00:00+01:00", truncate(s, 60))
}

// parseReason turns time.Parse's English into a short German reason.
func parseReason(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "day out of range"):
		return "diesen Tag gibt es nicht"
	case strings.Contains(msg, "month out of range"):
		return "diesen Monat gibt es nicht"
	case strings.Contains(msg, "hour out of range"), strings.Contains(msg, "minute out of range"),
		strings.Contains(msg, "second out of range"):
		return "diese Uhrzeit gibt es nicht"
	}
	return "Wert außerhalb des Bereichs"
}

package config

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// HistoryLock is the config key history_lock: how long the history's
// files stay immutable on an archive with Object Lock. Zero: not set,
// the engine derives it from retention (max(daily days, weekly weeks),
// 56 days with the default).
type HistoryLock time.Duration

const day = 24 * time.Hour

// maxLockDays bounds history_lock (a century: more is a typo).
const maxLockDays = 36500

// String renders whole days as "56d", anything else as a duration.
func (h HistoryLock) String() string {
	d := time.Duration(h)
	if d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// parseHistoryLock takes days as a number (56, in the file also a JSON
// number), days with a d ("56d") or a duration ("1344h"); at least one
// day.
func parseHistoryLock(v any) (HistoryLock, error) {
	if h, ok := v.(HistoryLock); ok {
		v = time.Duration(h)
	}
	d, err := parseDays(v, 1, maxLockDays, "(Tage als Zahl oder \"56d\")", func(d time.Duration) string { return HistoryLock(d).String() })
	return HistoryLock(d), err
}

// parseDays reads a period given as whole days (a number; in the file
// also a JSON number), days with a d ("7d") or a duration ("36h"),
// between minDays and maxDays days; example ends the error texts and
// show renders a value out of range.
func parseDays(v any, minDays, maxDays int64, example string, show func(time.Duration) string) (time.Duration, error) {
	var d time.Duration
	switch x := v.(type) {
	case time.Duration:
		d = x
	case json.Number:
		return parseDays(string(x), minDays, maxDays, example, show)
	case string:
		s := strings.TrimSpace(x)
		n, err := strconv.ParseInt(strings.TrimSuffix(s, "d"), 10, 64)
		switch {
		case err == nil && (n < minDays || n > maxDays):
			return 0, fmt.Errorf("muss zwischen %d und %d Tagen liegen, nicht %s", minDays, maxDays, s)
		case err == nil:
			d = time.Duration(n) * day
		default:
			if d, err = time.ParseDuration(s); err != nil {
				return 0, fmt.Errorf("keine gültige Dauer: %q %s", s, example)
			}
		}
	default:
		return 0, fmt.Errorf("muss eine Zahl oder ein Text sein %s, nicht %s", example, describe(v))
	}
	if d < time.Duration(minDays)*day || d > time.Duration(maxDays)*day {
		return 0, fmt.Errorf("muss zwischen %d und %d Tagen liegen, nicht %s", minDays, maxDays, show(d))
	}
	return d, nil
}

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
	const example = "(Tage als Zahl oder \"56d\")"
	var d time.Duration
	switch x := v.(type) {
	case HistoryLock:
		d = time.Duration(x)
	case json.Number:
		return parseHistoryLock(string(x))
	case string:
		s := strings.TrimSpace(x)
		n, err := strconv.ParseInt(strings.TrimSuffix(s, "d"), 10, 64)
		switch {
		case err == nil && (n < 1 || n > maxLockDays):
			return 0, fmt.Errorf("muss zwischen 1 und %d Tagen liegen, nicht %s", maxLockDays, s)
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
	if d < day || d > maxLockDays*day {
		return 0, fmt.Errorf("muss zwischen 1 und %d Tagen liegen, nicht %s", maxLockDays, HistoryLock(d))
	}
	return HistoryLock(d), nil
}

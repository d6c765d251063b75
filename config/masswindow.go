package config

import (
	"fmt"
	"time"
)

// MassChangeWindow is the config key mass_change_window: export's
// mass-change guard also compares with the generation this long before
// the newest, so that a change spread over several nights is refused too.
// Zero switches that comparison off.
type MassChangeWindow time.Duration

// DefaultMassChangeWindow is mass_change_window's default: a week.
const DefaultMassChangeWindow = MassChangeWindow(7 * day)

// maxWindowDays bounds mass_change_window (ten years: more is a typo).
const maxWindowDays = 3650

// String renders whole days as "7d", anything else as a duration; 0 as "0".
func (w MassChangeWindow) String() string {
	d := time.Duration(w)
	switch {
	case d == 0:
		return "0"
	case d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// parseMassChangeWindow takes days as a number (7, in the file also a
// JSON number), days with a d ("7d") or a duration ("36h"); 0 switches
// the comparison off, at most maxWindowDays days.
func parseMassChangeWindow(v any) (MassChangeWindow, error) {
	if w, ok := v.(MassChangeWindow); ok {
		v = time.Duration(w)
	}
	d, err := parseDays(v, 0, maxWindowDays, "(Tage als Zahl, \"7d\" oder eine Dauer wie \"36h\"; 0 schaltet den Vergleich ab)", time.Duration.String)
	return MassChangeWindow(d), err
}

package codec

import (
	"time"
	"unicode/utf8"
)

// ParseTimestamp parses created_at/updated_at exactly as Python 3.11's
// datetime.fromisoformat does (the original tool relied on it, SPEC 2.1):
//
//	date:  YYYY-MM-DD, YYYYMMDD, YYYY-Www, YYYYWww, YYYY-Www-D, YYYYWwwD
//	then optionally one separator (any single character, usually T or a space)
//	and a time: HH[:MM[:SS[{.,}f…]]] or HH[MM[SS[{.,}f…]]]
//	then optionally Z or ±HH[:MM[:SS[.f…]]] (or ±HHMM[SS[.f…]])
//
// Fractions keep at most six digits (microseconds), further digits are
// dropped. The bytes of the field are never rewritten; this only decides
// whether a value is a timestamp and which instant it names.
//
// aware reports whether the value carries an offset. A naive one (SQLite's
// CURRENT_TIMESTAMP, the original tool's isoformat()) is read as UTC: SQLite
// writes UTC, and the result must not depend on the machine's time zone.
func ParseTimestamp(s string) (t time.Time, aware, ok bool) {
	if len(s) < 7 {
		return time.Time{}, false, false
	}
	sep := dateEnd(s)
	year, month, day, ok := parseISODate(s[:min(sep, len(s))], sep)
	if !ok {
		return time.Time{}, false, false
	}
	var c clock
	loc := time.UTC
	if sep < len(s) {
		// The separator is one character, of any kind; all else is ASCII.
		_, size := utf8.DecodeRuneInString(s[sep:])
		if c, ok = parseISOTime(s[sep+size:]); !ok {
			return time.Time{}, false, false
		}
		if c.hasZone {
			aware = true
			if c.zone != 0 {
				loc = time.FixedZone("", c.zone)
			}
		}
	}
	if !validDate(year, month, day) || c.hour > 23 || c.min > 59 || c.sec > 59 {
		return time.Time{}, false, false
	}
	t = time.Date(year, time.Month(month), day, c.hour, c.min, c.sec, c.usec*1000, time.UTC)
	// The wall clock is read in UTC and the offset subtracted: that also
	// covers an offset with microseconds, which a time.Location cannot hold.
	t = t.Add(-time.Duration(c.zone)*time.Second - time.Duration(c.zoneUsec)*time.Microsecond).In(loc)
	return t, aware, true
}

// dateEnd returns where the date part of s ends (the position of the
// separator, or len(s) when s is only a date): 7, 8 or 10. s has at least 7
// bytes. Python 3.11 decides this from the shape of the string alone.
func dateEnd(s string) int {
	n := len(s)
	if n == 7 {
		return 7
	}
	switch {
	case s[4] == '-' && s[5] == 'W':
		// YYYY-Www (8), YYYY-Www-D (10); YYYY-Www followed by a separator and digits
		if n > 8 && s[8] == '-' {
			if n > 10 && isDigit(s[10]) {
				return 8
			}
			return 10
		}
		return 8
	case s[4] == '-':
		return 10
	case s[4] == 'W':
		i := 7
		for i < n && isDigit(s[i]) {
			i++
		}
		if i < 9 {
			return i
		}
		if i%2 == 0 {
			return 7
		}
		return 8
	}
	return 8
}

// parseISODate parses the date part d, which should be end bytes long (it is
// shorter only if the string ended early, which then fails).
func parseISODate(d string, end int) (year, month, day int, ok bool) {
	p := 0
	if year, p, ok = digits(d, p, 4); !ok {
		return 0, 0, 0, false
	}
	dash := p < len(d) && d[p] == '-'
	if dash {
		p++
	}
	if p < len(d) && d[p] == 'W' {
		var week, wday int
		if week, p, ok = digits(d, p+1, 2); !ok {
			return 0, 0, 0, false
		}
		wday = 1
		if p < end {
			if dash {
				if p >= len(d) || d[p] != '-' {
					return 0, 0, 0, false
				}
				p++
			}
			if wday, _, ok = digits(d, p, 1); !ok {
				return 0, 0, 0, false
			}
		}
		return isoWeekDate(year, week, wday)
	}
	if month, p, ok = digits(d, p, 2); !ok {
		return 0, 0, 0, false
	}
	if dash {
		if p >= len(d) || d[p] != '-' {
			return 0, 0, 0, false
		}
		p++
	}
	if day, _, ok = digits(d, p, 2); !ok {
		return 0, 0, 0, false
	}
	return year, month, day, true
}

// isoWeekDate converts an ISO week date (weekday 1 = Monday) to a calendar date.
func isoWeekDate(year, week, wday int) (int, int, int, bool) {
	if year < 1 || year > 9999 || wday < 1 || wday > 7 || week < 1 || week > 53 {
		return 0, 0, 0, false
	}
	jan1 := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Weekday()
	if week == 53 && !(jan1 == time.Thursday || jan1 == time.Wednesday && isLeap(year)) {
		return 0, 0, 0, false
	}
	// Monday of week 1 is the Monday of the week that holds January 4th.
	jan4 := time.Date(year, 1, 4, 0, 0, 0, 0, time.UTC)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	d := monday.AddDate(0, 0, 7*(week-1)+wday-1)
	if d.Year() < 1 || d.Year() > 9999 {
		return 0, 0, 0, false
	}
	return d.Year(), int(d.Month()), d.Day(), true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func validDate(year, month, day int) bool {
	if year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 {
		return false
	}
	return day <= time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// clock is a parsed time of day and offset.
type clock struct {
	hour, min, sec, usec int
	hasZone              bool
	zone                 int // offset east of UTC in whole seconds
	zoneUsec             int // and microseconds, same sign as zone
}

// parseISOTime parses the part after the separator the way CPython 3.11
// does: the offset starts at the first Z, + or -; bytes the time of day
// leaves unused are an error only when no offset follows.
func parseISOTime(s string) (clock, bool) {
	var c clock
	z := len(s)
	for i := 0; i < len(s); i++ {
		if s[i] == 'Z' || s[i] == '+' || s[i] == '-' {
			z = i
			break
		}
	}
	var rest, ok bool
	if c.hour, c.min, c.sec, c.usec, rest, ok = hhmmssff(s, z); !ok {
		return clock{}, false
	}
	if z == len(s) {
		return c, !rest
	}
	c.hasZone = true
	if s[z] == 'Z' {
		return c, z == len(s)-1
	}
	zh, zm, zs, zus, rest, ok := hhmmssff(s[z+1:], len(s)-z-1)
	if !ok || rest {
		return clock{}, false
	}
	off := zh*3600 + zm*60 + zs
	if s[z] == '-' {
		off, zus = -off, -zus
	}
	if off == 0 {
		zus = 0 // CPython 3.11 takes UTC when the whole seconds are 0
	}
	// Python's timezone takes offsets strictly between -24 h and +24 h.
	if total := int64(off)*1e6 + int64(zus); total <= -86400e6 || total >= 86400e6 {
		return clock{}, false
	}
	c.zone, c.zoneUsec = off, zus
	return c, true
}

// hhmmssff parses HH[:MM[:SS[{.,}f…]]] or HH[MM[SS[f…]]] from s[:end] as
// CPython 3.11's parse_hh_mm_ss_ff does, quirks included (the byte after a
// component may be read past end; after the seconds a colon or, without
// colons, any digit starts the fraction). rest reports that the value did
// not end where expected; ok is false when a component is not two digits.
func hhmmssff(s string, end int) (h, m, sec, usec int, rest, ok bool) {
	at := func(i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	vals := [3]*int{&h, &m, &sec}
	p := 0
	colons := false
	for i := range 3 {
		if *vals[i], p, ok = digits(s[:end], p, 2); !ok {
			return 0, 0, 0, 0, false, false
		}
		c := at(p)
		p++
		if i == 0 {
			colons = c == ':'
		}
		if p >= end {
			return h, m, sec, 0, c != 0, true
		}
		if colons && c == ':' {
			continue
		}
		if c == '.' || c == ',' {
			break
		}
		if colons {
			return 0, 0, 0, 0, false, false
		}
		p--
	}
	n := min(end-p, 6)
	var f int
	if f, p, ok = digits(s[:end], p, n); !ok {
		return 0, 0, 0, 0, false, false
	}
	for k := n; k < 6; k++ {
		f *= 10
	}
	for isDigit(at(p)) {
		p++
	}
	return h, m, sec, f, at(p) != 0, true
}

// digits reads n ASCII digits of s from p.
func digits(s string, p, n int) (v, next int, ok bool) {
	if p+n > len(s) {
		return 0, p, false
	}
	for i := p; i < p+n; i++ {
		if !isDigit(s[i]) {
			return 0, p, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, p + n, true
}

// ParseDate parses a calendar date YYYY-MM-DD; February 30th is not one.
func ParseDate(s string) (time.Time, bool) {
	if len(s) != 10 {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", s)
	return t, err == nil
}

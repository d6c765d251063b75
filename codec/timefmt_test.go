package codec

import (
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	plus2 := time.FixedZone("", 2*3600)
	minus530 := time.FixedZone("", -5*3600-30*60)
	utc := func(y, mo, d, h, mi, s, us int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, us*1000, time.UTC)
	}
	tests := []struct {
		in    string
		want  time.Time
		aware bool
		bad   bool // must be rejected
	}{
		{"2024-07-29T10:30:00", utc(2024, 7, 29, 10, 30, 0, 0), false, false},
		{"2024-07-29 10:30:00", utc(2024, 7, 29, 10, 30, 0, 0), false, false}, // SQLite's CURRENT_TIMESTAMP
		{"2024-07-29", utc(2024, 7, 29, 0, 0, 0, 0), false, false},
		{"20240729", utc(2024, 7, 29, 0, 0, 0, 0), false, false},
		{"2024-07-29T10", utc(2024, 7, 29, 10, 0, 0, 0), false, false},
		{"2024-07-29T10:30", utc(2024, 7, 29, 10, 30, 0, 0), false, false},
		{"2024-07-29T1030", utc(2024, 7, 29, 10, 30, 0, 0), false, false},
		{"20240729T103020", utc(2024, 7, 29, 10, 30, 20, 0), false, false},
		{"2024-07-29t10:30:00", utc(2024, 7, 29, 10, 30, 0, 0), false, false}, // any separator byte
		{"2024-07-29_10:30:00", utc(2024, 7, 29, 10, 30, 0, 0), false, false},
		{"2024-07-29ä10:30:00", utc(2024, 7, 29, 10, 30, 0, 0), false, false},
		{"2024-07-29T10:30:00.000", utc(2024, 7, 29, 10, 30, 0, 0), false, false},
		{"2024-07-29T10:30:00.5", utc(2024, 7, 29, 10, 30, 0, 500000), false, false},
		{"2024-07-29T10:30:00,25", utc(2024, 7, 29, 10, 30, 0, 250000), false, false},
		{"2024-07-29T10:30:00.123456", utc(2024, 7, 29, 10, 30, 0, 123456), false, false},
		{"2024-07-29T10:30:00.123456789", utc(2024, 7, 29, 10, 30, 0, 123456), false, false}, // digits past 6 dropped
		{"2024-07-29T10:30:00Z", utc(2024, 7, 29, 10, 30, 0, 0), true, false},
		{"2024-07-29T10:30:00+00:00", utc(2024, 7, 29, 10, 30, 0, 0), true, false},
		{"2024-07-29T10:30:00+02:00", time.Date(2024, 7, 29, 10, 30, 0, 0, plus2), true, false},
		{"2024-07-29T10:30:00+0200", time.Date(2024, 7, 29, 10, 30, 0, 0, plus2), true, false},
		{"2024-07-29T10:30:00+02", time.Date(2024, 7, 29, 10, 30, 0, 0, plus2), true, false},
		{"2024-07-29T10:30:00-05:30", time.Date(2024, 7, 29, 10, 30, 0, 0, minus530), true, false},
		{"2024-07-29T10:30:00+01:00:30.5", utc(2024, 7, 29, 9, 29, 29, 500000), true, false},
		{"2024-07-29T10:30:00.1+02:00", time.Date(2024, 7, 29, 10, 30, 0, 100000000, plus2), true, false},
		{"2024-W31-1", utc(2024, 7, 29, 0, 0, 0, 0), false, false},
		{"2024W311", utc(2024, 7, 29, 0, 0, 0, 0), false, false},
		{"2024-W31", utc(2024, 7, 29, 0, 0, 0, 0), false, false},
		{"2024W31", utc(2024, 7, 29, 0, 0, 0, 0), false, false},
		{"2011-W01-2", utc(2011, 1, 4, 0, 0, 0, 0), false, false},
		{"2020-W53-7", utc(2021, 1, 3, 0, 0, 0, 0), false, false},
		{"2024-02-29T00:00:00", utc(2024, 2, 29, 0, 0, 0, 0), false, false},
		{"0001-01-01T00:00:00", utc(1, 1, 1, 0, 0, 0, 0), false, false},
		{"9999-12-31T23:59:59.999999", utc(9999, 12, 31, 23, 59, 59, 999999), false, false},
		// CPython 3.11 quirks, accepted there and so here: what the time of
		// day leaves over is ignored when an offset follows; a third colon
		// or, without colons, a seventh digit starts the fraction.
		{"2024-07-29T10:30:00 +02:00", time.Date(2024, 7, 29, 10, 30, 0, 0, plus2), true, false},
		{"2024-07-29T10:Z", utc(2024, 7, 29, 10, 0, 0, 0), true, false},
		{"2024-07-29T10:30:00:40", utc(2024, 7, 29, 10, 30, 0, 400000), false, false},
		{"2024-07-29T102030123", utc(2024, 7, 29, 10, 20, 30, 123000), false, false},
		{"2024-07-29T10:30+00:99", utc(2024, 7, 29, 8, 51, 0, 0), true, false},
		{"2024-W01-10", utc(2024, 1, 1, 10, 0, 0, 0), false, false}, // YYYY-Www, separator '-', hour 10

		{"", time.Time{}, false, true},
		{"2024-07", time.Time{}, false, true},
		{"2024-7-29", time.Time{}, false, true},
		{"2024-0729", time.Time{}, false, true},
		{"202407-29", time.Time{}, false, true},
		{"2024-07-29T", time.Time{}, false, true},
		{"2024-07-29T1", time.Time{}, false, true},
		{"2024-07-29T10:3", time.Time{}, false, true},
		{"2024-07-29T10:3000", time.Time{}, false, true},
		{"2024-07-29T10:30:00.", time.Time{}, false, true},
		{"2024-07-29T10:30:00.12a", time.Time{}, false, true},
		{"2024-07-29T10:30:00.1234567x", time.Time{}, false, true},
		{"2024-07-29T10:30:00 ", time.Time{}, false, true},
		{"2024-07-29T10:30:00z", time.Time{}, false, true},
		{"2024-07-29T10:30:00Z+01", time.Time{}, false, true},
		{"2024-07-29T10:30:00+2:00", time.Time{}, false, true},
		{"2024-07-29T10:30:00+020", time.Time{}, false, true},
		{"2024-07-29T10:30:00+24:00", time.Time{}, false, true},
		{"2024-07-29T10:30:00+02:", time.Time{}, false, true},
		{"2024-13-29T10:30:00", time.Time{}, false, true},
		{"2024-00-29T10:30:00", time.Time{}, false, true},
		{"2023-02-29T10:30:00", time.Time{}, false, true},
		{"2024-07-32T10:30:00", time.Time{}, false, true},
		{"2024-07-29T24:00:00", time.Time{}, false, true},
		{"2024-07-29T10:60:00", time.Time{}, false, true},
		{"2024-07-29T10:30:60", time.Time{}, false, true},
		{"0000-01-01", time.Time{}, false, true},
		{"2024-W54-1", time.Time{}, false, true},
		{"2024-W53-1", time.Time{}, false, true}, // 2024 has 52 ISO weeks
		{"2024-W01-8", time.Time{}, false, true},
		{"2024-W011", time.Time{}, false, true},
		{"2024W01-1", time.Time{}, false, true},
		{" 2024-07-29T10:30:00", time.Time{}, false, true},
		{"2024-07-29T10:30:00\n", time.Time{}, false, true},
		{"24-07-29T10:30:00", time.Time{}, false, true},
		{"29.07.2024 10:30:00", time.Time{}, false, true},
		{"2024-07-29ää10:30:00", time.Time{}, false, true},
		{"2024-07-29T10:30:00ä+01:00", time.Time{}, false, true},
		{"２０２４-07-29T10:30:00", time.Time{}, false, true}, // full-width digits
	}
	for _, tt := range tests {
		got, aware, ok := ParseTimestamp(tt.in)
		if ok == tt.bad {
			t.Errorf("ParseTimestamp(%q) ok = %v, want %v", tt.in, ok, !tt.bad)
			continue
		}
		if !ok {
			continue
		}
		if !got.Equal(tt.want) || aware != tt.aware {
			t.Errorf("ParseTimestamp(%q) = %v aware %v, want %v aware %v", tt.in, got, aware, tt.want, tt.aware)
		}
		if _, off := got.Zone(); !aware && off != 0 {
			t.Errorf("ParseTimestamp(%q): naive time not read as UTC: %v", tt.in, got)
		}
	}
}

func TestParseTimestampOrder(t *testing.T) {
	a, _, _ := ParseTimestamp("2024-07-29T10:30:00+02:00")
	b, _, _ := ParseTimestamp("2024-07-29T09:00:00Z")
	if !a.Before(b) {
		t.Errorf("10:30+02:00 (%v) should be before 09:00Z (%v)", a, b)
	}
	c, _, _ := ParseTimestamp("2024-07-29 09:00:00.5")
	d, _, _ := ParseTimestamp("2024-07-29T09:00:00.25")
	if !d.Before(c) {
		t.Errorf("09:00:00.25 (%v) should be before 09:00:00.5 (%v)", d, c)
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"2024-07-29", true},
		{"2024-02-29", true},
		{"2000-02-29", true},
		{"1999-12-31", true},
		{"2024-02-30", false},
		{"2023-02-29", false},
		{"1900-02-29", false},
		{"2024-04-31", false},
		{"2024-13-01", false},
		{"2024-00-10", false},
		{"2024-01-00", false},
		{"29.07.2024", false},
		{"2024/07/29", false},
		{"2024-7-29", false},
		{"2024-07-9", false},
		{"2024-07-29T10:30:00", false},
		{" 2024-07-29", false},
		{"2024-07-29 ", false},
		{"+024-07-29", false},
		{"", false},
		{"abcdefghij", false},
	}
	for _, tt := range tests {
		got, ok := ParseDate(tt.in)
		if ok != tt.ok {
			t.Errorf("ParseDate(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if ok && got.Format("2006-01-02") != tt.in {
			t.Errorf("ParseDate(%q) = %v", tt.in, got)
		}
	}
}

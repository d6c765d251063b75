package codec

import (
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	plus2 := time.FixedZone("", 2*3600)
	minus5 := time.FixedZone("", -5*3600-30*60)
	tests := []struct {
		in   string
		want time.Time // zero: must be rejected
	}{
		{"2024-07-29T10:30:00", time.Date(2024, 7, 29, 10, 30, 0, 0, time.UTC)},
		{"2024-07-29T10:30:00.5", time.Date(2024, 7, 29, 10, 30, 0, 500000000, time.UTC)},
		{"2024-07-29T10:30:00.123456", time.Date(2024, 7, 29, 10, 30, 0, 123456000, time.UTC)},
		{"2024-07-29T10:30:00.123456789", time.Date(2024, 7, 29, 10, 30, 0, 123456789, time.UTC)},
		{"2024-07-29T10:30:00Z", time.Date(2024, 7, 29, 10, 30, 0, 0, time.UTC)},
		{"2024-07-29T10:30:00.25Z", time.Date(2024, 7, 29, 10, 30, 0, 250000000, time.UTC)},
		{"2024-07-29T10:30:00+02:00", time.Date(2024, 7, 29, 10, 30, 0, 0, plus2)},
		{"2024-07-29T10:30:00+0200", time.Date(2024, 7, 29, 10, 30, 0, 0, plus2)},
		{"2024-07-29T10:30:00-05:30", time.Date(2024, 7, 29, 10, 30, 0, 0, minus5)},
		{"2024-07-29T10:30:00.1+02:00", time.Date(2024, 7, 29, 10, 30, 0, 100000000, plus2)},
		{"2024-02-29T00:00:00", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"2024-12-31T23:59:59", time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)},

		{"", time.Time{}},
		{"2024-07-29", time.Time{}},
		{"2024-07-29 10:30:00", time.Time{}}, // SQLite's CURRENT_TIMESTAMP form
		{"2024-07-29t10:30:00", time.Time{}},
		{"2024-07-29T10:30", time.Time{}},
		{"2024-13-29T10:30:00", time.Time{}},
		{"2024-00-29T10:30:00", time.Time{}},
		{"2023-02-29T10:30:00", time.Time{}},
		{"2024-07-32T10:30:00", time.Time{}},
		{"2024-07-29T25:00:00", time.Time{}},
		{"2024-07-29T24:00:00", time.Time{}},
		{"2024-07-29T10:60:00", time.Time{}},
		{"2024-07-29T10:30:60", time.Time{}},
		{"2024-07-29T10:30:00.", time.Time{}},
		{"2024-07-29T10:30:00.1234567890", time.Time{}},
		{"2024-07-29T10:30:00+02", time.Time{}},
		{"2024-07-29T10:30:00+2:00", time.Time{}},
		{"2024-07-29T10:30:00 +02:00", time.Time{}},
		{"2024-07-29T10:30:00z", time.Time{}},
		{"2024-07-29T10:30:00+25:00", time.Time{}},
		{" 2024-07-29T10:30:00", time.Time{}},
		{"2024-07-29T10:30:00\n", time.Time{}},
		{"24-07-29T10:30:00", time.Time{}},
		{"29.07.2024 10:30:00", time.Time{}},
		{"２０２４-07-29T10:30:00", time.Time{}}, // full-width digits
	}
	for _, tt := range tests {
		got, ok := ParseTimestamp(tt.in)
		if ok != !tt.want.IsZero() {
			t.Errorf("ParseTimestamp(%q) ok = %v, want %v", tt.in, ok, !tt.want.IsZero())
			continue
		}
		if ok && !got.Equal(tt.want) {
			t.Errorf("ParseTimestamp(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if ok && tt.want.Location() == time.UTC && got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) location = %v, want UTC", tt.in, got.Location())
		}
	}
}

func TestParseTimestampOrder(t *testing.T) {
	a, _ := ParseTimestamp("2024-07-29T10:30:00+02:00")
	b, _ := ParseTimestamp("2024-07-29T09:00:00Z")
	if !a.Before(b) {
		t.Errorf("10:30+02:00 (%v) should be before 09:00Z (%v)", a, b)
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

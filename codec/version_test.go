package codec

import "testing"

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in           string
		major, minor int
		ok           bool
	}{
		{"1.0", 1, 0, true},
		{"2.0", 2, 0, true},
		{"1.10", 1, 10, true},
		{"0.5", 0, 5, true},
		{"10.20", 10, 20, true},
		{"", 0, 0, false},
		{"1", 0, 0, false},
		{"1.", 0, 0, false},
		{".1", 0, 0, false},
		{".", 0, 0, false},
		{"1.0.0", 0, 0, false},
		{"a.b", 0, 0, false},
		{"1.x", 0, 0, false},
		{"v1.0", 0, 0, false},
		{"+1.0", 0, 0, false},
		{"1.+0", 0, 0, false},
		{"-1.0", 0, 0, false},
		{"1.-1", 0, 0, false},
		{"-0.1", 0, 0, false},
		{"1.-0", 0, 0, false},
		{" 1.0", 0, 0, false},
		{"1.0 ", 0, 0, false},
		{"1,0", 0, 0, false},
		{"99999999999999999999.0", 0, 0, false},
	}
	for _, tt := range tests {
		major, minor, err := ParseVersion(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseVersion(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if major != tt.major || minor != tt.minor {
			t.Errorf("ParseVersion(%q) = %d, %d, want %d, %d", tt.in, major, minor, tt.major, tt.minor)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0", "2.0", -1},
		{"2.0", "1.0", 1},
		{"1.10", "1.9", 1},
		{"1.9", "1.10", -1},
		{"10.0", "9.0", 1},
		{"2.0", "1.99", 1},
		{"1.2", "1.02", 0},
		{"bad", "1.0", -1},
		{"1.0", "bad", 1},
		{"", "0.0", -1},
		{"a", "b", -1},
		{"b", "a", 1},
		{"x", "x", 0},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		// Antisymmetry: swapping the arguments negates the result.
		if got := CompareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

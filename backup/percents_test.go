package backup

import "testing"

// The guard's message shows one decimal where whole percents would read
// like the limit (251 of 1000 against 25 %).
func TestGuardPercents(t *testing.T) {
	for _, c := range []struct {
		share, limit float64
		s, l         string
	}{
		{0.251, 0.25, "25,1 %", "25,0 %"},
		{0.30, 0.25, "30 %", "25 %"},
		{0.2549, 0.25, "25,5 %", "25,0 %"},
		{0.5, 0.5, "50 %", "50 %"},
	} {
		if s, l := percents(c.share, c.limit); s != c.s || l != c.l {
			t.Errorf("%v of %v: %q, %q; want %q, %q", c.share, c.limit, s, l, c.s, c.l)
		}
	}
}

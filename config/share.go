package config

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Share is a part of a whole, 0…1; it is written as a percentage ("25%").
type Share float64

func (s Share) String() string {
	return strconv.FormatFloat(float64(s)*100, 'g', 10, 64) + "%"
}

// parseShare takes a percentage ("25%", "25 %", "0%") or a fraction from 0
// to 1 (0.25, "0.25"). A bare number above 1 is refused rather than
// guessed: 25 would be 2500 %.
func parseShare(v any) (Share, error) {
	var text string
	switch x := v.(type) {
	case Share:
		text = x.String()
	case json.Number:
		text = string(x)
	case float64:
		text = strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		text = x
	default:
		return 0, fmt.Errorf("muss ein Anteil sein (\"25%%\" oder 0.25), nicht %s", describe(v))
	}
	t := strings.TrimSpace(text)
	pct, isPct := strings.CutSuffix(t, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
	if err != nil || f != f {
		return 0, fmt.Errorf("kein gültiger Anteil: %q (Beispiele: \"25%%\", 0.25, 0 schaltet ab)", text)
	}
	if isPct {
		f /= 100
	}
	if f < 0 || f > 1 {
		return 0, fmt.Errorf("muss zwischen 0 und 100 %% liegen (oder 0 bis 1), nicht %q", text)
	}
	return Share(f), nil
}

package codec

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseVersion splits a "MAJOR.MINOR" schema version into its numbers.
func ParseVersion(v string) (major, minor int, err error) {
	a, b, ok := strings.Cut(v, ".")
	if !ok {
		return 0, 0, fmt.Errorf("Schema-Version %q ist nicht MAJOR.MINOR", v)
	}
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	// Atoi accepts a sign ("+1", "-0"); a version part is digits only.
	if err1 != nil || err2 != nil || !isDigit(a[0]) || !isDigit(b[0]) {
		return 0, 0, fmt.Errorf("Schema-Version %q ist nicht MAJOR.MINOR", v)
	}
	return major, minor, nil
}

// CompareVersions orders two valid versions numerically ("1.10" > "1.9").
// It returns -1, 0 or +1; an unparsable version sorts before every valid one.
func CompareVersions(a, b string) int {
	am, an, aerr := ParseVersion(a)
	bm, bn, berr := ParseVersion(b)
	switch {
	case aerr != nil && berr != nil:
		return strings.Compare(a, b)
	case aerr != nil:
		return -1
	case berr != nil:
		return 1
	case am != bm:
		return cmpInt(am, bm)
	default:
		return cmpInt(an, bn)
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

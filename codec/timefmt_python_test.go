package codec

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

// TestParseTimestampMatchesPython compares ParseTimestamp with Python 3.11's
// datetime.fromisoformat on thousands of generated strings: the shapes the
// schema names, their neighbours, and random strings over the alphabet of
// the format. It needs python3.11 (or a python3 that is 3.11); newer
// versions accept more and are not the reference.
func TestParseTimestampMatchesPython(t *testing.T) {
	py := python311(t)
	inputs := timestampCorpus(rand.New(rand.NewPCG(11, 2024)), 4000)
	in, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	// For each string: null if rejected, else [microseconds since the epoch
	// (a naive time read as UTC), aware].
	const script = `import json, sys
from datetime import datetime, timezone, timedelta
epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
out = []
for s in json.load(sys.stdin):
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        out.append(None)
        continue
    aware = d.tzinfo is not None
    if not aware:
        d = d.replace(tzinfo=timezone.utc)
    out.append([(d - epoch) // timedelta(microseconds=1), int(aware)])
json.dump(out, sys.stdout)
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(string(in))
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", py, err)
	}
	var want []*[2]json.Number
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(inputs) {
		t.Fatalf("python answered %d of %d", len(want), len(inputs))
	}
	accepted, mismatches := 0, 0
	for i, s := range inputs {
		got, aware, ok := ParseTimestamp(s)
		var msg string
		switch {
		case want[i] == nil && ok:
			msg = fmt.Sprintf("ParseTimestamp(%q) = %v, Python rejects it", s, got)
		case want[i] != nil && !ok:
			msg = fmt.Sprintf("ParseTimestamp(%q) rejected, Python accepts it", s)
		case want[i] != nil:
			accepted++
			us, _ := want[i][0].Int64()
			if got.UnixMicro() != us || aware != (want[i][1].String() == "1") {
				msg = fmt.Sprintf("ParseTimestamp(%q) = %v (%d µs) aware %v, Python %s µs aware %s", s, got, got.UnixMicro(), aware, want[i][0], want[i][1])
			}
		}
		if msg != "" {
			t.Error(msg)
			if mismatches++; mismatches >= 20 {
				t.Fatal("too many mismatches")
			}
		}
	}
	if accepted < len(inputs)/5 || accepted > len(inputs)*4/5 {
		t.Errorf("corpus is lopsided: Python accepts %d of %d", accepted, len(inputs))
	}
}

// python311 returns a Python 3.11 interpreter or skips the test.
func python311(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"python3.11", "python3"} {
		py, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		v, err := exec.Command(py, "-c", "import sys; print('%d.%d' % sys.version_info[:2])").Output()
		if err == nil && strings.TrimSpace(string(v)) == "3.11" {
			return py
		}
	}
	t.Skip("Python 3.11 not on PATH (python3.11 or python3)")
	return ""
}

// timestampCorpus returns n strings: compositions of date, separator, time,
// fraction and offset parts, each mostly well-formed and sometimes broken,
// and random strings over the format's alphabet.
func timestampCorpus(rng *rand.Rand, n int) []string {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	// either picks from good most of the time, else from bad.
	either := func(good, bad []string) string {
		if rng.IntN(8) == 0 {
			return bad[rng.IntN(len(bad))]
		}
		return good[rng.IntN(len(good))]
	}
	num := func(width, limit int) string {
		b := make([]byte, width)
		v := rng.IntN(limit)
		for i := width - 1; i >= 0; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
		return string(b)
	}
	date := func() string {
		y := either([]string{"2024", "2023", "2020", "2015", "0001", "9999", "1900", "2000", num(4, 10000)}, []string{"0000", "202", "2O24"})
		m := either([]string{"01", "02", "07", "12", num(2, 12)}, []string{"00", "13", "1", num(2, 100)})
		d := either([]string{"01", "28", "29", "30", "31", num(2, 28)}, []string{"32", "00", "3", num(2, 100)})
		w := either([]string{"W01", "W31", "W52", "W53", "W" + num(2, 53)}, []string{"W00", "W54", "W1", "w01"})
		wd := either([]string{"1", "2", "7", num(1, 7)}, []string{"0", "8"})
		switch rng.IntN(10) {
		case 0:
			return y + m + d
		case 1:
			return y + "-" + w
		case 2:
			return y + "-" + w + "-" + wd
		case 3:
			return y + w
		case 4:
			return y + w + wd
		case 5:
			return y + pick("-"+m+d, m+"-"+d, "/"+m+"/"+d)
		}
		return y + "-" + m + "-" + d
	}
	hms := func() string {
		h := either([]string{"00", "10", "23", num(2, 24)}, []string{"24", "99", "1"})
		mi := either([]string{"00", "30", "59", num(2, 60)}, []string{"60", "5"})
		s := either([]string{"00", "20", "59", num(2, 60)}, []string{"60", "7"})
		c := pick(":", ":", ":", "")
		switch rng.IntN(6) {
		case 0:
			return h
		case 1:
			return h + c + mi
		case 2:
			return h + c + mi + c + s + pick(":", "", "1", "x", ".")
		}
		return h + c + mi + c + s
	}
	frac := func() string {
		if rng.IntN(2) == 0 {
			return ""
		}
		return pick(".", ",", ".", ".", ":") + num(1+rng.IntN(9), 1e9) + either([]string{""}, []string{"x", "9", "."})
	}
	zone := func() string {
		switch rng.IntN(9) {
		case 0, 1, 2, 3:
			return ""
		case 4:
			return either([]string{"Z"}, []string{"z", "Z0", "ZZ"})
		}
		sign := pick("+", "-", "+")
		h := either([]string{"00", "01", "02", "05", "14", "23"}, []string{"24", "99", "1", "123"})
		m := either([]string{"", ":00", ":30", "00", "30", ":59"}, []string{":60", ":99", ":5", ":"})
		s := either([]string{"", "", ":00", ":30", ":00.5", ":30.123456"}, []string{"30", ".5", ":30.123456789", ":3"})
		return sign + h + m + s
	}
	out := make([]string, 0, n)
	for len(out) < n {
		var s string
		switch r := rng.IntN(12); {
		case r == 0:
			const alphabet = "0123456789-:.,TWZ+ tz"
			b := make([]byte, 7+rng.IntN(22))
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			s = string(b)
		case r == 1:
			s = date()
		default:
			sep := either([]string{"T", "T", " ", "t", "_", "x", "ä", "😀", "W", "1"}, []string{"", "TT", "  "})
			s = date() + sep + hms() + frac() + zone()
		}
		out = append(out, s)
	}
	return out
}

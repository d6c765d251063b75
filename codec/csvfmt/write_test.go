package csvfmt

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"testing"
)

func TestAppendRow(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		want   string
	}{
		{"plain", []string{"a", "b", "c"}, "a,b,c\r\n"},
		{"no fields", []string{}, "\r\n"},
		{"lone empty field", []string{""}, "\"\"\r\n"},
		{"two empty fields", []string{"", ""}, ",\r\n"},
		{"empty first", []string{"", "a"}, ",a\r\n"},
		{"empty last", []string{"a", ""}, "a,\r\n"},
		{"comma", []string{"a,b"}, "\"a,b\"\r\n"},
		{"quote", []string{`say "hi"`}, "\"say \"\"hi\"\"\"\r\n"},
		{"only a quote", []string{`"`}, "\"\"\"\"\r\n"},
		{"two quotes", []string{`""`}, "\"\"\"\"\"\"\r\n"},
		{"LF", []string{"a\nb"}, "\"a\nb\"\r\n"},
		{"CRLF", []string{"a\r\nb"}, "\"a\r\nb\"\r\n"},
		{"lone CR", []string{"a\rb"}, "\"a\rb\"\r\n"},
		{"only CR", []string{"\r"}, "\"\r\"\r\n"},
		{"spaces not quoted", []string{" a ", "  "}, " a ,  \r\n"},
		{"tab not quoted", []string{"a\tb"}, "a\tb\r\n"},
		{"umlauts", []string{"ÄÖÜäöüß"}, "ÄÖÜäöüß\r\n"},
		{"emoji", []string{"🚗💨"}, "🚗💨\r\n"},
		{"backslash not special", []string{`C:\Archiv\x.pdf`, `a\"b`}, "C:\\Archiv\\x.pdf,\"a\\\"\"b\"\r\n"},
		{"single quote not special", []string{"it's"}, "it's\r\n"},
		{"JSON", []string{`{"Garantie": [2], "Ölwechsel": [1]}`}, "\"{\"\"Garantie\"\": [2], \"\"Ölwechsel\"\": [1]}\"\r\n"},
		{"unicode line separators not quoted", []string{"a\u2028b\u0085c\vd\fe"}, "a\u2028b\u0085c\vd\fe\r\n"},
		{"BOM not quoted", []string{"\ufeffx"}, "\ufeffx\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppendRow(nil, tt.fields); string(got) != tt.want {
				t.Errorf("AppendRow(%q) = %q, want %q", tt.fields, got, tt.want)
			}
		})
	}
}

func TestAppendRowAppends(t *testing.T) {
	dst := make([]byte, 0, 64)
	dst = append(dst, "h1,h2\r\n"...)
	dst = AppendRow(dst, []string{"x", "y,z"})
	dst = AppendRow(dst, []string{""})
	if want := "h1,h2\r\nx,\"y,z\"\r\n\"\"\r\n"; string(dst) != want {
		t.Errorf("got %q, want %q", dst, want)
	}
}

// randomRows returns n random rows over an alphabet full of the characters
// that matter to CSV, from a fixed seed so failures repeat.
func randomRows(seed uint64, n int) [][]string {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	alphabet := []string{"a", "Z", "0", " ", ",", "\"", "\r", "\n", "\r\n", "\t", "ä", "ß", "😀", "\\", "'", ";", "\ufeff", "\u2028", "\x7f"}
	rows := make([][]string, n)
	for i := range rows {
		row := make([]string, 1+r.IntN(6))
		for j := range row {
			var b []byte
			for range r.IntN(8) {
				b = append(b, alphabet[r.IntN(len(alphabet))]...)
			}
			row[j] = string(b)
		}
		rows[i] = row
	}
	return rows
}

// TestAppendRowMatchesPython feeds random rows to Python's csv.writer and
// compares every byte. Skipped without python3; the golden files of
// codec/v1 hold the same proof for fixed rows.
func TestAppendRowMatchesPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	rows := randomRows(42, 2000)
	rows = append(rows, []string{""}, []string{"", ""}, []string{"\""}, []string{" "})
	in, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	const script = `import csv, json, sys
rows = json.load(sys.stdin)
out = open(sys.stdout.fileno(), "w", encoding="utf-8", newline="", closefd=False)
w = csv.writer(out)
for r in rows:
    w.writerow(r)
out.flush()
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.Bytes())
	}
	var got []byte
	for _, r := range rows {
		got = AppendRow(got, r)
	}
	if !bytes.Equal(got, want) {
		// Find the first differing row for the message.
		var g, w []byte
		for _, r := range rows {
			g = AppendRow(g, r)
			if !bytes.HasPrefix(want, g) {
				t.Fatalf("row %q: Go wrote %q, Python's output continues %q", r, g[len(w):], want[len(w):min(len(want), len(g))])
			}
			w = g
		}
		t.Fatalf("outputs differ: Go %d bytes, Python %d bytes", len(got), len(want))
	}
}

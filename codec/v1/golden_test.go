package v1_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"werkstatt-backup/codec"
	v1 "werkstatt-backup/codec/v1"
)

var update = flag.Bool("update", false, "regenerate testdata/golden/*.csv with python3 testdata/make_golden.py")

const (
	goldenDir    = "testdata/golden"
	goldenScript = "testdata/make_golden.py"
)

type goldenCase struct {
	Name string
	Row  []string // null in rows.json (a database NULL) reads as ""
}

// loadGolden reads testdata/golden/rows.json, the rows the Python script
// writes too, and checks that its header is schema 1.0's.
func loadGolden(t *testing.T) []goldenCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(goldenDir, "rows.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Header []string
		Cases  []struct {
			Name string
			Row  []*string
		}
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("rows.json: %v", err)
	}
	if want := codec.Names(v1.Codec{}); !slices.Equal(spec.Header, want) {
		t.Fatalf("rows.json header = %q, want %q", spec.Header, want)
	}
	if len(spec.Cases) == 0 {
		t.Fatal("rows.json has no cases")
	}
	seen := map[string]bool{}
	cases := make([]goldenCase, 0, len(spec.Cases))
	for _, c := range spec.Cases {
		if c.Name == "" || seen[c.Name] || strings.ContainsAny(c.Name, `/\. `) {
			t.Fatalf("rows.json: bad or duplicate case name %q", c.Name)
		}
		seen[c.Name] = true
		if len(c.Row) != len(spec.Header) {
			t.Fatalf("rows.json case %s: %d fields, want %d", c.Name, len(c.Row), len(spec.Header))
		}
		row := make([]string, len(c.Row))
		for i, p := range c.Row {
			if p != nil {
				row[i] = *p
			}
		}
		cases = append(cases, goldenCase{Name: c.Name, Row: row})
	}
	return cases
}

// runScript runs make_golden.py with outDir as its output directory.
func runScript(t *testing.T, outDir string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	out, err := exec.Command(py, goldenScript, outDir).CombinedOutput()
	if err != nil {
		t.Fatalf("python3 %s %s: %v\n%s", goldenScript, outDir, err, out)
	}
}

// compareWithDir checks that Encode writes, for every case, the bytes of
// dir/<name>.csv, and that dir holds no other .csv files.
func compareWithDir(t *testing.T, dir string, cases []goldenCase) {
	t.Helper()
	names := map[string]bool{}
	for _, c := range cases {
		names[c.Name+".csv"] = true
		t.Run(c.Name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(dir, c.Name+".csv"))
			if err != nil {
				t.Fatalf("%v (run go test -run Golden -update)", err)
			}
			got := v1.Codec{}.Encode(c.Row)
			if !bytes.Equal(got, want) {
				t.Errorf("Encode differs from Python's csv.writer\n got: %q\nwant: %q", got, want)
			}
		})
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !names[filepath.Base(f)] {
			t.Errorf("%s has no case in rows.json: delete it", f)
		}
	}
}

// TestGolden compares Encode with the checked-in files Python wrote.
func TestGolden(t *testing.T) {
	if *update {
		if _, err := exec.LookPath("python3"); err != nil {
			t.Fatal("-update needs python3 on PATH")
		}
		old, err := filepath.Glob(filepath.Join(goldenDir, "*.csv"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		runScript(t, goldenDir)
	}
	compareWithDir(t, goldenDir, loadGolden(t))
}

// TestGoldenPython runs the script afresh, so checked-in files that no longer
// match rows.json (or this machine's Python) cannot hide a difference.
func TestGoldenPython(t *testing.T) {
	cases := loadGolden(t)
	dir := t.TempDir()
	runScript(t, dir)
	compareWithDir(t, dir, cases)
}

// TestGoldenDecode reads every golden file back: Decode returns the row,
// and every golden row is valid, so the files double as restore fixtures.
func TestGoldenDecode(t *testing.T) {
	for _, c := range loadGolden(t) {
		t.Run(c.Name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(goldenDir, c.Name+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := v1.Codec{}.Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(rows) != 1 || !slices.Equal(rows[0], c.Row) {
				t.Errorf("Decode = %q, want [%q]", rows, c.Row)
			}
			if errs := (v1.Codec{}).Validate(c.Row); len(errs) != 0 {
				t.Errorf("Validate = %v", errs)
			}
		})
	}
}

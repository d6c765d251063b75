package migrate

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

// A test-only schema history; rows are []string aligned with the columns.
//
//	1.0: id, name
//	2.0: id, name, status        (status added, default "offen")
//	3.0: id, kunde, status       (name renamed to kunde: same position)
//	4.0: id, status, kunde       (columns reordered)
var (
	cols10 = []string{"id", "name"}
	cols20 = []string{"id", "name", "status"}
	cols30 = []string{"id", "kunde", "status"}
)

// checkLen guards a step against rows that are not in its source layout.
func checkLen(vals []string, cols []string) error {
	if len(vals) != len(cols) {
		return errors.New("falsche Feldanzahl")
	}
	return nil
}

var (
	step10to20 = Step{From: "1.0", To: "2.0", Apply: func(vals []string) ([]string, error) {
		if err := checkLen(vals, cols10); err != nil {
			return nil, err
		}
		// A fresh slice: a step must not write into its input.
		return append(slices.Clip(vals), "offen"), nil
	}}
	step20to30 = Step{From: "2.0", To: "3.0", Apply: func(vals []string) ([]string, error) {
		if err := checkLen(vals, cols20); err != nil {
			return nil, err
		}
		// The rename changes only the column name; the values keep their place.
		return slices.Clone(vals), nil
	}}
	step30to40 = Step{From: "3.0", To: "4.0", Apply: func(vals []string) ([]string, error) {
		if err := checkLen(vals, cols30); err != nil {
			return nil, err
		}
		return []string{vals[0], vals[2], vals[1]}, nil
	}}
)

func chain(steps ...Step) *Registry {
	r := NewRegistry()
	for _, s := range steps {
		r.Register(s)
	}
	return r
}

func versions(plan []Step) []string {
	var vs []string
	for i, s := range plan {
		if i == 0 {
			vs = append(vs, s.From)
		}
		vs = append(vs, s.To)
	}
	return vs
}

func TestPlanChain(t *testing.T) {
	// Registered out of order: the plan follows From/To, not registration.
	r := chain(step20to30, step10to20)
	tests := []struct {
		from, to string
		want     []string
	}{
		{"1.0", "3.0", []string{"1.0", "2.0", "3.0"}},
		{"1.0", "2.0", []string{"1.0", "2.0"}},
		{"2.0", "3.0", []string{"2.0", "3.0"}},
		{"1.0", "1.0", nil},
		{"3.0", "3.0", nil},
		{"9.9", "9.9", nil}, // equal versions need no steps, known or not
	}
	for _, tt := range tests {
		plan, err := r.Plan(tt.from, tt.to)
		if err != nil {
			t.Errorf("Plan(%s, %s): %v", tt.from, tt.to, err)
			continue
		}
		if got := versions(plan); !slices.Equal(got, tt.want) {
			t.Errorf("Plan(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestApplyChain(t *testing.T) {
	r := chain(step10to20, step20to30)
	plan, err := r.Plan("1.0", "3.0")
	if err != nil {
		t.Fatal(err)
	}
	in := []string{"12", "Müller"}
	orig := slices.Clone(in)
	got, err := Apply(plan, in)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"12", "Müller", "offen"}; !slices.Equal(got, want) || len(got) != len(cols30) {
		t.Errorf("Apply(1.0→3.0) = %q, want %q", got, want)
	}
	if !slices.Equal(in, orig) {
		t.Errorf("Apply changed its input: %q", in)
	}
	// Steps are pure: the same input gives the same output every time.
	again, err := Apply(plan, in)
	if err != nil || !slices.Equal(again, got) {
		t.Errorf("second Apply = %q, %v", again, err)
	}
	// Applying the plan in two parts gives the same result.
	p1, _ := r.Plan("1.0", "2.0")
	p2, _ := r.Plan("2.0", "3.0")
	mid, err := Apply(p1, in)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"12", "Müller", "offen"}; !slices.Equal(mid, want) || len(mid) != len(cols20) {
		t.Errorf("Apply(1.0→2.0) = %q", mid)
	}
	end, err := Apply(p2, mid)
	if err != nil || !slices.Equal(end, got) {
		t.Errorf("Apply(2.0→3.0) = %q, %v", end, err)
	}
}

func TestApplyEmptyPlan(t *testing.T) {
	in := []string{"a", "b"}
	got, err := Apply(nil, in)
	if err != nil || !slices.Equal(got, in) {
		t.Errorf("Apply(nil) = %q, %v", got, err)
	}
}

func TestApplyErrorNamesStep(t *testing.T) {
	r := chain(step10to20, step20to30, step30to40)
	plan, err := r.Plan("1.0", "4.0")
	if err != nil {
		t.Fatal(err)
	}
	// A 3.0 row where 1.0 is expected fails in the first step.
	_, err = Apply(plan, []string{"12", "Müller", "offen"})
	if err == nil || !strings.Contains(err.Error(), "Migration 1.0 → 2.0: falsche Feldanzahl") {
		t.Errorf("error = %v, want it to name step 1.0 → 2.0", err)
	}

	sentinel := errors.New("kaputt")
	failing := chain(step10to20, Step{From: "2.0", To: "3.0", Apply: func([]string) ([]string, error) {
		return nil, sentinel
	}})
	plan, err = failing.Plan("1.0", "3.0")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Apply(plan, []string{"12", "Müller"})
	if got != nil {
		t.Errorf("Apply returned %q with error", got)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("error %v does not wrap the step's error", err)
	}
	if err == nil || !strings.Contains(err.Error(), "2.0 → 3.0") || strings.Contains(err.Error(), "1.0 → 2.0") {
		t.Errorf("error = %v, want it to name step 2.0 → 3.0 only", err)
	}
}

func TestPlanMissingStep(t *testing.T) {
	r := chain(step10to20, step30to40) // 2.0 → 3.0 missing
	tests := []struct {
		from, to, at string
	}{
		{"1.0", "4.0", "2.0"},
		{"1.0", "3.0", "2.0"},
		{"2.0", "3.0", "2.0"},
		{"0.9", "1.0", "0.9"},
		{"4.0", "1.0", "4.0"}, // no way back
		{"3.0", "1.0", "4.0"}, // runs forward past the target, then ends
	}
	for _, tt := range tests {
		plan, err := r.Plan(tt.from, tt.to)
		if err == nil {
			t.Errorf("Plan(%s, %s) = %v, want error", tt.from, tt.to, versions(plan))
			continue
		}
		want := "keine Migration von Schema " + tt.from + " nach " + tt.to + " (Kette endet bei " + tt.at + ")"
		if err.Error() != want {
			t.Errorf("Plan(%s, %s) error = %q, want %q", tt.from, tt.to, err, want)
		}
		if plan != nil {
			t.Errorf("Plan returned steps with error")
		}
	}
}

func TestPlanCircle(t *testing.T) {
	back := Step{From: "2.0", To: "1.0", Apply: step10to20.Apply}
	r := chain(step10to20, back)
	for _, tt := range []struct{ from, to, at string }{
		{"1.0", "3.0", "1.0"},
		{"2.0", "3.0", "2.0"},
	} {
		plan, err := r.Plan(tt.from, tt.to)
		if err == nil {
			t.Errorf("Plan(%s, %s) = %v, want error", tt.from, tt.to, versions(plan))
			continue
		}
		if want := "läuft im Kreis bei " + tt.at; !strings.Contains(err.Error(), want) {
			t.Errorf("Plan(%s, %s) error = %q, want it to contain %q", tt.from, tt.to, err, want)
		}
	}
	// The circle does not hide a reachable target.
	if plan, err := r.Plan("1.0", "2.0"); err != nil || !slices.Equal(versions(plan), []string{"1.0", "2.0"}) {
		t.Errorf("Plan(1.0, 2.0) = %v, %v", versions(plan), err)
	}

	// A longer circle that does not run back to the start.
	r = chain(step10to20, step20to30, Step{From: "3.0", To: "2.0", Apply: step10to20.Apply})
	if _, err := r.Plan("1.0", "4.0"); err == nil || !strings.Contains(err.Error(), "läuft im Kreis bei 2.0") {
		t.Errorf("Plan over 1.0→2.0→3.0→2.0: %v", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	apply := step10to20.Apply
	for _, tt := range []struct {
		name string
		s    Step
		want string
	}{
		{"nil Apply", Step{From: "1.0", To: "2.0"}, "invalid step"},
		{"no From", Step{To: "2.0", Apply: apply}, "invalid step"},
		{"no To", Step{From: "1.0", Apply: apply}, "invalid step"},
		{"to itself", Step{From: "1.0", To: "1.0", Apply: apply}, "invalid step"},
		{"duplicate From", Step{From: "1.0", To: "3.0", Apply: apply}, "twice for version 1.0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := chain(step10to20)
			defer func() {
				p := recover()
				msg, _ := p.(string)
				if !strings.Contains(msg, tt.want) {
					t.Errorf("panic = %v, want one containing %q", p, tt.want)
				}
				// The failed Register left the registry as it was.
				if plan, err := r.Plan("1.0", "2.0"); err != nil || len(plan) != 1 || plan[0].To != "2.0" {
					t.Errorf("registry changed by a failed Register: %v, %v", plan, err)
				}
			}()
			r.Register(tt.s)
		})
	}
}

func TestSources(t *testing.T) {
	r := chain(step30to40, step10to20, step20to30)
	if got, want := r.Sources(), []string{"1.0", "2.0", "3.0"}; !slices.Equal(got, want) {
		t.Errorf("Sources() = %v, want %v", got, want)
	}
	if got := NewRegistry().Sources(); len(got) != 0 {
		t.Errorf("empty Sources() = %v", got)
	}
}

// TestConcurrent is for the race detector: planning while registering.
func TestConcurrent(t *testing.T) {
	r := chain(step10to20)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.Register(step20to30)
	}()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				_, _ = r.Plan("1.0", "3.0")
				_ = r.Sources()
			}
		}()
	}
	wg.Wait()
	if _, err := r.Plan("1.0", "3.0"); err != nil {
		t.Error(err)
	}
}

package history

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Retention says which generations forget keeps, with restic's meaning:
// Last keeps the Last newest generations; Daily keeps, for each of the
// last Daily days that have generations, the newest generation of that
// day; Weekly, Monthly and Yearly the same for ISO weeks (Monday to
// Sunday), calendar months and years. A generation kept by any rule is
// kept. -1 means unlimited (every day, week, …). As in restic, when a rule
// still has counts left at the oldest generation, that one is kept too, so
// the history reaches back as far as the policy allows.
//
// Days, weeks, … are judged in Location (default: local time) by the
// archive time of each generation, and generations are taken newest first
// by sequence number, so a client with a wrong clock cannot reorder them.
type Retention struct {
	Last, Daily, Weekly, Monthly, Yearly int
	// AllowEmpty must be set for a policy of only zeros: it keeps nothing,
	// so forget would delete the whole history.
	AllowEmpty bool
	Location   *time.Location
}

// DefaultRetention is what forget keeps unless configured otherwise: the
// last 10 runs, 14 days, 8 weeks, 24 months and 10 years. German law asks
// a business to keep its records six to ten years (§ 257 HGB, § 147 AO),
// so the default never comes close to deleting everything.
var DefaultRetention = Retention{Last: 10, Daily: 14, Weekly: 8, Monthly: 24, Yearly: 10}

// ErrEmptyPolicy is returned when a policy keeps nothing and AllowEmpty is
// not set.
var ErrEmptyPolicy = errors.New("Aufbewahrungsregel behält nichts")

func (p Retention) empty() bool {
	return p.Last == 0 && p.Daily == 0 && p.Weekly == 0 && p.Monthly == 0 && p.Yearly == 0
}

// Validate refuses counts below -1 and a policy that keeps nothing unless
// AllowEmpty.
func (p Retention) Validate() error {
	for _, c := range []struct {
		name string
		n    int
	}{{"keep-last", p.Last}, {"keep-daily", p.Daily}, {"keep-weekly", p.Weekly}, {"keep-monthly", p.Monthly}, {"keep-yearly", p.Yearly}} {
		if c.n < -1 {
			return fmt.Errorf("Aufbewahrung: %s %d ist ungültig (0, eine positive Zahl oder -1 für unbegrenzt)", c.name, c.n)
		}
	}
	if p.empty() && !p.AllowEmpty {
		return errorf(ErrEmptyPolicy, "Aufbewahrung: alle keep-Werte sind 0, das würde die ganze Historie löschen; "+
			"das muss ausdrücklich erlaubt werden")
	}
	return nil
}

// String describes the policy the way forget's flags name it.
func (p Retention) String() string {
	var parts []string
	for _, c := range []struct {
		name string
		n    int
	}{{"last", p.Last}, {"daily", p.Daily}, {"weekly", p.Weekly}, {"monthly", p.Monthly}, {"yearly", p.Yearly}} {
		switch {
		case c.n == -1:
			parts = append(parts, "--keep-"+c.name+" unbegrenzt")
		case c.n != 0:
			parts = append(parts, fmt.Sprintf("--keep-%s %d", c.name, c.n))
		}
	}
	if len(parts) == 0 {
		return "nichts behalten"
	}
	return strings.Join(parts, " ")
}

// Decision is one generation's fate under a policy.
type Decision struct {
	Info    GenerationInfo
	Keep    bool
	Reasons []string // the rules that keep it: "keep-last", "keep-daily", "keep-weekly (älteste)", …
}

// Apply decides for every generation (in any order) whether p keeps it.
// The result is newest first.
func (p Retention) Apply(gens []GenerationInfo) ([]Decision, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	loc := p.Location
	if loc == nil {
		loc = time.Local
	}
	out := make([]Decision, len(gens))
	for i, g := range gens {
		out[i] = Decision{Info: g}
	}
	sortNewestFirst(out)
	rules := []struct {
		count  int
		name   string
		bucket func(t time.Time, i int) int64
		last   int64
	}{
		{p.Last, "keep-last", func(_ time.Time, i int) int64 { return int64(i) }, -1},
		{p.Daily, "keep-daily", func(t time.Time, _ int) int64 { return int64(t.Year())*10000 + int64(t.Month())*100 + int64(t.Day()) }, -1},
		{p.Weekly, "keep-weekly", func(t time.Time, _ int) int64 { y, w := t.ISOWeek(); return int64(y)*100 + int64(w) }, -1},
		{p.Monthly, "keep-monthly", func(t time.Time, _ int) int64 { return int64(t.Year())*100 + int64(t.Month()) }, -1},
		{p.Yearly, "keep-yearly", func(t time.Time, _ int) int64 { return int64(t.Year()) }, -1},
	}
	for i := range out {
		t := out[i].Info.ArchiveTime.In(loc)
		oldest := i == len(out)-1
		for r := range rules {
			rule := &rules[r]
			if rule.count == 0 {
				continue
			}
			b := rule.bucket(t, i)
			if b == rule.last && !oldest {
				continue
			}
			reason := rule.name
			if b == rule.last {
				reason += " (älteste)"
			}
			out[i].Keep = true
			out[i].Reasons = append(out[i].Reasons, reason)
			rule.last = b
			if rule.count > 0 {
				rule.count--
			}
		}
	}
	return out, nil
}

// sortNewestFirst orders by sequence number, newest first.
func sortNewestFirst(ds []Decision) {
	slices.SortFunc(ds, func(a, b Decision) int { return cmp.Compare(b.Info.Seq, a.Info.Seq) })
}

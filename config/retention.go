package config

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Retention is the config key retention: how many generations of the
// history forget keeps, by restic's rules (package history): the Last
// newest, and the newest of each of the last Daily days, Weekly weeks,
// Monthly months and Yearly years; -1 is unlimited. In the file it is an
// object {"last": 10, "daily": 14, …} or a string "last=10 daily=14 …";
// rules not named are 0.
type Retention struct {
	Last, Daily, Weekly, Monthly, Yearly int
}

// DefaultRetention keeps the last 10 runs, 14 days, 8 weeks, 24 months and
// 10 years (the same as history.DefaultRetention): a workshop keeps its
// business records for years, and no default deletes everything.
var DefaultRetention = Retention{Last: 10, Daily: 14, Weekly: 8, Monthly: 24, Yearly: 10}

// retentionRules are the rules' names, in the order String writes them.
var retentionRules = []string{"last", "daily", "weekly", "monthly", "yearly"}

func (r *Retention) rule(name string) *int {
	switch name {
	case "last":
		return &r.Last
	case "daily":
		return &r.Daily
	case "weekly":
		return &r.Weekly
	case "monthly":
		return &r.Monthly
	case "yearly":
		return &r.Yearly
	}
	return nil
}

// String is the form the file and the environment accept:
// "last=10 daily=14 weekly=8 monthly=24 yearly=10".
func (r Retention) String() string {
	parts := make([]string, 0, len(retentionRules))
	for _, name := range retentionRules {
		parts = append(parts, fmt.Sprintf("%s=%d", name, *r.rule(name)))
	}
	return strings.Join(parts, " ")
}

// parseRetention takes an object or a string of name=count pairs
// (separated by spaces or commas). Each count is a whole number ≥ -1; a
// retention that keeps nothing is refused: it would delete the history.
func parseRetention(v any) (Retention, error) {
	var r Retention
	set := func(name string, count any) error {
		p := r.rule(strings.ToLower(strings.TrimSpace(name)))
		if p == nil {
			return fmt.Errorf("unbekannte Regel %q (erlaubt: %s)", name, strings.Join(retentionRules, ", "))
		}
		var text string
		switch c := count.(type) {
		case json.Number:
			text = string(c)
		case string:
			text = c
		case float64:
			text = strconv.FormatFloat(c, 'f', -1, 64)
		default:
			return fmt.Errorf("%s: muss eine ganze Zahl sein, nicht %s", name, describe(count))
		}
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil || n < -1 {
			return fmt.Errorf("%s: %q ist keine Anzahl (0, eine positive Zahl oder -1 für unbegrenzt)", name, text)
		}
		*p = n
		return nil
	}
	switch x := v.(type) {
	case Retention:
		r = x
	case map[string]any:
		names := make([]string, 0, len(x))
		for k := range x {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			if err := set(k, x[k]); err != nil {
				return r, err
			}
		}
	case string:
		fields := strings.FieldsFunc(x, func(c rune) bool { return c == ' ' || c == ',' || c == '\t' })
		if len(fields) == 0 {
			return r, fmt.Errorf("leer (Beispiel: \"%s\")", DefaultRetention)
		}
		for _, f := range fields {
			name, count, ok := strings.Cut(f, "=")
			if !ok {
				return r, fmt.Errorf("%q ist nicht Regel=Anzahl (Beispiel: \"%s\")", f, DefaultRetention)
			}
			if err := set(name, count); err != nil {
				return r, err
			}
		}
	default:
		return r, fmt.Errorf("muss ein Objekt oder ein Text sein (Beispiel: \"%s\"), nicht %s", DefaultRetention, describe(v))
	}
	if r == (Retention{}) {
		return r, fmt.Errorf("alle Regeln sind 0, forget würde die ganze Historie löschen")
	}
	return r, nil
}

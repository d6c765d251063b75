package backup

import (
	"fmt"
	"strings"

	"werkstatt-backup/codec"
	"werkstatt-backup/migrate"
)

// planError is a schema version no migration leads from to the current
// one: the fault is meta.json's version, not a row.
type planError struct{ err error }

func (e planError) Error() string { return e.err.Error() }
func (e planError) Unwrap() error { return e.err }

// decodeRows decodes a data.csv written in schema c, checks every row's
// field rules and migrates it to the current version: what restore and
// verify do with a backup, whether it comes from an order folder or from
// the history. It returns the rows in the current version, each row's
// identity as c reads it, and the field-rule warnings (a row breaking a
// rule is restored unchanged, SPEC 2.1). An error names the row.
func (e *Engine) decodeRows(c codec.Codec, data []byte) (rows [][]string, ids []codec.Identity, warns []string, err error) {
	decoded, err := c.Decode(data)
	if err != nil {
		return nil, nil, nil, err
	}
	var plan []migrate.Step
	cur := e.Schema.Codecs.Current()
	if c.Version() != cur.Version() {
		if plan, err = e.Schema.Migrations.Plan(c.Version(), cur.Version()); err != nil {
			return nil, nil, nil, planError{err}
		}
	}
	rows = make([][]string, 0, len(decoded))
	for i, row := range decoded {
		errs, ws := codec.SplitProblems(c.Validate(row))
		if len(errs) > 0 {
			return nil, nil, nil, fmt.Errorf("Datenzeile %d ungültig: %s", i+1, joinErrs(errs))
		}
		if len(ws) > 0 {
			warns = append(warns, fmt.Sprintf("Datenzeile %d verletzt Feldregeln (wird unverändert wiederhergestellt): %s", i+1, joinErrs(ws)))
		}
		ids = append(ids, c.Identity(row))
		if len(plan) > 0 {
			if row, err = migrate.Apply(plan, row); err != nil {
				return nil, nil, nil, fmt.Errorf("Datenzeile %d: %s", i+1, err)
			}
			if errs, _ := codec.SplitProblems(cur.Validate(row)); len(errs) > 0 {
				return nil, nil, nil, fmt.Errorf("Datenzeile %d nach Migration auf %s ungültig: %s", i+1, cur.Version(), joinErrs(errs))
			}
		}
		if strings.Contains(strings.Join(row, ""), nul) {
			return nil, nil, nil, fmt.Errorf("Datenzeile %d ungültig: enthält ein NUL-Byte", i+1)
		}
		rows = append(rows, row)
	}
	return rows, ids, warns, nil
}

package store

import (
	"errors"
	"fmt"
	"strings"
)

// ColumnDef describes one column of a table that Replace creates.
type ColumnDef struct {
	Name       string
	Type       string // "INTEGER" or "TEXT"
	NotNull    bool
	PrimaryKey bool
}

// TableDef describes a table that Replace creates.
type TableDef struct {
	Name    string
	Columns []ColumnDef
}

// CreateSQL returns the CREATE TABLE statement for def (identifiers quoted).
// A single primary key column is declared inline, so an INTEGER primary key
// is the rowid alias; several form a table constraint.
func (def TableDef) CreateSQL() string {
	var pks []string
	for _, c := range def.Columns {
		if c.PrimaryKey {
			pks = append(pks, quoteIdent(c.Name))
		}
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	b.WriteString(quoteIdent(def.Name))
	b.WriteString(" (")
	for i, c := range def.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name))
		b.WriteString(" ")
		b.WriteString(c.Type)
		if c.PrimaryKey && len(pks) == 1 {
			b.WriteString(" PRIMARY KEY")
		}
		if c.NotNull {
			b.WriteString(" NOT NULL")
		}
	}
	if len(pks) > 1 {
		b.WriteString(", PRIMARY KEY (")
		b.WriteString(strings.Join(pks, ", "))
		b.WriteString(")")
	}
	b.WriteString(")")
	return b.String()
}

// validate reports an unusable definition before anything is written.
func (def TableDef) validate() error {
	if def.Name == "" {
		return errors.New("Tabellendefinition ohne Namen")
	}
	if len(def.Columns) == 0 {
		return fmt.Errorf("Tabelle %s: keine Spalten definiert", def.Name)
	}
	seen := make(map[string]bool, len(def.Columns))
	for _, c := range def.Columns {
		if c.Name == "" {
			return fmt.Errorf("Tabelle %s: Spalte ohne Namen", def.Name)
		}
		if c.Type != "INTEGER" && c.Type != "TEXT" {
			return fmt.Errorf("Tabelle %s, Spalte %s: Typ %q nicht unterstützt", def.Name, c.Name, c.Type)
		}
		key := strings.ToLower(c.Name)
		if seen[key] {
			return fmt.Errorf("Tabelle %s: Spalte %s doppelt", def.Name, c.Name)
		}
		seen[key] = true
	}
	return nil
}

// quoteIdent quotes an SQL identifier, doubling embedded quotes.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

package config

import (
	"fmt"
	"slices"
	"strings"

	"werkstatt-backup/schedule"
)

// Job is one entry of the key zeitplan: a command line that `schedule`
// runs at the times of a cron expression.
type Job struct {
	Zeit   string   // cron expression: "0 2 * * *", "@daily", "CRON_TZ=UTC 0 3 * * 0"
	Befehl []string // the command and its options: ["verify", "--with-db"]
}

// Zeitplan is the key zeitplan: the jobs one `schedule` serves, in file
// order. In the file it is a list of objects
//
//	[{"befehl": "export", "zeit": "0 2 * * *"}, {"befehl": "verify --with-db", "zeit": "0 3 * * 0"}]
//
// (befehl a text split at spaces, or a list of words); in the environment
// (ARCHIV_ZEITPLAN) crontab lines separated by ";" or line breaks:
// "0 2 * * * export; 0 3 * * 0 verify --with-db".
type Zeitplan []Job

// String is the crontab form the environment accepts.
func (z Zeitplan) String() string {
	lines := make([]string, len(z))
	for i, j := range z {
		lines[i] = j.Zeit + " " + strings.Join(j.Befehl, " ")
	}
	return strings.Join(lines, "; ")
}

// jobKeys are the keys of one entry.
var jobKeys = []string{"befehl", "zeit"}

// parseZeitplan takes the list of the file or the crontab text of the
// environment. Each time must be a valid cron expression; which commands
// may be scheduled is the CLI's business (schedule checks each at start).
func parseZeitplan(v any) (Zeitplan, error) {
	var z Zeitplan
	switch x := v.(type) {
	case Zeitplan:
		return x, nil
	case string:
		for line := range strings.FieldsFuncSeq(x, func(c rune) bool { return c == ';' || c == '\n' }) {
			if strings.TrimSpace(line) == "" {
				continue
			}
			j, err := cronLine(line)
			if err != nil {
				return nil, err
			}
			z = append(z, j)
		}
	case []any:
		for i, e := range x {
			j, err := jobObject(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]%s", i, err)
			}
			z = append(z, j)
		}
	default:
		return nil, fmt.Errorf("muss eine Liste von Objekten sein ([{\"befehl\": \"export\", \"zeit\": \"0 2 * * *\"}]), nicht %s", describe(v))
	}
	if len(z) == 0 {
		return nil, fmt.Errorf("leer (Beispiel: [{\"befehl\": \"export\", \"zeit\": \"0 2 * * *\"}])")
	}
	return z, nil
}

// jobObject reads {"befehl": …, "zeit": …}; keys ignore case.
func jobObject(e any) (Job, error) {
	obj, ok := e.(map[string]any)
	if !ok {
		return Job{}, fmt.Errorf(": muss ein Objekt {\"befehl\": …, \"zeit\": …} sein, nicht %s", describe(e))
	}
	var j Job
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch strings.ToLower(k) {
		case "zeit":
			s, ok := obj[k].(string)
			if !ok {
				return j, fmt.Errorf(".zeit: muss ein Text sein (\"0 2 * * *\"), nicht %s", describe(obj[k]))
			}
			j.Zeit = strings.TrimSpace(s)
		case "befehl":
			words, err := commandWords(obj[k])
			if err != nil {
				return j, fmt.Errorf(".befehl: %s", err)
			}
			j.Befehl = words
		default:
			return j, fmt.Errorf(".%s: unbekannter Schlüssel (bekannt: %s)", k, strings.Join(jobKeys, ", "))
		}
	}
	switch {
	case len(j.Befehl) == 0:
		return j, fmt.Errorf(".befehl: fehlt (z. B. \"export\" oder \"verify --with-db\")")
	case j.Zeit == "":
		return j, fmt.Errorf(".zeit: fehlt (z. B. \"0 2 * * *\")")
	}
	if _, err := schedule.Parse(j.Zeit); err != nil {
		return j, fmt.Errorf(".zeit: %s", err)
	}
	return j, nil
}

// commandWords is befehl as words: a text split at spaces, or a list of texts.
func commandWords(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return strings.Fields(x), nil
	case []any:
		words := make([]string, len(x))
		for i, w := range x {
			s, ok := w.(string)
			if !ok {
				return nil, fmt.Errorf("[%d] muss ein Text sein, nicht %s", i, describe(w))
			}
			words[i] = s
		}
		return words, nil
	}
	return nil, fmt.Errorf("muss ein Text (\"verify --with-db\") oder eine Liste von Texten sein, nicht %s", describe(v))
}

// cronLine reads one crontab line: the time (five fields, or an @-word,
// "@every DAUER", each optionally after "CRON_TZ=Zone"), then the command.
func cronLine(line string) (Job, error) {
	f := strings.Fields(line)
	n := 5
	tz := 0
	if len(f) > 0 && strings.HasPrefix(f[0], "CRON_TZ=") || len(f) > 0 && strings.HasPrefix(f[0], "TZ=") {
		tz = 1
	}
	if len(f) > tz && strings.HasPrefix(f[tz], "@") {
		n = 1
		if f[tz] == "@every" {
			n = 2
		}
	}
	n += tz
	if len(f) <= n {
		return Job{}, fmt.Errorf("%q: erwartet Zeit und Befehl wie in crontab, z. B. \"0 2 * * * export\"", strings.TrimSpace(line))
	}
	j := Job{Zeit: strings.Join(f[:n], " "), Befehl: f[n:]}
	if _, err := schedule.Parse(j.Zeit); err != nil {
		return j, err
	}
	return j, nil
}

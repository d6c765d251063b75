package monitor

import (
	"fmt"
	"strings"
	"time"
)

// Verdict is what `status` says about the last run of a command.
type Verdict struct {
	OK      bool          `json:"ok"`
	Command string        `json:"command"`
	Site    string        `json:"site,omitempty"`
	MaxAge  time.Duration `json:"-"`
	Age     time.Duration `json:"-"`
	Reason  string        `json:"reason"` // one German line
	// Warnings: the run was healthy but ended with this many warnings
	// (exit code 3, Run.OnlyWarnings).
	Warnings int  `json:"warnings,omitempty"`
	Run      *Run `json:"last_run,omitempty"`

	MaxAgeSeconds float64 `json:"max_age_seconds"`       // 0: any age
	AgeSeconds    float64 `json:"age_seconds,omitempty"` // since the last run finished
}

// Query says which run Check judges and how.
type Query struct {
	Command string
	Site    string // "" = the top level
	// ArchiveID selects the run in the configured archive (see
	// Run.ArchiveID); "" = the latest run in any archive. Archive is
	// its display form for messages.
	ArchiveID, Archive string
	MaxAge             time.Duration // 0: any age
	// Strict: a run that ended with warnings only (exit code 3, see
	// Run.OnlyWarnings) is a failure too.
	Strict bool
}

// Check judges the last run of command for site in s (nil: no file yet):
// healthy when it ended with exit code 0 and finished within maxAge before
// now (maxAge 0: any age).
func Check(s *State, command, site string, maxAge time.Duration, now time.Time) Verdict {
	return CheckQuery(s, Query{Command: command, Site: site, MaxAge: maxAge}, now)
}

// CheckQuery judges the run q names in s (nil: no file yet): healthy when
// it ended with exit code 0, or with warnings only unless q.Strict, and
// finished within q.MaxAge before now.
func CheckQuery(s *State, q Query, now time.Time) Verdict {
	command, site, maxAge := q.Command, q.Site, q.MaxAge
	v := Verdict{Command: command, Site: site, MaxAge: maxAge, MaxAgeSeconds: maxAge.Seconds()}
	what := "letzter " + Title(command)
	if site != "" {
		what += " (Standort " + site + ")"
	}
	var run *Run
	if s != nil {
		if q.ArchiveID != "" {
			run = s.FindArchive(command, site, q.ArchiveID)
		} else {
			run = s.Find(command, site)
		}
	}
	if run == nil {
		v.Reason = fmt.Sprintf("FEHLER: noch kein %s protokolliert", Title(command))
		if site != "" {
			v.Reason += " für Standort " + site
		}
		if q.Archive != "" {
			v.Reason += " im Archiv " + q.Archive
		}
		if s != nil {
			archives := s.Archives(command, site)
			switch others := s.Sites(command); {
			case q.ArchiveID != "" && len(archives) > 0:
				v.Reason += fmt.Sprintf(" (vorhanden für: %s; geprüft wird das konfigurierte Archiv, ein anderes mit --archiv)", strings.Join(archives, ", "))
			case len(others) > 0:
				v.Reason += fmt.Sprintf(" (vorhanden für: %s; --site NAME oder --all-sites)", siteList(others))
			}
		}
		return v
	}
	v.Run = run
	v.Age = now.Sub(run.Finished)
	v.AgeSeconds = v.Age.Seconds()
	when := run.Finished.Local().Format("2006-01-02 15:04:05")
	switch {
	case run.OnlyWarnings() && q.Strict:
		v.Reason = fmt.Sprintf("FEHLER (--strict): %s am %s mit %d Warnungen beendet, Exit-Code %d", what, when, run.Warnings, run.ExitCode)
		if run.Summary != "" {
			v.Reason += ": " + run.Summary
		}
	case !run.Succeeded() && !run.OnlyWarnings():
		reason := run.Error
		if reason == "" {
			reason = run.Summary
		}
		v.Reason = fmt.Sprintf("FEHLER: %s am %s fehlgeschlagen, Exit-Code %d", what, when, run.ExitCode)
		if reason != "" {
			v.Reason += ": " + reason
		}
		if run.LastSuccess != nil {
			v.Reason += fmt.Sprintf(" (letzter Erfolg: %s, vor %s)", run.LastSuccess.Local().Format("2006-01-02 15:04:05"), Age(now.Sub(*run.LastSuccess)))
		} else {
			v.Reason += " (noch nie erfolgreich)"
		}
	case maxAge > 0 && v.Age > maxAge:
		v.Reason = fmt.Sprintf("FEHLER: %s am %s ist %s alt, älter als %s", what, when, Age(v.Age), Age(maxAge))
	case run.OnlyWarnings():
		v.OK, v.Warnings = true, run.Warnings
		v.Reason = fmt.Sprintf("OK mit Warnungen: %d; %s am %s, vor %s", run.Warnings, what, when, Age(v.Age))
		if run.Summary != "" {
			v.Reason += ": " + run.Summary
		}
		v.Reason += " (Details im Log; mit --strict ein Fehler)"
	default:
		v.OK = true
		v.Reason = fmt.Sprintf("OK: %s erfolgreich am %s, vor %s", what, when, Age(v.Age))
		if run.Summary != "" {
			v.Reason += ": " + run.Summary
		}
	}
	return v
}

// Title is the command's name as the summary lines write it: "Export".
func Title(command string) string {
	if command == "" {
		return ""
	}
	return strings.ToUpper(command[:1]) + command[1:]
}

// Age renders a duration for people: "45s", "12m", "3h12m", "2d3h".
func Age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}

func siteList(sites []string) string {
	out := make([]string, len(sites))
	for i, s := range sites {
		if s == "" {
			s = "ohne Standort"
		}
		out[i] = s
	}
	return strings.Join(out, ", ")
}

package pdf

import (
	"path"
	"regexp"
	"strings"
)

var (
	yearRe  = regexp.MustCompile(`^[0-9]{4}$`)
	orderRe = regexp.MustCompile(`^[0-9]{6}$`)
	driveRe = regexp.MustCompile(`^[A-Za-z]:`)
)

// Candidates returns where the PDF of an order may lie below the PDF tree,
// best first, as clean slash paths relative to the tree's root: the path as
// given when it lies below the tree, then its trailing
// <JJJJ>/<auftrag_nr>/<file name>. root is the tree's own path as the
// application may have written it (a local folder such as
// /srv/archiv or D:\archiv; "" if unknown): an absolute file_path below it
// counts as lying below the tree. No candidate ever leaves the tree: ".."
// is refused. An empty result means the path names no place in the tree.
func Candidates(filePath, auftragNr, root string) []string {
	var out []string
	add := func(p string) {
		if p == "" || p == "." {
			return
		}
		for _, c := range out {
			if c == p {
				return
			}
		}
		out = append(out, p)
	}
	fp := strings.TrimSpace(filePath)
	if fp == "" {
		return nil
	}
	slashed := strings.ReplaceAll(fp, `\`, "/")
	abs := strings.HasPrefix(slashed, "/") || driveRe.MatchString(slashed)
	switch {
	case !abs:
		add(inside(slashed))
	case root != "":
		r := strings.TrimRight(strings.ReplaceAll(root, `\`, "/"), "/")
		if rest, ok := cutPrefixFold(slashed, r+"/", driveRe.MatchString(slashed) || strings.HasPrefix(slashed, "//")); ok {
			add(inside(rest))
		}
	}
	segs := strings.FieldsFunc(slashed, func(r rune) bool { return r == '/' })
	if n := len(segs); n >= 3 && yearRe.MatchString(segs[n-3]) &&
		(segs[n-2] == auftragNr || auftragNr == "" && orderRe.MatchString(segs[n-2])) &&
		segs[n-1] != ".." && segs[n-1] != "." {
		add(segs[n-3] + "/" + segs[n-2] + "/" + segs[n-1])
	}
	return out
}

// Position is an order's place in a PDF tree as restore writes it:
// <JJJJ>/<auftrag_nr>/<file name> from the trailing part of file_path,
// else year (the order's folder year) / auftrag_nr / the path's last
// element. "" when neither gives a name.
func Position(filePath, auftragNr, year string) string {
	c := Candidates(filePath, auftragNr, "")
	if n := len(c); n > 0 && strings.Count(c[n-1], "/") == 2 {
		if segs := strings.Split(c[n-1], "/"); yearRe.MatchString(segs[0]) && segs[1] == auftragNr {
			return c[n-1]
		}
	}
	slashed := strings.ReplaceAll(strings.TrimSpace(filePath), `\`, "/")
	base := path.Base(slashed)
	if base == "." || base == "/" || base == ".." || base == "" || !yearRe.MatchString(year) || !orderRe.MatchString(auftragNr) {
		return ""
	}
	return year + "/" + auftragNr + "/" + base
}

// inside cleans a relative slash path and returns it, or "" when it
// would leave the tree or names a drive.
func inside(p string) string {
	if driveRe.MatchString(p) {
		return ""
	}
	c := path.Clean("/" + p)[1:]
	// Clean of "/"+p can never go above "/", but a path that had ".."
	// segments meant something outside: refuse it.
	for _, s := range strings.Split(p, "/") {
		if s == ".." {
			return ""
		}
	}
	return c
}

// cutPrefixFold cuts prefix off s; with fold (Windows paths) in any letter
// case.
func cutPrefixFold(s, prefix string, fold bool) (string, bool) {
	if len(s) < len(prefix) {
		return "", false
	}
	if fold {
		if strings.EqualFold(s[:len(prefix)], prefix) {
			return s[len(prefix):], true
		}
		return "", false
	}
	return strings.CutPrefix(s, prefix)
}

package backup

import (
	"errors"
	"regexp"
	"strings"

	"werkstatt-backup/codec"
)

var (
	yearRe  = regexp.MustCompile(`^[0-9]{4}$`)
	orderRe = regexp.MustCompile(`^[0-9]{6}$`)
)

// Folder returns the archive folder of a record, "<YYYY>/<auftrag_nr>"
// (SPEC 2.4): the folder that holds the order's PDF when file_path ends in
// …/<YYYY>/<auftrag_nr>/<file>, else the year of datum, else of created_at.
// The result is built only from digits, so no data can make it leave the
// archive root.
func Folder(id codec.Identity) (string, error) {
	if !orderRe.MatchString(id.AuftragNr) {
		return "", errors.New("auftrag_nr ist nicht 6-stellig, kein Ordner ableitbar")
	}
	segs := strings.FieldsFunc(id.FilePath, func(r rune) bool { return r == '/' || r == '\\' })
	if n := len(segs); n >= 3 && yearRe.MatchString(segs[n-3]) && segs[n-2] == id.AuftragNr {
		return segs[n-3] + "/" + id.AuftragNr, nil
	}
	for _, s := range []string{id.Datum, id.CreatedAt} {
		if len(s) >= 4 && yearRe.MatchString(s[:4]) {
			return s[:4] + "/" + id.AuftragNr, nil
		}
	}
	return "", errors.New("kein Jahr ableitbar: file_path endet nicht auf <JJJJ>/<auftrag_nr>/<Datei>, datum und created_at sind leer")
}

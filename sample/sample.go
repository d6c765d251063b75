// Package sample generates realistic, deterministic workshop orders and a
// sample database for the demo command.
package sample

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"werkstatt-backup/codec"
	v1 "werkstatt-backup/codec/v1"
)

// Columns is the column order of backup schema 1.0.
var Columns = codec.Names(v1.Codec{})

// MaxRows is the largest n Rows accepts: auftrag_nr has six digits.
const MaxRows = 1000000

// isoSeconds is the layout of created_at and updated_at.
const isoSeconds = "2006-01-02T15:04:05"

// firstDay and days span the order dates, 2019-01-01 to 2024-12-31.
var (
	firstDay = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	days     = int(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Sub(firstDay).Hours() / 24)
	// newForm is the day the workshop switched to the new order form.
	newForm = time.Date(2021, 7, 1, 0, 0, 0, 0, time.UTC)
)

// Rows returns n deterministic sample orders for seed, each aligned with
// Columns. record_id runs from 1 to n; auftrag_nr values are unique six
// digit numbers. n must not exceed MaxRows.
func Rows(n int, seed uint64) [][]string {
	if n > MaxRows {
		panic(fmt.Sprintf("sample.Rows: n = %d > %d", n, MaxRows))
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// nr(i) = (a*i + b) mod 10^6 is a permutation when a is coprime to 10.
	a := 1 + 2*r.IntN(MaxRows/2)
	for a%5 == 0 {
		a += 2
	}
	b := r.IntN(MaxRows)
	out := make([][]string, 0, max(n, 0))
	for i := range n {
		nr := fmt.Sprintf("%06d", (a*i+b)%MaxRows)
		out = append(out, row(r, i+1, nr))
	}
	return out
}

// row generates one order.
func row(r *rand.Rand, id int, nr string) []string {
	day := firstDay.AddDate(0, 0, r.IntN(days))
	if day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1) // closed on Sundays
	}
	created := day.Add(time.Duration(7*3600+r.IntN(11*3600)) * time.Second)
	updated := created
	if r.IntN(10) >= 4 { // edited again on a later working day
		updated = day.AddDate(0, 0, 1+r.IntN(45)).Add(time.Duration(7*3600+r.IntN(11*3600)) * time.Second)
	}
	form := "neu"
	if day.Before(newForm) {
		form = "alt"
	}
	kundenNr, vin, keywords := fmt.Sprintf("K%05d", r.IntN(100000)), vinFor(r), keywordsJSON(r)
	complete := "1"
	if r.IntN(10) == 0 {
		complete = "0"
	}
	if r.IntN(20) == 0 { // incomplete record: some optional fields missing
		complete = "0"
		switch r.IntN(4) {
		case 0:
			kundenNr = ""
		case 1:
			vin = ""
		case 2:
			kundenNr, keywords = "", ""
		default:
			kundenNr, vin, keywords = "", "", ""
		}
	}
	return []string{
		strconv.Itoa(id), nr, customer(r), kundenNr, plate(r), vin,
		day.Format(time.DateOnly), form, keywords,
		"archiv/" + strconv.Itoa(day.Year()) + "/" + nr + "/" + nr + "_Auftrag.pdf",
		pdfHash(nr), complete, created.Format(isoSeconds), updated.Format(isoSeconds),
	}
}

// pdfHash is the sha256 hex of the order's placeholder PDF.
func pdfHash(nr string) string {
	sum := sha256.Sum256(PDF(nr))
	return hex.EncodeToString(sum[:])
}

// pick returns a random element of list.
func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

var (
	firstNames = []string{"Hans", "Peter", "Jürgen", "Klaus", "Sabine", "Ursula", "Jörg", "Björn",
		"Günter", "Käthe", "Anna", "Lena", "Lukas", "Maximilian", "Sophie", "Mehmet", "Renée", "Uwe"}
	lastNames = []string{"Müller", "Schäfer", "Schmidt", "Schneider", "Fischer", "Weber", "Meier",
		"Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Krüger", "Möller", "Jäger", "Groß",
		"Weiß", "Öztürk", "Strauß", "Köhler", "Lange", "Fuchs"}
	companies = []string{"Bäcker GmbH", "Spedition %s GmbH & Co. KG", "%s & Söhne KG", "Taxi %s",
		"Elektro %s e.K.", "Pflegedienst Sonnenschein gGmbH", "Stadtwerke Mühlheim", "%s Bau GmbH"}
	quoted = []string{`Autohaus "Zum Stern"`, `Gaststätte "Zur Linde" Inh. %s`, `Blumen "Rosengarten" OHG`}
)

// customer returns a customer name: a person, "Last, First", or a company.
func customer(r *rand.Rand) string {
	tmpl := "%s"
	switch p := r.IntN(100); {
	case p < 60:
		return pick(r, firstNames) + " " + pick(r, lastNames)
	case p < 78:
		return pick(r, lastNames) + ", " + pick(r, firstNames)
	case p < 97:
		tmpl = pick(r, companies)
	default:
		tmpl = pick(r, quoted)
	}
	if strings.Contains(tmpl, "%s") {
		return fmt.Sprintf(tmpl, pick(r, lastNames))
	}
	return tmpl
}

// cities are registration district codes, a few with umlauts.
var cities = []string{"B", "M", "HH", "K", "F", "S", "HB", "D", "DO", "E", "BN", "KA", "MA",
	"N", "H", "L", "DD", "HD", "FR", "OF", "GÖ", "TÜ", "LÖ", "RT", "ES", "LB"}

// plate returns a German number plate like "B-AB 1234" or "M-XY 987E";
// about 2% carry a stray leading space, as typed into the web form.
func plate(r *rand.Rand) string {
	const letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
	city := pick(r, cities)
	var b strings.Builder
	if r.IntN(50) == 0 {
		b.WriteByte(' ')
	}
	b.WriteString(city)
	b.WriteByte('-')
	for range 1 + r.IntN(2) {
		b.WriteByte(letters[r.IntN(len(letters))])
	}
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(1 + r.IntN([]int{9, 99, 999, 9999}[r.IntN(4)])))
	switch r.IntN(40) {
	case 0:
		b.WriteByte('E')
	case 1:
		b.WriteByte('H')
	}
	return b.String()
}

// vinChars are the characters a VIN may hold (no I, O, Q).
const vinChars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"

// wmis are manufacturer codes (VW, BMW, Mercedes, Audi, Ford, Opel, Renault,
// Fiat, Škoda, Seat).
var wmis = []string{"WVW", "WBA", "WDD", "WAU", "WF0", "W0L", "VF1", "ZFA", "TMB", "VSS"}

// vinFor returns a 17-character VIN in the European "ZZZ" style.
func vinFor(r *rand.Rand) string {
	const years = "56789ABCDEFGHJKLMNPR"
	var b strings.Builder
	b.WriteString(pick(r, wmis))
	b.WriteString("ZZZ")
	b.WriteByte(vinChars[r.IntN(len(vinChars))])
	b.WriteByte(vinChars[r.IntN(len(vinChars))])
	b.WriteByte('Z')
	b.WriteByte(years[r.IntN(len(years))])
	b.WriteByte(vinChars[r.IntN(len(vinChars))])
	fmt.Fprintf(&b, "%06d", r.IntN(1000000))
	return b.String()
}

// keywords are the terms the web app finds in an order's PDF.
var keywords = []string{"Garantie", "Inspektion", "Ölwechsel", "Bremsen", "Reifenwechsel",
	"HU/AU", "Klimaservice", "Zahnriemen", "Unfallschaden", "Kupplung"}

// keywordsJSON returns "" or an object like {"Garantie": [2], "Ölwechsel": [1]}
// mapping keywords to the PDF pages they occur on, spaced like Python's
// json.dumps.
func keywordsJSON(r *rand.Rand) string {
	if r.IntN(10) < 3 {
		return ""
	}
	var parts []string
	for _, k := range keywords {
		if len(parts) < 3 && r.IntN(len(keywords)) < 2 {
			pages := []string{strconv.Itoa(1 + r.IntN(2))}
			if r.IntN(3) == 0 {
				pages = append(pages, strconv.Itoa(3+r.IntN(2)))
			}
			parts = append(parts, strconv.Quote(k)+": ["+strings.Join(pages, ", ")+"]")
		}
	}
	if len(parts) == 0 {
		parts = append(parts, `"Inspektion": [1]`)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

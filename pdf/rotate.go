package pdf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"werkstatt-backup/storage"
)

// Files of the rotating share in the archive's root.
const (
	RotationFile = "_pdfpruefung.json"
	RotationTemp = "_pdfpruefung.tmp.json"
)

// Cycle is how long the default share takes to read every PDF once.
const Cycle = 30 * 24 * time.Hour

// Policy is how many PDFs a verify without --pdfs reads (config key
// pdf_check): all, a fixed share per run, or a share that reads every PDF
// at least once per Within (the default: Cycle). The zero Policy reads
// none ("aus").
type Policy struct {
	All    bool
	Share  float64       // 0 < Share <= 1: this share of all PDFs per run
	Within time.Duration // > 0: every PDF at least once in this time
}

// DefaultPolicy reads every PDF once per Cycle.
var DefaultPolicy = Policy{Within: Cycle}

// Off reports whether p reads no PDF.
func (p Policy) Off() bool { return !p.All && p.Share <= 0 && p.Within <= 0 }

func (p Policy) String() string {
	switch {
	case p.All:
		return "alle"
	case p.Share > 0:
		return strconv.FormatFloat(p.Share*100, 'g', 6, 64) + "%"
	case p.Within > 0:
		return fmt.Sprintf("jedes PDF in %d Tagen", int(p.Within/(24*time.Hour)))
	}
	return "aus"
}

// ParsePolicy reads pdf_check: "alle", "aus", a percentage ("5%", "5 %")
// or "" for the default (every PDF once in 30 days).
func ParsePolicy(s string) (Policy, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "":
		return DefaultPolicy, nil
	case "alle", "all", "100%":
		return Policy{All: true}, nil
	case "aus", "off", "0", "0%":
		return Policy{}, nil
	}
	num, ok := strings.CutSuffix(t, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if !ok || err != nil || f != f || f <= 0 || f > 100 {
		return Policy{}, fmt.Errorf("kein gültiger Wert %q: \"alle\", \"aus\" oder ein Anteil wie \"5%%\" (ohne Angabe: jedes PDF mindestens einmal in 30 Tagen)", s)
	}
	return Policy{Share: f / 100}, nil
}

// Rotation is where the rotating share stands, kept in the archive
// (RotationFile) so that every machine running verify continues it.
type Rotation struct {
	Version int `json:"version"`
	// CycleStart: when the current round over all PDFs began.
	CycleStart time.Time `json:"zyklus_beginn"`
	// Next: the smallest record_id not yet read in this round; the
	// orders are read in record_id order.
	Next int64 `json:"naechste_record_id"`
	// LastRun: when verify last read its share (the interval between runs
	// decides the default share).
	LastRun time.Time `json:"letzter_lauf"`
}

// LoadRotation reads the rotation state; a missing file is a new start.
func LoadRotation(ctx context.Context, a *storage.Archive) (Rotation, error) {
	data, err := a.ReadFile(ctx, RotationFile, 1<<16)
	if errors.Is(err, iofs.ErrNotExist) {
		return Rotation{Version: 1}, nil
	}
	if err != nil {
		return Rotation{Version: 1}, err
	}
	var r Rotation
	if err := json.Unmarshal(data, &r); err != nil {
		return Rotation{Version: 1}, fmt.Errorf("%s: kein gültiges JSON: %w", RotationFile, err)
	}
	return r, nil
}

// Save stores the rotation state atomically.
func (r Rotation) Save(ctx context.Context, a *storage.Archive) error {
	r.Version = 1
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return a.Replace(ctx, RotationFile, RotationTemp, append(data, '\n'))
}

// Plan picks the orders this run reads under p and returns them with the
// state to save afterwards. ids are the record_ids of all orders with a
// PDF; the result holds indices into ids, in record_id order. With All
// every order is read; with Off none.
//
// A round reads the orders in record_id order, from Next on. A fixed share
// reads ceil(Share × all) per run. The default share divides what is left
// of the round by the runs left until CycleStart + Cycle, judging the
// interval between runs from the last one (one day for the first): a
// nightly verify reads 1/30 of the PDFs, a weekly one 1/5, and the last
// run before the round's end reads all that are left. The run that
// finishes a round begins the next one (orders added meanwhile come in it).
func (r Rotation) Plan(p Policy, ids []int64, now time.Time) ([]int, Rotation) {
	next := r
	next.Version = 1
	if p.Off() {
		return nil, r
	}
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		switch {
		case ids[a] < ids[b]:
			return -1
		case ids[a] > ids[b]:
			return 1
		}
		return 0
	})
	if p.All {
		next.LastRun = now
		return order, next
	}
	start := 0
	for start < len(order) && ids[order[start]] < r.Next {
		start++
	}
	if start >= len(order) || r.CycleStart.IsZero() || now.Before(r.CycleStart) {
		// A round is done (or none began, or the clock went back): a new one.
		start, next.CycleStart, next.Next = 0, now, 0
	}
	remaining := order[start:]
	var n int
	switch {
	case p.Share > 0:
		n = int(math.Ceil(p.Share * float64(len(order))))
	default:
		interval := 24 * time.Hour
		if !r.LastRun.IsZero() && now.After(r.LastRun) {
			interval = now.Sub(r.LastRun)
		}
		left := next.CycleStart.Add(p.Within).Sub(now)
		runs := 1
		if left > 0 {
			runs = max(1, int(float64(left)/float64(interval)))
		}
		n = int(math.Ceil(float64(len(remaining)) / float64(runs)))
	}
	n = max(1, min(n, len(remaining)))
	if len(remaining) == 0 {
		n = 0
	}
	picked := remaining[:n]
	switch {
	case n == len(remaining):
		// The round is done: the next run begins the next one, whose
		// Cycle counts from now, so that what this round read first is
		// read again within Cycle.
		next.Next, next.CycleStart = 0, now
	default:
		next.Next = ids[picked[n-1]] + 1
	}
	next.LastRun = now
	return picked, next
}

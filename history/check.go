package history

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"slices"
)

// Damage is one problem Check found.
type Damage struct {
	Path   string   // the history file concerned
	Reason string   // German, for the report
	Gens   []uint64 // generations that cannot be restored because of it (none: harmless leftover)
	// Unreadable: the file could not be read (network, rights, I/O), so
	// nothing is known to be wrong with it; verify reports it as "could not
	// check" (exit 1), not as damage (exit 3).
	Unreadable bool
	// Attacked: the file's current version is missing or does not prove
	// itself, and an older version that does was read instead (a store
	// that keeps versions); RestoreVersions makes it current again.
	Attacked bool
	// Missing: Gens are generations that are gone (a gap in the chain, or
	// the newest ones the head marker names), not ones damaged by this file.
	Missing bool
}

func (d Damage) String() string {
	if len(d.Gens) == 0 {
		return d.Path + ": " + d.Reason
	}
	return fmt.Sprintf("%s: %s (betrifft Generation %s)", d.Path, d.Reason, seqList(d.Gens))
}

func seqList(seqs []uint64) string {
	const show = 10
	var b []byte
	for i, s := range seqs {
		if i == show {
			return fmt.Sprintf("%s und %d weitere", b, len(seqs)-show)
		}
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "%d", s)
	}
	return string(b)
}

// Check reads every generation and every pack and returns every damage it
// finds: unreadable or inconsistent generation files, broken chains,
// missing or unreadable packs, contents missing or not matching their
// SHA-256, and (without generations) leftovers of interrupted runs. The
// error is only for a failure to look at all (the folder unreadable,
// ctx done).
func (s *Store) Check(ctx context.Context) ([]Damage, error) {
	l, err := s.scan(ctx)
	if err != nil {
		return nil, err
	}
	var out []Damage
	for _, t := range l.temps {
		out = append(out, Damage{Path: t, Reason: "temporäre Datei eines abgebrochenen Laufs (der nächste Export räumt sie auf)"})
	}
	for _, u := range l.unfinished {
		out = append(out, Damage{Path: u, Reason: "unvollständige Datei eines abgebrochenen Laufs (neuer als " + HeadFile + ", wird nicht benutzt)"})
	}
	for _, u := range l.unknown {
		out = append(out, Damage{Path: u, Reason: "unbekannte Datei in der Historie"})
	}
	for _, d := range l.dupes {
		out = append(out, Damage{Path: d.file, Reason: "zweite Datei für dieselbe Generation (wird nicht benutzt)"})
	}
	// Which pack contents each generation needs, as runs of consecutive
	// generations (a content usually stays for many), so that a long
	// history of a large table does not need an entry per content and
	// generation.
	type need struct {
		hash Hash
		size int64
	}
	needs := map[uint64]map[need][]span{} // pack → content → generations
	broken := map[uint64]bool{}
	parents := map[uint64]uint64{}
	index := map[uint64]int{}
	for i, ref := range l.gens {
		index[ref.seq] = i
	}
	idents := map[uint64]Hash{}
	links := map[uint64]*genFile{}
	err = s.walk(ctx, l, func(ref genRef, g *genFile, entries []Entry, id Hash, err error) error {
		if g != nil && !g.full() {
			parents[ref.seq] = g.Parent
		}
		if g != nil {
			links[ref.seq] = g
		}
		if err == nil {
			idents[ref.seq] = id
		}
		if err != nil {
			var fe *FileError
			p := ref.file
			if errors.As(err, &fe) {
				p = fe.Path
			}
			broken[ref.seq] = true
			reason := err.Error()
			if errors.As(err, &fe) {
				reason = fe.Err.Error()
			}
			// A broken parent breaks its children too: named once, at the
			// root cause.
			if g != nil && !g.full() && broken[g.Parent] {
				return nil
			}
			out = append(out, Damage{Path: p, Reason: reason, Gens: []uint64{ref.seq}, Unreadable: unreadable(err)})
			return nil
		}
		for _, e := range entries {
			m := needs[e.Pack]
			if m == nil {
				m = map[need][]span{}
				needs[e.Pack] = m
			}
			k := need{e.Hash, e.Size}
			m[k] = extend(m[k], index[ref.seq])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Generations whose chain passes through a broken one.
	for i := range out {
		if len(out[i].Gens) == 1 {
			out[i].Gens = descendants(out[i].Gens[0], l, parents)
		}
	}
	out = append(out, s.checkChain(ctx, l, links, idents)...)

	packs := slices.Sorted(func(yield func(uint64) bool) {
		for p := range needs {
			if !yield(p) {
				return
			}
		}
	})
	for _, p := range packs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := l.packPath(p)
		m := needs[p]
		seen := map[need]bool{}
		var (
			err    error
			broken []error
		)
		for _, pr := range l.packs[p] {
			e := s.readPack(ctx, p, pr, func(h Hash, data []byte) error {
				seen[need{h, int64(len(data))}] = true
				return nil
			})
			if e != nil {
				broken = append(broken, e)
			}
		}
		complete := true
		for k := range m {
			complete = complete && seen[k]
		}
		switch {
		case len(l.packs[p]) == 0:
			err = &FileError{Path: name, Op: "lesen", Err: errorf(iofs.ErrNotExist, "Pack der Generation %d fehlt", p)}
		case len(broken) > 0 && !complete:
			err = broken[0]
		case len(broken) > 0:
			// A second file of the pack (a forget's repack, stopped) is
			// damaged; the other holds everything needed.
			for _, b := range broken {
				var fe *FileError
				if errors.As(b, &fe) {
					out = append(out, Damage{Path: fe.Path, Reason: "zweite Datei des Packs unvollständig oder beschädigt (wird nicht gebraucht): " + fe.Err.Error()})
				}
			}
		}
		if err != nil {
			var fe *FileError
			reason := err.Error()
			if errors.As(err, &fe) {
				reason = fe.Err.Error()
				if fe.Op != "" {
					reason = fe.Op + ": " + reason
				}
			}
			out = append(out, Damage{Path: name, Reason: reason, Gens: gensOf(l, m, func(need) bool { return true }), Unreadable: unreadable(err)})
			continue
		}
		missing := 0
		for k := range m {
			if !seen[k] {
				missing++
			}
		}
		if missing > 0 {
			out = append(out, Damage{Path: name, Reason: fmt.Sprintf("%d benötigte Inhalte fehlen", missing),
				Gens: gensOf(l, m, func(k need) bool { return !seen[k] })})
		}
	}
	for _, a := range s.Attacked() {
		out = append(out, Damage{Path: a.Path, Attacked: true, Reason: a.String()})
	}
	return out, nil
}

// span is a run of generations by their position in the listing.
type span struct{ from, to int }

// extend adds generation i (visited in order) to spans.
func extend(spans []span, i int) []span {
	if n := len(spans); n > 0 && spans[n-1].to >= i-1 {
		spans[n-1].to = max(spans[n-1].to, i)
		return spans
	}
	return append(spans, span{i, i})
}

// gensOf collects the generations of the contents sel picks, sorted.
func gensOf[K comparable](l *listing, m map[K][]span, sel func(K) bool) []uint64 {
	set := map[int]bool{}
	for k, spans := range m {
		if sel(k) {
			for _, sp := range spans {
				for i := sp.from; i <= sp.to; i++ {
					set[i] = true
				}
			}
		}
	}
	out := make([]uint64, 0, len(set))
	for i := range set {
		out = append(out, l.gens[i].seq)
	}
	slices.Sort(out)
	return out
}

// descendants returns seq and every generation whose delta chain leads to it.
func descendants(seq uint64, l *listing, parents map[uint64]uint64) []uint64 {
	in := map[uint64]bool{seq: true}
	out := []uint64{seq}
	for _, ref := range l.gens {
		if p, ok := parents[ref.seq]; ok && in[p] && !in[ref.seq] {
			in[ref.seq] = true
			out = append(out, ref.seq)
		}
	}
	return out
}

// unreadable reports whether err is a file that could not be read, rather
// than one that is missing or was read and found damaged.
func unreadable(err error) bool {
	var fe *FileError
	return errors.As(err, &fe) && fe.Op == "lesen" && !isNotExist(err)
}

// checkChain checks the links between the generations (format 2) and the
// head marker against the newest one: a generation a link or the marker
// names that is missing or another one is damage naming it.
func (s *Store) checkChain(ctx context.Context, l *listing, gens map[uint64]*genFile, idents map[uint64]Hash) []Damage {
	var out []Damage
	for i, ref := range l.gens {
		g := gens[ref.seq]
		if _, loaded := idents[ref.seq]; !loaded || g == nil || !g.V2 || g.Prev == 0 {
			continue // a generation that does not load is named already
		}
		var before uint64
		if i > 0 {
			before = l.gens[i-1].seq
		}
		pref, ok := l.find(g.Prev)
		switch {
		case !ok && g.Prev > before:
			out = append(out, Damage{Path: ref.file, Gens: []uint64{g.Prev}, Missing: true,
				Reason: fmt.Sprintf("Generation %d fehlt (Generation %d folgt auf sie)", g.Prev, ref.seq)})
		case !ok:
			// A link to a generation forget removed while it rewrote this one
			// (an interrupted forget): nothing is lost.
		case g.PrevHash != (Hash{}):
			if id, proven := idents[g.Prev]; proven && id != g.PrevHash {
				out = append(out, Damage{Path: pref.file, Gens: []uint64{g.Prev},
					Reason: fmt.Sprintf("ist nicht die Generation %d, auf die Generation %d folgt (ersetzt)", g.Prev, ref.seq)})
			}
		}
	}
	hd, ok, err := s.readHead(ctx)
	switch {
	case err != nil:
		out = append(out, Damage{Path: HeadFile, Reason: err.Error(), Unreadable: unreadable(err)})
	case !ok || hd.Seq == 0:
	default:
		newest := uint64(0)
		if h, ok := l.head(); ok {
			newest = h.seq
		}
		if hd.Seq > newest {
			lost := &LostError{Head: hd.Seq, Newest: newest, Reason: "verschwunden oder gekürzt"}
			out = append(out, Damage{Path: HeadFile, Gens: []uint64{hd.Seq}, Missing: true, Reason: lost.Error()})
		} else if ref, ok := l.find(hd.Seq); ok {
			if id, proven := idents[hd.Seq]; proven && id != hd.Hash {
				out = append(out, Damage{Path: ref.file, Gens: []uint64{hd.Seq},
					Reason: fmt.Sprintf("ist nicht die Generation %d, die %s als neueste nennt (ersetzt)", hd.Seq, HeadFile)})
			}
		}
	}
	return out
}

package history

import (
	"context"
	"fmt"
	"path"
	"slices"
)

// ForgetResult says what Forget decided and did.
type ForgetResult struct {
	Decisions     []Decision       // every generation, newest first
	Removed       []GenerationInfo // the generations forgotten (or to forget, dry run)
	Rewritten     []uint64         // kept generations re-encoded against their new predecessor
	PacksRemoved  []string         // pack files no remaining generation refers to
	PacksRepacked []string         // pack files rewritten without contents no generation needs
	// Retained are the files forget would have removed or rewritten but
	// left because the store's Object Lock still retains them (or a
	// retained generation needs them); a later forget removes them.
	Retained []string
}

// Forget applies p: it removes the generations p does not keep, then the
// pack files no remaining generation refers to. With dryRun it only
// decides. The caller holds the archive lock.
//
// Crash safety: a kept generation whose predecessor goes is first
// rewritten as a delta against (or a full copy of) the kept generation
// before it, linked to that one: a new file (same sequence number, archive
// time and identity, a new id), made durable before the file it replaces
// is deleted, and every rewrite before any generation is deleted (a crash
// between leaves two files of one generation, both whole, and the next
// Forget removes the older); generations are then deleted newest first,
// so every remaining one always finds its chain; packs go last, and only
// those no remaining generation refers to. A crash at any point leaves
// every kept generation loadable with the same content, and the next
// Forget finishes the work.
func (s *Store) Forget(ctx context.Context, p Retention, dryRun bool) (ForgetResult, error) {
	var res ForgetResult
	if err := p.Validate(); err != nil {
		return res, err
	}
	l, err := s.scan(ctx)
	if err != nil {
		return res, err
	}
	infos := make([]GenerationInfo, 0, len(l.gens))
	gens := make(map[uint64]*genFile, len(l.gens))
	for _, ref := range slices.Clone(l.gens) {
		g, ref, err := s.readGenL(ctx, l, ref)
		if err != nil {
			return res, fmt.Errorf("Historie beschädigt, forget ändert nichts (Details: verify): %w", err)
		}
		infos = append(infos, ref.info(g))
		// Of each generation only its place in the chains is needed
		// (keepChains): its entries would be all generations' records
		// at once in memory (35 MB for two of 100,000 orders).
		h := *g
		h.Upserts, h.Deleted, h.Packs = nil, nil, nil
		gens[ref.seq] = &h
	}
	if res.Decisions, err = p.Apply(infos); err != nil {
		return res, err
	}
	if !dryRun {
		if s.storeNow, err = s.storeClock(ctx); err != nil {
			return res, err
		}
		defer func() { s.storeNow = nil }()
	}
	frozen, err := s.keepRetained(ctx, res.Decisions, gens, &res)
	if err != nil {
		return res, err
	}
	var kept []GenerationInfo
	for _, d := range slices.Backward(res.Decisions) {
		if d.Keep {
			kept = append(kept, d.Info)
		} else {
			res.Removed = append(res.Removed, d.Info)
		}
	}
	if dryRun {
		return res, nil
	}
	s.removeTemps(ctx, l)
	if err := s.removeDupes(ctx, l); err != nil {
		return res, err
	}
	if frozen == nil {
		frozen = map[uint64]bool{}
	}
	refused, err := s.rewriteKept(ctx, l, kept, frozen, &res)
	if err != nil {
		return res, err
	}
	if refused {
		// The store retains a generation the client's clock thought free:
		// it stays as it is, and so does its chain.
		keepChains(res.Decisions, gens, frozen, &res)
		res.Removed = res.Removed[:0]
		for _, d := range slices.Backward(res.Decisions) {
			if !d.Keep {
				res.Removed = append(res.Removed, d.Info)
			}
		}
	}
	for i, g := range slices.Backward(res.Removed) {
		if err := s.remove(ctx, g.File); err != nil {
			if !s.lockedRefusal(err) {
				return res, err
			}
			// The store still retains it (its clock is ahead of ours):
			// it and the older ones stay, every kept one has its chain.
			res.Retained = append(res.Retained, g.File)
			keepRefused(res.Decisions, res.Removed[:i+1])
			res.Removed = res.Removed[i+1:]
			break
		}
	}
	if len(res.Removed) > 0 {
		if err := s.syncDir(ctx, genDir); err != nil {
			return res, err
		}
		if err := s.forgetHead(ctx, l); err != nil {
			return res, err
		}
	}
	err = s.prune(ctx, &res)
	if len(res.Removed) > 0 || len(res.Rewritten) > 0 || len(res.PacksRepacked) > 0 {
		// The files forget wrote in place of others, for the chain walk
		// (head.Links), also when prune stopped.
		if herr := s.forgetHead(ctx, l); err == nil {
			err = herr
		}
	}
	return res, err
}

// rewriteKept re-encodes each kept generation whose counts and chain refer
// to a generation that will not stay, against the kept one before it.
//
// On a store with Object Lock a retained generation (frozen) is not
// rewritten; one the store refuses to overwrite is added to frozen, and
// refused is true.
func (s *Store) rewriteKept(ctx context.Context, l *listing, kept []GenerationInfo, frozen map[uint64]bool, res *ForgetResult) (refused bool, err error) {
	for i, k := range kept {
		var want uint64
		if i > 0 {
			want = kept[i-1].Seq
		}
		if frozen[k.Seq] {
			continue // retained: cannot be rewritten; keepRetained kept its chain
		}
		ref, _ := l.find(k.Seq)
		g, ref, err := s.readGenL(ctx, l, ref)
		if err != nil {
			return refused, err
		}
		if g.Prev == want && (g.full() || g.Parent == want) {
			continue
		}
		snap, _, err := s.load(ctx, l, ref)
		if err != nil {
			return refused, fmt.Errorf("Historie beschädigt, forget hört auf (Details: verify): %w", err)
		}
		var (
			prev *Snapshot
			st   chainStats
		)
		if want != 0 {
			pref, _ := l.find(want)
			if prev, st, err = s.load(ctx, l, pref); err != nil {
				return refused, fmt.Errorf("Historie beschädigt, forget hört auf (Details: verify): %w", err)
			}
		}
		ng := s.encodeNext(k.Seq, prev, st, snap.Entries)
		ng.ClientTime, ng.Archive, ng.Origin, ng.PDFs = g.ClientTime, ref.archiveTime, g.Origin, g.PDFs
		ng.Packs = packsOf(l, ng.Upserts, nil)
		if want != 0 {
			pref, _ := l.find(want)
			ng.PrevFile = pref.file
		}
		info, _, err := s.writeGen(ctx, ng, true)
		if err != nil {
			return refused, err
		}
		if err := s.remove(ctx, ref.file); err != nil {
			if !s.lockedRefusal(err) {
				return refused, err
			}
			res.Retained = append(res.Retained, ref.file)
		}
		l.replace(genRef{seq: k.Seq, archiveTime: ref.archiveTime, id: ng.ID, file: info.File})
		res.Rewritten = append(res.Rewritten, k.Seq)
	}
	if len(res.Rewritten) > 0 {
		return refused, s.syncDir(ctx, genDir)
	}
	return refused, nil
}

// prune deletes the pack files no generation refers to and rewrites
// those that hold contents no generation refers to any more: the contents
// still needed go into a new pack file of the same generation, written
// before the old one is removed, so every reference (a generation's
// sequence number and a content's hash) stays valid at every instant. If any generation cannot be
// loaded, nothing is touched: its references are unknown.
func (s *Store) prune(ctx context.Context, res *ForgetResult) error {
	l, err := s.scan(ctx)
	if err != nil {
		return err
	}
	used := map[uint64]map[Hash]bool{}
	err = s.walk(ctx, l, func(ref genRef, _ *genFile, entries []Entry, _ Hash, err error) error {
		if err != nil {
			return fmt.Errorf("Historie beschädigt, unbenutzte Inhalte bleiben (Details: verify): %w", err)
		}
		for _, e := range entries {
			if used[e.Pack] == nil {
				used[e.Pack] = map[Hash]bool{}
			}
			used[e.Pack][e.Hash] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	seqs := slices.Sorted(func(yield func(uint64) bool) {
		for p := range l.packs {
			if !yield(p) {
				return
			}
		}
	})
	changed := false
	for _, p := range seqs {
		if err := ctx.Err(); err != nil {
			return err
		}
		files := l.packs[p]
		if used[p] == nil {
			for _, pr := range files {
				done, err := s.removePack(ctx, pr.file, res)
				if err != nil {
					return err
				}
				if done {
					res.PacksRemoved = append(res.PacksRemoved, path.Base(pr.file))
					changed = true
				}
			}
			continue
		}
		// Only the number of contents still needed is kept here; the
		// repack below reads them once more and streams them into the
		// new file, first copy of each hash first, as here.
		live := 0
		seen := map[Hash]bool{}
		var broken error
		for _, pr := range files {
			err := s.readPack(ctx, p, pr, func(h Hash, data []byte) error {
				if !seen[h] {
					seen[h] = true
					if used[p][h] {
						live++
					}
				}
				return nil
			})
			if err != nil && (len(files) == 1 || unreadable(err)) {
				return fmt.Errorf("Historie: Pack nicht lesbar, bleibt wie es ist (Details: verify): %w", err)
			}
			if err != nil {
				broken = err // a repack's file, stopped: replaced below
			}
		}
		for h := range used[p] {
			if !seen[h] {
				if broken == nil {
					broken = errorf(ErrContentMissing, "Inhalt %s fehlt", h)
				}
				return fmt.Errorf("Historie: Pack unvollständig, bleibt wie es ist (Details: verify): %w", broken)
			}
		}
		if live == len(seen) && len(files) == 1 {
			continue
		}
		retained := false
		for _, pr := range files {
			_, r, err := s.retainedNow(ctx, pr.file)
			if err != nil {
				return err
			}
			retained = retained || r
		}
		if retained {
			continue // repacked once the lock ends
		}
		// The contents still needed go into a new file of the same
		// generation (never over the old one), then the old ones go.
		id := newFileID()
		name := path.Join(packDir, packName(p, id))
		data, err := s.repack(ctx, p, id, files, used[p], live, seen)
		if err != nil {
			return fmt.Errorf("Historie: Pack nicht lesbar, bleibt wie es ist (Details: verify): %w", err)
		}
		if err := s.writeNew(ctx, name, data); err != nil {
			return err
		}
		if err := s.syncDir(ctx, packDir); err != nil {
			return err
		}
		for _, pr := range files {
			if _, err := s.removePack(ctx, pr.file, res); err != nil {
				return err
			}
		}
		res.PacksRepacked = append(res.PacksRepacked, path.Base(name))
		changed = true
	}
	if changed {
		return s.syncDir(ctx, packDir)
	}
	return nil
}

// repack encodes the new file of pack p from its files: the first copy
// of each content used needs, live of them, streamed from the files as
// they are read (seen: a map to use). A file that reads otherwise than a moment before (it can
// only fail to) leaves the pack as it is.
func (s *Store) repack(ctx context.Context, p uint64, id fileID, files []packRef, used map[Hash]bool, live int, seen map[Hash]bool) ([]byte, error) {
	var failed error
	put := 0
	data := encodePackOf(p, id, live, func(write func(data []byte)) {
		clear(seen) // the first reading's, reused
		for _, pr := range files {
			err := s.readPack(ctx, p, pr, func(h Hash, data []byte) error {
				if !seen[h] {
					seen[h] = true
					if used[h] && put < live {
						write(data)
						put++
					}
				}
				return nil
			})
			if err != nil && len(files) == 1 {
				failed = err
				return
			}
		}
	})
	switch {
	case failed != nil:
		return nil, failed
	case put != live:
		return nil, errorf(ErrContentMissing, "beim zweiten Lesen %d statt %d Inhalte", put, live)
	}
	return data, nil
}

// removePack removes a pack file unless the store retains it (then it is
// named in res.Retained); done says whether it is gone.
func (s *Store) removePack(ctx context.Context, name string, res *ForgetResult) (done bool, err error) {
	if _, retained, err := s.retainedNow(ctx, name); err != nil {
		return false, err
	} else if retained {
		res.Retained = append(res.Retained, name)
		return false, nil
	}
	if err := s.remove(ctx, name); err != nil {
		if s.lockedRefusal(err) {
			res.Retained = append(res.Retained, name)
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// forgetHead updates the head marker after generations were removed or
// rewritten or packs repacked: when the newest went (a policy that keeps
// nothing), it names the newest left or none, and keeps the highest
// number used, so that the next export neither takes the history for
// lost nor reuses a number; it names the newest generation's file as it
// is now and the files forget wrote in place of others (links).
func (s *Store) forgetHead(ctx context.Context, before *listing) error {
	hd, ok, err := s.readHead(ctx)
	if err != nil {
		return err
	}
	l, err := s.scan(ctx)
	if err != nil {
		return err
	}
	nh := head{Max: max(hd.Max, before.maxSeq)}
	if ref, found := l.head(); found {
		if nh.Links, err = s.links(ctx, l); err != nil {
			return err
		}
		if ok && hd.Seq == ref.seq {
			if hd.File == ref.file && slices.Equal(hd.Links, nh.Links) {
				return nil // the newest stays, and so do the links
			}
			// The newest stays (rewritten: the same identity in a new file).
			nh.Seq, nh.ID, nh.Hash, nh.File = hd.Seq, hd.ID, hd.Hash, ref.file
			return s.writeHead(ctx, nh)
		}
		snap, _, err := s.load(ctx, l, ref)
		if err != nil {
			return err
		}
		g, err := s.readGen(ctx, ref)
		if err != nil {
			return err
		}
		nh.Seq, nh.ID, nh.Hash, nh.File = ref.seq, g.Origin, snap.ident, ref.file
	}
	return s.writeHead(ctx, nh)
}

// links lists what the head marker names for the chain walk on a store
// that keeps versions (head.Links), sorted: the file of every generation
// whose successor names another file as the one before it (forget
// rewrote it), and the files the listing shows of every pack a
// generation names another file of (forget repacked it).
func (s *Store) links(ctx context.Context, l *listing) ([]string, error) {
	var (
		out  []string
		next *genFile // the generation after the one looked at
	)
	for _, ref := range slices.Backward(slices.Clone(l.gens)) {
		g, ref, err := s.readGenL(ctx, l, ref)
		if err != nil {
			return nil, err
		}
		if next != nil && next.V2 && next.Prev == ref.seq && next.PrevFile != ref.file {
			out = append(out, ref.file)
		}
		for _, p := range g.Packs {
			seq, _, ok := parsePackName(path.Base(p.file))
			if !ok || slices.ContainsFunc(l.packs[seq], func(q packRef) bool { return q.file == p.file }) {
				continue
			}
			for _, q := range l.packs[seq] {
				out = append(out, q.file)
			}
		}
		next = g
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// removeDupes removes the second file of a generation a forget rewrote
// before it was stopped: both are whole and the same generation (same
// identity); one that is not stays for verify to name.
func (s *Store) removeDupes(ctx context.Context, l *listing) error {
	for _, d := range l.dupes {
		ref, ok := l.find(d.seq)
		if !ok {
			continue
		}
		a, err := s.readGen(ctx, ref)
		if err != nil {
			continue
		}
		b, err := s.readGen(ctx, d)
		if err != nil && !unreadable(err) {
			// a rewrite stopped before its file was whole
			if err := s.remove(ctx, d.file); err != nil && !s.lockedRefusal(err) {
				return err
			}
			continue
		}
		if err != nil || a.Origin != b.Origin || a.Records != b.Records || !a.ClientTime.Equal(b.ClientTime) ||
			a.V2 && b.V2 && a.Digest != b.Digest {
			continue
		}
		if err := s.remove(ctx, d.file); err != nil && !s.lockedRefusal(err) {
			return err
		}
	}
	return nil
}

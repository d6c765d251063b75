package history

import (
	"context"
	"sort"
	"sync"
)

// chainStats describe the deltas a generation's loading went through.
type chainStats struct {
	deltas  int      // deltas after the last full generation
	entries int      // their upserts and removals together
	files   []string // the generation files read, the loaded one first
}

// load reads ref's chain back to a full generation and applies the deltas.
func (s *Store) load(ctx context.Context, l *listing, ref genRef) (*Snapshot, chainStats, error) {
	return s.loadWith(ctx, s.prefetch(l), ref)
}

// prefetch returns a reader of l's generation files that keeps each file
// it decoded: two loads through it (the newest generation and an older
// one on the same chain) read and decode each file once.
func (s *Store) prefetch(l *listing) *prefetcher {
	return &prefetcher{s: s, l: l, got: map[uint64]readResult{}}
}

// loadWith is load through pf.
func (s *Store) loadWith(ctx context.Context, pf *prefetcher, ref genRef) (*Snapshot, chainStats, error) {
	l := pf.l
	var (
		chain []*genFile
		files []string
	)
	cur := ref
	for {
		if err := ctx.Err(); err != nil {
			return nil, chainStats{}, err
		}
		g, err := pf.get(ctx, cur)
		if err != nil {
			return nil, chainStats{}, err
		}
		cur, _ = l.find(cur.seq) // another file of it may have taken its place
		chain = append(chain, g)
		files = append(files, cur.file)
		if g.full() {
			break
		}
		next, ok := l.find(g.Parent)
		if !ok {
			return nil, chainStats{}, &FileError{Path: cur.file, Err: errorf(ErrNotFound,
				"Vorgänger-Generation %d fehlt", g.Parent)}
		}
		cur = next
	}
	st := chainStats{files: files}
	for _, d := range chain[:len(chain)-1] {
		st.deltas++
		st.entries += len(d.Upserts) + len(d.Deleted)
	}
	up, del := squash(chain[:len(chain)-1])
	entries := applyDelta(chain[len(chain)-1].Upserts, up, del)
	g := chain[0]
	ref, _ = l.find(ref.seq)
	id, digest, err := proveDigest(ref, g, entries)
	if err != nil {
		return nil, st, err
	}
	return &Snapshot{Info: ref.info(g), Entries: entries, ident: id, digest: digest}, st, nil
}

// proveEntries checks that entries, loaded for generation g (file ref),
// are the ones it was written with, and returns its identity.
func proveEntries(ref genRef, g *genFile, entries []Entry) (Hash, error) {
	id, _, err := proveDigest(ref, g, entries)
	return id, err
}

// proveDigest is proveEntries that also returns the entries' digest.
func proveDigest(ref genRef, g *genFile, entries []Entry) (Hash, Hash, error) {
	if len(entries) != g.Records {
		return Hash{}, Hash{}, &FileError{Path: ref.file, Err: errorf(nil,
			"ergibt %d Einträge statt %d (Kette beschädigt)", len(entries), g.Records)}
	}
	digest := entryDigest(entries)
	if g.V2 && digest != g.Digest {
		return Hash{}, Hash{}, &FileError{Path: ref.file, Err: errorf(nil,
			"ergibt andere Einträge als beim Schreiben (Kette beschädigt)")}
	}
	return identOf(g, ref.archiveTime, digest), digest, nil
}

// prefetchBatch is how many generation files load reads at once: a delta's
// parent is normally the generation before it, so the files before the
// one needed are read in parallel, which over a share hides the round
// trips of a long chain. A file read in vain costs one small read; an
// error in a file the chain does not need is never reported.
const prefetchBatch = 16

type readResult struct {
	g   *genFile
	err error
}

type prefetcher struct {
	s   *Store
	l   *listing
	got map[uint64]readResult
}

func (p *prefetcher) get(ctx context.Context, ref genRef) (*genFile, error) {
	if r, ok := p.got[ref.seq]; ok {
		return r.g, r.err
	}
	hi := sort.Search(len(p.l.gens), func(i int) bool { return p.l.gens[i].seq >= ref.seq })
	lo := max(0, hi-prefetchBatch+1)
	batch := p.l.gens[lo : hi+1]
	results := make([]readResult, len(batch))
	var wg sync.WaitGroup
	for i, r := range batch {
		if _, ok := p.got[r.seq]; ok {
			continue
		}
		wg.Go(func() {
			g, err := p.s.readGen(ctx, r)
			results[i] = readResult{g, err}
		})
	}
	wg.Wait()
	for i, r := range batch {
		if results[i].err != nil {
			// a second file of the generation may prove itself
			if g, _, err := p.s.readGenL(ctx, p.l, r); err == nil {
				results[i] = readResult{g, nil}
			}
		}
	}
	for i, r := range batch {
		if _, ok := p.got[r.seq]; !ok {
			p.got[r.seq] = results[i]
		}
	}
	r := p.got[ref.seq]
	return r.g, r.err
}

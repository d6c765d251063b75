package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"werkstatt-backup/codec"
)

// MigrateOptions are the flags of the migrate command.
type MigrateOptions struct {
	DryRun bool // report what would be rewritten, write nothing
}

// Migrate rewrites every valid backup of an older schema version in the
// current version, each file atomically, under the lock. Backups already
// current are left alone, so a second run changes nothing. Invalid backups
// are reported and left as they are.
func (e *Engine) Migrate(ctx context.Context, opts MigrateOptions) (_ *Report, err error) {
	e.init()
	r := e.newReport("migrate")
	r.DryRun = opts.DryRun
	cur := e.Schema.Codecs.Current()
	e.Log.Info(fmt.Sprintf("Starte Migration aller Sicherungen auf Schema %s...", cur.Version()))
	lock, err := e.lock(ctx, "migrate")
	if err != nil {
		return r, err
	}
	defer e.unlock(lock, r, &err)

	files, err := e.scanArchive(ctx, r)
	if err != nil {
		return r, err
	}
	r.OK = 0
	perVersion := map[string]int{}
	var old []*backupFile
	for _, f := range files {
		if !f.valid {
			continue
		}
		perVersion[f.meta.SchemaVersion]++
		if f.meta.SchemaVersion != cur.Version() || f.viaTemp {
			old = append(old, f)
		}
	}
	var failed int
	if !opts.DryRun {
		forEach(ctx, len(old), e.Workers, e.phase(PhaseWrite), func(i int) {
			if err := e.rewrite(ctx, cur, old[i]); err != nil {
				r.errorf(old[i].dataPath(), old[i].meta.RecordID, "Migration fehlgeschlagen: %s", reason(err))
				r.count(&failed, 1)
				return
			}
			r.count(&r.OK, 1)
		})
	} else {
		r.OK = len(old)
	}
	r.Versions = perVersion
	if err := ctx.Err(); err != nil {
		return r, err
	}
	e.finish(r)
	if err := r.unreadableErr("Migration unvollständig"); err != nil {
		return r, err
	}
	switch {
	case failed > 0:
		return r, fmt.Errorf("%d Sicherungen konnten nicht migriert werden", failed)
	case r.Errors > 0:
		return r, fmt.Errorf("%d ungültige Sicherungen nicht migriert: %w", r.Errors, ErrValidation)
	}
	return r, nil
}

// rewrite writes b's rows (already migrated when loaded) in the current
// version. exported_at stays: the content is the export of that time.
// A pair a stopped run left half-renamed is rolled forward first.
func (e *Engine) rewrite(ctx context.Context, cur codec.Codec, b *backupFile) error {
	if b.viaTemp {
		// Complete the stopped run's pair first: rewriting would replace
		// meta.tmp.json, the only marker that describes data.csv.
		if err := e.rollForward(ctx, b.dir, true); err != nil {
			return err
		}
		if b.meta.SchemaVersion == cur.Version() {
			return nil
		}
	}
	data := cur.Encode(b.values()...)
	sum := sha256.Sum256(data)
	meta := b.meta
	meta.SchemaVersion = cur.Version()
	meta.Checksum = hex.EncodeToString(sum[:])
	meta.FileSize = int64(len(data))
	return e.writePair(ctx, b.dir, data, meta, pairState{hasMeta: true})
}

func versionCounts(m map[string]int) string {
	if len(m) == 0 {
		return "keine"
	}
	vs := make([]string, 0, len(m))
	for v := range m {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return codec.CompareVersions(vs[i], vs[j]) < 0 })
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%s: %d", v, m[v])
	}
	return strings.Join(parts, ", ")
}

package backup

import (
	"context"
	"sync"
	"sync/atomic"
)

// forEach runs fn for i in [0, n) on up to workers goroutines and stops
// handing out work once ctx is done. progress, if set, sees every finished i.
func forEach(ctx context.Context, n, workers int, progress func(done, total int), fn func(i int)) {
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
				if d := done.Add(1); progress != nil {
					progress(int(d), n)
				}
			}
		})
	}
	wg.Wait()
}

package smb

import "github.com/spf13/afero"

// LiveSessions counts the sessions of fsys's pool that are connected.
func LiveSessions(fsys afero.Fs) int {
	n := 0
	for _, s := range fsys.(*Fs).pool.slots {
		s.mu.Lock()
		if s.cur != nil && !s.cur.broken() {
			n++
		}
		s.mu.Unlock()
	}
	return n
}

// WithCallHook returns b whose archives call begun each time a call's
// request is about to go out (after its deadline is armed).
func WithCallHook(b Backend, begun func()) Backend {
	b.callBegun = begun
	return b
}

package s3

import "werkstatt-backup/storage"

// condCaps adds the conditional writes and the versions (see cond.go).
func (fs *Fs) condCaps(c *storage.Capabilities) {}

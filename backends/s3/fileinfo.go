package s3

import (
	"os"
	"time"
)

// fileInfo describes an object (a file) or a prefix (a folder).
type fileInfo struct {
	name  string
	size  int64
	mtime time.Time
	dir   bool
}

func dirInfo(name string) *fileInfo { return &fileInfo{name: name, dir: true} }

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) ModTime() time.Time { return fi.mtime }
func (fi *fileInfo) IsDir() bool        { return fi.dir }
func (fi *fileInfo) Sys() any           { return nil }

func (fi *fileInfo) Mode() os.FileMode {
	if fi.dir {
		return os.ModeDir | 0o755
	}
	return 0o644
}

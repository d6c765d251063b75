package local

import (
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"
)

// direntBufs holds the buffers for getdents: one listing per order folder,
// 100,000 in a restore, would otherwise each allocate one.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 8192); return &b }}

// ReadDir is Capabilities.ReadDir with open, getdents, an fstatat per
// entry and close: what os.File.Readdir does, without the five calls
// os.Open adds (see ReadFileLimit). Entries that vanish while listing are
// left out, as os does.
func (f *archiveFs) ReadDir(name string) ([]os.FileInfo, error) {
	p, err := f.Fs.(*afero.BasePathFs).RealPath(name)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	fd, err := retry(func() (int, error) { return unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	var names []string
	for {
		n, err := retry(func() (int, error) { return unix.Getdents(fd, *bp) })
		if err != nil {
			return nil, &os.PathError{Op: "readdirent", Path: p, Err: err}
		}
		if n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent((*bp)[:n], -1, names)
	}
	infos := make([]os.FileInfo, 0, len(names))
	for _, n := range names {
		var st unix.Stat_t
		_, err := retry(func() (int, error) { return 0, unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW) })
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "lstat", Path: p + "/" + n, Err: err}
		}
		infos = append(infos, &fileInfo{name: n, size: st.Size, mode: fileMode(st.Mode), mtime: time.Unix(st.Mtim.Unix())})
	}
	slices.SortFunc(infos, func(a, b os.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return infos, nil
}

func retry(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

// fileMode converts st_mode as os.Lstat does.
func fileMode(m uint32) os.FileMode {
	mode := os.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFBLK:
		mode |= os.ModeDevice
	case unix.S_IFCHR:
		mode |= os.ModeDevice | os.ModeCharDevice
	case unix.S_IFDIR:
		mode |= os.ModeDir
	case unix.S_IFIFO:
		mode |= os.ModeNamedPipe
	case unix.S_IFLNK:
		mode |= os.ModeSymlink
	case unix.S_IFSOCK:
		mode |= os.ModeSocket
	}
	if m&unix.S_ISGID != 0 {
		mode |= os.ModeSetgid
	}
	if m&unix.S_ISUID != 0 {
		mode |= os.ModeSetuid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= os.ModeSticky
	}
	return mode
}

// fileInfo is one entry of ReadDir.
type fileInfo struct {
	name  string
	size  int64
	mode  os.FileMode
	mtime time.Time
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() os.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.mtime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return nil }

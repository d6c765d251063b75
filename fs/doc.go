// Package fs is the storage contract of werkstatt-backup: archive
// locations, the backend registry, atomic writes, the archive lock and
// directory walking. All archive I/O goes through an afero.Fs whose paths
// are slash-separated and relative to the archive root ("." is the root).
package fs

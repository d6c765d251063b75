// Package storage is the boundary between the engine and the archive
// backends. A backend is one package under backends/ that declares itself
// (Description: scheme, URL syntax, option keys with defaults and help,
// secrets), parses its own URLs into a Location and opens an Archive: an
// afero.Fs rooted at the archive root together with the Capabilities the
// backend declares for it. The engine asks capabilities, never backend
// names; wrappers (fault injection, read-only detection) pass the
// capabilities on, adjusted to what they change.
//
// All archive paths are slash-separated and relative to the archive root
// ("." is the root).
package storage

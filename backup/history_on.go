//go:build !nohistory

package backup

// historyOn is whether export keeps the history (records a generation,
// refuses over a lost history, runs the mass-change guard). Always true
// in the product; `go build -tags nohistory` switches it off for make
// bench's "the same export without history" rows (cmd/wbbench), so that
// they measure what the history costs and nothing else.
const historyOn = true

//go:build nohistory

package backup

// historyOn: see history_on.go. This build (-tags nohistory) is make
// bench's peer and never a product.
const historyOn = false

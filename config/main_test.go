package config

import (
	"os"
	"testing"

	"werkstatt-backup/backends/all"
)

// TestMain teaches config the program's backends, as the command does.
func TestMain(m *testing.M) {
	UseBackends(all.Registry())
	os.Exit(m.Run())
}

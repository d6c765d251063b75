package all

import (
	"context"
	"slices"
	"testing"

	wfs "werkstatt-backup/fs"
)

func TestRegistry(t *testing.T) {
	r := Registry()
	if got, want := r.Names(), []string{"file", "mem", "smb"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	for _, s := range []string{t.TempDir(), "mem://all-test"} {
		loc, err := wfs.ParseLocation(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Open(context.Background(), loc, wfs.OpenOptions{}); err != nil {
			t.Errorf("Open(%s): %v", s, err)
		}
	}
}

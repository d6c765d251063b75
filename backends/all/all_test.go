package all

import (
	"context"
	"slices"
	"strings"
	"testing"

	"werkstatt-backup/storage"
)

func TestRegistry(t *testing.T) {
	r := Registry()
	if got, want := r.Names(), []string{"file", "mem", "s3", "smb"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	for _, s := range []string{t.TempDir(), "mem://all-test"} {
		loc, err := r.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		a, err := r.Open(context.Background(), loc, storage.Options{})
		if err != nil {
			t.Errorf("Open(%s): %v", s, err)
			continue
		}
		if !a.Caps.ExclusiveCreate || a.Caps.DefaultWorkers < 1 {
			t.Errorf("Open(%s) declares %+v", s, a.Caps)
		}
		a.Close()
	}
}

// TestDescriptions: every backend declares its scheme, syntax and a
// summary, its options carry help, and secrets are strings.
func TestDescriptions(t *testing.T) {
	for _, d := range Registry().Descriptions() {
		if d.Syntax == "" || d.Summary == "" || d.Workers < 1 {
			t.Errorf("%s: incomplete description %+v", d.Scheme, d)
		}
		for _, o := range d.Options {
			if !strings.HasPrefix(o.Key, d.Scheme+"_") || o.Help == "" {
				t.Errorf("%s: option %+v", d.Scheme, o)
			}
			if o.Secret && (o.Kind != storage.OptString || o.Default != nil) {
				t.Errorf("%s: secret %s must be a string without default", d.Scheme, o.Key)
			}
		}
	}
}

// TestOpenCancelled: a run cancelled before Open opens nothing.
func TestOpenCancelled(t *testing.T) {
	r := Registry()
	loc, err := r.Parse("mem://abgebrochen")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Open(ctx, loc, storage.Options{}); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("Open with a cancelled run = %v", err)
	}
}

package s3

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Location
		str  string
	}{
		{"s3.example.com/archiv", Location{Host: "s3.example.com", Bucket: "archiv"}, "s3://s3.example.com/archiv"},
		{"AKIA1234@s3.example.com/archiv/werkstatt/filiale-1/",
			Location{AccessKey: "AKIA1234", Host: "s3.example.com", Bucket: "archiv", Prefix: "werkstatt/filiale-1"},
			"s3://AKIA1234@s3.example.com/archiv/werkstatt/filiale-1"},
		{"backup@127.0.0.1:7070/archiv-lock", Location{AccessKey: "backup", Host: "127.0.0.1", Port: 7070, Bucket: "archiv-lock"},
			"s3://backup@127.0.0.1:7070/archiv-lock"},
		{"[::1]:9000/b.c-d/Kunden%20%C3%A4", Location{Host: "::1", Port: 9000, Bucket: "b.c-d", Prefix: "Kunden ä"},
			"s3://[::1]:9000/b.c-d/Kunden ä"},
		{"host:9000/archiv/a@b", Location{Host: "host", Port: 9000, Bucket: "archiv", Prefix: "a@b"}, "s3://host:9000/archiv/a@b"},
	} {
		got, err := parseLocation(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
			continue
		}
		if s := got.String(); s != c.str {
			t.Errorf("String() = %q, want %q", s, c.str)
		}
		if got.Scheme() != "s3" {
			t.Errorf("Scheme() = %q", got.Scheme())
		}
	}
}

// TestParseErrors: every bad URL is a German error naming the wrong part,
// and a secret in the URL is refused without repeating it.
func TestParseErrors(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG"
	for _, c := range []struct{ in, want string }{
		{"AKIA:" + secret + "@host/archiv", "ARCHIV_S3_SECRET_KEY"},
		{"AKIA:" + secret + "/x@host/archiv", "ARCHIV_S3_SECRET_KEY"}, // a secret with "/"
		{"AKIA:12345@host/archiv", "ARCHIV_S3_SECRET_KEY"},
		{"AKIA:@host/archiv", "ARCHIV_S3_SECRET_KEY"},
		{"/archiv", "Host fehlt"},
		{"", "Host fehlt"},
		{"host", "Bucket fehlt"},
		{"host/", "Bucket fehlt"},
		{"host:0/archiv", "Port"},
		{"host:99999/archiv", "Port"},
		{"host:abc/archiv", "ungültig"},
		{"host/Archiv", "Bucket-Name"},
		{"host/ab", "Bucket-Name"},
		{"host/-archiv", "Bucket-Name"},
		{"host/archiv/a//b", "Präfix"},
		{"host/archiv/a/../b", "Präfix"},
		{"host/archiv?versionId=1", "Abfrageteil"},
		{"@host/archiv", "Access-Key"},
	} {
		_, err := parseLocation(c.in)
		if err == nil {
			t.Errorf("Parse(%q): no error, want one containing %q", c.in, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %q, want it to contain %q", c.in, err, c.want)
		}
		for _, leak := range []string{secret, "12345"} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("Parse(%q) = %q: repeats the secret", c.in, err)
			}
		}
	}
}

func TestDescribe(t *testing.T) {
	d := Backend{}.Describe()
	if d.Scheme != "s3" {
		t.Fatalf("Scheme = %q", d.Scheme)
	}
	keys := map[string]bool{}
	for _, o := range d.Options {
		if !strings.HasPrefix(o.Key, "s3_") || o.Help == "" {
			t.Errorf("option %+v: key must start with s3_ and have help", o)
		}
		if keys[o.Key] {
			t.Errorf("option %s declared twice", o.Key)
		}
		keys[o.Key] = true
		if o.Key == KeySecretKey && !o.Secret {
			t.Errorf("%s is not marked Secret", o.Key)
		}
	}
	for _, k := range []string{KeyAccessKey, KeySecretKey, KeySecretKeyFile, KeyRegion, KeyInsecure, KeyTimeout} {
		if !keys[k] {
			t.Errorf("option %s not declared", k)
		}
	}
}

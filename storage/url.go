package storage

import "strings"

// missingSlash reports a URL with one slash too few: "smb:/host/share",
// "file:/srv/archiv". Taken as a local path it would quietly become a
// folder named "smb:" in the working directory.
func missingSlash(s string) (scheme string, ok bool) {
	scheme, rest, found := strings.Cut(s, ":")
	if !found || len(scheme) < 2 || !strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "//") {
		return "", false
	}
	if !isScheme(scheme) {
		return "", false
	}
	return strings.ToLower(scheme), true
}

// splitScheme splits "scheme://rest". A one-letter scheme is a Windows
// drive letter, not a scheme.
func splitScheme(s string) (scheme, rest string, ok bool) {
	i := strings.Index(s, "://")
	if i < 2 || !isScheme(s[:i]) {
		return "", "", false
	}
	return strings.ToLower(s[:i]), s[i+3:], true
}

// isScheme: a letter, then letters, digits, "+", "-" or ".".
func isScheme(s string) bool {
	for j, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		other := c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
		if !letter && (j == 0 || !other) {
			return false
		}
	}
	return true
}

// Redact replaces a password in "scheme://user:password@..." by "***". It
// uses the last "@" so that an unescaped "/" or "@" in the password is
// still hidden; redacting too much is better than leaking.
func Redact(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	start := i + 3
	at := strings.LastIndex(s[start:], "@")
	if at < 0 {
		return s
	}
	colon := strings.Index(s[start:start+at], ":")
	if colon < 0 {
		return s
	}
	return s[:start+colon+1] + "***" + s[start+at:]
}

package config

import (
	"log/slog"
	"net/url"
	"strconv"
	"strings"
)

// masked stands for a secret in the log, as url.URL.Redacted writes a
// password.
const masked = "xxxxx"

// secretWords mark a setting whose whole value is a secret.
var secretWords = []string{"SECRET", "TOKEN", "PASSWORD", "KEY"}

// Effective is every setting as this process runs with it, in the order
// of Settings: the value given, else the default, and a rate limit
// resolved from AUTH. Secrets are masked: a setting named for one
// (CURSOR_SECRET, anything with TOKEN or PASSWORD in its name) shows
// xxxxx when set, and a URL its password as xxxxx. It is a slog group, for
// the one start-up line.
func Effective(getenv func(string) string, c Config) slog.Value {
	attrs := make([]slog.Attr, 0, len(Settings))
	for _, s := range Settings {
		v := strings.TrimSpace(getenv(s.Name))
		if v == "" {
			v = s.Default
		}
		if s.Name == "RATE_LIMIT" {
			v = strconv.Itoa(c.RateLimit)
		}
		attrs = append(attrs, slog.String(s.Name, maskSecret(s.Name, v)))
	}
	return slog.GroupValue(attrs...)
}

func maskSecret(name, v string) string {
	if v == "" {
		return v
	}
	for _, w := range secretWords {
		for _, part := range strings.Split(name, "_") {
			if part == w || part == w+"S" {
				return masked
			}
		}
	}
	// A URL's password (DATABASE_URL, or any other URL with one).
	if u, err := url.Parse(v); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return u.Redacted()
		}
	}
	return v
}

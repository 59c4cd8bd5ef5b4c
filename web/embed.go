// Package web holds the dashboard: a static page, its script and style, and
// the vendored chart library, embedded in the binary so that the service
// needs no network but its own to show it.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Files is the dashboard's file tree, rooted at the directory that holds
// index.html.
var Files = mustSub(static, "static")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		// The directory is embedded at compile time: only a broken build
		// gets here.
		panic(err)
	}
	return sub
}

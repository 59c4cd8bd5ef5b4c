package http

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// staticFiles serves the files of files under prefix, and nothing else: a
// folder is a 404, never a listing of what the binary holds.
func staticFiles(prefix string, files fs.FS) echo.HandlerFunc {
	server := http.StripPrefix(prefix, http.FileServerFS(files))
	return func(c echo.Context) error {
		name := strings.TrimPrefix(c.Request().URL.Path, prefix)
		if !fs.ValidPath(name) {
			return echo.ErrNotFound
		}
		info, err := fs.Stat(files, name)
		if err != nil || info.IsDir() {
			return echo.ErrNotFound
		}
		server.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

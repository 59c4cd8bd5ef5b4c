package web_test

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/web"
)

// comments are where licences and library banners name their home pages;
// a URL anywhere else in the page's files is something the browser could
// fetch, and the dashboard must work with no network but the service's.
var comments = map[string]*regexp.Regexp{
	".js":   regexp.MustCompile(`(?s)/\*.*?\*/`),
	".css":  regexp.MustCompile(`(?s)/\*.*?\*/`),
	".html": regexp.MustCompile(`(?s)<!--.*?-->`),
}

var externalURL = regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}|\burl\(\s*['"]?(https?:|//)|@import`)

// xmlNamespaces are names, never fetched: Swagger UI's stylesheet draws its
// icons as data: SVG images that declare them.
var xmlNamespaces = regexp.MustCompile(`http://www\.w3\.org/(2000/svg|1999/xlink)\b`)

// unread are the vendored files this test cannot judge by their text:
// Swagger UI's bundle holds hundreds of URLs as data (RFC links in its
// JSON Schema dialects, SVG namespaces, link patterns of its Markdown
// renderer) that it never fetches. What keeps it on the service's own host
// is the page's Content-Security-Policy, and the browser test (e2e/) that
// opens /docs and fails on any request to another host.
var unread = map[string]bool{"vendor/swagger-ui-bundle.js": true}

func TestEmbeddedFilesNameNoOtherHost(t *testing.T) {
	t.Parallel()
	var seen []string
	err := fs.WalkDir(web.Files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(name, ".LICENSE") || unread[name] {
			return nil
		}
		strip, ok := comments[path.Ext(name)]
		require.True(t, ok, "%s: a file type this test does not know how to read", name)
		b, err := fs.ReadFile(web.Files, name)
		require.NoError(t, err)
		text := xmlNamespaces.ReplaceAllString(strip.ReplaceAllString(string(b), ""), "")
		assert.Empty(t, externalURL.FindAllString(text, -1), "%s names another host", name)
		seen = append(seen, name)
		return nil
	})
	require.NoError(t, err)
	assert.Subset(t, seen, []string{"index.html", "app.js", "style.css", "vendor/uPlot.iife.min.js", "docs.html", "docs.js", "docs.css", "vendor/swagger-ui.css"})
}

// Each vendored library must come with its licence.
func TestVendoredLibrariesHaveTheirLicences(t *testing.T) {
	t.Parallel()
	for file, licence := range map[string]string{
		"vendor/uPlot.LICENSE":      "MIT License",
		"vendor/swagger-ui.LICENSE": "Apache License",
	} {
		b, err := fs.ReadFile(web.Files, file)
		require.NoError(t, err)
		assert.Contains(t, string(b), licence, file)
	}
}

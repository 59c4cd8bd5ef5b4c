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

func TestEmbeddedFilesNameNoOtherHost(t *testing.T) {
	t.Parallel()
	var seen []string
	err := fs.WalkDir(web.Files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(name, ".LICENSE") {
			return nil
		}
		strip, ok := comments[path.Ext(name)]
		require.True(t, ok, "%s: a file type this test does not know how to read", name)
		b, err := fs.ReadFile(web.Files, name)
		require.NoError(t, err)
		text := strip.ReplaceAllString(string(b), "")
		assert.Empty(t, externalURL.FindAllString(text, -1), "%s names another host", name)
		seen = append(seen, name)
		return nil
	})
	require.NoError(t, err)
	assert.Subset(t, seen, []string{"index.html", "app.js", "style.css", "vendor/uPlot.iife.min.js"})
}

// The vendored library must come with its licence.
func TestVendoredLibraryHasItsLicence(t *testing.T) {
	t.Parallel()
	b, err := fs.ReadFile(web.Files, "vendor/uPlot.LICENSE")
	require.NoError(t, err)
	assert.Contains(t, string(b), "MIT License")
}

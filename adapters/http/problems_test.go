package http

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"

	"stockd/api"
)

// Every problem type of the table is documented in api/openapi.yaml, in
// the enum and in the table with its status, and nothing else is.
func TestProblemTypesAreDocumented(t *testing.T) {
	t.Parallel()
	doc := string(api.OpenAPI)
	slugs := map[string]bool{}
	for _, p := range problemTypes {
		assert.False(t, slugs[p.slug], "%s twice in the table", p.slug)
		slugs[p.slug] = true
		assert.Contains(t, doc, "        - "+p.URI()+"\n", "%s in the ProblemType enum", p.slug)
		assert.Regexp(t, regexp.MustCompile("\\| `"+regexp.QuoteMeta(p.URI())+"` \\| "+strconv.Itoa(p.status)+"[ |]"), doc,
			"%s documented with its status", p.slug)
		assert.NotEmpty(t, p.detail)
	}
	for _, m := range regexp.MustCompile(`/problems/([a-z-]+)`).FindAllStringSubmatch(doc, -1) {
		assert.True(t, slugs[m[1]], "%s is documented but not in the table", m[1])
	}
	for status, p := range statusProblems {
		assert.Equal(t, status, p.status, p.slug)
	}
	assert.Equal(t, http.StatusServiceUnavailable, probOrderPending.status)
}

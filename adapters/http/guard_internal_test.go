package http

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTokenCacheForgetsAfterTTLAndStaysBounded(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	c := newTokenCache(15*time.Second, 3, func() time.Time { return clock })

	_, ok := c.user("t1")
	assert.False(t, ok)
	c.put("t1", "user1")
	u, ok := c.user("t1")
	assert.True(t, ok)
	assert.Equal(t, "user1", u)
	_, ok = c.user("")
	assert.False(t, ok, "no token is never cached")

	clock = clock.Add(15*time.Second - time.Nanosecond)
	_, ok = c.user("t1")
	assert.True(t, ok)
	clock = clock.Add(time.Nanosecond)
	_, ok = c.user("t1")
	assert.False(t, ok, "forgotten after the TTL")

	for i := range 10 {
		c.put(fmt.Sprintf("t%d", i), "u")
		assert.LessOrEqual(t, len(c.entries), 3)
	}
	_, ok = c.user("t9")
	assert.True(t, ok, "the newest is kept")
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]string{
		"Bearer abc": "abc", "bearer abc": "abc", "BeArEr  abc ": "abc",
		"abc": "", "Basic abc": "", "Bearer": "", "": "",
	} {
		got, ok := bearerToken(header)
		assert.Equal(t, want, got, "%q", header)
		if want != "" {
			assert.True(t, ok, "%q", header)
		}
	}
}

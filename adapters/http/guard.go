package http

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"stockd/app"
)

// userKey is where the guard leaves the authenticated user in the context.
const userKey = "stockd.user"

// How long and how many valid token lookups the guard remembers: long
// enough that a busy client costs the token store one lookup per quarter
// minute, short enough that a token removed from the store stops working
// soon after.
const (
	tokenCacheTTL  = 15 * time.Second
	tokenCacheSize = 10000
)

// guard authenticates /api/ calls (when tokens are on) and limits their
// rate. A token it has seen recently is answered from memory and limited
// per user; anything else is limited per peer address before the token
// store is asked, so that a flood of bad tokens costs the store nothing
// beyond the limit.
type guard struct {
	tokens  *app.Tokens // nil: AUTH=off
	limiter *middleware.RateLimiterMemoryStore
	cache   *tokenCache
}

func newGuard(tokens *app.Tokens, perSecond int, now func() time.Time) *guard {
	g := &guard{tokens: tokens, cache: newTokenCache(tokenCacheTTL, tokenCacheSize, now)}
	if perSecond > 0 {
		g.limiter = middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(perSecond), Burst: perSecond, ExpiresIn: 3 * time.Minute,
		})
	}
	return g
}

func (g *guard) allow(id string) error {
	if g.limiter == nil {
		return nil
	}
	if ok, _ := g.limiter.Allow(id); !ok {
		return fail(probRateLimited, "", nil)
	}
	return nil
}

func (g *guard) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if g.tokens == nil {
			if err := g.allow("addr:" + c.RealIP()); err != nil {
				return err
			}
			return next(c)
		}
		token, hasScheme := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
		user, cached := g.cache.user(token)
		if !cached {
			if err := g.allow("addr:" + c.RealIP()); err != nil {
				return err
			}
			var err error
			user, err = g.lookUp(c.Request().Context(), token, hasScheme)
			if errors.Is(err, app.ErrUnauthenticated) {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="stockd"`)
				return fail(probUnauthentic, "", err)
			}
			if err != nil {
				return err // the token store is down: 503, not 401
			}
		}
		if err := g.allow("user:" + user); err != nil {
			return err
		}
		c.Set(userKey, user)
		return next(c)
	}
}

// lookUp asks the token store, and remembers a token that is valid. A bad
// token is never remembered, so it cannot become good by being cached.
func (g *guard) lookUp(ctx context.Context, token string, hasScheme bool) (string, error) {
	if !hasScheme || token == "" {
		return "", app.ErrUnauthenticated
	}
	user, err := g.tokens.User(ctx, token)
	if err != nil {
		return "", err
	}
	g.cache.put(token, user)
	return user, nil
}

// bearerToken takes the token out of an Authorization header. The scheme
// is case-insensitive (RFC 9110) and required: a bare token is refused.
func bearerToken(header string) (token string, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// tokenUser is the token's authenticated user, if any: "" when tokens are
// off.
func tokenUser(c echo.Context) (string, bool) {
	user, ok := c.Get(userKey).(string)
	return user, ok
}

// authorizeUser refuses an act for another user than the token's; it
// answers the same whether that user exists or not.
func authorizeUser(c echo.Context, user string) error {
	if tu, ok := tokenUser(c); ok && tu != user {
		return fail(probForbidden, "", nil)
	}
	return nil
}

// tokenCache remembers valid tokens (by their SHA-256, so that memory
// holds no usable token) for a short time, up to size entries.
type tokenCache struct {
	ttl  time.Duration
	size int
	now  func() time.Time

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedUser
}

type cachedUser struct {
	user    string
	expires time.Time
}

func newTokenCache(ttl time.Duration, size int, now func() time.Time) *tokenCache {
	return &tokenCache{ttl: ttl, size: size, now: now, entries: make(map[[sha256.Size]byte]cachedUser)}
}

func (t *tokenCache) user(token string) (string, bool) {
	if token == "" {
		return "", false
	}
	key := sha256.Sum256([]byte(token))
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[key]
	if !ok {
		return "", false
	}
	if !t.now().Before(e.expires) {
		delete(t.entries, key)
		return "", false
	}
	return e.user, true
}

func (t *tokenCache) put(token, user string) {
	key := sha256.Sum256([]byte(token))
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries) >= t.size {
		// Full: drop what has expired, and if that frees nothing, forget
		// everything; the cost is one store lookup per active token.
		for k, e := range t.entries {
			if !now.Before(e.expires) {
				delete(t.entries, k)
			}
		}
		if len(t.entries) >= t.size {
			clear(t.entries)
		}
	}
	t.entries[key] = cachedUser{user: user, expires: now.Add(t.ttl)}
}

package http

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"stockd/app"
	"stockd/ports"
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
// per user by the shared limiter (kept in Redis when the price store is,
// so that every API process draws on one budget per user); anything else
// is limited per peer address by this process's own limiter before the
// token store is asked, so that a flood of bad tokens costs the store
// nothing beyond the limit.
type guard struct {
	tokens *app.Tokens       // nil: AUTH=off
	addrs  ports.RateLimiter // per process; nil: no limit
	users  ports.RateLimiter // shared; nil: no limit
	log    *slog.Logger
	cache  *tokenCache
}

func newGuard(tokens *app.Tokens, addrs, users ports.RateLimiter, log *slog.Logger, now func() time.Time) *guard {
	return &guard{tokens: tokens, addrs: addrs, users: users, log: log, cache: newTokenCache(tokenCacheTTL, tokenCacheSize, now)}
}

// allow counts the request against limiter and says the outcome in the
// RateLimit-* headers (the IETF draft's names), so that a client can pace
// itself before it hits 429. A limiter that cannot be asked (its store is
// down) lets the request pass: the limit protects the service, and the
// request's own store calls answer 503 if the outage is theirs too.
func (g *guard) allow(c echo.Context, limiter ports.RateLimiter, subject string) error {
	if limiter == nil {
		return nil
	}
	d, err := limiter.Allow(c.Request().Context(), subject)
	if err != nil {
		g.log.WarnContext(c.Request().Context(), "rate limiter unavailable; request let through", "error", err)
		return nil
	}
	h := c.Response().Header()
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", strconv.FormatInt(ceilSeconds(d.Reset), 10))
	if !d.Allowed {
		return fail(probRateLimited, "", nil)
	}
	return nil
}

// ceilSeconds rounds up to whole seconds: a client that waits that long
// finds the budget back.
func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

func (g *guard) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if g.tokens == nil {
			if err := g.allow(c, g.addrs, c.RealIP()); err != nil {
				return err
			}
			return next(c)
		}
		token, hasScheme := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
		user, cached := g.cache.user(token)
		if !cached {
			if err := g.allow(c, g.addrs, c.RealIP()); err != nil {
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
		if err := g.allow(c, g.users, user); err != nil {
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

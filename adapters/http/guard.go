package http

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"stockd/app"
)

// userKey is where the guard leaves the authenticated user in the context.
const userKey = "stockd.user"

var (
	errTooManyRequests = errors.New("too many requests: slow down and retry after the delay given")
	errForbidden       = errors.New("the token's user may only buy for itself")
)

// guard authenticates /api/ calls (when tokens are on) and limits their
// rate per user, or per address for calls without a valid token, so that
// guessing tokens is rate-limited too.
type guard struct {
	tokens  *app.Tokens // nil: AUTH=off
	limiter *middleware.RateLimiterMemoryStore
}

func newGuard(tokens *app.Tokens, perSecond int) *guard {
	g := &guard{tokens: tokens}
	if perSecond > 0 {
		g.limiter = middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(perSecond), Burst: perSecond, ExpiresIn: 3 * time.Minute,
		})
	}
	return g
}

func (g *guard) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var user string
		var authErr error
		if g.tokens != nil {
			token, _ := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
			user, authErr = g.tokens.User(c.Request().Context(), strings.TrimSpace(token))
			if authErr != nil && !errors.Is(authErr, app.ErrUnauthenticated) {
				return authErr // the token store is down: 503, not 401
			}
		}
		if g.limiter != nil {
			id := "addr:" + c.RealIP()
			if user != "" {
				id = "user:" + user
			}
			if ok, _ := g.limiter.Allow(id); !ok {
				return withStatus(http.StatusTooManyRequests, errTooManyRequests)
			}
		}
		if authErr != nil {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="stockd"`)
			return withStatus(http.StatusUnauthorized, authErr)
		}
		if user != "" {
			c.Set(userKey, user)
		}
		return next(c)
	}
}

// authorizeBuyer refuses an order placed for another user than the token's.
func authorizeBuyer(c echo.Context, buyer string) error {
	if user, ok := c.Get(userKey).(string); ok && user != buyer {
		return withStatus(http.StatusForbidden, errForbidden)
	}
	return nil
}

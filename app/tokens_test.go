package app_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/app"
	"stockd/domain"
	"stockd/ports"
)

// TestTokensAreMintedForExistingUsersOnly: a token for a name that is not
// a user's (unknown, a stock's, not a valid name) is refused and nothing
// is stored; a user's token tells its user.
func TestTokensAreMintedForExistingUsersOnly(t *testing.T) {
	t.Parallel()
	stocks, err := domain.NewStocks([]string{"stock1"})
	require.NoError(t, err)
	credits := memory.NewCreditStore()
	require.NoError(t, credits.SetCredit(t.Context(), "user1", 100))
	users, err := app.NewGetUser(stocks, credits)
	require.NoError(t, err)
	store := memory.NewTokenStore()
	tokens, err := app.NewTokens(store, users)
	require.NoError(t, err)

	for _, name := range []string{"nobody", "stock1", "STOCK1", "", "-x", "stockd:idem:{user1}:k"} {
		token, err := tokens.Mint(t.Context(), name)
		require.ErrorIs(t, err, ports.ErrUserNotFound, "name %q", name)
		assert.Empty(t, token)
	}
	token, err := tokens.Mint(t.Context(), "user1")
	require.NoError(t, err)
	user, err := tokens.User(t.Context(), token)
	require.NoError(t, err)
	assert.Equal(t, "user1", user)
	_, err = tokens.User(t.Context(), token+"x")
	require.ErrorIs(t, err, app.ErrUnauthenticated)
}

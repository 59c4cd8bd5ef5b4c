package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/app"
	"stockd/domain"
	"stockd/ports"
)

// countingCredits counts the lookups that reach the store.
type countingCredits struct {
	ports.CreditReader
	calls int
}

func (c *countingCredits) Credit(ctx context.Context, user string) (int64, error) {
	c.calls++
	return c.CreditReader.Credit(ctx, user)
}

func TestGetUser(t *testing.T) {
	t.Parallel()
	stocks, err := domain.NewStocks([]string{"stock1"})
	require.NoError(t, err)
	store := memory.NewCreditStore()
	require.NoError(t, store.SetCredit(t.Context(), "user2", 5999887600))
	require.NoError(t, store.SetCredit(t.Context(), "stock1", 1)) // a stock's key is never a user
	require.NoError(t, store.SetCredit(t.Context(), "a@b.c-d_e", 0))

	tests := []struct {
		name      string
		user      string
		credit    int64
		err       error
		storeAsks int
	}{
		{"a user", "user2", 5999887600, nil, 1},
		{"every allowed character", "a@b.c-d_e", 0, nil, 1},
		{"no such user", "user9", 0, ports.ErrUserNotFound, 1},
		{"a stock's name", "stock1", 0, ports.ErrUserNotFound, 0},
		{"a stock's name in another case", "STOCK1", 0, ports.ErrUserNotFound, 0},
		{"empty", "", 0, ports.ErrUserNotFound, 0},
		{"65 characters", strings.Repeat("u", 65), 0, ports.ErrUserNotFound, 0},
		{"starts with a dot", ".user", 0, ports.ErrUserNotFound, 0},
		{"a space", "user 2", 0, ports.ErrUserNotFound, 0},
		{"a slash", "user/2", 0, ports.ErrUserNotFound, 0},
		{"not ASCII", "usér", 0, ports.ErrUserNotFound, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			credits := &countingCredits{CreditReader: store}
			get, err := app.NewGetUser(stocks, credits)
			require.NoError(t, err)
			u, err := get.Execute(t.Context(), tt.user)
			assert.Equal(t, tt.storeAsks, credits.calls)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, app.User{Name: tt.user, Credit: tt.credit}, u)
		})
	}
}

func TestGetUserPassesStoreErrorsOn(t *testing.T) {
	t.Parallel()
	get, err := app.NewGetUser(domain.Stocks{}, failingCredits{})
	require.NoError(t, err)
	_, err = get.Execute(t.Context(), "user1")
	require.ErrorIs(t, err, ports.ErrUnavailable)
}

func TestNewGetUserRefusesNil(t *testing.T) {
	t.Parallel()
	_, err := app.NewGetUser(domain.Stocks{}, nil)
	require.Error(t, err)
	var nilStore *memory.CreditStore
	_, err = app.NewGetUser(domain.Stocks{}, nilStore)
	require.Error(t, err)
}

type failingCredits struct{}

func (failingCredits) Credit(context.Context, string) (int64, error) {
	return 0, ports.ErrUnavailable
}

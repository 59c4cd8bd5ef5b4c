package http_test

import (
	"fmt"
	"math"
	"math/big"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
)

// TestSellStockAndPositions: a buy makes a position; a sale answers as a
// buy does (201, Location, the order with side "sell", the credit), takes
// the shares off by the average-cost rule, and a sale of more than is held
// is denied and changes nothing; the positions page prices what is held,
// and the listing narrows to one side.
func TestSellStockAndPositions(t *testing.T) {
	f := newFixture(t) // stock1 at 110; user1 has 10000
	rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":4}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `"side":"buy"`)
	f.tick(t, "stock1", 9*3600+200, 120)

	rec = f.do(t, http.MethodPost, "/api/sell-stock", `{"user":"user1","stockname":"stock1","quantity":3}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	sale := decode[map[string]any](t, rec)
	assert.Equal(t, "Accept", sale["result"])
	order := sale["order"].(map[string]any)
	assert.Equal(t, "sell", order["side"])
	assert.Equal(t, float64(120), order["price"])
	assert.Equal(t, float64(10000-4*110+3*120), sale["credit"])
	assert.Equal(t, fmt.Sprintf("/api/orders/%v", order["id"]), rec.Header().Get("Location"))

	rec = f.do(t, http.MethodPost, "/api/sell-stock", `{"user":"user1","stockname":"stock1","quantity":2}`)
	require.Equal(t, http.StatusCreated, rec.Code)
	assert.Equal(t, "Deny", decode[map[string]any](t, rec)["result"], "one share is held")
	assert.Equal(t, int64(10000-4*110+3*120), f.credit(t, "user1"))

	rec = f.do(t, http.MethodGet, "/api/users/user1/positions", "")
	require.Equal(t, http.StatusOK, rec.Code)
	// 440 less floor(440 x 3 / 4) = 110 for the share left.
	assert.JSONEq(t, `{"user":"user1","credit":9920,"positions":[{"stock":"stock1","quantity":1,"cost_basis":110,
		"avg_entry_price":"110.0000","price":120,"market_value":120,"unrealized_pl":10}]}`, rec.Body.String())

	rec = f.do(t, http.MethodGet, "/api/users/user2/positions", "")
	assert.JSONEq(t, `{"user":"user2","credit":10000,"positions":[]}`, rec.Body.String())
	assertProblem(t, f.do(t, http.MethodGet, "/api/users/nobody/positions", ""), http.StatusNotFound)

	sales := decode[ordersPage](t, f.do(t, http.MethodGet, "/api/orders?side=sell", ""))
	require.Len(t, sales.Results, 1, "the denied sale of 2 shares is below 10 and not listed")
	assert.Equal(t, "sell", sales.Results[0]["side"])
	buys := decode[ordersPage](t, f.do(t, http.MethodGet, "/api/orders?side=buy", ""))
	require.Len(t, buys.Results, 1)
	assert.Equal(t, "buy", buys.Results[0]["side"])
	assertProblem(t, f.do(t, http.MethodGet, "/api/orders?side=Sell", ""), http.StatusBadRequest, "bad-query")
}

// TestPositionsAreExactPast2To63: a market value beyond int64 is written
// as the exact integer, not a float.
func TestPositionsAreExactPast2To63(t *testing.T) {
	f := newFixture(t)
	const price = 110
	q := int64(math.MaxInt64/price) - 3
	f.setCredit(t, "user1", q*price)
	rec := f.do(t, http.MethodPost, "/api/buy-stock", fmt.Sprintf(`{"user":"user1","stockname":"stock1","quantity":%d}`, q))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	require.Equal(t, "Accept", decode[map[string]any](t, rec)["result"])
	f.tick(t, "stock1", 9*3600+200, 1000)

	rec = f.do(t, http.MethodGet, "/api/users/user1/positions", "")
	require.Equal(t, http.StatusOK, rec.Code)
	mv := new(big.Int).Mul(big.NewInt(q), big.NewInt(1000))
	pl := new(big.Int).Sub(mv, big.NewInt(q*price))
	assert.Contains(t, rec.Body.String(), `"market_value":`+mv.String()+`,`)
	assert.Contains(t, rec.Body.String(), `"unrealized_pl":`+pl.String()+`}`)
	assert.Greater(t, mv.BitLen(), 63)
}

func TestPositionsWithTokensAreTheTokenUsersOnly(t *testing.T) {
	f := newFixture(t, withTokens())
	rec := f.do(t, http.MethodGet, "/api/users/user2/positions", "", "Authorization", "Bearer "+f.token)
	assertProblem(t, rec, http.StatusForbidden)
	rec = f.do(t, http.MethodGet, "/api/users/user1/positions", "", "Authorization", "Bearer "+f.token)
	assert.Equal(t, http.StatusOK, rec.Code)
	rec = f.do(t, http.MethodPost, "/api/sell-stock", `{"user":"user2","stockname":"stock1","quantity":1}`, "Authorization", "Bearer "+f.token)
	assertProblem(t, rec, http.StatusForbidden)
}

// TestPositionOfAStockWithoutAPrice: price, market value and P&L are null,
// the held figures are there.
func TestPositionOfAStockWithoutAPrice(t *testing.T) {
	f := newFixture(t) // stock3 has no price
	p, err := domain.NewPosition(2, 500)
	require.NoError(t, err)
	require.NoError(t, f.credits.SetPositions(t.Context(), "user1", nil, []domain.Holding{{Stock: "stock3", Position: p}}))
	rec := f.do(t, http.MethodGet, "/api/users/user1/positions", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"user":"user1","credit":10000,"positions":[{"stock":"stock3","quantity":2,"cost_basis":500,
		"avg_entry_price":"250.0000","price":null,"market_value":null,"unrealized_pl":null}]}`, rec.Body.String())
}

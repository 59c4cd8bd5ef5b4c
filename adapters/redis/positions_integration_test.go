//go:build integration

package redis_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/redis"
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

func saleOrder(t *testing.T, user string, price, qty int64) domain.SellOrder {
	t.Helper()
	s, err := domain.NewSell(user, "stock1", qty)
	require.NoError(t, err)
	o, err := s.AtPrice(testenv.UniqueName("order"), price, time.Now())
	require.NoError(t, err)
	return o
}

// TestPositionsLayout pins what the contract fixes and this adapter
// chose: a user's positions are the hash stockd:positions:{user} in the
// user's slot, field the stock, value "quantity:cost_basis"; a position
// sold out is no field, and the last one takes the key with it.
func TestPositionsLayout(t *testing.T) {
	c := client(t, testenv.StartRedis(t).Addr)
	s := redis.NewCreditStore(c)
	require.NoError(t, s.SetCredit(t.Context(), "user1", 1000))
	_, err := s.Debit(t.Context(), ports.DebitRequest{Order: buyOrder(t, "user1", 10, 3)})
	require.NoError(t, err)
	all, err := c.Do(t.Context(), c.B().Hgetall().Key("stockd:positions:{user1}").Build()).AsStrMap()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"stock1": "3:30"}, all)
	assert.JSONEq(t, `{"credit": 970}`, get(t, c, "user1"))

	_, err = s.CreditSale(t.Context(), ports.SaleRequest{Order: saleOrder(t, "user1", 11, 1)})
	require.NoError(t, err)
	all, err = c.Do(t.Context(), c.B().Hgetall().Key("stockd:positions:{user1}").Build()).AsStrMap()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"stock1": "2:20"}, all)

	_, err = s.CreditSale(t.Context(), ports.SaleRequest{Order: saleOrder(t, "user1", 11, 2)})
	require.NoError(t, err)
	n, err := c.Do(t.Context(), c.B().Exists().Key("stockd:positions:{user1}").Build()).AsInt64()
	require.NoError(t, err)
	assert.Zero(t, n, "no position, no key")
	assert.JSONEq(t, `{"credit": 1003}`, get(t, c, "user1"))
}

// TestStoredPositionsThatAreNotPositions: a position value that the
// domain would not make (another tool wrote it) stops every trade of that
// stock with ErrBadPosition and writes nothing; the reader refuses it too,
// and passes over "0:0", which holds nothing.
func TestStoredPositionsThatAreNotPositions(t *testing.T) {
	c := client(t, testenv.StartRedis(t).Addr)
	s := redis.NewCreditStore(c)
	require.NoError(t, s.SetCredit(t.Context(), "user1", 1000))
	for _, bad := range []string{"abc", "0:5", "-1:5", "1:2:3", "9223372036854775808:1", "1.5:2", ""} {
		require.NoError(t, c.Do(t.Context(), c.B().Hset().Key("stockd:positions:{user1}").FieldValue().FieldValue("stock1", bad).Build()).Error())
		buy := buyOrder(t, "user1", 10, 1)
		_, err := s.Debit(t.Context(), ports.DebitRequest{Order: buy})
		require.ErrorIs(t, err, domain.ErrBadPosition, "buy on %q", bad)
		sale := saleOrder(t, "user1", 10, 1)
		_, err = s.CreditSale(t.Context(), ports.SaleRequest{Order: sale})
		require.ErrorIs(t, err, domain.ErrBadPosition, "sale on %q", bad)
		_, err = s.Positions(t.Context(), "user1")
		require.ErrorIs(t, err, domain.ErrBadPosition, "read of %q", bad)
		credit, err := s.Credit(t.Context(), "user1")
		require.NoError(t, err)
		assert.Equal(t, int64(1000), credit, "nothing written on %q", bad)
		pending, err := s.PendingOrders(t.Context())
		require.NoError(t, err)
		assert.Empty(t, pending)
	}
	require.NoError(t, c.Do(t.Context(), c.B().Hset().Key("stockd:positions:{user1}").FieldValue().FieldValue("stock1", "0:0").FieldValue("stock2", "007:070").Build()).Error())
	p, err := s.Positions(t.Context(), "user1")
	require.NoError(t, err)
	want, err := domain.NewPosition(7, 70)
	require.NoError(t, err)
	assert.Equal(t, []domain.Holding{{Stock: "stock2", Position: want}}, p.Holdings)
	res, err := s.CreditSale(t.Context(), ports.SaleRequest{Order: saleOrder(t, "user1", 10, 1)})
	require.NoError(t, err)
	assert.Equal(t, domain.Denied, res.Order.Status(), "0:0 holds no share of stock1")
}

// TestPositionsOfKeysThatAreNotUsers: whatever a key holds, if it is not a
// user record, its name is an unknown user to the positions reader and to
// a sale, as to a debit.
func TestPositionsOfKeysThatAreNotUsers(t *testing.T) {
	c := client(t, testenv.StartRedis(t).Addr)
	s := redis.NewCreditStore(c)
	for user, value := range map[string]string{
		"stock1": `{"time": ["090000"], "price": [1054]}`, "zeros": `{"credit":0005000}`, "text": `{"credit": "100"}`,
	} {
		set(t, c, user, value)
		_, err := s.Positions(t.Context(), user)
		require.ErrorIs(t, err, ports.ErrUserNotFound, user)
		_, err = s.CreditSale(t.Context(), ports.SaleRequest{Order: saleOrder(t, user, 1, 1)})
		require.ErrorIs(t, err, ports.ErrUserNotFound, user)
		assert.Equal(t, value, get(t, c, user), "%s is unchanged", user)
	}
	_, err := s.Positions(t.Context(), "nobody")
	require.ErrorIs(t, err, ports.ErrUserNotFound)
}

// TestPendingRecordsCarryTheSide: a sale's pending record says so, for
// the settler to record it as a sale; a record written before sales
// existed carries no side and is a buy.
func TestPendingRecordsCarryTheSide(t *testing.T) {
	c := client(t, testenv.StartRedis(t).Addr)
	s := redis.NewCreditStore(c)
	require.NoError(t, s.SetCredit(t.Context(), "user1", 1000))
	_, err := s.Debit(t.Context(), ports.DebitRequest{Order: buyOrder(t, "user1", 10, 3)})
	require.NoError(t, err)
	sale := saleOrder(t, "user1", 11, 1)
	_, err = s.CreditSale(t.Context(), ports.SaleRequest{Order: sale})
	require.NoError(t, err)
	raw, err := c.Do(t.Context(), c.B().Hget().Key("stockd:pending:{user1}").Field(sale.Key()).Build()).ToString()
	require.NoError(t, err)
	assert.Contains(t, raw, `"side":"sell"`)

	old := `{"order":{"key":"o-old","user":"user1","stock":"stock1","status":"accepted","price":5,"quantity":2,"created_at":"2026-11-26T09:00:00Z"},"credit_left":990}`
	require.NoError(t, c.Do(t.Context(), c.B().Hset().Key("stockd:pending:{user1}").FieldValue().FieldValue("o-old", old).Build()).Error())
	pending, err := s.PendingOrders(t.Context())
	require.NoError(t, err)
	sides := map[string]domain.Side{}
	for _, p := range pending {
		sides[p.Order.Key()] = p.Order.Side()
	}
	assert.Equal(t, domain.SideSell, sides[sale.Key()])
	assert.Equal(t, domain.SideBuy, sides["o-old"])

	require.NoError(t, c.Do(t.Context(), c.B().Hset().Key("stockd:pending:{user1}").FieldValue().FieldValue("o-bad", `{"order":{"key":"o-bad","user":"user1","stock":"stock1","side":"short","status":"accepted","price":5,"quantity":2,"created_at":"2026-11-26T09:00:00Z"}}`).Build()).Error())
	_, err = s.PendingOrders(t.Context())
	require.Error(t, err, "a side that is neither is no order")
}

// TestReconciliationReadsPositionsAsTradesDo: what reconciliation lists,
// and what its compare-and-set compares, is a stored value as the trade
// scripts read it: leading zeros are the same number, "0:0" holds
// nothing, and a value that is not a position is refused by the readers
// and never matches what was read. What it writes is the layout of
// TestPositionsLayout.
func TestReconciliationReadsPositionsAsTradesDo(t *testing.T) {
	c := client(t, testenv.StartRedis(t).Addr)
	s := redis.NewCreditStore(c)
	hset := func(key string, pairs ...string) {
		t.Helper()
		cmd := c.B().Hset().Key(key).FieldValue()
		for i := 0; i < len(pairs); i += 2 {
			cmd = cmd.FieldValue(pairs[i], pairs[i+1])
		}
		require.NoError(t, c.Do(t.Context(), cmd.Build()).Error())
	}
	stored := func(key string) map[string]string {
		t.Helper()
		all, err := c.Do(t.Context(), c.B().Hgetall().Key(key).Build()).AsStrMap()
		require.NoError(t, err)
		return all
	}
	listed := func() map[string][]domain.Holding {
		t.Helper()
		out := map[string][]domain.Holding{}
		require.NoError(t, s.AllPositions(t.Context(), func(user string, hs []domain.Holding) error {
			out[user] = hs
			return nil
		}))
		return out
	}
	seven, err := domain.NewPosition(7, 70)
	require.NoError(t, err)
	three, err := domain.NewPosition(3, 30)
	require.NoError(t, err)

	hset("stockd:positions:{user1}", "stock1", "0:0", "stock2", "007:070")
	hset("stockd:positions:{user2}", "stock1", "0:0")
	read, err := s.PositionsOf(t.Context(), "user1")
	require.NoError(t, err)
	assert.Equal(t, []domain.Holding{{Stock: "stock2", Position: seven}}, read)
	assert.Equal(t, map[string][]domain.Holding{"user1": read}, listed(), "user2 holds nothing")

	require.NoError(t, s.SetPositions(t.Context(), "user1", read, []domain.Holding{{Stock: "stock3", Position: three}}))
	assert.Equal(t, map[string]string{"stock3": "3:30"}, stored("stockd:positions:{user1}"))

	hset("stockd:positions:{user3}", "stock1", "abc")
	_, err = s.PositionsOf(t.Context(), "user3")
	require.ErrorIs(t, err, domain.ErrBadPosition)
	assert.Contains(t, err.Error(), "user3")
	require.ErrorIs(t, s.AllPositions(t.Context(), func(string, []domain.Holding) error { return nil }), domain.ErrBadPosition)
	err = s.SetPositions(t.Context(), "user3", nil, []domain.Holding{{Stock: "stock1", Position: three}})
	require.ErrorIs(t, err, ports.ErrPositionsChanged)
	assert.Equal(t, map[string]string{"stock1": "abc"}, stored("stockd:positions:{user3}"), "nothing written")
}

//go:build integration

package redis_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/redis"
	"stockd/adapters/storetest"
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

func client(t *testing.T, addr string) rueidis.Client {
	t.Helper()
	c, err := redis.Open(addr)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestContracts(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	t.Run("PriceStore", func(t *testing.T) {
		storetest.PriceStore(t, func(*testing.T) ports.PriceStore { return redis.NewPriceStore(c) })
	})
	t.Run("CreditStore", func(t *testing.T) {
		storetest.CreditStore(t, func(*testing.T) ports.CreditStore { return redis.NewCreditStore(c) })
	})
	t.Run("TokenStore", func(t *testing.T) {
		storetest.TokenStore(t, func(*testing.T) ports.TokenStore { return redis.NewTokenStore(c) })
	})
	t.Run("IdempotencyStore", func(t *testing.T) {
		storetest.IdempotencyStore(t, func(*testing.T) ports.IdempotencyStore { return redis.NewIdempotencyStore(c) })
	})
}

func set(t *testing.T, c rueidis.Client, key, value string) {
	t.Helper()
	require.NoError(t, c.Do(t.Context(), c.B().Set().Key(key).Value(value).Build()).Error())
}

func get(t *testing.T, c rueidis.Client, key string) string {
	t.Helper()
	v, err := c.Do(t.Context(), c.B().Get().Key(key).Build()).ToString()
	require.NoError(t, err)
	return v
}

// TestOriginalUserFormat: the exercise's users are {"id": 1, "credit": N};
// a debit keeps the id and any other field.
func TestOriginalUserFormat(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	set(t, c, "user1", `{"id": 1, "credit": 150000000, "name": "Ada"}`)
	s := redis.NewCreditStore(c)
	credit, err := s.Credit(t.Context(), "user1")
	require.NoError(t, err)
	assert.Equal(t, int64(150000000), credit)
	_, err = s.UpdateCredit(t.Context(), "user1", func(c int64) (ports.CreditChange, error) {
		return ports.CreditChange{Credit: c - 105400}, nil
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id": 1, "credit": 149894600, "name": "Ada"}`, get(t, c, "user1"))

	require.NoError(t, s.SetCredit(t.Context(), "user1", 5))
	assert.JSONEq(t, `{"id": 1, "credit": 5, "name": "Ada"}`, get(t, c, "user1"), "seed-users keeps other fields")

	// Credits beyond 2^53 stay exact (no float64 on the way).
	require.NoError(t, s.SetCredit(t.Context(), "user1", 9007199254740993))
	credit, err = s.Credit(t.Context(), "user1")
	require.NoError(t, err)
	assert.Equal(t, int64(9007199254740993), credit)

	set(t, c, "broken", `{"credit": 1.5}`)
	_, err = s.Credit(t.Context(), "broken")
	require.Error(t, err)
	require.NotErrorIs(t, err, ports.ErrUserNotFound)
}

// TestSeriesFormat pins the stored JSON of the contract, keeps foreign
// fields, and reads foreign entries as ticks at their times.
func TestSeriesFormat(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	s := redis.NewPriceStore(c)
	set(t, c, "stock1", `{"time": ["090000", "090100"], "price": [10, 11], "source": "django"}`)
	b := domain.NewTickBatch()
	b.Add(domain.Tick{Stock: "stock1", At: 9*3600 + 30, Price: 12})       // 09:00:30 beats the 09:00:00 entry
	b.Add(domain.Tick{Stock: "stock1", At: 9*3600 + 3*60 + 5, Price: 13}) // 09:03:05, 09:02 carried
	require.NoError(t, s.Merge(t.Context(), b.Histories()))

	var stored map[string]any
	require.NoError(t, json.Unmarshal([]byte(get(t, c, "stock1")), &stored))
	assert.Equal(t, []any{"090000", "090100", "090200", "090300"}, stored["time"])
	assert.Equal(t, []any{12.0, 11.0, 11.0, 13.0}, stored["price"])
	assert.Equal(t, "django", stored["source"])
	assert.Equal(t, []any{"090030", "090100", nil, "090305"}, stored["close_time"])

	series, err := s.Series(t.Context(), "stock1")
	require.NoError(t, err)
	assert.Equal(t, []int64{12, 11, 11, 13}, series.Prices)

	set(t, c, "stock2", `{"time": ["9am"], "price": [1]}`)
	err = s.Merge(t.Context(), b.Histories())
	require.NoError(t, err, "stock2 is not in the batch")
	b2 := domain.NewTickBatch()
	b2.Add(domain.Tick{Stock: "stock2", At: 9 * 3600, Price: 1})
	require.ErrorIs(t, s.Merge(t.Context(), b2.Histories()), domain.ErrMalformedSeries)
	assert.Equal(t, `{"time": ["9am"], "price": [1]}`, get(t, c, "stock2"), "a malformed value is left alone")
}

// TestOutageFailsFastAndRecovers: with the server gone, calls fail with
// ErrUnavailable within the request's deadline; when it is back, the same
// client works again.
func TestOutageFailsFastAndRecovers(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	s := redis.NewCreditStore(c)
	require.NoError(t, s.SetCredit(t.Context(), "user1", 10))

	srv.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := s.Credit(ctx, "user1")
	require.ErrorIs(t, err, ports.ErrUnavailable)
	require.ErrorIs(t, redis.Ping(ctx, c), ports.ErrUnavailable)

	srv.Restart(t)
	require.Eventually(t, func() bool { return redis.Ping(t.Context(), c) == nil }, 10*time.Second, 50*time.Millisecond)
	require.NoError(t, s.SetCredit(t.Context(), "user1", 10))
}

func TestOpenWhileDown(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	c, err := redis.Open(addr)
	require.ErrorIs(t, err, ports.ErrUnavailable)
	require.NotNil(t, c, "a client is returned so that a long-running command can start")
	c.Close()
}

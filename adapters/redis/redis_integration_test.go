//go:build integration

package redis_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
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

func client(t *testing.T, seeds ...string) rueidis.Client {
	t.Helper()
	c, err := redis.Open(seeds)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// TestContracts runs the store contracts on one server and on a
// three-master cluster.
func TestContracts(t *testing.T) {
	single := client(t, testenv.StartRedis(t).Addr)
	cluster := client(t, testenv.RedisCluster(t)...)
	for name, c := range map[string]rueidis.Client{"single": single, "cluster": cluster} {
		t.Run(name+"/PriceStore", func(t *testing.T) { priceStoreContract(t, c) })
		t.Run(name+"/CreditStore", func(t *testing.T) {
			storetest.CreditStore(t, func(*testing.T) ports.CreditStore { return redis.NewCreditStore(c) })
		})
		t.Run(name+"/Positions", func(t *testing.T) {
			storetest.Positions(t, func(*testing.T) ports.CreditStore { return redis.NewCreditStore(c) })
		})
		t.Run(name+"/PositionBook", func(t *testing.T) {
			storetest.PositionBook(t, func(*testing.T) ports.CreditStore { return redis.NewCreditStore(c) })
		})
		t.Run(name+"/DebitFence", func(t *testing.T) {
			storetest.DebitFence(t, func(*testing.T) (ports.CreditStore, ports.IdempotencyStore) {
				return redis.NewCreditStore(c), redis.NewIdempotencyStore(c)
			})
		})
		t.Run(name+"/SaleFence", func(t *testing.T) {
			storetest.SaleFence(t, func(*testing.T) (ports.CreditStore, ports.IdempotencyStore) {
				return redis.NewCreditStore(c), redis.NewIdempotencyStore(c)
			})
		})
		t.Run(name+"/TokenStore", func(t *testing.T) {
			storetest.TokenStore(t, func(*testing.T) ports.TokenStore { return redis.NewTokenStore(c) })
		})
		t.Run(name+"/IdempotencyStore", func(t *testing.T) {
			storetest.IdempotencyStore(t, func(*testing.T) ports.IdempotencyStore { return redis.NewIdempotencyStore(c) })
		})
	}
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

func buyOrder(t *testing.T, user string, price, qty int64) domain.BuyOrder {
	t.Helper()
	b, err := domain.NewBuy(user, "stock1", qty)
	require.NoError(t, err)
	o, err := b.AtPrice(testenv.UniqueName("order"), price, time.Now())
	require.NoError(t, err)
	return o
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
	res, err := s.Debit(t.Context(), ports.DebitRequest{Order: buyOrder(t, "user1", 1054, 100)})
	require.NoError(t, err)
	assert.Equal(t, domain.Accepted, res.Order.Status())
	assert.JSONEq(t, `{"id": 1, "credit": 149894600, "name": "Ada"}`, get(t, c, "user1"))

	require.NoError(t, s.SetCredit(t.Context(), "user1", 5))
	assert.JSONEq(t, `{"id": 1, "credit": 5, "name": "Ada"}`, get(t, c, "user1"), "seed-users keeps other fields")

	// Credits beyond 2^53 stay exact (no float64 on the way).
	require.NoError(t, s.SetCredit(t.Context(), "user1", 9007199254740993))
	credit, err = s.Credit(t.Context(), "user1")
	require.NoError(t, err)
	assert.Equal(t, int64(9007199254740993), credit)

	// The contract: a value without an integer credit is not a user record,
	// so its name is an unknown user. (Before the keyspace of issue 8 this
	// was a store error, a 500.)
	set(t, c, "broken", `{"credit": 1.5}`)
	_, err = s.Credit(t.Context(), "broken")
	require.ErrorIs(t, err, ports.ErrUserNotFound)

	// The script and Go read a record alike: an escaped member name is
	// the name it spells (the last "credit" counts), and "-0" is no credit.
	set(t, c, "escaped", `{"credit": 100, "cr\u0065dit": 5}`)
	credit, err = s.Credit(t.Context(), "escaped")
	require.NoError(t, err)
	assert.Equal(t, int64(5), credit)
	res, err = s.Debit(t.Context(), ports.DebitRequest{Order: buyOrder(t, "escaped", 3, 2)})
	require.NoError(t, err)
	assert.Equal(t, domain.Denied, res.Order.Status(), "judged against 5, not 100")
	assert.Equal(t, int64(5), res.Credit)
	set(t, c, "minuszero", `{"credit": -0}`)
	_, err = s.Credit(t.Context(), "minuszero")
	require.ErrorIs(t, err, ports.ErrUserNotFound)
	_, err = s.Debit(t.Context(), ports.DebitRequest{Order: buyOrder(t, "minuszero", 1, 1)})
	require.ErrorIs(t, err, ports.ErrUserNotFound)

	set(t, c, "ada", `{"id": 7}`)
	require.NoError(t, s.SetCredit(t.Context(), "ada", 10))
	assert.JSONEq(t, `{"credit": 10, "id": 7}`, get(t, c, "ada"), "an object without credit gets one")
}

// TestKeysThatAreNotUsers: whatever a key holds, if it is not a user
// record, a debit of its name is an unknown user and writes nothing; a
// user record is read by its top-level credit only.
func TestKeysThatAreNotUsers(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	s := redis.NewCreditStore(c)
	notUsers := map[string]string{
		"stock1":   `{"time": ["090000"], "price": [1054]}`,
		"fraction": `{"credit": 1.5}`,
		"negative": `{"credit": -5}`,
		"exponent": `{"credit": 1e3}`,
		"text":     `{"credit": "100"}`,
		"toobig":   `{"credit": 9223372036854775808}`,
		"nested":   `{"meta": {"credit": 5}}`,
		"quoted":   `{"name": "\"credit\": 5"}`,
		"array":    `[{"credit": 5}]`,
		"notjson":  `credit: 5`,
		"empty":    `{}`,
		// JSON as RFC 8259 defines it, on every path (issue 16 item 5).
		"zeros":   `{"credit":0005000}`,
		"dot":     `{"credit": 5, "x": 1.}`,
		"control": "{\"credit\": 5, \"x\": \"a\tb\"}",
		"deep":    `{"credit":5,"x":` + strings.Repeat("[", 1199) + strings.Repeat("]", 1199) + `}`,
	}
	for user, value := range notUsers {
		set(t, c, user, value)
	}
	require.NoError(t, c.Do(t.Context(), c.B().Hset().Key("ahash").FieldValue().FieldValue("credit", "5").Build()).Error())
	notUsers["ahash"] = ""
	for user, value := range notUsers {
		_, err := s.Debit(t.Context(), ports.DebitRequest{Order: buyOrder(t, user, 1, 1)})
		require.ErrorIs(t, err, ports.ErrUserNotFound, user)
		_, err = s.Credit(t.Context(), user)
		require.ErrorIs(t, err, ports.ErrUserNotFound, user)
		if value != "" {
			assert.Equal(t, value, get(t, c, user), "%s is unchanged", user)
		}
	}
	for _, user := range []string{"zeros", "dot", "control", "deep", "notjson", "array"} {
		require.Error(t, s.SetCredit(t.Context(), user, 7), "seed-users leaves %s alone", user)
		assert.Equal(t, notUsers[user], get(t, c, user), "%s is unchanged", user)
	}
	pending, err := s.PendingOrders(t.Context())
	require.NoError(t, err)
	assert.Empty(t, pending)

	set(t, c, "tricky", `{"name": "a \"credit\": 1 }", "x": [{"credit": 3}, "]"], "credit": 10, "y": {"credit": 4}}`)
	res, err := s.Debit(t.Context(), ports.DebitRequest{Order: buyOrder(t, "tricky", 3, 2)})
	require.NoError(t, err)
	assert.Equal(t, int64(4), res.Credit)
	assert.Equal(t, `{"name": "a \"credit\": 1 }", "x": [{"credit": 3}, "]"], "credit": 4, "y": {"credit": 4}}`, get(t, c, "tricky"),
		"only the top-level credit changes, byte for byte")
}

// TestPhantomUserExploit reproduces issue 8's exploit on the store: an
// idempotency record is not a user, whatever its name or content.
func TestPhantomUserExploit(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	credits, keys := redis.NewCreditStore(c), redis.NewIdempotencyStore(c)
	require.NoError(t, credits.SetCredit(t.Context(), "user1", 1000))
	r := ports.Reservation{User: "user1", Key: "phantom1", Fingerprint: "fp", OrderKey: "o1", ReservedAt: time.Now()}
	_, err := keys.Reserve(t.Context(), r, time.Hour)
	require.NoError(t, err)
	o, err := domain.OrderFromStore(1, "o1", "user1", "stock1", domain.Accepted, 10, 1, time.Now())
	require.NoError(t, err)
	require.NoError(t, keys.Complete(t.Context(), "user1", "phantom1", "fp", ports.Outcome{Order: o, Credit: 990}, time.Hour))

	all, err := c.Do(t.Context(), c.B().Keys().Pattern("*").Build()).AsStrSlice()
	require.NoError(t, err)
	for _, k := range all {
		if k == "user1" {
			continue
		}
		require.Error(t, domain.ValidateUserName(k), "service key %s is no valid user name", k)
		// Nor does any hold a user record, should a store be asked.
		_, err := credits.Credit(t.Context(), k)
		require.ErrorIs(t, err, ports.ErrUserNotFound, k)
	}
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

// TestOpenWhileDown: Open fails when no seed answers; a Connector is
// made anyway, fails fast while no seed answers (dialling again only when
// the retry policy says), and works once one does, without a restart.
func TestOpenWhileDown(t *testing.T) {
	srv := testenv.StartRedis(t)
	srv.Stop()
	_, err := redis.Open([]string{srv.Addr})
	require.ErrorIs(t, err, ports.ErrUnavailable)

	conn, err := redis.NewConnector([]string{srv.Addr})
	require.NoError(t, err, "a connector is made so that a long-running command can start")
	t.Cleanup(conn.Close)
	credits := conn.CreditStore()
	_, err = credits.Credit(t.Context(), "user1")
	require.ErrorIs(t, err, ports.ErrUnavailable)
	_, err = credits.PendingOrders(t.Context())
	require.ErrorIs(t, err, ports.ErrUnavailable)
	require.ErrorIs(t, conn.Ping(t.Context()), ports.ErrUnavailable)
	_, err = conn.Client(t.Context())
	require.ErrorIs(t, err, ports.ErrUnavailable)

	srv.Restart(t)
	require.Eventually(t, func() bool { return conn.Ping(t.Context()) == nil }, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, credits.SetCredit(t.Context(), "user1", 10))
	credit, err := credits.Credit(t.Context(), "user1")
	require.NoError(t, err)
	assert.Equal(t, int64(10), credit)
	first, err := conn.Client(t.Context())
	require.NoError(t, err)
	again, err := conn.Client(t.Context())
	require.NoError(t, err)
	assert.Same(t, first, again, "one client, built once")

	conn.Close()
	_, err = redis.NewConnector([]string{"no-port"})
	require.Error(t, err)
	_, err = redis.NewConnector(nil)
	require.Error(t, err)
	_, err = redis.Open([]string{"no-port"})
	require.Error(t, err)
}

// TestOpenWhileDownThenCluster: a connector finds a cluster when one
// comes up behind the seed it was given, and then routes by slot.
func TestOpenWhileDownThenCluster(t *testing.T) {
	seeds := testenv.RedisCluster(t)
	p := testenv.StartProxy(t, seeds[0])
	p.SetDown(true)
	conn, err := redis.NewConnector([]string{p.Addr})
	require.NoError(t, err)
	t.Cleanup(conn.Close)
	s := conn.CreditStore()
	_, err = s.Credit(t.Context(), "user0")
	require.ErrorIs(t, err, ports.ErrUnavailable)
	p.SetDown(false)
	require.Eventually(t, func() bool { return conn.Ping(t.Context()) == nil }, 10*time.Second, 50*time.Millisecond)
	for i := range 20 { // users on every master
		user := "user" + strconv.Itoa(i)
		require.NoError(t, s.SetCredit(t.Context(), user, 100))
		res, err := s.Debit(t.Context(), ports.DebitRequest{Order: buyOrder(t, user, 10, 1)})
		require.NoError(t, err)
		assert.Equal(t, int64(90), res.Credit)
	}
	pending, err := s.PendingOrders(t.Context())
	require.NoError(t, err)
	assert.Len(t, pending, 20, "pending orders are found on every master")
	c, err := conn.Client(t.Context())
	require.NoError(t, err)
	assert.Equal(t, rueidis.ClientModeCluster, c.Mode())
}

// TestSeriesFormat pins the stored JSON of the contract, keeps foreign
// fields, and reads foreign entries as ticks at their times.
func TestSeriesFormat(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := client(t, srv.Addr)
	s := redis.NewPriceStore(c)
	set(t, c, "stock1", `{"time": ["090000", "090100"], "price": [10, 11], "source": "django"}`)
	b := domain.NewTickBatch()
	b.Add(tick("stock1", day, 9*3600+30, 12))     // 09:00:30 beats the 09:00:00 entry
	b.Add(tick("stock1", day, 9*3600+3*60+5, 13)) // 09:03:05, 09:02 carried
	require.NoError(t, s.Merge(t.Context(), b.Histories()))

	var stored map[string]any
	require.NoError(t, json.Unmarshal([]byte(get(t, c, "stock1")), &stored))
	assert.Equal(t, []any{"090000", "090100", "090200", "090300"}, stored["time"])
	assert.Equal(t, []any{12.0, 11.0, 11.0, 13.0}, stored["price"])
	assert.Equal(t, "django", stored["source"])
	assert.Equal(t, []any{"090030", "090100", nil, "090305"}, stored["close_time"])

	series, err := s.Series(t.Context(), "stock1", 0)
	require.NoError(t, err)
	assert.Equal(t, []int64{12, 11, 11, 13}, series.Closes())

	set(t, c, "stock2", `{"time": ["9am"], "price": [1]}`)
	err = s.Merge(t.Context(), b.Histories())
	require.NoError(t, err, "stock2 is not in the batch")
	b2 := domain.NewTickBatch()
	b2.Add(tick("stock2", day, 9*3600, 1))
	require.ErrorIs(t, s.Merge(t.Context(), b2.Histories()), domain.ErrMalformedSeries)
	assert.Equal(t, `{"time": ["9am"], "price": [1]}`, get(t, c, "stock2"), "a malformed value is left alone")
}

// TestReservationsAreFoundByDecoding: the scripts tell a reservation by
// its decoded top-level "order_key", not by the text "order_key":"..."
// anywhere in the record (issue 16 item 5). A record that carries that
// text only inside another member is no reservation: it is neither
// debited against nor freed.
func TestReservationsAreFoundByDecoding(t *testing.T) {
	c := client(t, testenv.StartRedis(t).Addr)
	credits, keys := redis.NewCreditStore(c), redis.NewIdempotencyStore(c)
	require.NoError(t, credits.SetCredit(t.Context(), "user1", 1000))
	o := buyOrder(t, "user1", 10, 1)
	record := `{"fingerprint":"fp","meta":{"order_key":"` + o.Key() + `"},"credit_left":0}`
	set(t, c, "stockd:idem:{user1}:k", record)

	_, err := credits.Debit(t.Context(), ports.DebitRequest{Order: o, IdempotencyKey: "k", Fingerprint: "fp"})
	require.ErrorIs(t, err, ports.ErrKeyInFlight, "not reserved for the order: no debit")
	freed, err := keys.Free(t.Context(), ports.Reservation{User: "user1", Key: "k", Fingerprint: "fp", OrderKey: o.Key()})
	require.NoError(t, err)
	assert.False(t, freed)
	require.NoError(t, keys.Release(t.Context(), "user1", "k", o.Key()))
	assert.Equal(t, record, get(t, c, "stockd:idem:{user1}:k"), "neither freed nor released")
	credit, err := credits.Credit(t.Context(), "user1")
	require.NoError(t, err)
	assert.Equal(t, int64(1000), credit)
}

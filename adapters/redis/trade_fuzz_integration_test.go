//go:build integration

package redis

import (
	"math"
	"strconv"
	"testing"

	"github.com/redis/rueidis"

	"stockd/domain"
	"stockd/internal/testenv"
)

// fuzzRedis is a client of a throwaway server for a fuzz target.
func fuzzRedis(f *testing.F) rueidis.Client {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{testenv.StartRedis(f).Addr}, DisableCache: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(c.Close)
	return c
}

// judgeTradeLua runs judge_buy or judge_sale of lua/position.lua on
// values instead of keys: ARGV[1] 'buy' or 'sell', then credit, quantity
// held, cost basis, price and quantity as decimal text.
const judgeTradeLua = `
local judge = ARGV[1] == 'sell' and judge_sale or judge_buy
return {judge(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])}
`

// FuzzTradeJudges checks that the trade scripts' judges (judge_buy and
// judge_sale of lua/position.lua, which debit.lua and sell.lua run) agree
// with domain.JudgeBuy and domain.JudgeSale on any credit, position, price
// and quantity the domain allows: the same verdict, credit and position.
// The seeds are the edges of every denial and of the scripts' fast paths.
func FuzzTradeJudges(f *testing.F) {
	const max = math.MaxInt64
	for _, seed := range []struct {
		sell                                bool
		credit, heldQty, heldCost, price, q int64
	}{
		{false, max, 0, 0, 1, max}, {false, max, max, max, 1, 1}, {false, max, 1, max - 1, 2, 1},
		{false, 1000, 0, 0, 10, 100}, {false, 999, 0, 0, 10, 100}, {false, max, 0, 0, 1 << 32, 1 << 32},
		{true, 0, max, max, 1, max}, {true, max, 1, 1, 1, 1}, {true, max - 1, 1, 1, 1, 1},
		{true, 0, 3, 10, 1, 1}, {true, 0, 3, 10, 1, 4}, {true, 0, max, max, max, max - 1},
		{true, 0, 1<<53 + 3, 27021597764222989, 1, 1 << 52}, {true, 0, 999999999999999, 999999999999999, 1, 999999999999998},
		{true, 0, 100, 90071992547410001, 1, 99}, {true, 0, 1000000000000000, 999999999999999, 9, 1},
	} {
		f.Add(seed.sell, seed.credit, seed.heldQty, seed.heldCost, seed.price, seed.q)
	}
	c := fuzzRedis(f)
	script := rueidis.NewLuaScript(userLua + positionLua + judgeTradeLua)
	f.Fuzz(func(t *testing.T, sell bool, credit, heldQty, heldCost, price, qty int64) {
		// Every input is made one the domain judges (the scripts get only
		// what domain.Buy, domain.Sell and read_position pass), rather
		// than skipped: the sign bit cleared, no cost without shares.
		credit, heldQty, heldCost, price, qty = credit&max, heldQty&max, heldCost&max, price&max, qty&max
		if heldQty == 0 {
			heldCost = 0
		}
		if price == 0 || qty == 0 {
			t.Skip("no order has a price or quantity of 0")
		}
		held, err := domain.NewPosition(heldQty, heldCost)
		if err != nil {
			t.Fatal(err)
		}
		side, want := "buy", domain.JudgeBuy(credit, held, price, qty)
		if sell {
			side, want = "sell", domain.JudgeSale(credit, held, price, qty)
		}
		text := func(n int64) string { return strconv.FormatInt(n, 10) }
		got, err := script.Exec(t.Context(), c, nil, []string{side, text(credit), text(heldQty), text(heldCost), text(price), text(qty)}).AsStrSlice()
		if err != nil {
			t.Fatalf("script: %v", err)
		}
		wantReply := []string{string(want.Status), text(want.CreditLeft), text(want.Position.Quantity()), text(want.Position.CostBasis())}
		if len(got) != 4 || got[0] != wantReply[0] || got[1] != wantReply[1] || got[2] != wantReply[2] || got[3] != wantReply[3] {
			t.Fatalf("%s of %d at %d, credit %d, holding %d costing %d: script %q, domain %q", side, qty, price, credit, heldQty, heldCost, got, wantReply)
		}
	})
}

// readPositionLua is read_position of lua/position.lua on a value: the
// quantity and cost basis, or false when the value is not a position.
const readPositionLua = `
local q, c = read_position(ARGV[1])
if not q then return false end
return {q, c}
`

// FuzzPositionRecord checks that Go (parsePosition, the positions page)
// and the scripts (read_position, every trade) read every stored position
// alike: the same quantity and cost basis, or both "not a position".
func FuzzPositionRecord(f *testing.F) {
	for _, seed := range []string{
		"100:105400", "0:0", "0:1", "1:0", "007:010", "9223372036854775807:9223372036854775807",
		"9223372036854775808:1", "1:9223372036854775808", "00000000000000000000009:1", "-1:5", "+1:5", "1:-0",
		"1:2:3", ":5", "5:", ":", "", "1 :2", " 1:2", "1:2 ", "1:2\n", "1.0:2", "1e3:2", "0x10:2", "١:٢", "1:2\x00",
	} {
		f.Add(seed)
	}
	c := fuzzRedis(f)
	script := rueidis.NewLuaScript(userLua + positionLua + readPositionLua)
	f.Fuzz(func(t *testing.T, raw string) {
		p, goErr := parsePosition(raw)
		reply, err := script.Exec(t.Context(), c, nil, []string{raw}).AsStrSlice()
		luaOK := err == nil
		if err != nil && !rueidis.IsRedisNil(err) {
			t.Fatalf("script on %q: %v", raw, err)
		}
		if (goErr == nil) != luaOK {
			t.Fatalf("%q: Go says position %v (%v), Lua says %v (%q)", raw, goErr == nil, goErr, luaOK, reply)
		}
		if luaOK && (len(reply) != 2 || reply[0] != strconv.FormatInt(p.Quantity(), 10) || reply[1] != strconv.FormatInt(p.CostBasis(), 10)) {
			t.Fatalf("%q: Go reads %d:%d, Lua %q", raw, p.Quantity(), p.CostBasis(), reply)
		}
	})
}

package redis

import (
	"embed"
	"fmt"

	"github.com/redis/rueidis"
)

// Every script of the adapter, each a file of lua/ (which says what it
// takes and returns), loaded one way.
var (
	// The credit scripts, with the user-record library in front; the
	// trades with the position library and the trade itself too.
	debitScript     = newWriteScript("debit", tradeLua+luaText("debit.lua"))
	sellScript      = newWriteScript("sell", tradeLua+luaText("sell.lua"))
	positionsScript = rueidis.NewLuaScript(userLua + luaText("positions.lua"))
	// Reconciliation's compare-and-set of a user's positions.
	setPositionsScript = newWriteScript("set positions", userLua+positionLua+luaText("set_positions.lua"))
	setCreditScript    = rueidis.NewLuaScript(userLua + luaText("set_credit.lua"))

	// The idempotency records.
	reserveScript = rueidis.NewLuaScript(luaText("reserve.lua"))
	finishScript  = rueidis.NewLuaScript(luaText("finish.lua"))
	freeScript    = rueidis.NewLuaScript(luaText("free.lua"))

	// The compare-and-set of a stock's series (see priceWriter.merged).
	mergeScript = rueidis.NewLuaScript(luaText("price_merge.lua"))

	// The shared rate limit (see RateLimiter).
	rateLimitScript = rueidis.NewLuaScript(luaText("rate_limit.lua"))
)

// luaFiles holds the scripts' files.
//
//go:embed lua/*.lua
var luaFiles embed.FS

// luaText returns the text of lua/name. The files are embedded, so a
// missing one is a mistake in this package, and every test that loads the
// package finds it.
func luaText(name string) string {
	b, err := luaFiles.ReadFile("lua/" + name)
	if err != nil {
		panic(fmt.Sprintf("redis: script %s: %v", name, err))
	}
	return string(b)
}

// userLua is the library of the user record and exact decimal arithmetic
// (read_user, judge) that the credit scripts put in front of their own
// text: Redis loads a script as one text, so a shared function is shared
// by concatenation.
var userLua = luaText("user.lua")

// positionLua is the library of positions and the trade judges
// (read_position, judge_buy, judge_sale), which needs userLua in front.
var positionLua = luaText("position.lua")

// tradeLua is what a trade script (debit.lua, sell.lua) puts in front of
// its own text: both libraries, and the trade that runs a judge.
var tradeLua = userLua + positionLua + luaText("trade.lua")

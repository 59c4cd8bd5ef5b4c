package redis

import (
	"embed"
	"fmt"

	"github.com/redis/rueidis"
)

// Every script of the adapter, each a file of lua/ (which says what it
// takes and returns), loaded one way.
var (
	// The credit scripts, with the user-record library in front.
	debitScript     = rueidis.NewLuaScript(debitLua)
	setCreditScript = rueidis.NewLuaScript(userLua + luaText("set_credit.lua"))

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

// debitLua is the whole text of the debit script, kept apart for the
// WAIT path, which sends it on a dedicated connection (see
// CreditStore.debit).
var debitLua = userLua + luaText("debit.lua")

//go:build integration

package redis

import (
	"strconv"
	"strings"
	"testing"

	"github.com/redis/rueidis"
)

// readCreditLua is read_user of lua/user.lua on a value instead of a key:
// the credit as text, or false when the value is not a user record.
const readCreditLua = `
local first, last = credit_span(ARGV[1])
if not first then return false end
return int_text(string.sub(ARGV[1], first, last)) or false
`

// nestedRecord is a user record with credit 5 whose brackets nest depth
// deep, the object itself included.
func nestedRecord(depth int) string {
	return `{"credit":5,"x":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`
}

// userRecordSeeds are records on which Go and Lua once disagreed, and the
// edges of the definition.
var userRecordSeeds = []string{
	`{"credit":5000}`,
	`{"credit":0005000}`, // JSON has no leading zeros: 404 in Go, an Accept in Lua
	`{"credit":0}`,
	`{"credit":-0}`,
	`{"credit":5,"x":1.}`,
	`{"credit":5,"x":.5}`,
	`{"credit":5,"x":01}`,
	`{"credit":5,"x":0x10}`,
	`{"credit":5,"x":+1}`,
	`{"credit":5,"x":1e}`,
	`{"credit":5,"x":1E+2}`,
	`{"credit":5,"x":-}`,
	`{"credit":5,"x":inf}`,
	`{"credit":5,"x":nan}`,
	`{"credit":5,"x":"a` + "\t" + `b"}`, // a raw control character in a string
	`{"credit":5,"x":"\ud800"}`,
	`{"credit":5,"x":"\x"}`,
	`{"credit":5,"x":"` + "\xff\xfe" + `"}`,
	`{"cr\u0065dit":7}`,
	`{"credit":1,"credit":2}`,
	`{"credit":1,"cr\u0065dit":2}`,
	`{"credit":9223372036854775807}`,
	`{"credit":9223372036854775808}`,
	`{"credit":1.5}`,
	`{"credit":1e3}`,
	`{"credit":"5"}`,
	`{"credit":5}x`,
	`{"credit":5} ` + "\n",
	` {"credit":5}`,
	"\ufeff" + `{"credit":5}`,
	"{\"credit\":5,\x0c\"x\":1}",
	`{"credit":5,}`,
	`{"credit":5,"x":[1,]}`,
	`{"credit":5,"x":{"a":1,"b":[true,false,null]}}`,
	`{"credit":5,"x":tru}`,
	`{"credit":5,"x":nul}`,
	`[{"credit":5}]`,
	`{"meta":{"credit":5}}`,
	`{}`,
	`null`,
	`{"credit":5`,
	`{"credit" 5}`,
	`{credit:5}`,
	nestedRecord(999),
	nestedRecord(1000),
	nestedRecord(1001),
	nestedRecord(1200), // 5000 in Go, a 422 on buy, before
}

// FuzzUserRecord checks that Go (creditOf, the GET /api/users path) and the
// scripts (credit_span and int_text of lua/user.lua, the BuyStock and
// seed-users path) read every value alike, on a throwaway real Redis: the
// same credit, or both "not a user record".
func FuzzUserRecord(f *testing.F) {
	for _, seed := range userRecordSeeds {
		f.Add([]byte(seed))
	}
	c := fuzzRedis(f)
	script := rueidis.NewLuaScript(userLua + readCreditLua)
	f.Fuzz(func(t *testing.T, raw []byte) {
		goCredit, goOK := creditOf(raw)
		reply, err := script.Exec(t.Context(), c, nil, []string{string(raw)}).ToString()
		luaOK := err == nil
		if err != nil && !rueidis.IsRedisNil(err) {
			t.Fatalf("script on %q: %v", raw, err)
		}
		if goOK != luaOK {
			t.Fatalf("%q: Go says user %v (credit %d), Lua says user %v (%q)", raw, goOK, goCredit, luaOK, reply)
		}
		if goOK && reply != strconv.FormatInt(goCredit, 10) {
			t.Fatalf("%q: Go reads credit %d, Lua %s", raw, goCredit, reply)
		}
	})
}

-- SetPositions: replace a user's positions with new ones, provided they
-- are still what the caller read (a compare-and-set: a trade that came
-- between is never overwritten). Put after user.lua and position.lua,
-- whose read_position reads a stored value as a trade does.
-- KEYS[1] the user's positions hash.
-- ARGV[1] n, the number of positions read; ARGV[2 .. 2n+1] those stock,
-- value pairs ('quantity:cost_basis', canonical, none empty); the pairs
-- after them are the positions to write (none empty).
-- Returns {'ok'}, or {'changed'} with nothing written.
local n = tonumber(ARGV[1])
local was = {}
for i = 2, 2 * n, 2 do was[ARGV[i]] = ARGV[i + 1] end
local stored, held = redis.call('HGETALL', KEYS[1]), 0
for i = 1, #stored, 2 do
  local q, c = read_position(stored[i + 1])
  -- A value that is not a position was not read as one: never the same.
  if not q then return {'changed'} end
  if q ~= '0' then -- '0:0' (another tool's) holds nothing
    if was[stored[i]] ~= q .. ':' .. c then return {'changed'} end
    held = held + 1
  end
end
if held ~= n then return {'changed'} end
redis.call('DEL', KEYS[1])
-- HSET in slices: unpack of a whole market's positions could pass Lua's
-- stack.
local first = 2 * n + 2
while first <= #ARGV do
  local last = math.min(first + 999, #ARGV)
  redis.call('HSET', KEYS[1], unpack(ARGV, first, last))
  first = last + 1
end
return {'ok'}

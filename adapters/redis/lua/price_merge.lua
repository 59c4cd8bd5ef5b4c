-- One merge of one stock's prices, all or nothing: a compare-and-set of
-- every key it writes, then the writes (see price_store_writer.go). Every
-- key carries the stock's key as a hash tag, so on a Redis Cluster they
-- share its slot.
--
-- KEYS[1]  the stock's key: its latest day's series
-- KEYS[2]  stockd:last:{stock}: the latest quote, "YYYY-MM-DD hhmmss price"
-- KEYS[3]  stockd:last-of:{stock}: SHA-1 (hex) of the series it is of
-- KEYS[4]  stockd:days:{stock}: sorted set of earlier days, scored by expiry
-- KEYS[5..] stockd:day:{stock}:YYYY-MM-DD: the earlier days this merge writes
--
-- ARGV[1]  SHA-1 of the series the merge started from ('' for none)
-- ARGV[2]  the new latest series ('' leaves it: nothing changed)
-- ARGV[3]  the new quote, ARGV[4] the new series' SHA-1
-- ARGV[5]  the change to publish on stockd:prices:{stock} ('' for none)
-- then four per earlier day i (KEYS[4+i]): the SHA-1 its value had ('' for
-- none), its new value ('' leaves it), the Unix second it expires at, and
-- its date (the member of the index).
--
-- Returns 1 when every digest matched (and the writes were done), 0 when
-- a key changed since the merge read it: nothing was written.

local function digest(key)
  local v = redis.call('GET', key)
  if v then
    return redis.sha1hex(v)
  end
  return ''
end

if digest(KEYS[1]) ~= ARGV[1] then
  return 0
end
local days = #KEYS - 4
for i = 1, days do
  if digest(KEYS[4 + i]) ~= ARGV[2 + 4 * i] then
    return 0
  end
end

local indexed = false
for i = 1, days do
  local value = ARGV[3 + 4 * i]
  if value ~= '' then
    local at = ARGV[4 + 4 * i]
    redis.call('SET', KEYS[4 + i], value)
    redis.call('EXPIREAT', KEYS[4 + i], at)
    redis.call('ZADD', KEYS[4], at, ARGV[5 + 4 * i])
    indexed = true
  end
end
if indexed then
  -- Days whose keys have expired leave the index when it is next written;
  -- readers skip them meanwhile by their score.
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', redis.call('TIME')[1])
end

if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('SET', KEYS[2], ARGV[3])
  redis.call('SET', KEYS[3], ARGV[4])
  if ARGV[5] ~= '' then
    redis.call('PUBLISH', 'stockd:prices:{' .. KEYS[1] .. '}', ARGV[5])
  end
end
return 1

-- Reserve: claim an idempotency key, or return the record that holds it.
-- KEYS[1] the record, KEYS[2] the user's in-flight index (both in the
-- user's slot). ARGV[1] the reservation record, ARGV[2] the TTL in ms,
-- ARGV[3] the reservation time in unix ms, ARGV[4] the idempotency key.
local prev = redis.call('GET', KEYS[1])
if prev then return prev end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
-- Entries older than a TTL name records that have expired.
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (tonumber(ARGV[3]) - tonumber(ARGV[2])))
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return false

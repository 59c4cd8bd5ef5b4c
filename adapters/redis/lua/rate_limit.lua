-- Rate limit: the generic cell rate algorithm (GCRA), as
-- memory.RateLimiter runs it, on the server's clock so that every API
-- process agrees whatever their own clocks say.
-- KEYS[1] the subject's theoretical arrival time (microseconds, text).
-- ARGV[1] the emission interval, ARGV[2] the period (microseconds).
-- Returns {allowed (1|0), remaining, reset, retry after} (microseconds).
-- Times stay below 2^53 microseconds, exact in Lua's doubles.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < now then tat = now end
local next = tat + interval
if next - now > period then
  return {0, 0, tat - now, next - now - period}
end
-- The key lives as long as it says anything: past its tat the subject
-- starts afresh.
redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', math.ceil((next - now) / 1000))
return {1, math.floor((period - (next - now)) / interval), next - now, 0}

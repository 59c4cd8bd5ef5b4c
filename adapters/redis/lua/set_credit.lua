-- SetCredit: create the user {"credit": N} or overwrite the credit of a
-- user record, keeping its other fields byte for byte. A JSON object
-- without a credit gets one; any other value (as credit_span judges it) is
-- left alone.
-- KEYS[1] the user; ARGV[1] the credit (decimal text).
-- Returns 1, or 'notuser' when the key holds something else.
local raw = redis.pcall('GET', KEYS[1])
if raw == false then
  redis.call('SET', KEYS[1], '{"credit":' .. ARGV[1] .. '}')
  return 1
end
if type(raw) ~= 'string' then return 'notuser' end
local first, last, object = credit_span(raw)
if first then
  redis.call('SET', KEYS[1], string.sub(raw, 1, first - 1) .. ARGV[1] .. string.sub(raw, last + 1), 'KEEPTTL')
  return 1
end
if not object then return 'notuser' end
local _, open = string.find(raw, '^[ \t\r\n]*{')
local rest = string.sub(raw, open + 1)
local sep = string.find(rest, '^[ \t\r\n]*}') and '' or ','
redis.call('SET', KEYS[1], '{"credit":' .. ARGV[1] .. sep .. rest, 'KEEPTTL')
return 1

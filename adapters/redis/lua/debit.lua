-- Debit: judge an order against the user's credit and, when it is
-- accepted, write the new credit and the pending order in one step. Every
-- key is in the user's slot.
-- KEYS[1] the user, KEYS[2] the user's pending hash,
-- KEYS[3] (optional) the request's idempotency key.
-- ARGV[1] price, ARGV[2] quantity (decimal text), ARGV[3] the order key,
-- ARGV[4] the pending record up to its credit, which the script appends
-- with the closing brace.
-- Returns {'accepted'|'denied', credit left} or an error word:
-- 'nouser' (not a user record) or 'lost' (the key is no longer reserved
-- for this order).
if KEYS[3] then
  local ok, rec = pcall(cjson.decode, redis.call('GET', KEYS[3]) or 'null')
  if not ok or type(rec) ~= 'table' or rec.order_key ~= ARGV[3] then
    return {'lost'}
  end
end
local raw, credit, first, last = read_user(KEYS[1])
if not raw then return {'nouser'} end
local status, left = judge(credit, int_text(ARGV[1]), int_text(ARGV[2]))
if status == 'accepted' then
  redis.call('SET', KEYS[1], string.sub(raw, 1, first - 1) .. left .. string.sub(raw, last + 1), 'KEEPTTL')
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4] .. left .. '}')
end
return {status, left}

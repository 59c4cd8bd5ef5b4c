-- trade runs a buy or a sale (debit.lua, sell.lua): it judges the order
-- against the user's credit and position in the stock with judge
-- (judge_buy or judge_sale of position.lua) and, when it is accepted,
-- writes the new credit, the new position (none once sold out) and the
-- pending order in one step. Every key is in the user's slot.
-- KEYS[1] the user, KEYS[2] the user's pending hash, KEYS[3] the user's
-- positions hash, KEYS[4] (optional) the request's idempotency key.
-- ARGV[1] price, ARGV[2] quantity (decimal text), ARGV[3] the order key,
-- ARGV[4] the pending record up to its credit, which the script appends
-- with the closing brace, ARGV[5] the stock.
-- Returns {'accepted'|'denied', credit after} or an error word: 'nouser'
-- (not a user record), 'lost' (the key is no longer reserved for this
-- order: the settler may have freed it, see free.lua) or 'badposition'
-- (the stored position is not one).
local function trade(judge)
  if KEYS[4] then
    local ok, rec = pcall(cjson.decode, redis.call('GET', KEYS[4]) or 'null')
    if not ok or type(rec) ~= 'table' or rec.order_key ~= ARGV[3] then
      return {'lost'}
    end
  end
  local raw, credit, first, last = read_user(KEYS[1])
  if not raw then return {'nouser'} end
  local held, cost = read_position(redis.call('HGET', KEYS[3], ARGV[5]))
  if not held then return {'badposition'} end
  local status, after, new_held, new_cost = judge(credit, held, cost, int_text(ARGV[1]), int_text(ARGV[2]))
  if status == 'accepted' then
    redis.call('SET', KEYS[1], string.sub(raw, 1, first - 1) .. after .. string.sub(raw, last + 1), 'KEEPTTL')
    if new_held == '0' then
      redis.call('HDEL', KEYS[3], ARGV[5])
    else
      redis.call('HSET', KEYS[3], ARGV[5], new_held .. ':' .. new_cost)
    end
    redis.call('HSET', KEYS[2], ARGV[3], ARGV[4] .. after .. '}')
  end
  return {status, after}
end

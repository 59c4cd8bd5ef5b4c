-- Free a stuck key: delete the record if it is still a reservation for
-- order ARGV[2] and no pending order has that key, in one step with the
-- debit script's check of the reservation (debit.lua), so that a freed key
-- is never debited. KEYS[1] the record, KEYS[2] the in-flight index,
-- KEYS[3] the pending hash; ARGV[1] the idempotency key.
-- Returns 1 when it freed the key.
local rec = redis.call('GET', KEYS[1])
if rec and string.find(rec, '"order_key":"' .. ARGV[2] .. '"', 1, true)
    and redis.call('HEXISTS', KEYS[3], ARGV[2]) == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
if not rec or not string.find(rec, '"order_key":"', 1, true) then
  redis.call('ZREM', KEYS[2], ARGV[1]) -- expired or completed: not in flight
end
return 0

-- Free a stuck key: delete the record if it is still a reservation for
-- order ARGV[2] and no pending order has that key, in one step with the
-- debit script's check of the reservation (debit.lua), so that a freed key
-- is never debited. KEYS[1] the record, KEYS[2] the in-flight index,
-- KEYS[3] the pending hash; ARGV[1] the idempotency key.
-- Returns 1 when it freed the key.
-- A record is read by decoding it (Go's json.Marshal wrote it): a
-- reservation carries "order_key", an outcome does not.
local raw = redis.call('GET', KEYS[1])
local ok, rec = pcall(cjson.decode, raw or 'null')
local reserved_for = ok and type(rec) == 'table' and type(rec.order_key) == 'string' and rec.order_key or nil
if reserved_for == ARGV[2] and redis.call('HEXISTS', KEYS[3], ARGV[2]) == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
if not reserved_for then
  redis.call('ZREM', KEYS[2], ARGV[1]) -- expired or completed: not in flight
end
return 0

-- Finish a request's key: store its outcome (ARGV[1], for ARGV[2] ms) or,
-- with no outcome, delete the record; either way it is no longer in
-- flight. Only while the record is still the reservation of this request's
-- order (ARGV[4]), as debit.lua checks it: the settler may have freed the
-- key and another request reserved it since, and that record is not ours
-- to overwrite. KEYS[1] the record, KEYS[2] the in-flight index; ARGV[3]
-- the idempotency key. Returns 1 when it finished the key.
local rec = redis.call('GET', KEYS[1])
if not rec or not string.find(rec, '"order_key":"', 1, true) then
  redis.call('ZREM', KEYS[2], ARGV[3]) -- expired or completed: not in flight
  return 0
end
if not string.find(rec, '"order_key":"' .. ARGV[4] .. '"', 1, true) then
  return 0 -- another request's reservation
end
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
redis.call('ZREM', KEYS[2], ARGV[3])
return 1

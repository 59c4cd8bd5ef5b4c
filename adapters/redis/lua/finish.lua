-- Finish a request's key: store its outcome (ARGV[1], for ARGV[2] ms) or,
-- with no outcome, delete the record; either way it is no longer in
-- flight. Only while the record is still the reservation of this request's
-- order (ARGV[4]), as debit.lua checks it: the settler may have freed the
-- key and another request reserved it since, and that record is not ours
-- to overwrite. KEYS[1] the record, KEYS[2] the in-flight index; ARGV[3]
-- the idempotency key. Returns 1 when it finished the key.
-- A record is read by decoding it (Go's json.Marshal wrote it): a
-- reservation carries "order_key", an outcome does not.
local raw = redis.call('GET', KEYS[1])
local ok, rec = pcall(cjson.decode, raw or 'null')
if not ok or type(rec) ~= 'table' or type(rec.order_key) ~= 'string' then
  redis.call('ZREM', KEYS[2], ARGV[3]) -- expired or completed: not in flight
  return 0
end
if rec.order_key ~= ARGV[4] then
  return 0 -- another request's reservation
end
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
redis.call('ZREM', KEYS[2], ARGV[3])
return 1

-- Finish a request's key: store its outcome (ARGV[1], for ARGV[2] ms) or,
-- with no outcome, delete the record; either way it is no longer in
-- flight. KEYS[1] the record, KEYS[2] the in-flight index; ARGV[3] the
-- idempotency key.
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
redis.call('ZREM', KEYS[2], ARGV[3])
return 1

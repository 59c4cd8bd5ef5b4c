-- Positions: read a user's credit and positions in one step, so that no
-- trade is seen half done.
-- KEYS[1] the user, KEYS[2] the user's positions hash.
-- Returns {'ok', credit, stock, value, stock, value, ...} (values as
-- stored: Go reads them with parsePosition) or {'nouser'}.
local raw, credit = read_user(KEYS[1])
if not raw then return {'nouser'} end
local out = {'ok', credit}
for _, v in ipairs(redis.call('HGETALL', KEYS[2])) do out[#out + 1] = v end
return out

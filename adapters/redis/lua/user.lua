-- The user record and exact decimal arithmetic, shared by the credit
-- scripts. Lua numbers are doubles, exact only up to 2^53, so credits,
-- prices and quantities (up to 2^63-1) are never Lua numbers here: they are
-- decimal text, cut into base-10^7 limbs whose products (< 10^14) and sums
-- stay exact.

-- credit_span finds the top-level "credit" member of the JSON object s and
-- returns the first and last index of its value's text, or nil when s is
-- not a JSON object or has no such member (the last one counts, as in Go's
-- encoding/json).
local function skip_ws(s, i)
  local _, e = string.find(s, '^[ \t\r\n]*', i)
  return e + 1
end

local function skip_string(s, i) -- s[i] is the opening quote
  i = i + 1
  while true do
    local c = string.find(s, '["\\]', i)
    if not c then return nil end
    if string.sub(s, c, c) == '"' then return c + 1 end
    i = c + 2
  end
end

local function skip_value(s, i)
  local c = string.sub(s, i, i)
  if c == '"' then return skip_string(s, i) end
  if c == '{' or c == '[' then
    local depth = 0
    while true do
      local p = string.find(s, '[%[%]{}"]', i)
      if not p then return nil end
      local ch = string.sub(s, p, p)
      if ch == '"' then
        i = skip_string(s, p)
        if not i then return nil end
      else
        if ch == '{' or ch == '[' then depth = depth + 1 else depth = depth - 1 end
        i = p + 1
        if depth == 0 then return i end
      end
    end
  end
  local _, e = string.find(s, '^[^,}%]%s]+', i)
  if not e then return nil end
  return e + 1
end

local function credit_span(s)
  if not pcall(cjson.decode, s) then return nil end -- the scan below trusts valid JSON
  local i = skip_ws(s, 1)
  if string.sub(s, i, i) ~= '{' then return nil end
  i = skip_ws(s, i + 1)
  if string.sub(s, i, i) == '}' then return nil end
  local first, last
  while true do
    if string.sub(s, i, i) ~= '"' then return nil end
    local ke = skip_string(s, i)
    if not ke then return nil end
    local key = string.sub(s, i + 1, ke - 2)
    if string.find(key, '\\', 1, true) then
      key = cjson.decode('"' .. key .. '"') -- "cr\u0065dit" is "credit", as Go reads it
    end
    i = skip_ws(s, ke)
    if string.sub(s, i, i) ~= ':' then return nil end
    i = skip_ws(s, i + 1)
    local ve = skip_value(s, i)
    if not ve then return nil end
    if key == 'credit' then first, last = i, ve - 1 end
    i = skip_ws(s, ve)
    local c = string.sub(s, i, i)
    if c == '}' then break end
    if c ~= ',' then return nil end
    i = skip_ws(s, i + 1)
  end
  return first, last
end

local MAX_INT64 = '9223372036854775807'

-- int_text returns t without leading zeros if it is a decimal integer in
-- [0, 2^63-1], else nil.
local function int_text(t)
  if not string.find(t, '^%d+$') then return nil end
  t = string.gsub(t, '^0+', '')
  if t == '' then return '0' end
  if #t > 19 or (#t == 19 and t > MAX_INT64) then return nil end
  return t
end

-- read_user returns the stored value of a user record and its credit as
-- text; nil when the key is missing, of another type, or not a user record.
local function read_user(key)
  local raw = redis.pcall('GET', key)
  if type(raw) ~= 'string' then return nil end -- missing (false) or WRONGTYPE
  local first, last = credit_span(raw)
  if not first then return nil end
  local credit = int_text(string.sub(raw, first, last))
  if not credit then return nil end
  return raw, credit, first, last
end

local BASE = 10000000

local function limbs(t) -- little-endian base-10^7 limbs of decimal text
  local out = {}
  local i = #t
  while i >= 1 do
    local j = math.max(1, i - 6)
    out[#out + 1] = tonumber(string.sub(t, j, i))
    i = j - 1
  end
  return out
end

local function trim(a)
  while #a > 1 and a[#a] == 0 do a[#a] = nil end
  return a
end

local function mul(a, b)
  local r = {}
  for i = 1, #a + #b do r[i] = 0 end
  for i = 1, #a do
    local carry = 0
    for j = 1, #b do
      local cur = r[i + j - 1] + a[i] * b[j] + carry
      carry = math.floor(cur / BASE)
      r[i + j - 1] = cur - carry * BASE
    end
    local k = i + #b
    while carry > 0 do
      local cur = r[k] + carry
      carry = math.floor(cur / BASE)
      r[k] = cur - carry * BASE
      k = k + 1
    end
  end
  return trim(r)
end

local function cmp(a, b) -- -1, 0, 1; both trimmed
  if #a ~= #b then return #a < #b and -1 or 1 end
  for i = #a, 1, -1 do
    if a[i] ~= b[i] then return a[i] < b[i] and -1 or 1 end
  end
  return 0
end

local function sub(a, b) -- a - b for a >= b
  local r, borrow = {}, 0
  for i = 1, #a do
    local cur = a[i] - (b[i] or 0) - borrow
    if cur < 0 then cur, borrow = cur + BASE, 1 else borrow = 0 end
    r[i] = cur
  end
  return trim(r)
end

local function text(a)
  local parts = {string.format('%d', a[#a])}
  for i = #a - 1, 1, -1 do parts[#parts + 1] = string.format('%07d', a[i]) end
  return table.concat(parts)
end

-- judge translates domain.Judge for a credit, price and quantity given as
-- int_text: it returns 'accepted' and the credit left, or 'denied' and the
-- credit. price and quantity are at least 1 (domain.Buy); a product beyond
-- int64 is beyond every credit, so it is denied.
local function judge(credit, price, quantity)
  local c = limbs(credit)
  local cost = mul(limbs(price), limbs(quantity))
  if cmp(cost, c) > 0 then return 'denied', credit end
  return 'accepted', text(sub(c, cost))
end

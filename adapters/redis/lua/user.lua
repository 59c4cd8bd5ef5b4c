-- The user record and exact decimal arithmetic, shared by the credit
-- scripts. Lua numbers are doubles, exact only up to 2^53, so credits,
-- prices and quantities (up to 2^63-1) are never Lua numbers here: they are
-- decimal text, cut into base-10^7 limbs whose products (< 10^14) and sums
-- stay exact.

-- credit_span reads s as a user record must be read everywhere (Go's
-- creditOf reads it the same way, and FuzzUserRecord checks that they
-- agree): one JSON text as RFC 8259 defines it (no leading zeros, no "1.",
-- no raw control characters in strings, nothing after the value; what
-- Go's encoding/json accepts), nested at most MAX_DEPTH deep, whose value
-- is an object. It returns the first and last index of the text of the
-- object's "credit" member (the last one counts, as in Go), or nil when s
-- is not such a text or has no such member; a third result, true, says
-- that s is such a text (with or without credit). cjson is not the judge: it
-- takes 0005000 and 1. as numbers and stops at 1000 levels.
local MAX_DEPTH = 1000

local function skip_ws(s, i)
  local _, e = string.find(s, '^[ \t\r\n]*', i)
  return e + 1
end

local function scan_string(s, i) -- s[i] is the opening quote
  i = i + 1
  while true do
    local _, e = string.find(s, '^[^"\\%z\1-\31]*', i)
    i = e + 1
    local c = string.sub(s, i, i)
    if c == '"' then return i + 1 end
    if c ~= '\\' then return nil end -- a control character or the end
    local n = string.sub(s, i + 1, i + 1)
    if n == 'u' then
      if not string.find(s, '^%x%x%x%x', i + 2) then return nil end
      i = i + 6
    elseif n ~= '' and string.find('"\\/bfnrt', n, 1, true) then
      i = i + 2
    else
      return nil
    end
  end
end

local function scan_number(s, i)
  if string.sub(s, i, i) == '-' then i = i + 1 end
  if string.sub(s, i, i) == '0' then
    i = i + 1
  else
    local _, e = string.find(s, '^[1-9][0-9]*', i)
    if not e then return nil end
    i = e + 1
  end
  if string.sub(s, i, i) == '.' then
    local _, e = string.find(s, '^[0-9]+', i + 1)
    if not e then return nil end
    i = e + 1
  end
  local c = string.sub(s, i, i)
  if c == 'e' or c == 'E' then
    local _, e = string.find(s, '^[+-]?[0-9]+', i + 1)
    if not e then return nil end
    i = e + 1
  end
  return i
end

local literals = {t = 'true', f = 'false', n = 'null'}

local function credit_span(s)
  -- The record as stockd writes it, {"credit":N} with N in canonical
  -- form, is read without the scan below, which gives the same answer for
  -- it (FuzzUserRecord holds both ways equal to Go): most of a debit's
  -- time in Redis went to scanning it character by character.
  local f, l = string.match(s, '^{"credit":()[1-9]%d*()}$')
  if not f then f, l = string.match(s, '^{"credit":()0()}$') end
  if f then return f, l - 1, true end
  local i = skip_ws(s, 1)
  if string.sub(s, i, i) ~= '{' then return nil end
  local closers, depth = {}, 0
  local want = 'value' -- or 'key', 'after' (a value just ended at i - 1)
  local is_credit, member, first, last = false, nil, nil, nil
  while true do
    local c = string.sub(s, i, i)
    if want == 'value' then
      if c == '{' or c == '[' then
        depth = depth + 1
        if depth > MAX_DEPTH then return nil end
        closers[depth] = c == '{' and '}' or ']'
        i = skip_ws(s, i + 1)
        if string.sub(s, i, i) == closers[depth] then
          depth, i, want = depth - 1, i + 1, 'after'
        elseif c == '{' then
          want = 'key'
        end
      else
        if c == '"' then
          i = scan_string(s, i)
        elseif c == '-' or string.find(c, '^[0-9]') then
          i = scan_number(s, i)
        elseif literals[c] and string.sub(s, i, i + #literals[c] - 1) == literals[c] then
          i = i + #literals[c]
        else
          return nil
        end
        if not i then return nil end
        want = 'after'
      end
    elseif want == 'key' then
      if c ~= '"' then return nil end
      local e = scan_string(s, i)
      if not e then return nil end
      if depth == 1 then
        local key = string.sub(s, i + 1, e - 2)
        if string.find(key, '\\', 1, true) then
          -- "cr\u0065dit" is "credit", as Go reads it; a key cjson cannot
          -- decode (a lone surrogate) is not "credit" for Go either.
          local ok, k = pcall(cjson.decode, '"' .. key .. '"')
          key = ok and k or nil
        end
        is_credit = key == 'credit'
      end
      i = skip_ws(s, e)
      if string.sub(s, i, i) ~= ':' then return nil end
      i = skip_ws(s, i + 1)
      member = i
      want = 'value'
    else -- after
      if depth == 1 and is_credit then first, last = member, i - 1 end
      if depth == 0 then
        if skip_ws(s, i) <= #s then return nil end -- something after the object
        return first, last, true
      end
      i = skip_ws(s, i)
      c = string.sub(s, i, i)
      if c == ',' then
        i = skip_ws(s, i + 1)
        want = closers[depth] == '}' and 'key' or 'value'
      elseif c == closers[depth] then
        depth, i = depth - 1, i + 1
      else
        return nil
      end
    end
  end
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
  if #credit <= 15 and #price + #quantity <= 15 then
    -- Every value and the product are below 10^15 < 2^53, where doubles
    -- are exact integers: no limbs needed (TestDebitScriptAgreesWithJudge
    -- covers both sides of this test).
    local c, cost = tonumber(credit), tonumber(price) * tonumber(quantity)
    if cost > c then return 'denied', credit end
    return 'accepted', string.format('%.0f', c - cost)
  end
  local c = limbs(credit)
  local cost = mul(limbs(price), limbs(quantity))
  if cmp(cost, c) > 0 then return 'denied', credit end
  return 'accepted', text(sub(c, cost))
end

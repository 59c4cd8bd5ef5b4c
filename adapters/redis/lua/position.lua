-- Positions and the trade judges, shared by the debit and sale scripts and
-- put after user.lua, whose exact arithmetic (int_text, limbs, mul, cmp,
-- sub, text, judge) they use: quantities and cost bases run up to 2^63-1,
-- so they are decimal text here, never Lua numbers past 2^53.
--
-- A user's positions are the hash stockd:positions:{user}: field the
-- stock, value "quantity:cost_basis", both canonical decimal text. A
-- position sold out is deleted, so the hash holds only positions with
-- shares (and Redis drops the hash with its last field).

-- read_position returns the quantity and cost basis of a stored position
-- value as int_text ('0', '0' for a missing one), or nil when the value is
-- not a position as domain.NewPosition defines one: two decimal integers
-- in [0, 2^63-1] joined by ':', and no cost without shares. Go's
-- parsePosition reads it the same way (FuzzPositionRecord).
local function read_position(v)
  if not v then return '0', '0' end
  local q, c = string.match(v, '^(%d+):(%d+)$')
  if not q then return nil end
  q, c = int_text(q), int_text(c)
  if not q or not c or (q == '0' and c ~= '0') then return nil end
  return q, c
end

local function add(a, b) -- a + b on limbs
  local r, carry = {}, 0
  for i = 1, math.max(#a, #b) do
    local cur = (a[i] or 0) + (b[i] or 0) + carry
    if cur >= BASE then cur, carry = cur - BASE, 1 else carry = 0 end
    r[i] = cur
  end
  if carry > 0 then r[#r + 1] = carry end
  return r
end

-- fits reports whether canonical decimal text t is at most 2^63-1.
local function fits(t)
  return #t < 19 or (#t == 19 and t <= MAX_INT64)
end

-- The operations on canonical decimal text. Where every operand has at
-- most 15 digits, the result is below 2 × 10^15 < 2^53 and doubles are
-- exact: no limbs needed (TestTradeScriptsAgreeWithTheDomain covers both
-- sides of each test).
local function add_text(a, b)
  if #a <= 15 and #b <= 15 then return string.format('%.0f', tonumber(a) + tonumber(b)) end
  return text(add(limbs(a), limbs(b)))
end

local function sub_text(a, b) -- a - b for a >= b
  if #a <= 15 then return string.format('%.0f', tonumber(a) - tonumber(b)) end
  return text(sub(limbs(a), limbs(b)))
end

local function mul_text(a, b)
  if #a + #b <= 15 then return string.format('%.0f', tonumber(a) * tonumber(b)) end
  return text(mul(limbs(a), limbs(b)))
end

local function cmp_text(a, b) -- -1, 0, 1
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end

-- div_limbs returns floor(n / d) for limbs n and d >= 1, by long division
-- one base-10^7 limb at a time, each quotient limb found by bisection
-- (every candidate's product compared exactly).
local function div_limbs(n, d)
  local q, r = {}, {0}
  for i = #n, 1, -1 do
    table.insert(r, 1, n[i]) -- r = r × BASE + n[i]
    r = trim(r)
    local lo, hi = 0, BASE - 1
    while lo < hi do
      local mid = math.floor((lo + hi + 1) / 2)
      if cmp(mul(d, {mid}), r) <= 0 then lo = mid else hi = mid - 1 end
    end
    q[i] = lo
    if lo > 0 then r = sub(r, mul(d, {lo})) end
  end
  return trim(q)
end

-- muldiv_text returns floor(a × b / d) for canonical text, d >= 1.
local function muldiv_text(a, b, d)
  if #a + #b <= 15 and #d <= 15 then
    -- a × b < 10^15: exact, and so is fmod, hence the exact quotient.
    local n, dd = tonumber(a) * tonumber(b), tonumber(d)
    return string.format('%.0f', (n - math.fmod(n, dd)) / dd)
  end
  return text(div_limbs(mul(limbs(a), limbs(b)), limbs(d)))
end

-- judge_buy translates domain.JudgeBuy for a credit, a position held
-- (quantity, cost) and a price and quantity, all int_text: it returns
-- 'accepted', the credit left and the position after, or 'denied' and
-- the credit and position as they were.
local function judge_buy(credit, held, cost, price, quantity)
  local status, left = judge(credit, price, quantity)
  if status ~= 'accepted' then return 'denied', credit, held, cost end
  -- The buy's cost is what it took off the credit: no second product.
  local new_held, new_cost = add_text(held, quantity), add_text(cost, sub_text(credit, left))
  if not fits(new_held) or not fits(new_cost) then return 'denied', credit, held, cost end
  return 'accepted', left, new_held, new_cost
end

-- judge_sale translates domain.JudgeSale likewise: accepted when at least
-- quantity shares are held and the proceeds keep the credit within
-- 2^63-1; the sale takes floor(cost × quantity / held) off the cost
-- basis, all of it with the last share.
local function judge_sale(credit, held, cost, price, quantity)
  if cmp_text(held, quantity) < 0 then return 'denied', credit, held, cost end
  local proceeds = mul_text(price, quantity)
  if not fits(proceeds) then return 'denied', credit, held, cost end
  local after = add_text(credit, proceeds)
  if not fits(after) then return 'denied', credit, held, cost end
  if held == quantity then return 'accepted', after, '0', '0' end
  return 'accepted', after, sub_text(held, quantity), sub_text(cost, muldiv_text(cost, quantity, held))
end

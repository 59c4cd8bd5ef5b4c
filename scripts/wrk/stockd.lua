-- wrk script of the load test (scripts/loadtest.sh).
--   wrk ... -s stockd.lua URL -- buy USERS STOCKS   BuyStock bodies rotating
--       over every user x stock x quantity 1..5 (USERS, STOCKS: comma lists)
--   wrk ... -s stockd.lua URL -- sell USERS STOCKS  the same bodies to SellStock
--   wrk ... -s stockd.lua URL -- get PATH           one GET, again and again
-- Prints one line for the script to parse:
--   RESULT <requests/s> <p50 ms> <p99 ms> <requests> <errors> <non-2xx>

local bodies, path, next_body = {}, "/", 0
local threads = {}

local function split(s)
  local out = {}
  for item in string.gmatch(s, "[^,]+") do out[#out + 1] = item end
  return out
end

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  if args[1] == "buy" or args[1] == "sell" then
    for _, u in ipairs(split(args[2])) do
      for _, s in ipairs(split(args[3])) do
        for q = 1, 5 do
          bodies[#bodies + 1] = string.format('{"user":"%s","stockname":"%s","quantity":%d}', u, s, q)
        end
      end
    end
    path = "/api/" .. args[1] .. "-stock"
    wrk.headers["Content-Type"] = "application/json"
    -- Threads start at different bodies, so they do not march in step.
    next_body = (id or 0) * 7 % #bodies
  else
    path = args[2]
  end
end

function request()
  if #bodies == 0 then
    return wrk.format("GET", path)
  end
  next_body = next_body % #bodies + 1
  return wrk.format("POST", path, nil, bodies[next_body])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.0f %.2f %.2f %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status))
end

-- Sanitizer throughput: MB/s sanitizing mixed JSON-like data (target >= 50 MB/s).
-- Run from the checkout after `make`: lua5.4 bench/sanitize.lua
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("DANA_CPATH") or "build/?.so") .. ";" .. package.cpath
local sanitize = require("dana.sanitize").sanitize
local cjson = require "cjson"

local seed = 12345
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n + 1 end
local ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local function chars(n)
  local t = {}
  for i = 1, n do local k = rnd(#ALNUM); t[i] = ALNUM:sub(k, k) end
  return table.concat(t)
end
local WORDS = { "the", "agent", "reads", "weather", "report", "for", "tomorrow", "and", "writes",
                "a", "summary", "to", "public", "scope", "with", "token", "count", "model", "reply" }
local function prose(n)
  local t = {}
  for i = 1, n do t[i] = WORDS[rnd(#WORDS)] end
  return table.concat(t, " ")
end

-- one "record": the kind of value that crosses a host-function boundary
local function record(i)
  local r = {
    id = "req-" .. i, user_id = "user_" .. chars(8), created_at = "2026-12-04T10:00:" .. (i % 60) .. "Z",
    model = "model-large-2026", max_tokens = 1024, temperature = 0.7, stream = false,
    messages = {
      { role = "system", content = prose(20) },
      { role = "user", content = prose(40 + rnd(40)) },
      { role = "assistant", content = prose(30) .. " see https://example.com/docs/" .. chars(6) },
    },
    usage = { prompt_tokens = rnd(900), completion_tokens = rnd(500), total_tokens = rnd(1400) },
    tags = { "alpha", "beta", "gamma" },
    metrics = { rnd(100), rnd(100), rnd(100), rnd(100) / 7 },
    headers = { ["content-type"] = "application/json", ["user-agent"] = "dana/1.0" },
  }
  if i % 10 == 0 then r.api_key = "sk_live_" .. chars(24) end
  if i % 25 == 0 then r.messages[2].content = r.messages[2].content .. " my key ghp_" .. chars(36) end
  if i % 40 == 0 then r.db = "postgres://app:" .. chars(12) .. "@db:5432/app" end
  return r
end

local data = {}
for i = 1, 2000 do data[i] = record(i) end
local bytes = #cjson.encode(data)
local text = cjson.encode(data)

local function bench(name, f, size)
  f() -- warm up
  local reps, t0 = 0, os.clock()
  repeat f(); reps = reps + 1 until os.clock() - t0 > 1.0
  local dt = (os.clock() - t0) / reps
  return { name, size, dt, size / dt / 1e6 }
end

local rows = {
  bench("tables (2000 records)", function() return sanitize(data) end, bytes),
  bench("JSON text, one string", function() return sanitize(text) end, #text),
  bench("tables + 100 registered secrets", (function()
    local set = require("dana.sanitize").secretset()
    for _ = 1, 100 do set:add("registered-" .. chars(16)) end
    return function() return sanitize(data, { secrets = set }) end
  end)(), bytes),
  bench("tables + 1 LPeg pattern", (function()
    local lpeg = require "lpeg"
    local p = lpeg.P "EMP-" * lpeg.R "09" ^ 4
    return function() return sanitize(data, { patterns = { p } }) end
  end)(), bytes),
}
print(("%-34s %10s %10s %10s"):format("case", "bytes", "ms/run", "MB/s"))
for _, r in ipairs(rows) do
  print(("%-34s %10d %10.2f %10.1f"):format(r[1], r[2], r[3] * 1000, r[4]))
end

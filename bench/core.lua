-- Benchmarks of the C core (issue: foundation). Prints a table; asserts nothing.
--   lua5.4 bench/core.lua
-- 1. CPU-bound Lua in an agent (memory + time limits on) vs plain lua5.4 in this process.
-- 2. Time-limit precision with time = 1.
-- 3. Agent creation + run_lua("return 1").
-- 4. Scope get/set of a scalar from inside an agent.
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local dana = require "dana"

local clock = require("dana.core").clock
local function now()
  return clock()
end

-- Best of `reps` runs of each side, interleaved (plain, agent, plain, ...), so
-- that load from elsewhere on the machine hits both sides alike.
local function time_pair(f, g, reps)
  local bf, bg = math.huge, math.huge
  for _ = 1, reps do
    local t0 = now()
    f()
    local t1 = now()
    g()
    local t2 = now()
    if t1 - t0 < bf then bf = t1 - t0 end
    if t2 - t1 < bg then bg = t2 - t1 end
  end
  return bf, bg
end

local programs = {
  fib = [[
    local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
    return fib(27)]],
  loop = [[
    local s = 0
    for i = 1, 2e7 do s = s + i % 7 end
    return s]],
  strings = [[
    local t = {}
    for i = 1, 2e5 do t[#t + 1] = ("item%d"):format(i):upper() end
    return #table.concat(t, ",")]],
  tables = [[
    local t = {}
    for i = 1, 3e5 do t[i] = {i, tostring(i)} end
    local n = 0
    for _, v in ipairs(t) do n = n + v[1] end
    return n]],
}

local rows = {}
local sb = dana.sandbox { print = function() end }
for _, name in ipairs { "fib", "loop", "strings", "tables" } do
  local src = programs[name]
  local plain = assert(load(src, "=" .. name, "t", { tostring = tostring, ipairs = ipairs, table = table }))
  local agent = sb:agent { name = name, limits = { memory = 512 * 1024 * 1024, time = 60 } }
  local r1, r2 = plain(), agent:run_lua(src)
  assert(r1 == r2, name .. ": results differ")
  local tp, ta = time_pair(plain, function() assert(agent:run_lua(src)) end, 7)
  rows[#rows + 1] = { name, tp, ta, ta / tp }
  agent:close()
end

print("1. CPU-bound Lua, agent (memory + time limits on) vs plain Lua, same process, best of 7 interleaved")
print(("%-10s %12s %12s %8s"):format("program", "plain s", "agent s", "ratio"))
for _, r in ipairs(rows) do
  print(("%-10s %12.4f %12.4f %8.3f"):format(r[1], r[2], r[3], r[4]))
end

-- 2. precision
local a = sb:agent { name = "busy", limits = { time = 1 } }
local t0 = now()
local _, err = a:run_lua("while true do end")
local stopped = now() - t0
print(("\n2. time = 1 busy loop stopped after %.4f s (%s); target <= 1.1 s"):format(stopped, err.kind))
a:close()

-- 3. creation + return 1
local n = 2000
t0 = now()
for _ = 1, n do
  local ag = sb:agent { name = "x" }
  ag:run_lua("return 1")
  ag:close()
end
local per = (now() - t0) / n
print(("\n3. agent create + run_lua('return 1') + close: %.1f us each; target < 200 us"):format(per * 1e6))

-- 4. scope get/set
local ag = sb:agent { name = "scopes", limits = { time = 60 } }
local ops = 2e6
local src = ([[
  local get, set = dana.get, dana.set
  set("private:x", 1)
  for i = 1, %d do set("private:x", get("private:x") + 1) end
  return get("private:x")]]):format(ops // 2)
t0 = now()
assert(ag:run_lua(src) == ops // 2 + 1)
local rate = ops / (now() - t0)
print(("\n4. scope get/set of a scalar inside an agent: %.2f million ops/s; target >= 5"):format(rate / 1e6))

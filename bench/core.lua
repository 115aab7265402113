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

-- The plain side is a fresh `lua5.4` process, as the target says: its heap is as
-- small as an agent's, so the collector paces both alike (a chunk run in this host
-- state would get a big heap's slower collection pace for free).
local function plain_lua5_4(src, reps)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write("local f = assert(load(", ("%q"):format(src), ", '=plain', 't'))\n",
    "local best = math.huge\n",
    "for _ = 1, ", reps, " do local t0 = os.clock() f() local t = os.clock() - t0\n",
    "  if t < best then best = t end end\n",
    "io.write(best)\n")
  f:close()
  local p = assert(io.popen("lua5.4 " .. path))
  local best = tonumber(p:read("a"))
  p:close()
  os.remove(path)
  return best
end

local function best_in_agent(agent, src, reps)
  local best = math.huge
  for _ = 1, reps do
    local t0 = os.clock()
    assert(agent:run_lua(src))
    local t = os.clock() - t0
    if t < best then best = t end
  end
  return best
end

local rows = {}
local sb = dana.sandbox { print = function() end }
for _, name in ipairs { "fib", "loop", "strings", "tables" } do
  local src = programs[name]
  local agent = sb:agent { name = name, limits = { memory = 512 * 1024 * 1024, time = 60 } }
  -- alternate the two sides, so that load elsewhere on the machine hits both alike
  local tp, ta = math.huge, math.huge
  for _ = 1, 3 do
    tp = math.min(tp, plain_lua5_4(src, 3))
    ta = math.min(ta, best_in_agent(agent, src, 3))
  end
  rows[#rows + 1] = { name, tp, ta, ta / tp }
  agent:close()
end

print("1. CPU-bound Lua: agent (memory + time limits on) vs a fresh lua5.4, CPU seconds, best of 9")
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

-- Translated Dana vs hand-written plain Lua, program by program (bench/programs/NAME.na and
-- NAME.lua). With the C core present (`require "dana"`), the Dana side runs in an agent;
-- otherwise it runs in the runtime env loaded into this state (spec/helpers/plain_runtime.lua).
-- Prints the time of each side and the ratio; DANA_BENCH_MAX (default 3) is the target.
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local translate = require("dana.translate").translate
local names = { "fib", "arith", "strings", "collections", "calls" }
local function read(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local function best(f, reps)
  local t = math.huge
  for _ = 1, reps do
    local c = os.clock()
    f()
    local d = os.clock() - c
    if d < t then t = d end
  end
  return t
end
local ok_core, dana = pcall(require, "dana")
if ok_core and not (dana.core and dana.sandbox) then ok_core = false end
local P = require("helpers.plain_runtime")
local reps = tonumber(os.getenv("DANA_BENCH_REPS") or "3")
local target = tonumber(os.getenv("DANA_BENCH_MAX") or "3")
local worst = 0
print(string.format("%-12s %10s %10s %7s   (%s)", "program", "lua s", "dana s", "ratio",
  ok_core and "agent" or "plain runtime env"))
for _, name in ipairs(names) do
  local lua_src = read("bench/programs/" .. name .. ".lua")
  local na_src = read("bench/programs/" .. name .. ".na")
  local lf = assert(load(lua_src, "@" .. name .. ".lua", "t"))
  local tl = best(lf, reps)
  local td
  if ok_core then
    local sb = dana.sandbox { tenant = "bench", print = function() end }
    local ag = sb:agent { name = "bench", role = "agent", limits = { memory = 2 ^ 30, time = 300 } }
    assert(ag:run("1\n", "warm.na"))
    td = best(function()
      local _, err = ag:run(na_src, name .. ".na")
      assert(not err, tostring(err))
    end, reps)
  else
    local code = assert(translate(na_src, name .. ".na"))
    local A = P.new()
    local f = assert(load(code, "@" .. name .. ".na", "t", A.env))
    td = best(f, reps)
  end
  local ratio = td / tl
  if ratio > worst then worst = ratio end
  print(string.format("%-12s %10.3f %10.3f %7.2f", name, tl, td, ratio))
end
print(string.format("worst ratio %.2f (target <= %.1f)", worst, target))

-- Whole process, as the issue measures it: `bin/dana run NAME.na` against
-- `lua5.4 NAME.lua`, wall clock, median of DANA_BENCH_RUNS (default 5) runs.
if ok_core then
  local clock = dana.core.clock
  local runs = tonumber(os.getenv("DANA_BENCH_RUNS") or "5")
  local function median_of(cmd)
    local t = {}
    for i = 1, runs do
      local c = clock()
      assert(os.execute(cmd .. " >/dev/null"), cmd)
      t[i] = clock() - c
    end
    table.sort(t)
    return t[(runs + 1) // 2]
  end
  print(("\nwhole process, median of %d runs"):format(runs))
  print(string.format("%-12s %10s %10s %7s", "program", "lua5.4 s", "dana run s", "ratio"))
  local worst_p = 0
  for _, name in ipairs(names) do
    local tl = median_of("lua5.4 bench/programs/" .. name .. ".lua")
    local td = median_of("bin/dana run --memory 1G --time 300 bench/programs/" .. name .. ".na")
    local ratio = td / tl
    if ratio > worst_p then worst_p = ratio end
    print(string.format("%-12s %10.3f %10.3f %7.2f", name, tl, td, ratio))
  end
  print(string.format("worst ratio %.2f (target <= %.1f)", worst_p, target))
end

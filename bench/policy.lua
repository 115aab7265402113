-- Policy decision throughput: the C core in a C loop (the number the issue
-- asks for: >= 10 million decisions/s), and through the Lua method for contrast.
-- Rates are given per wall-clock second and per CPU second of this process
-- (the two differ when the machine is busy). The target is judged on CPU time.
-- Run from the checkout after `make`: lua5.4 bench/policy.lua [seconds]
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("DANA_CPATH") or "build/?.so") .. ";" .. package.cpath
local core = require("dana.core")
local policy = require("dana.policy")

local target = tonumber(arg and arg[1]) or 0.5

local p = assert(policy.new {
  roles = {
    analyst = { inherits = { "user" }, allow = { "public:write", "call:search_*" }, deny = { "system:*" } },
    tooler = { inherits = { "analyst", "agent" }, allow = { "import:pkg.*" }, deny = { "call:search_private*" } },
  },
  limited = { system = { "execution_status", "version", "region" } },
})

local cases = {
  { "user", "read", "public:report" },
  { "user", "write", "public:report" },
  { "user", "read", "private:notes", true },
  { "agent", "write", "public:report" },
  { "agent", "read", "system:execution_status" },
  { "agent", "read", "system:api_key" },
  { "admin", "write", "system:admin_override" },
  { "analyst", "read", "system:version" },
  { "analyst", "call", "call:search_web" },
  { "tooler", "call", "search_private_docs" },
  { "tooler", "import", "import:pkg.util" },
  { "nobody", "read", "public:x" },
}

-- C loop: rounds over all cases until `target` CPU seconds have passed.
local rounds, wall, allowed, cpu = 1000
repeat
  rounds = rounds * 2
  wall, allowed, cpu = core._policy_bench(p, cases, rounds)
until cpu >= target
local n_c = rounds * #cases

-- The same decisions through p:decide from Lua.
local n = math.max(1, math.floor(rounds / 20))
local c0, w0 = os.clock(), core.policy_now()
for _ = 1, n do
  for i = 1, #cases do
    local c = cases[i]
    p:decide(c[1], c[2], c[3], c[4])
  end
end
local lua_cpu, lua_wall = os.clock() - c0, core.policy_now() - w0
local n_lua = n * #cases

local fmt = "%-30s %12s %9s %9s %12s %12s"
print(string.format(fmt, "policy decisions", "decisions", "wall s", "cpu s", "M/s (wall)", "M/s (cpu)"))
fmt = "%-30s %12d %9.3f %9.3f %12.2f %12.2f"
print(string.format(fmt, "C loop (dana_policy_decide)", n_c, wall, cpu, n_c / wall / 1e6, n_c / cpu / 1e6))
print(string.format(fmt, "Lua p:decide", n_lua, lua_wall, lua_cpu, n_lua / lua_wall / 1e6, n_lua / lua_cpu / 1e6))
local rate = n_c / cpu
print(string.format("%d of %d cases allowed; target >= 10 M decisions/s from C: %s",
  allowed // rounds, #cases, rate >= 10e6 and "met" or "NOT MET"))
if rate < 10e6 then os.exit(1) end

-- A Lua host embedding dana-sandbox: two tenants, agents with limits, a host
-- function, and what happens when untrusted code misbehaves.
--   lua5.4 examples/embed.lua        (from a checkout after `make`)
local root = (debug.getinfo(1, "S").source:match("^@(.*)/examples/[^/]*$")) or "."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/?.so;" .. package.cpath

local dana = require "dana"

local sb = dana.sandbox {
  tenant = "acme",
  limits = { memory = 64 * 1024 * 1024 },           -- the sum over acme's agents
  agent_limits = { time = 1, memory = 16 * 1024 * 1024 },
  system_limited = { "execution_status" },          -- system: keys the agent role may read
  print = function(agent, text) io.write("[", agent, "] ", text) end,
}
sb:set("system:execution_status", "green")
sb:set("system:db_password", "not-for-agents")
sb:register("lookup", function(id) return { id = id, name = "item " .. id } end)

local alice = sb:agent { name = "alice-bot", user = "alice", role = "agent" }
local value = assert(alice:run_lua([[
  local item = dana.call("lookup", 7)
  dana.set("public:last_item", item.name)
  print("status is " .. dana.get("system:execution_status"))
  return item.id * 6
]], "alice.lua"))
print("alice returned", value, "and wrote", sb:get("public:last_item"))

-- Denied, limited and broken code each give an error record; the host goes on.
local attempts = {
  { "read a secret", "return dana.get('system:db_password')" },
  { "spin forever", "while true do end" },
  { "eat memory", "local t = {} while true do t[#t + 1] = ('x'):rep(1024) end" },
  { "escape", "return io.open('/etc/passwd')" },
}
for _, a in ipairs(attempts) do
  local bot = sb:agent { name = "mallory", role = "agent" }
  local _, err = bot:run_lua(a[2], "mallory.lua")
  print(("%-14s -> %s: %s"):format(a[1], err.kind, err.message))
  bot:close()
end

-- Another tenant sees none of acme's data.
local other = dana.sandbox { tenant = "globex", print = function() end }
print("globex sees public:last_item =", other:agent {}:run_lua("return dana.get('public:last_item')"))

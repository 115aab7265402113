-- luacheck: std lua54+busted
-- The attack suite: every spec/fixtures/attacks/NAME.lua is untrusted Lua run in a
-- fresh sandbox. Each fixture starts with a header of comment lines:
--
--   -- expect: KIND           (or KIND1|KIND2, or ok; ok may be one of the alternatives)
--   -- value: <lua literal>   (with ok: the value the run must return)
--   -- limits: memory=8M time=1 instructions=1e7 output=64K calls_per_minute=5
--   -- role: user             (the attacking agent's role; default agent)
--   -- setup: NAME            (an extra setup from SETUPS below)
--   -- prints: TEXT           (the output of the attacking agent must contain TEXT)
--
-- Every fixture runs next to planted secrets (another agent's private:secret, the
-- tenant's system:api_key, another tenant's public:tenant_secret). After each run the
-- spec checks: the error kind; the run ended within its time limit plus a margin; no
-- secret in the error, the result or the printed output; the host, a second agent of
-- the same sandbox and an agent of another sandbox still work and see an unpoisoned
-- string library; the planted values are unchanged; a limit poisons the agent until
-- reset(); after reset() the agent runs normally again.

local dana = require("dana")

local FIXTURES = "spec/fixtures/attacks"
local TIME_MARGIN = 2      -- seconds allowed past the time limit
local PWNED_FILE = "/tmp/dana-attack-pwned"

local DEFAULT_LIMITS = { memory = 16 * 1024 * 1024, time = 2, output = 64 * 1024 }
local TENANT_LIMITS = {
  memory = 1024 * 1024 * 1024, time = 3600, output = 64 * 1024 * 1024,
  calls_per_minute = 100000,
}

local LIMIT_KINDS = {
  MemoryLimitError = true, TimeLimitError = true, InstructionLimitError = true,
  OutputLimitError = true, RecursionError = true, RateLimitError = true,
}

-- Unique per run, so that no secret can be a constant baked into the code under test.
local stamp = string.format("%x%x", os.time(), math.random(1 << 30))
local SECRETS = {
  peer = "PEER-PRIVATE-" .. stamp,
  system = "SYSTEM-APIKEY-" .. stamp,
  tenant = "OTHER-TENANT-" .. stamp,
}

-- The host's own string library, captured before any fixture runs.
local host_string_mt_index = getmetatable("").__index
local host_upper, host_rep, host_format = string.upper, string.rep, string.format

-- DANA_ATTACK_TRACE=1 prints each step to stderr (to find where a hang happens).
local TRACE = os.getenv("DANA_ATTACK_TRACE")
local function trace(name, step)
  if TRACE then io.stderr:write(string.format("[%s] %s\n", name, step)) end
end

local ok_system, system = pcall(require, "system")
local now = (ok_system and system.monotime) or os.clock

--- Extra setups named by `-- setup: NAME`. ctx = { sb =, peer =, other = }.
local SETUPS = {
  echo = function(ctx)
    ctx.sb:register("echo", function(...) return ... end)
  end,
  count = function(ctx)
    ctx.sb:register("count", function(...) return select("#", ...) end)
  end,
  big_public = function(ctx)
    ctx.sb:set("public:big", string.rep("x", 8 * 1024 * 1024))
  end,
  big_result = function(ctx)
    ctx.sb:register("big", function() return string.rep("y", 8 * 1024 * 1024) end)
  end,
}

local function list_fixtures()
  local names = {}
  local p = assert(io.popen('ls "' .. FIXTURES .. '"'))
  for f in p:lines() do
    local name = f:match("^(.+)%.lua$")
    if name then names[#names + 1] = name end
  end
  p:close()
  table.sort(names)
  return names
end

local UNITS = { K = 1024, M = 1024 * 1024, G = 1024 * 1024 * 1024 }

local function parse_limits(text)
  local limits = {}
  for key, num, unit in text:gmatch("([%w_]+)=([%d%.eE+]+)([KMG]?)") do
    local v = assert(tonumber(num), "bad limit " .. key) * (UNITS[unit] or 1)
    limits[key] = math.tointeger(v) or v
  end
  return limits
end

local function read_fixture(name)
  local f = assert(io.open(FIXTURES .. "/" .. name .. ".lua", "rb"))
  local source = f:read("a")
  f:close()
  local fx = { name = name, source = source, limits = {} }
  for line in source:gmatch("[^\n]*") do
    if not line:match("^%-%-") then break end
    local key, value = line:match("^%-%-%s*(%w+):%s*(.-)%s*$")
    if key == "expect" then
      fx.expect = {}
      for k in value:gmatch("[^|%s]+") do fx.expect[k] = true end
    elseif key == "value" then
      fx.has_value = true
      fx.value = assert(load("return " .. value, "=value", "t", {}))()
    elseif key == "limits" then
      fx.limits = parse_limits(value)
    elseif key == "role" then
      fx.role = value
    elseif key == "setup" then
      fx.setup = value
    elseif key == "prints" then
      fx.prints = value
    end
  end
  assert(fx.expect, name .. ": no '-- expect:' header")
  return fx
end

local function merged_limits(fx)
  local l = {}
  for k, v in pairs(DEFAULT_LIMITS) do l[k] = v end
  for k, v in pairs(fx.limits) do l[k] = v end
  return l
end

local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

--- A bounded text rendering of any value (for secret checks and messages).
local function render(v, depth, seen)
  depth, seen = depth or 0, seen or {}
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" then return tostring(v) end
  if seen[v] or depth > 20 then return "{...}" end
  seen[v] = true
  local parts = {}
  for k, x in pairs(v) do
    parts[#parts + 1] = "[" .. render(k, depth + 1, seen) .. "]=" .. render(x, depth + 1, seen)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function err_text(err)
  if err == nil then return "" end
  local ok, s = pcall(tostring, err)
  local msg = type(err) == "table" and rawget(err, "message") or ""
  return (ok and s or "<tostring failed>") .. "\n" .. tostring(msg)
end

local function short(s, n)
  s = tostring(s)
  n = n or 300
  if #s > n then return s:sub(1, n) .. "...(" .. #s .. " bytes)" end
  return s
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function kind_list(expect)
  local ks = {}
  for k in pairs(expect) do ks[#ks + 1] = k end
  table.sort(ks)
  return table.concat(ks, "|")
end

--- Runs `source` in `agent`, never letting a raise escape: returns value, err, raised.
local function run(agent, source, name)
  local ok, value, err = pcall(agent.run_lua, agent, source, name or "check.lua")
  if not ok then return nil, value, true end
  return value, err, false
end

--- Checks that a (non-attacked) agent still works with a clean string library.
local function check_healthy(problems, what, agent)
  local v, err, raised = run(agent, "return 1 + 1")
  if raised or err or v ~= 2 then
    problems[#problems + 1] = what .. ": `return 1 + 1` gave " .. render(v) .. " / "
      .. short(err_text(err))
  end
  v, err = run(agent, [[
    return ("abc"):upper() .. string.upper("x") .. string.rep("y", 2)
      .. string.format("%d", 7) .. select(1, ("aa"):gsub("a", "b"))
  ]])
  if v ~= "ABCXyy7bb" then
    problems[#problems + 1] = what .. ": string library poisoned: got " .. render(v)
      .. " / " .. short(err_text(err))
  end
end

local function new_sandbox(tenant, sink)
  return dana.sandbox{
    tenant = tenant,
    limits = TENANT_LIMITS,
    print = sink,
    system_limited = { "execution_status" },
  }
end

local function run_fixture(fx)
  local problems = {}
  local function problem(s) problems[#problems + 1] = s end

  local printed = {}      -- [agent name] = { chunks }
  local sb = new_sandbox("acme", function(agent_name, text)
    local t = printed[agent_name] or {}
    printed[agent_name] = t
    t[#t + 1] = tostring(text)
  end)
  sb:set("system:api_key", SECRETS.system)
  sb:set("system:execution_status", "running")
  sb:set("public:shared", "hello")
  local peer = sb:agent{ name = "B", user = "bob", role = "agent", session = "s2" }
  peer:set("private:secret", SECRETS.peer)

  local other_sb = new_sandbox("globex", function() end)
  other_sb:set("public:tenant_secret", SECRETS.tenant)
  local other = other_sb:agent{ name = "C", user = "carol", role = "agent", session = "s3" }

  local ctx = { sb = sb, peer = peer, other = other_sb }
  if fx.setup then
    assert(SETUPS[fx.setup], fx.name .. ": unknown setup " .. fx.setup)(ctx)
  end

  local limits = merged_limits(fx)
  local agent = sb:agent{
    name = "A", user = "alice", role = fx.role or "agent", session = "s1", limits = limits,
  }

  trace(fx.name, "run")
  local t0 = now()
  local value, err, raised = run(agent, fx.source, fx.name .. ".lua")
  local elapsed = now() - t0

  -- 1. the outcome
  trace(fx.name, "run done")
  if raised then
    problem("run_lua raised instead of returning nil, err: " .. short(err_text(err)))
  elseif err == nil then
    if not fx.expect.ok then
      problem("expected " .. kind_list(fx.expect) .. ", got no error; value "
        .. short(render(value)))
    elseif fx.has_value and not same(value, fx.value) then
      problem("expected value " .. render(fx.value) .. ", got " .. short(render(value)))
    end
  else
    local kind = type(err) == "table" and err.kind or nil
    if not (kind and fx.expect[kind]) then
      problem("expected " .. kind_list(fx.expect) .. ", got " .. tostring(kind) .. ": "
        .. short(err_text(err)))
    end
  end

  -- 2. bounded in time
  if elapsed > limits.time + TIME_MARGIN then
    problem(string.format("took %.2fs, time limit %gs", elapsed, limits.time))
  end

  -- 3. no secret anywhere the attacker could see or show
  local out = table.concat(printed.A or {})
  local seen = { error = err_text(err), value = render(value), output = out }
  for where, text in pairs(seen) do
    for which, secret in pairs(SECRETS) do
      if text:find(secret, 1, true) then
        problem("the " .. which .. " secret appears in the " .. where)
      end
    end
  end

  -- 4. output never passes the output limit, and is told the real agent's name
  if #out > limits.output then
    problem(string.format("printed %d bytes, output limit %d", #out, limits.output))
  end
  if fx.prints and not out:find(fx.prints, 1, true) then
    problem("output of A lacks " .. string.format("%q", fx.prints) .. ": " .. short(render(printed)))
  end
  for name in pairs(printed) do
    if name ~= "A" then problem("output attributed to agent " .. render(name)) end
  end

  -- 5. the host is untouched
  trace(fx.name, "host checks")
  if getmetatable("").__index ~= host_string_mt_index then
    problem("host: getmetatable('').__index changed")
  end
  if string.upper ~= host_upper or string.rep ~= host_rep or string.format ~= host_format
     or ("abc"):upper() ~= "ABC" then
    problem("host: string library changed")
  end
  if file_exists(PWNED_FILE) then problem("host: " .. PWNED_FILE .. " exists") end

  -- 6. other agents and tenants are untouched
  trace(fx.name, "other agents")
  check_healthy(problems, "peer agent B (same sandbox)", peer)
  check_healthy(problems, "agent C (other sandbox)", other)
  local fresh = sb:agent{ name = "D", user = "dave", role = "agent", session = "s4" }
  check_healthy(problems, "new agent D (same sandbox)", fresh)
  if peer:get("private:secret") ~= SECRETS.peer then
    problem("peer's private:secret changed: " .. render(peer:get("private:secret")))
  end
  if sb:get("system:api_key") ~= SECRETS.system then
    problem("system:api_key changed: " .. render(sb:get("system:api_key")))
  end
  if sb:get("public:shared") ~= "hello" then
    problem("public:shared changed: " .. render(sb:get("public:shared")))
  end
  if other_sb:get("public:tenant_secret") ~= SECRETS.tenant then
    problem("other tenant's public:tenant_secret changed")
  end

  -- 7. a limit poisons the agent until reset()
  trace(fx.name, "poison check")
  local kind = type(err) == "table" and err.kind or nil
  if kind and LIMIT_KINDS[kind] then
    local v2, err2 = run(agent, "return 1")
    if err2 == nil then
      problem("after " .. kind .. " the agent is not poisoned: `return 1` gave " .. render(v2))
    end
  end

  -- 8. after reset() the attacked agent works again, with a clean string library
  trace(fx.name, "reset")
  local ok_reset, reset_err = pcall(agent.reset, agent)
  if not ok_reset then
    problem("agent:reset() raised: " .. short(tostring(reset_err)))
  else
    local v3, err3 = run(agent, "return 1")
    if v3 ~= 1 then
      problem("after reset `return 1` gave " .. render(v3) .. " / " .. short(err_text(err3)))
    end
    check_healthy(problems, "attacked agent A after reset", agent)
  end

  -- 9. closing is clean (this is also where finalizers would run)
  trace(fx.name, "close")
  for _, a in ipairs{ agent, fresh, peer, other } do
    local ok_close, close_err = pcall(a.close, a)
    if not ok_close then problem("close raised: " .. short(tostring(close_err))) end
  end
  if other_sb.close then pcall(other_sb.close, other_sb) end
  local ok_stats, stats = pcall(sb.stats, sb)
  if ok_stats and type(stats) == "table" and stats.memory ~= 0 then
    problem("memory of the sandbox after closing every agent: " .. tostring(stats.memory))
  end
  if sb.close then pcall(sb.close, sb) end
  if now() - t0 > limits.time + 3 * TIME_MARGIN + 5 then
    problem(string.format("fixture, checks and close took %.2fs", now() - t0))
  end

  trace(fx.name, "done")
  return problems
end

describe("attack fixtures", function()
  local names = list_fixtures()

  it("has at least 45 attack scripts", function()
    assert.is_true(#names >= 45, "only " .. #names .. " fixtures")
  end)

  for _, name in ipairs(names) do
    it(name, function()
      local fx = read_fixture(name)
      local problems = run_fixture(fx)
      assert(#problems == 0, name .. ":\n  " .. table.concat(problems, "\n  "))
    end)
  end
end)

describe("attacks outside the fixtures", function()
  it("refuses bytecode given to run_lua", function()
    local sb = new_sandbox("acme", function() end)
    local agent = sb:agent{ name = "A", user = "alice", role = "agent", session = "s1" }
    local value, err = run(agent, string.dump(function() return 1 end), "bytecode.lua")
    assert.is_nil(value)
    assert.is_table(err)
    assert.is_truthy(({ SyntaxError = true, SecurityError = true, ValueError = true })[err.kind],
      "kind " .. tostring(err.kind))
    assert.equal(2, (run(agent, "return 1 + 1")))
    agent:close()
  end)

  it("keeps a poisoned string metatable out of later sandboxes", function()
    local sb = new_sandbox("acme", function() end)
    local a = sb:agent{ name = "A", user = "alice", role = "agent", session = "s1" }
    run(a, [[pcall(function() getmetatable("").__index = { upper = function() return "p" end } end)
             string.upper = function() return "p" end]])
    local sb2 = new_sandbox("acme", function() end)
    local b = sb2:agent{ name = "A", user = "alice", role = "agent", session = "s1" }
    assert.equal("ABC", (run(b, 'return ("abc"):upper()')))
    assert.equal("ABC", (run(b, 'return string.upper("abc")')))
    assert.equal(host_string_mt_index, getmetatable("").__index)
    assert.equal(host_upper, string.upper)
    a:close()
    b:close()
  end)

  it("caps the sum of the agents' memory at the tenant limit", function()
    local M = 1024 * 1024
    local sb = dana.sandbox{ tenant = "acme", limits = { memory = 24 * M }, print = function() end }
    local a = sb:agent{ name = "A", user = "alice", role = "agent", session = "s1",
                        limits = { memory = 16 * M } }
    local b = sb:agent{ name = "B", user = "bob", role = "agent", session = "s2",
                        limits = { memory = 16 * M } }
    -- 12 strings of 1 MB each, kept in the agent's (persistent) environment
    local fill = 'keep = {} for i = 1, 12 do keep[i] = string.rep("x", 1024 * 1024 - 64) .. i end '
      .. 'return #keep'
    local v, err = run(a, fill)
    assert.equal(12, v, err_text(err))
    v, err = run(b, fill)
    assert.is_nil(v)
    assert.equal("MemoryLimitError", type(err) == "table" and err.kind or err_text(err))
    a:close()  -- A's memory comes back to the tenant
    b:reset()
    v, err = run(b, fill)
    assert.equal(12, v, err_text(err))
    b:close()
  end)

  it("keeps the Dana runtime of an agent safe from untrusted Lua in the same agent", function()
    local out = {}
    local sb = new_sandbox("acme", function(_, text) out[#out + 1] = text end)
    local a = sb:agent{ name = "A", user = "alice", role = "agent", session = "s1" }
    local program = 'print("abc".upper())\nprint(", ".join(["a", "b"]))\nprint(str(3.5))\n'
      .. 'print(len("abcd"))\n1'
    assert.equal(1, (a:run(program, "check.na")))
    local before = table.concat(out)
    out = {}
    local _, err = run(a, [[
      string.upper = function() return "PWNED" end
      string.format = string.upper; string.rep = string.upper; string.gsub = string.upper
      string.find = string.upper; string.sub = string.upper
      table.concat = string.upper; table.insert = function() end
      math.floor = function() return 0 end; math.type = string.upper
      tostring = string.upper; type = string.upper; select = string.upper
      pairs = function() error("PWNED") end; ipairs = pairs; next = pairs
      dana.get = string.upper; dana.set = function() end
      pcall(function() getmetatable("").__index = { upper = string.upper } end)
    ]])
    assert.is_nil(err, err_text(err))
    assert.equal(1, (a:run(program, "check.na")))
    assert.equal(before, table.concat(out))
    assert.equal("ABCa, b3.54", (before:gsub("\n", "")))
    a:close()
  end)
end)

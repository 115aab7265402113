-- The guard layer seen from agents: policies, the audit log, host-function
-- trust levels, escalation and redaction of what leaves an agent.
local dana = require "dana"
local cjson = require "cjson"

local function tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p
end

local function lines(path)
  local t = {}
  for l in io.lines(path) do t[#t + 1] = cjson.decode(l) end
  return t
end

local function sandbox(opts)
  local out = {}
  opts = opts or {}
  opts.print = function(_, text) out[#out + 1] = text end
  return dana.sandbox(opts), out
end

describe("policies in sandboxes", function()
  local policy = {
    roles = {
      analyst = { inherits = { "user" }, allow = { "public:write", "call:report" }, deny = { "system:*" } },
      auditor = { allow = { "system:read:limited" } },
    },
    limited = { system = { "execution_status" } },
  }

  it("apply custom roles, inheritance and deny-beats-allow", function()
    local sb = sandbox { policy = policy }
    sb:set("system:execution_status", "ok")
    local a = sb:agent { role = "analyst" }
    assert.equal(1, a:run_lua("dana.set('public:x', 1) return dana.get('public:x')"))
    local _, err = a:run_lua("return dana.get('system:execution_status')")
    assert.equal("PermissionError", err.kind)
    local au = sb:agent { role = "auditor" }
    assert.equal("ok", au:run_lua("return dana.get('system:execution_status')"))
    _, err = au:run_lua("return dana.get('system:other')")
    assert.equal("PermissionError", err.kind)
  end)

  it("come from JSON files too, and bad ones are refused naming the field", function()
    local path = tmpname()
    local f = assert(io.open(path, "w"))
    f:write(cjson.encode(policy))
    f:close()
    local sb = sandbox { policy = path }
    assert.equal(2, sb:agent { role = "analyst" }:run_lua("dana.set('public:y', 2) return dana.get('public:y')"))
    os.remove(path)
    assert.has_error(function() sandbox { policy = { roles = { x = { allow = { "public:frob" } } } } } end,
      "dana.sandbox: policy: roles.x.allow[1]: bad permission (unknown op) 'public:frob'")
  end)

  it("check host calls against call:NAME (deny by default for custom roles)", function()
    local sb = sandbox { policy = policy }
    sb:register("report", function() return "r" end)
    sb:register("wipe", function() return "w" end)
    local a = sb:agent { role = "analyst" }
    assert.equal("r", a:run_lua("return dana.call('report')"))
    local _, err = a:run_lua("return dana.call('wipe')")
    assert.equal("PermissionError", err.kind)
  end)

  it("honour a registration permission", function()
    local sb = sandbox { policy = { roles = { agent = { allow = { "call:*" }, deny = { "call:maintenance" } } } } }
    sb:register("reindex", function() return 1 end, { permission = "call:maintenance" })
    local _, err = sb:agent { role = "agent" }:run_lua("return dana.call('reindex')")
    assert.equal("PermissionError", err.kind)
    assert.equal(1, sb:agent { role = "admin" }:run_lua("return dana.call('reindex')"))
    assert.has_error(function() sb:register("x", print, { permission = "system:write" }) end)
  end)

  it("refuse function-name injection", function()
    local sb = sandbox {}
    sb:register("ok", function() return 1 end)
    for _, name in ipairs { "ok\0evil", "ok; os.exit()", "../ok", "OK", "" } do
      local _, err = sb:agent {}:run_lua(("return dana.call(%q)"):format(name))
      assert.equal("PermissionError", err.kind, name)
    end
  end)
end)

describe("escalation", function()
  it("is denied without an approval callback", function()
    local sb = sandbox {}
    assert.same({ false, "no approval callback: escalation is denied" },
      sb:agent {}:run_lua("return {dana.escalate('admin', 'please')}"))
  end)

  it("is granted only by the host, bounded in operations", function()
    local asked
    local sb = sandbox { approve = function(info)
      asked = info
      return info.requested == "admin" and { ops = 2 } or false
    end }
    local a = sb:agent { name = "A", role = "agent" }
    local v = a:run_lua([[
      local r = {}
      r[1] = pcall(dana.set, 'system:admin_override', 1)
      r[2] = dana.escalate('admin', 'maintenance')
      r[3] = pcall(dana.set, 'system:admin_override', 2)
      r[4] = pcall(dana.get, 'system:admin_override')
      r[5] = pcall(dana.get, 'system:admin_override')   -- the grant had two operations
      return r]])
    assert.same({ false, true, true, true, false }, v)
    assert.equal("A", asked.agent)
    assert.equal("maintenance", asked.reason)
    assert.same({ false, "the host did not approve" }, a:run_lua("return {dana.escalate('root', 'x')}"))
  end)
end)

describe("the audit log", function()
  it("records writes, private and system reads, denials, calls and limits", function()
    local path = tmpname()
    local sb = sandbox { tenant = "acme", audit = { path = path }, agent_limits = { time = 0.2 } }
    sb:register("f", function() return 1 end)
    local a = sb:agent { name = "A", user = "alice", session = "s9" }
    a:run_lua([[
      dana.set('private:k', 'v')
      dana.get('private:k')
      dana.get('public:k')
      pcall(dana.get, 'system:secret')
      dana.call('f')
      while true do end]])
    sb:close()
    local ev = lines(path)
    local ops = {}
    for i, e in ipairs(ev) do
      ops[i] = e.op .. " " .. e.resource .. " " .. e.decision
      assert.equal("acme", e.tenant)
      assert.equal("alice", e.user)
      assert.equal("s9", e.session)
      assert.equal(i, e.seq)
    end
    assert.same({ "write private:k allow", "read private:k allow", "read system:secret deny",
      "call call:f allow", "limit TimeLimitError deny" }, ops)
    assert.is_nil(io.open(path):read("a"):find('"v"', 1, true))  -- hashes only, never the value
    assert.truthy(dana.audit.verify(path))
    os.remove(path)
    os.remove(path .. ".head")
  end)

  it("masks the agent's secrets in audit details", function()
    local path = tmpname()
    local sb = sandbox { audit = { path = path }, approve = function() return { ops = 1 } end }
    sb:agent {}:run_lua([[
      dana.set('private:pw', 'hunter2-hunter2')
      dana.escalate('admin', 'my password is ' .. dana.get('private:pw'))]])
    sb:close()
    local text = io.open(path):read("a")
    assert.matches('"op":"escalate".-"decision":"grant".-"detail":"my password is %[REDACTED%]"', text)
    assert.not_matches("hunter2", text)
    os.remove(path)
    os.remove(path .. ".head")
  end)

  it("fails closed: writes and calls are refused when the log cannot be written", function()
    local sb = sandbox { audit = { path = "/dev/full" } }
    sb:register("f", function() return 1 end)
    local a = sb:agent {}
    local _, err = a:run_lua("dana.set('public:x', 1)")
    assert.equal("SecurityError", err.kind)
    assert.is_nil(sb:get("public:x"))
    _, err = a:run_lua("return dana.call('f')")
    assert.equal("SecurityError", err.kind)
  end)
end)

describe("host-function trust levels", function()
  it("core functions get copied, sanitized arguments", function()
    local sb = sandbox {}
    local seen
    sb:register("share", function(ctx) seen = ctx return true end)
    sb:agent {}:run_lua([[
      return dana.call('share', {public = {topic = 'x'}, private = {diary = 'y'}, system = {k = 1},
                                 api_token = 'abcdefghijklmnopqrstuvwxyz012345'})]])
    assert.same({ public = { topic = "x" }, api_token = "[REDACTED]" }, seen)
  end)

  it("sandbox functions receive the live agent", function()
    local sb = sandbox {}
    sb:register("whoami", function(agent, n) return agent:info().name .. n end, { trust = "sandbox" })
    assert.equal("B7", sb:agent { name = "B" }:run_lua("return dana.call('whoami', 7)"))
  end)

  it("rejects unknown trust levels", function()
    local sb = sandbox {}
    assert.has_error(function() sb:register("x", print, { trust = "root" }) end)
  end)
end)

describe("redaction of what leaves an agent", function()
  it("masks registered secrets and credential shapes in print output", function()
    local sb, out = sandbox {}
    sb:set("system:db_url", "postgres://app:s3cr3t-pass@db/prod")
    local a = sb:agent { role = "admin" }
    a:run_lua([[
      dana.set('private:token', 'tok_live_9f8e7d6c5b4a')
      print('token ' .. dana.get('private:token'))
      print('db ' .. dana.get('system:db_url'))
      print('gh ghp_' .. ('a'):rep(36))
      print('plain text stays')]])
    local text = table.concat(out)
    assert.not_matches("9f8e7d6c5b4a", text)
    assert.not_matches("s3cr3t", text)
    assert.not_matches("aaaaaaaaaaaa", text)
    assert.matches("plain text stays", text)
  end)

  it("masks them in error messages and source lines", function()
    local sb = sandbox {}
    local a = sb:agent {}
    local _, err = a:run_lua([[
      dana.set('private:pw', 'correct-horse-battery')
      error('pw is ' .. dana.get('private:pw'))]])
    assert.not_matches("correct%-horse", tostring(err))
    _, err = a:run_lua("error('key AKIAIOSFODNN7EXAMPLE')")
    assert.not_matches("AKIAIOSFODNN7EXAMPLE", tostring(err))
    assert.equal("RuntimeError", err.kind)
  end)

  it("keeps secrets per agent", function()
    local sb, out = sandbox {}
    local a, b = sb:agent { name = "A" }, sb:agent { name = "B" }
    a:run_lua("dana.set('private:pw', 'only-a-knows-this')")
    b:run_lua("print('only-a-knows-this')")   -- B never saw it as a secret
    assert.matches("only%-a%-knows%-this", table.concat(out))
  end)
end)

describe("agent:sanitized()", function()
  it("shares local and public only, masked, with the host's extra key words", function()
    local sb = sandbox { sanitize = { keys = { "ssn" } } }
    sb:set("public:ssn", "123-45-6789")
    sb:set("public:name", "bob")
    sb:set("public:github", "ghp_" .. ("x"):rep(36))
    sb:set("system:root", "r")
    local a = sb:agent {}
    a:set("private:mine", "m")
    assert.same({ ["local"] = {}, public = { ssn = "[REDACTED]", name = "bob", github = "[REDACTED]" } },
      a:sanitized())
  end)
end)

describe("Dana builtins that reach outside", function()
  it("use(name) hands out only registered, permitted host functions", function()
    local sb = sandbox { policy = { roles = { agent = { allow = { "call:lookup" } } } } }
    sb:register("lookup", function(x) return x * 6 end)
    sb:register("wipe", function() return true end)
    local a = sb:agent {}
    assert.equal(42, a:run('f = use("lookup")\nf(7)\n', "u.na"))
    local _, err = a:run('use("os_execute")\n', "u.na")
    assert.equal("PermissionError", err.kind)
    _, err = a:run('use("wipe")\n', "u.na")
    assert.equal("PermissionError", err.kind)
    _, err = a:run('name = "wi" + "pe"\nuse(name)()\n', "u.na")
    assert.equal("PermissionError", err.kind)
  end)

  it("a host function gets keywords without the None-keyword bookkeeping", function()
    local sb = sandbox { policy = { roles = { agent = { allow = { "call:keys" } } } } }
    sb:register("keys", function(_, kw)
      local t = {}
      for k in pairs(kw) do t[#t + 1] = tostring(k) end
      table.sort(t)
      return table.concat(t, ",")
    end)
    local a = sb:agent {}
    assert.equal("0,1,b", a:run('v = None\nuse("keys")(7, a=v, b=1)\n', "u.na"))
  end)

  it("escalate(role, reason) asks the host", function()
    local sb = sandbox { approve = function(r) return r.reason == "maintenance" and { ops = 1 } end }
    local a = sb:agent {}
    assert.same({ false, true }, a:run('[escalate("admin", "because"), escalate("admin", "maintenance")]\n', "e.na"))
  end)

  it("log needs call:log, and masks private values", function()
    local sb, out = sandbox { policy = { roles = { quiet = { allow = { "private:own" } } } } }
    local _, err = sb:agent { role = "quiet" }:run('log("hello")\n', "l.na")
    assert.equal("PermissionError", err.kind)
    local a = sb:agent { role = "agent" }
    assert.is_nil(select(2, a:run('private:token = "tok-abcdef123456"\nlog(f"token {private:token}")\n', "l.na")))
    assert.equal("[INFO] token [REDACTED]\n", table.concat(out))
  end)
end)

describe("a policy's sanitizer additions", function()
  it("add key words and re/LPeg patterns to what is shared", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(cjson.encode { roles = {}, sanitize = { keys = { "ssn" }, patterns = { "'EMP-' [0-9]^4" } } })
    f:close()
    local sb = sandbox { policy = path }
    sb:set("public:ssn", "123-45-6789")
    sb:set("public:note", "ask EMP-1234 about it")
    assert.same({ ["local"] = {}, public = { ssn = "[REDACTED]", note = "ask [REDACTED] about it" } },
      sb:agent {}:sanitized())
    os.remove(path)
  end)

  it("are validated, naming the field", function()
    assert.has_error(function() sandbox { policy = { sanitize = { keys = { 1 } } } } end,
      "dana.sandbox: policy: sanitize.keys[1]: expected a word")
    assert.has_error(function() sandbox { policy = { sanitize = { patterns = { "[" } } } } end)
  end)
end)

describe("rate limits cannot be evaded", function()
  it("by pcall, by reset, or by looping after the limit", function()
    local sb = sandbox { agent_limits = { calls_per_minute = 2 } }
    sb:register("f", function() return 1 end)
    local a = sb:agent {}
    local _, err = a:run_lua("for i = 1, 5 do pcall(dana.call, 'f') end return 'escaped'")
    assert.equal("RateLimitError", err.kind)
    a:reset()
    _, err = a:run_lua("return dana.call('f')")
    assert.equal("RateLimitError", err.kind)  -- the bucket survives reset()
  end)
end)

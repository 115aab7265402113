-- The policy engine: every rule of docs/policy.md, validation errors that name
-- the field, JSON files, escalation grants and the `dana policy` command.
local core = require("dana.core")
local policy = require("dana.policy")

local FIX = "spec/fixtures/policies/"

-- Checks a table of {role, op, resource, own, allowed[, rule]} against p.
local function check(p, cases)
  for _, c in ipairs(cases) do
    local role, op, res, own, want, rule = c[1], c[2], c[3], c[4], c[5], c[6]
    local ok, why = p:decide(role, op, res, own)
    assert(ok == want, string.format("%s %s %s own=%s: expected %s, got %s (%s)",
      role, op, res, tostring(own), tostring(want), tostring(ok), tostring(why)))
    if rule then assert.equal(rule, why) end
  end
end

local function compile_err(def)
  local p, err, code = policy.new(def)
  assert(p == nil, "expected a validation error")
  assert.equal("EPOLICY", code)
  return err
end

describe("built-in roles (the design document's)", function()
  local p = policy.default()

  it("user: local:*, public:read, private:own", function()
    check(p, {
      { "user", "read", "local:x", false, true, "user allow local:*" },
      { "user", "write", "local:x", false, true },
      { "user", "delete", "x", false, true },            -- unscoped names are local
      { "user", "read", "public:x", false, true, "user allow public:read" },
      { "user", "write", "public:x", false, false, "default deny" },
      { "user", "delete", "public:x", false, false },
      { "user", "read", "private:x", true, true, "user allow private:own" },
      { "user", "write", "private:x", true, true },
      { "user", "delete", "private:x", true, true },
      { "user", "read", "private:x", false, false, "default deny" },  -- someone else's
      { "user", "read", "system:execution_status", false, false },
      { "user", "write", "system:x", false, false },
      { "user", "call", "call:reason", false, false },
      { "user", "import", "import:m", false, false },
    })
  end)

  it("agent: local:*, public:*, private:own, system:read:limited", function()
    check(p, {
      { "agent", "read", "public:x", false, true, "agent allow public:*" },
      { "agent", "write", "public:x", false, true },
      { "agent", "delete", "public:x", false, true },
      { "agent", "write", "private:x", true, true, "agent allow private:own" },
      { "agent", "write", "private:x", false, false },
      { "agent", "read", "system:execution_status", false, true, "agent allow system:read:limited" },
      { "agent", "read", "system:api_key", false, false, "default deny" },
      { "agent", "write", "system:execution_status", false, false },
      { "agent", "write", "system:admin_override", false, false },
      { "agent", "call", "reason", false, false },
    })
  end)

  it("admin: *:* covers every scope, op, call and import", function()
    check(p, {
      { "admin", "write", "system:admin_override", false, true, "admin allow *:*" },
      { "admin", "read", "private:other", false, true },
      { "admin", "delete", "public:x", false, true },
      { "admin", "call", "call:anything", false, true },
      { "admin", "import", "import:any.module", false, true },
      { "admin", "read", "local:x", false, true },
    })
  end)

  it("lists the roles and describes them", function()
    assert.same({ "user", "agent", "admin" }, p:roles())
    local r = p:role("agent")
    assert.equal("agent", r.name)
    assert.equal(5, #r.rules)
    assert.same({ kind = "allow", perm = "local:*", from = "agent", text = "agent allow local:*" }, r.rules[1])
    assert.is_nil(p:role("nobody"))
    assert.same({ system = { "execution_status" } }, p:settings().limited)
  end)
end)

describe("deny by default", function()
  local p = policy.default()
  it("unknown roles, ops and malformed resources are denied with a reason", function()
    check(p, {
      { "nobody", "read", "public:x", false, false, "unknown role" },
      { "admin", "frob", "public:x", false, false, "unknown op" },
      { "admin", "", "public:x", false, false, "unknown op" },
      { "admin", "read", "", false, false, "invalid resource" },
      { "admin", "read", "public:", false, false, "invalid resource" },
      { "admin", "read", "nosuchscope:x", false, false, "invalid resource" },
      { "admin", "read", "call:reason", false, false, "invalid resource" },
      { "admin", "call", "public:x", false, false, "invalid resource" },
      { "admin", "call", "import:m", false, false, "invalid resource" },
      { "admin", "import", "call:m", false, false, "invalid resource" },
      { "admin", "call", "call:", false, false, "invalid resource" },
    })
  end)

  it("NUL bytes and odd characters never match anything", function()
    check(p, {
      { "admin\0", "read", "public:x", false, false, "unknown role" },
      { "ad\0min", "read", "public:x", false, false, "unknown role" },
      { "admin", "read\0", "public:x", false, false, "unknown op" },
      { "admin", "read", "public:x\0y", false, false, "invalid resource" },
      { "agent", "read", "system:execution_status\0", false, false },
      { "agent", "read", "system:execution_status ", false, false },
      { "agent", "read", "system:Execution_status", false, false },
      { "Agent", "read", "public:x", false, false, "unknown role" },
      { "agent ", "read", "public:x", false, false, "unknown role" },
      { "agent", "READ", "public:x", false, false, "unknown op" },
      { "agent", "read", "PUBLIC:x", false, false, "invalid resource" },
      { "agent", "read", "public:\xff\xfe", false, true },   -- any other key bytes are a key
      { "agent", "read", "public:a\nb", false, false, "invalid resource" },
      { "agent", "read", "public:a\27[2J", false, false, "invalid resource" },
      { "agent", "read", "public:a\127", false, false, "invalid resource" },
    })
  end)

  it("function-name injection: only names the rules match, never control bytes", function()
    local pol = assert(policy.new { roles = { t = { allow = { "call:search_*", "call:reason" } } } })
    check(pol, {
      { "t", "call", "reason", false, true },
      { "t", "call", "reason\0", false, false, "invalid resource" },
      { "t", "call", "reason\n", false, false, "invalid resource" },
      { "t", "call", "reason; os.exit()", false, false, "default deny" },
      { "t", "call", "eval", false, false, "default deny" },
      { "t", "call", "call:eval", false, false, "default deny" },
      { "t", "call", "search_web", false, true },
      { "t", "call", "search_\r", false, false, "invalid resource" },
      { "t", "call", "public:reason", false, false, "invalid resource" },
      { "t", "import", "reason", false, false, "default deny" },
    })
  end)

  it("own only means something for private", function()
    check(p, {
      { "user", "write", "public:x", true, false },
      { "user", "read", "system:execution_status", true, false },
    })
  end)
end)

describe("resource spellings", function()
  local p = policy.default()
  it("scope.name is scope:name; call and import take bare names", function()
    check(p, {
      { "user", "read", "public.x", false, true },
      { "user", "write", "public.x", false, false },
      { "agent", "read", "system.execution_status", false, true },
      { "admin", "call", "reason", false, true },
      { "admin", "call", "call:reason", false, true },
      { "admin", "import", "pkg.mod", false, true },
      { "admin", "import", "import:pkg.mod", false, true },
      { "admin", "call", "public.x", false, false, "invalid resource" },
    })
  end)
end)

describe("custom roles", function()
  it("inherit, allow and deny; deny beats allow wherever it comes from", function()
    local p = assert(policy.new {
      roles = {
        analyst = { inherits = { "user" }, allow = { "public:write" }, deny = { "system:*" } },
        lead = { inherits = { "analyst" }, allow = { "system:*" } },     -- inherited deny wins
        narrow = { inherits = { "agent" }, deny = { "public:delete", "private:own" } },
        reader = { allow = { "*:read" } },
      },
    })
    check(p, {
      { "analyst", "write", "public:x", false, true, "analyst allow public:write" },
      { "analyst", "read", "public:x", false, true, "analyst via user allow public:read" },
      { "analyst", "read", "private:x", true, true, "analyst via user allow private:own" },
      { "analyst", "read", "system:execution_status", false, false, "analyst deny system:*" },
      { "lead", "read", "system:x", false, false, "lead via analyst deny system:*" },
      { "lead", "write", "public:x", false, true, "lead via analyst allow public:write" },
      { "narrow", "delete", "public:x", false, false, "narrow deny public:delete" },
      { "narrow", "write", "public:x", false, true, "narrow via agent allow public:*" },
      { "narrow", "read", "private:x", true, false, "narrow deny private:own" },
      { "narrow", "read", "private:x", false, false, "default deny" },
      { "reader", "read", "system:anything", false, true, "reader allow *:read" },
      { "reader", "read", "private:x", false, true },
      { "reader", "write", "local:x", false, false },
      { "reader", "call", "reason", false, false },
    })
  end)

  it("extend a built-in role, or replace its grants", function()
    local p = assert(policy.new {
      roles = {
        user = { allow = { "call:reason" } },
        agent = { replace = true, allow = { "public:read" } },
      },
    })
    check(p, {
      { "user", "call", "reason", false, true, "user allow call:reason" },
      { "user", "read", "public:x", false, true },
      { "agent", "read", "public:x", false, true },
      { "agent", "write", "public:x", false, false },
      { "agent", "read", "system:execution_status", false, false },
    })
  end)

  it("diamonds are flattened once, cycles are refused", function()
    local p = assert(policy.new {
      roles = {
        base = { allow = { "public:read" } },
        left = { inherits = { "base" } },
        right = { inherits = { "base" }, deny = { "public:read:secret_*" } },
        both = { inherits = { "left", "right" } },
      },
    })
    check(p, {
      { "both", "read", "public:x", false, true, "both via base allow public:read" },
      { "both", "read", "public:secret_plan", false, false, "both via right deny public:read:secret_*" },
    })
    local rules = p:role("both").rules
    assert.equal(2, #rules)
    assert.matches("cycle", compile_err { roles = { a = { inherits = { "b" } }, b = { inherits = { "a" } } } })
    assert.matches("roles%.a%.inherits: cycle a %-> a",
      compile_err { roles = { a = { inherits = { "a" } } } })
  end)

  it("a wide diamond lattice compiles quickly", function()
    local roles = { r1 = { allow = { "public:read" } }, r2 = { inherits = { "r1" } } }
    for i = 3, 300 do roles["r" .. i] = { inherits = { "r" .. (i - 1), "r" .. (i - 2) } } end
    local t0 = os.clock()
    local p = assert(policy.new { roles = roles })
    assert(os.clock() - t0 < 2, "compile took too long")
    check(p, { { "r300", "read", "public:x", false, true, "r300 via r1 allow public:read" } })
  end)
end)

describe("qualifiers", function()
  it("limited allowlists per scope; the default is system: execution_status", function()
    local p = assert(policy.new {
      roles = { viewer = { allow = { "public:read:limited", "system:*:limited" } } },
      limited = { system = { "execution_status", "version" }, public = { "news" } },
    })
    check(p, {
      { "agent", "read", "system:version", false, true },
      { "agent", "read", "system:execution_status", false, true },
      { "agent", "read", "system:api_key", false, false },
      { "viewer", "read", "public:news", false, true, "viewer allow public:read:limited" },
      { "viewer", "read", "public:other", false, false },
      { "viewer", "write", "system:version", false, true, "viewer allow system:*:limited" },
      { "viewer", "write", "system:admin_override", false, false },
    })
    local q = assert(policy.new { limited = {} })
    check(q, { { "agent", "read", "system:execution_status", false, false } })
  end)

  it("own as an op or a qualifier", function()
    local p = assert(policy.new {
      roles = { r = { allow = { "private:read:own", "*:own" } }, s = { allow = { "private:read" } } },
    })
    check(p, {
      { "r", "read", "private:x", true, true, "r allow private:read:own" },
      { "r", "write", "private:x", true, true, "r allow *:own" },
      { "r", "read", "private:x", false, false },
      { "r", "read", "public:x", true, false },
      { "s", "read", "private:x", false, true },     -- any agent's private
      { "s", "read", "private:x", true, true },
    })
  end)

  it("key globs, call:NAME and import:MODULE with wildcards", function()
    local p = assert(policy.new {
      roles = {
        tools = {
          allow = { "call:search_*", "call:reason", "import:stats", "import:pkg.*", "public:read:cfg_*" },
          deny = { "call:search_private*", "import:pkg.evil" },
        },
        all = { allow = { "call:*", "import:*" } },
      },
    })
    check(p, {
      { "tools", "call", "search_web", false, true, "tools allow call:search_*" },
      { "tools", "call", "call:search_", false, true },
      { "tools", "call", "search_private_docs", false, false, "tools deny call:search_private*" },
      { "tools", "call", "reason", false, true },
      { "tools", "call", "reasonx", false, false },
      { "tools", "call", "xreason", false, false },
      { "tools", "import", "stats", false, true },
      { "tools", "import", "pkg.util", false, true },
      { "tools", "import", "pkg.evil", false, false, "tools deny import:pkg.evil" },
      { "tools", "import", "statsx", false, false },
      { "tools", "read", "public:cfg_a", false, true },
      { "tools", "read", "public:cfg", false, false },
      { "all", "call", "anything", false, true, "all allow call:*" },
      { "all", "import", "any.thing", false, true, "all allow import:*" },
      { "all", "read", "public:x", false, false },
    })
  end)
end)

describe("validation errors name the field", function()
  local cases = {
    { { roles = 3 }, "^roles: expected a table" },
    { { roles = { [1] = {} } }, "^roles: role names must be strings" },
    { { roles = { ["bad name"] = {} } }, "^roles: bad role name 'bad name'" },
    { { roles = { ["a\0b"] = {} } }, "^roles: bad role name 'a\\x00b'" },
    { { roles = { [string.rep("r", 65)] = {} } }, "^roles: bad role name" },
    { { roles = { a = 1 } }, "^roles%.a: expected a table" },
    { { roles = { a = { alow = {} } } }, "^roles%.a: unknown field 'alow'" },
    { { roles = { a = { allow = "public:read" } } }, "^roles%.a%.allow: expected an array" },
    { { roles = { a = { allow = { x = "public:read" } } } }, "^roles%.a%.allow: expected an array" },
    { { roles = { a = { allow = { [2] = "public:read" } } } }, "^roles%.a%.allow: expected an array" },
    { { roles = { a = { allow = { 3 } } } }, "^roles%.a%.allow%[1%]: expected a permission string" },
    { { roles = { a = { deny = { "public:read", "public" } } } },
      "^roles%.a%.deny%[2%]: bad permission %(expected SCOPE:OP%) 'public'" },
    { { roles = { a = { allow = { "public:zap" } } } }, "^roles%.a%.allow%[1%]: bad permission %(unknown op%)" },
    { { roles = { a = { allow = { "secret:read" } } } }, "unknown scope" },
    { { roles = { a = { allow = { "public:read:x:y" } } } }, "more than 3 parts" },
    { { roles = { a = { allow = { "public::x" } } } }, "empty part" },
    { { roles = { a = { allow = { "public:own" } } } }, "'own' applies to private only" },
    { { roles = { a = { allow = { "private:own:x" } } } }, "nothing may follow 'own'" },
    { { roles = { a = { allow = { "call:a:b" } } } }, "call/import take one name" },
    { { roles = { a = { allow = { "call:a b" } } } }, "bad name" },
    { { roles = { a = { allow = { "public:read:a\0b" } } } },
      "roles%.a%.allow%[1%]: bad permission 'public:read:a\\x00b'" },
    { { roles = { a = { allow = { "public:read:\27[31m" } } } }, "\\x1b" },
    { { roles = { a = { allow = { "public:call" } } } }, "unknown op" },
    { { roles = { a = { inherits = { "nobody" } } } }, "^roles%.a%.inherits%[1%]: unknown role 'nobody'" },
    { { roles = { a = { inherits = { 1 } } } }, "^roles%.a%.inherits%[1%]: expected a role name" },
    { { roles = { a = { replace = "yes" } } }, "^roles%.a%.replace: expected a boolean" },
    { { roles = { a = { description = 1 } } }, "^roles%.a%.description: expected a string" },
    { { limited = { secret = { "x" } } }, "^limited: unknown scope 'secret'" },
    { { limited = { system = "x" } }, "^limited%.system: expected an array" },
    { { limited = { system = { "ok", 3 } } }, "^limited%.system%[2%]: expected a key name" },
    { { limited = { system = { "a\0b" } } }, "^limited%.system%[1%]: expected a key name" },
    { { escalation = { max_seconds = -1 } }, "^escalation%.max_seconds: expected a positive number" },
    { { escalation = { max_ops = 1.5 } }, "^escalation%.max_ops: expected a positive integer" },
    { { escalation = { forever = true } }, "^escalation: unknown field 'forever'" },
    { { rolez = {} }, "^policy: unknown field 'rolez'" },
    { { description = 5 }, "^description: expected a string" },
  }
  for i, c in ipairs(cases) do
    it("case " .. i .. ": " .. c[2], function()
      local err = compile_err(c[1])
      assert(err:match(c[2]), "message " .. string.format("%q", err) .. " does not match " .. c[2])
    end)
  end

  it("programming errors raise", function()
    assert.has_error(function() policy.new(42) end)
    assert.has_error(function() core.policy_compile({}, 2) end)
  end)
end)

describe("JSON policy files", function()
  it("load the issue's example", function()
    local p = assert(policy.new(FIX .. "analyst.json"))
    check(p, {
      { "analyst", "write", "public:x", false, true },
      { "analyst", "read", "system:execution_status", false, false, "analyst deny system:*" },
      { "tooler", "call", "search_web", false, true, "tooler allow call:search_*" },
      { "tooler", "call", "search_private", false, false, "tooler deny call:search_private" },
      { "tooler", "import", "stats", false, true },
      { "tooler", "read", "system:version", false, false, "tooler via analyst deny system:*" },
      { "auditor", "read", "system:version", false, true },
      { "auditor", "read", "system:secret", false, false },
    })
    assert.same({ max_seconds = 60, max_ops = 5 }, p:settings().escalation)
  end)

  local bad = {
    { "bad_permission.json",
      "bad_permission%.json: roles%.analyst%.allow%[2%]: bad permission %(unknown op%) 'public:frobnicate'" },
    { "bad_inherits.json", "bad_inherits%.json: roles%.analyst%.inherits%[1%]: unknown role 'nobody'" },
    { "bad_type.json", "bad_type%.json: roles%.analyst%.allow: expected an array" },
    { "bad_json.json", "bad_json%.json: invalid JSON" },
    { "bad_limited.json", "bad_limited%.json: limited%.system%[2%]: expected a key name" },
    { "cycle.json", "cycle%.json: roles%.a%.inherits: cycle a %-> b %-> c %-> a" },
    { "not_object.json", "not_object%.json: .*" },
    { "missing.json", "cannot read policy" },
  }
  for _, c in ipairs(bad) do
    it("reports " .. c[1], function()
      local p, err, code = policy.new(FIX .. c[1])
      assert.is_nil(p)
      assert.equal("EPOLICY", code)
      assert(err:match(c[2]), err)
    end)
  end
end)

describe("escalation grants", function()
  local p = assert(policy.new { escalation = { max_seconds = 30, max_ops = 3 } })

  it("are bounded by ops and clamped to the policy's caps", function()
    local g = assert(core.policy_grant(p, "admin", core.policy_now() + 1e6, 100))
    local info = g:info()
    assert.equal("admin", info.role)
    assert.equal(3, info.ops_left)
    assert(info.until_time <= core.policy_now() + 30.001)
    for _ = 1, 3 do
      local ok, rule = p:decide("user", "write", "system:x", false, g)
      assert.is_true(ok)
      assert.equal("escalated: admin allow *:*", rule)
    end
    local ok, rule = p:decide("user", "write", "system:x", false, g)
    assert.is_false(ok)
    assert.equal("default deny", rule)
    assert.is_false(g:active())
  end)

  it("allowed decisions of the base role do not consume the grant", function()
    local g = assert(core.policy_grant(p, "admin", nil, 1))
    assert.is_true((p:decide("user", "read", "public:x", false, g)))
    assert.equal(1, g:info().ops_left)
  end)

  it("expire, can be revoked, and only work with their own policy", function()
    local g = assert(core.policy_grant(p, "admin", core.policy_now() + 0.05))
    assert.is_true(g:active())
    assert.is_false(g:active(core.policy_now() + 1))
    g:revoke()
    assert.is_false((p:decide("user", "write", "system:x", false, g)))
    local other = policy.default()
    local g2 = assert(core.policy_grant(other, "admin", nil, 5))
    assert.is_false((p:decide("user", "write", "system:x", false, g2)))
  end)

  it("refuse unknown roles and unbounded requests", function()
    local g, err, code = core.policy_grant(p, "root", nil, 1)
    assert.is_nil(g)
    assert.equal("EPOLICY", code)
    assert.matches("unknown role", err)
    assert.matches("needs until_time or max_ops", select(2, core.policy_grant(p, "admin")))
    assert.matches("not in the future", select(2, core.policy_grant(p, "admin", 1)))
    assert.matches("at least 1", select(2, core.policy_grant(p, "admin", nil, 0)))
  end)

  it("escalate: only the approval callback grants, every step audited", function()
    local au = assert(core.audit_open { ring = 100 })
    local g, err, code = policy.escalate { policy = p, role = "user", to = "admin", reason = "fix", audit = au }
    assert.is_nil(g)
    assert.equal("EPERM", code)
    assert.matches("no approval callback", err)
    g, err, code = policy.escalate { policy = p, role = "user", to = "admin", audit = au,
      approve = function() return false, "not today" end }
    assert.is_nil(g)
    assert.equal("EPERM", code)
    assert.matches("not today", err)
    g = policy.escalate { policy = p, role = "user", to = "admin", audit = au,
      approve = function() error("host bug") end }
    assert.is_nil(g)
    local seen
    g = assert(policy.escalate { policy = p, role = "user", to = "admin", reason = "deploy", audit = au,
      agent = "A", approve = function(req) seen = req; return { ops = 2, seconds = 5 } end })
    assert.equal("deploy", seen.reason)
    assert.equal(2, g:info().ops_left)
    local decisions = {}
    for _, e in ipairs(au:entries()) do
      assert.equal("escalate", e.op)
      decisions[#decisions + 1] = e.decision
    end
    assert.same({ "request", "deny", "request", "deny", "request", "deny", "request", "grant" }, decisions)
  end)

  it("escalate fails closed when the request cannot be audited", function()
    local au = assert(core.audit_open { path = "/dev/full" })
    local g, err, code = policy.escalate { policy = p, role = "user", to = "admin", audit = au,
      approve = function() return true end }
    assert.is_nil(g)
    assert.equal("EAUDIT", code)
    assert.matches("No space left", err)
    au:close()
  end)
end)

describe("the dana.Policy userdata", function()
  it("closes idempotently and refuses use after close", function()
    local p = policy.default()
    p:close()
    p:close()
    assert.has_error(function() p:decide("user", "read", "public:x") end, "attempt to use a closed policy")
    assert.matches("closed", tostring(p))
    local q <close> = policy.default()
    assert.is_true((q:decide("admin", "read", "public:x")))
  end)

  it("checks self on every method", function()
    local p = policy.default()
    local mt = getmetatable(p).__index
    for name, fn in pairs(mt) do
      assert.has_error(function() fn({}, "user", "read", "public:x") end, nil, name)
    end
    assert.has_error(function() p:decide("user", "read", "public:x", false, {}) end)
    local g = assert(core.policy_grant(p, "admin", nil, 1))
    for name, fn in pairs(getmetatable(g).__index) do
      assert.has_error(function() fn(p) end, nil, name)
    end
  end)

  it("the C benchmark entry agrees with decide", function()
    local p = policy.default()
    local secs, allowed = core._policy_bench(p, { { "agent", "read", "public:x" }, { "user", "write", "public:x" },
      { "user", "read", "private:x", true } }, 1000)
    assert.equal(2000, allowed)
    assert(secs >= 0)
  end)
end)

describe("dana policy explain", function()
  local cli = require("dana.cli_policy")
  local function run(args)
    local out, err = {}, {}
    local o = { write = function(self, ...) for _, s in ipairs { ... } do out[#out + 1] = s end return self end }
    local e = { write = function(self, ...) for _, s in ipairs { ... } do err[#err + 1] = s end return self end }
    local code = cli.main(args, o, e)
    return code, table.concat(out), table.concat(err)
  end

  it("prints allow and the deciding rule", function()
    local code, out = run { "explain", "--role", "agent", "read", "public:x" }
    assert.equal(0, code)
    assert.matches("^allow\n", out)
    assert.matches("rule: +agent allow public:%*", out)
  end)

  it("prints deny, exit 1", function()
    local code, out = run { "policy", "explain", "--policy", FIX .. "analyst.json", "--role", "analyst",
      "read", "system:execution_status" }
    assert.equal(1, code)
    assert.matches("^deny\n", out)
    assert.matches("analyst deny system:%*", out)
  end)

  it("--own and roles", function()
    assert.equal(0, (run { "explain", "--role", "user", "--own", "write", "private:x" }))
    assert.equal(1, (run { "explain", "--role", "user", "write", "private:x" }))
    local code, out = run { "roles", "--policy", FIX .. "analyst.json" }
    assert.equal(0, code)
    assert.matches("tooler %(inherits analyst%)", out)
  end)

  it("usage and policy errors exit 2", function()
    assert.equal(2, (run {}))
    assert.equal(2, (run { "explain", "read", "public:x" }))
    assert.equal(2, (run { "explain", "--role" }))
    assert.equal(2, (run { "explain", "--bogus", "--role", "a", "read", "x" }))
    local code, _, err = run { "explain", "--policy", FIX .. "bad_permission.json", "--role", "a", "read", "x" }
    assert.equal(2, code)
    assert.matches("roles%.analyst%.allow%[2%]", err)
  end)
end)

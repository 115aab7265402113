-- The C core: sandboxes, agents, the scope store, built-in roles, limits, errors.
local dana = require "dana"

local function new(opts)
  opts = opts or {}
  local out = {}
  local sb = dana.sandbox {
    tenant = opts.tenant or "spec",
    limits = opts.tenant_limits,
    agent_limits = opts.agent_limits,
    system_limited = opts.system_limited,
    print = function(name, text) out[#out + 1] = name .. "|" .. text end,
  }
  local agent = sb:agent { name = opts.name or "A", role = opts.role or "agent", user = "u",
    session = "s", limits = opts.limits }
  return sb, agent, out
end

describe("dana.core sandboxes and agents", function()
  it("runs Lua and copies the first result out", function()
    local _, a = new()
    assert.equal(3, a:run_lua("return 1 + 2"))
    assert.same({ 1, "two", { x = 3.5, y = true } }, a:run_lua("return {1, 'two', {x = 3.5, y = true}}"))
    assert.is_nil(a:run_lua("return nil"))
    assert.equal(math.maxinteger, a:run_lua("return math.maxinteger"))
    assert.equal("a\0b", a:run_lua("return 'a\\0b'"))
  end)

  it("keeps the agent's Lua globals across runs, and drops them on reset", function()
    local _, a = new()
    a:run_lua("counter = 41")
    assert.equal(42, a:run_lua("counter = counter + 1 return counter"))
    assert.truthy(a:reset())
    assert.is_nil(a:run_lua("return counter"))
  end)

  it("gives the identity fields to the agent", function()
    local _, a = new()
    assert.same({ "A", "spec", "agent", "u", "s" },
      a:run_lua("return {dana.agent, dana.tenant, dana.role, dana.user, dana.session}"))
    assert.same({ name = "A", user = "u", role = "agent", session = "s", tenant = "spec" }, a:info())
  end)

  it("refuses bytecode", function()
    local _, a = new()
    local bc = string.dump(function() return 1 end)
    local v, err, kind = a:run_lua(bc, "bc.lua")
    assert.is_nil(v)
    assert.equal("SyntaxError", kind)
    assert.matches("binary", err.message)
  end)

  it("sends print output to the sandbox sink, with the agent name", function()
    local _, a, out = new()
    a:run_lua("print('hi', 1, nil, true)")
    assert.same({ "A|hi\t1\tnil\ttrue\n" }, out)
  end)

  it("raises on programming errors and on closed objects", function()
    local sb, a = new()
    assert.has_error(function() a:run_lua({}) end)
    assert.has_error(function() sb:agent { limits = { bogus = 1 } } end, nil)
    assert.has_error(function() sb:agent { limits = { memory = 10 } } end)
    a:close()
    a:close()  -- twice is fine
    assert.has_error(function() a:run_lua("return 1") end, "attempt to use a closed agent")
    sb:close()
    assert.has_error(function() sb:agent {} end, "attempt to use a closed sandbox")
  end)

  it("refuses a re-entrant run from a host function", function()
    local sb, a = new()
    local inner_err
    sb:register("again", function()
      local ok, e = pcall(a.run_lua, a, "return 1")
      inner_err = not ok and e
      return 1
    end)
    assert.equal(1, a:run_lua("return dana.call('again')"))
    assert.matches("re%-entrant", inner_err)
  end)
end)

describe("the vetted library", function()
  local absent = { "io", "os", "debug", "package", "load", "loadstring", "dofile", "loadfile",
    "require", "collectgarbage", "warn", "module", "setfenv", "getfenv", "newproxy" }
  for _, name in ipairs(absent) do
    it("has no " .. name, function()
      local _, a = new()
      assert.is_nil(a:run_lua("return " .. name))
    end)
  end

  it("has no string.dump and a read-only string metatable", function()
    local _, a = new()
    assert.is_nil(a:run_lua("return string.dump"))
    assert.equal(false, a:run_lua("return getmetatable('')"))
    assert.equal("ABC", a:run_lua("return ('abc'):upper()"))
    local _, err = a:run_lua("getmetatable('').__index = {}")
    assert.equal("TypeError", err.kind)
  end)

  it("refuses __gc, __mode and __close through setmetatable", function()
    for _, mm in ipairs { "__gc", "__mode", "__close" } do
      local _, a = new()
      local _, err = a:run_lua("setmetatable({}, {" .. mm .. " = function() end})")
      assert.equal("SecurityError", err.kind)
      assert.matches(mm, err.message)
    end
  end)

  it("gives each agent its own library tables", function()
    local sb, a = new()
    local b = sb:agent { name = "B" }
    a:run_lua("string.upper = function() return 'pwned' end; table.concat = nil")
    assert.equal("ABC", b:run_lua("return string.upper('abc')"))
    assert.equal("ABC", b:run_lua("return ('abc'):upper()"))
    assert.equal("ABC", a:run_lua("return ('abc'):upper()"))  -- methods come from a hidden copy
    assert.equal("ABC", string.upper("abc"))
  end)

  it("keeps coroutines working", function()
    local _, a = new()
    assert.same({ 1, 2, 3 }, a:run_lua([[
      local co = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
      return {co(), co(), co()}]]))
    assert.same({ false, "dead" }, a:run_lua([[
      local co = coroutine.create(function() error("x") end)
      local ok = coroutine.resume(co)
      return {ok, coroutine.status(co)}]]))
  end)
end)

describe("scopes and built-in roles", function()
  -- role, op, key, allowed
  local cases = {
    { "user", "get", "private:x", true }, { "user", "set", "private:x", true },
    { "user", "get", "public:x", true }, { "user", "set", "public:x", false },
    { "user", "delete", "public:x", false },
    { "user", "get", "system:x", false }, { "user", "set", "system:x", false },
    { "agent", "get", "private:x", true }, { "agent", "set", "public:x", true },
    { "agent", "get", "public:x", true }, { "agent", "delete", "public:x", true },
    { "agent", "get", "system:x", false }, { "agent", "get", "system:status", true },
    { "agent", "set", "system:status", false }, { "agent", "set", "system:x", false },
    { "admin", "get", "system:x", true }, { "admin", "set", "system:x", true },
    { "admin", "delete", "system:x", true }, { "admin", "set", "public:x", true },
    { "analyst", "get", "public:x", false }, { "analyst", "get", "private:x", false },
  }
  for _, c in ipairs(cases) do
    local role, op, key, allowed = c[1], c[2], c[3], c[4]
    it(("%s %s %s -> %s"):format(role, op, key, allowed and "allowed" or "PermissionError"), function()
      local _, a = new { role = role, system_limited = { "status" } }
      local code = ({ get = "return dana.get(%q)", set = "dana.set(%q, 1) return true",
        delete = "dana.delete(%q) return true" })[op]:format(key)
      local v, err = a:run_lua(code)
      if allowed then
        assert.is_nil(err)
        if op ~= "get" then assert.is_true(v) end
      else
        assert.equal("PermissionError", err.kind)
        assert.matches(role, err.message)
      end
    end)
  end

  it("accepts scope.name keys and rejects malformed ones with ValueError", function()
    local _, a = new()
    assert.equal(5, a:run_lua("dana.set('private.n', 5) return dana.get('private:n')"))
    for _, key in ipairs { "x", "private:", "nope:x", "local:x", "private:a b", "private:a\0b",
      "private:" .. ("x"):rep(300), ":x" } do
      local _, err = a:run_lua(("return dana.get(%q)"):format(key))
      assert.equal("ValueError", err.kind, key)
    end
    local _, err = a:run_lua("return dana.get(42)")
    assert.equal("TypeError", err.kind)
  end)

  it("copies values in and out: no aliasing", function()
    local _, a = new()
    assert.equal(1, a:run_lua([[
      local t = {n = 1}
      dana.set('private:t', t)
      t.n = 2
      local u = dana.get('private:t')
      u.n = 3
      return dana.get('private:t').n]]))
  end)

  it("refuses functions, coroutines, cycles, deep nesting and foreign metatables", function()
    local _, a = new()
    local cases2 = {
      { "function() end", "TypeError" },
      { "coroutine.create(function() end)", "TypeError" },
      { "(function() local t = {} t.t = t return t end)()", "ValueError" },
      { "(function() local t = {} for _ = 1, 1000 do t = {t} end return t end)()", "ValueError" },
      { "setmetatable({}, {})", "TypeError" },
      { "{[{}] = 1}", "TypeError" },
    }
    for _, c in ipairs(cases2) do
      local _, err = a:run_lua("dana.set('private:v', " .. c[1] .. ")")
      assert.equal(c[2], err.kind, c[1])
    end
    local v, err = a:run_lua("return function() end")
    assert.is_nil(v)
    assert.equal("TypeError", err.kind)
  end)

  it("keeps private: per agent and public: per tenant", function()
    local sb, a = new()
    local b = sb:agent { name = "B" }
    a:run_lua("dana.set('private:secret', 'a-only') dana.set('public:shared', 'all')")
    assert.is_nil(b:run_lua("return dana.get('private:secret')"))
    assert.equal("all", b:run_lua("return dana.get('public:shared')"))
    assert.equal("a-only", a:get("private:secret"))
    assert.is_nil(b:get("private:secret"))
    assert.equal("all", sb:get("public:shared"))
    local other = dana.sandbox { tenant = "other", print = function() end }
    local c = other:agent { name = "A" }
    assert.is_nil(c:run_lua("return dana.get('public:shared')"))
  end)

  it("lets the host read and write every scope, and keeps private: across reset", function()
    local sb, a = new { role = "user" }
    sb:set("system:config", { level = 3 })
    assert.same({ level = 3 }, a:get("system:config"))
    a:set("private:k", "v")
    a:reset()
    assert.equal("v", a:run_lua("return dana.get('private:k')"))
    assert.has_error(function() sb:get("private:k") end)
    a:set("private:k", nil)
    assert.is_nil(a:get("private:k"))
  end)
end)

describe("limits", function()
  it("stops a busy loop at the time limit", function()
    local _, a = new { limits = { time = 0.2 } }
    local v, err, kind = a:run_lua("while true do end", "loop.lua")
    assert.is_nil(v)
    assert.equal("TimeLimitError", kind)
    assert.equal("loop.lua", err.file)
    assert.equal(1, err.line)
  end)

  it("stops memory growth at the memory limit, and frees it on close", function()
    local sb, a = new { limits = { memory = 2 * 1024 * 1024 } }
    local _, err = a:run_lua("local t = {} for i = 1, 1e8 do t[i] = i end")
    assert.equal("MemoryLimitError", err.kind)
    assert.truthy(a:stats().memory <= 2 * 1024 * 1024)
    local before = sb:stats().memory
    a:close()
    assert.truthy(sb:stats().memory < before)
  end)

  it("counts instructions across coroutines", function()
    local _, a = new { limits = { instructions = 200000 } }
    local _, err = a:run_lua([[
      local function spin() local n = 0 while true do n = n + 1 end end
      local cos = {}
      for i = 1, 10 do cos[i] = coroutine.create(spin) end
      for i = 1, 10 do coroutine.resume(cos[i]) end]])
    assert.equal("InstructionLimitError", err.kind)
    local _, b = new { limits = { instructions = 1e6 } }
    assert.equal(5050, b:run_lua("local s = 0 for i = 1, 100 do s = s + i end return s"))
  end)

  it("stops output at the output limit", function()
    local _, a, out = new { limits = { output = 1000 } }
    local _, err = a:run_lua("for i = 1, 1e6 do print(('x'):rep(50)) end")
    assert.equal("OutputLimitError", err.kind)
    assert.truthy(#table.concat(out) <= 1000 + #"A|" * #out)
  end)

  it("maps stack overflow to RecursionError", function()
    local _, a = new()
    local _, err = a:run_lua("local function f(n) return f(n + 1) + 1 end return f(1)")
    assert.equal("RecursionError", err.kind)
    local _, b = new()
    _, err = b:run_lua("local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x")
    assert.equal("RecursionError", err.kind)
  end)

  local evasions = {
    pcall = "pcall(function() while true do end end) while true do end",
    xpcall = "xpcall(function() while true do end end, function() while true do end end)",
    nested_pcall = "for i = 1, 1e9 do pcall(pcall, pcall, function() while true do end end) end",
    coroutine = "local co = coroutine.wrap(function() while true do end end) pcall(co) while true do end",
    coroutine_close = [[
      local co = coroutine.create(function() local x <close> = setmetatable({}, {}) coroutine.yield() end)
      coroutine.resume(co)
      while true do pcall(coroutine.close, co) end]],
    close_var = [[
      local ok = pcall(function()
        local x <close> = nil
        while true do end
      end)
      while true do end]],
    error_object = [[
      local e = setmetatable({}, {__tostring = function() while true do end end})
      pcall(error, e) while true do pcall(function() while true do end end) end]],
  }
  for name, code in pairs(evasions) do
    it("cannot be caught or outlived: " .. name, function()
      local _, a = new { limits = { time = 0.2 } }
      local t0 = os.time()
      local _, err = a:run_lua(code)
      assert.equal("TimeLimitError", err.kind)
      assert.truthy(os.time() - t0 <= 3)
      -- sticky: refused until reset
      local _, again = a:run_lua("return 1")
      assert.equal("TimeLimitError", again.kind)
      assert.matches("reset", again.message)
      a:reset()
      assert.equal(1, a:run_lua("return 1"))
    end)
  end

  it("re-raises a memory limit caught by pcall", function()
    local _, a = new { limits = { memory = 1024 * 1024 } }
    local _, err = a:run_lua([[
      local ok = pcall(function() local s = 'x' while true do s = s .. s end end)
      return ok]])
    assert.equal("MemoryLimitError", err.kind)
  end)

  it("refuses huge C-level results before building them", function()
    local cases = {
      "return string.rep('x', 1e12)",
      "return ('x'):rep(1e9, ',')",
      "local t = {} for i = 1, 100 do t[i] = ('x'):rep(1e4) end return #table.concat(t):rep(1e6)",
      "return string.format('%099999999d', 1)",
    }
    for _, code in ipairs(cases) do
      local _, a = new { limits = { memory = 4 * 1024 * 1024, time = 2 } }
      local _, err = a:run_lua(code)
      assert.truthy(err, code)
      assert.truthy(err.kind == "MemoryLimitError" or err.kind == "RuntimeError", code .. ": " .. err.kind)
    end
  end)

  it("caps host-function calls per minute", function()
    local sb, a = new { limits = { calls_per_minute = 3 } }
    sb:register("f", function() return 1 end)
    local _, err = a:run_lua("for i = 1, 10 do dana.call('f') end")
    assert.equal("RateLimitError", err.kind)
  end)

  it("applies tenant totals over the agents of a sandbox", function()
    local sb = dana.sandbox { tenant = "t", limits = { memory = 3 * 1024 * 1024 }, print = function() end }
    local a = sb:agent { name = "A" }
    local b = sb:agent { name = "B" }
    a:run_lua("big = {} for i = 1, 1e5 do big[i] = i end")
    local _, err = b:run_lua("local t = {} for i = 1, 1e8 do t[i] = i end")
    assert.equal("MemoryLimitError", err.kind)
    assert.truthy(sb:stats().memory <= 3 * 1024 * 1024)
    local tsb = dana.sandbox { tenant = "t2", limits = { instructions = 1e6 }, print = function() end }
    local c = tsb:agent { name = "C" }
    _, err = c:run_lua("while true do end")
    assert.equal("InstructionLimitError", err.kind)
  end)

  it("leaves other agents and tenants running after a limit", function()
    local sb, a = new { limits = { time = 0.1 } }
    local b = sb:agent { name = "B" }
    a:run_lua("while true do end")
    assert.equal(2, b:run_lua("return 1 + 1"))
    local other = dana.sandbox { print = function() end }
    assert.equal(2, other:agent {}:run_lua("return 1 + 1"))
  end)
end)

describe("host functions", function()
  it("copies arguments and results", function()
    local sb, a = new()
    local seen
    sb:register("echo", function(t) seen = t; t.changed = true; return { got = t.n } end)
    assert.same({ got = 7 }, a:run_lua("local t = {n = 7} local r = dana.call('echo', t) return r"))
    assert.equal(7, seen.n)
    assert.is_nil(a:run_lua("local t = {n = 7} dana.call('echo', t) return t.changed"))
  end)

  it("hides the host's error message from the agent", function()
    local sb, a = new()
    sb:register("boom", function() error("db password is hunter2") end)
    local _, err = a:run_lua("return dana.call('boom')")
    assert.equal("RuntimeError", err.kind)
    assert.not_matches("hunter2", err.message)
  end)

  it("refuses names that are not registered with PermissionError", function()
    local _, a = new()
    local _, err = a:run_lua("return dana.call('os.execute', 'rm -rf /')")
    assert.equal("PermissionError", err.kind)
  end)
end)

describe("error records", function()
  it("have kind, message, file, line and format with a caret line", function()
    local _, a = new()
    local v, err, kind = a:run_lua("local x = 1\nlocal t = nil\nreturn t.field\n", "prog.lua")
    assert.is_nil(v)
    assert.equal("TypeError", kind)
    assert.equal("prog.lua", err.file)
    assert.equal(3, err.line)
    assert.equal("return t.field", err.source_line)
    assert.matches("^prog.lua:3: TypeError: attempt to index a nil value", tostring(err))
    assert.is_true(dana.is_error(err))
  end)

  it("classify Lua errors", function()
    local cases = {
      { "return undefined_fn()", "NameError", "name 'undefined_fn' is not defined" },
      { "return 1 + {}", "TypeError", "arithmetic" },
      { "return #nil", "TypeError", "length" },
      { "error('plain')", "RuntimeError", "plain" },
      { "error({kind = 'ValueError', message = 'bad value'})", "ValueError", "bad value" },
      { "error({kind = 'TimeLimitError', message = 'forged'})", "RuntimeError", "forged" },
      { "error(setmetatable({}, {__index = function() while true do end end}))", "RuntimeError",
        "table" },
      { "error(42)", "RuntimeError", "number" },
      { "return 1 +", "SyntaxError", "unexpected" },
    }
    for _, c in ipairs(cases) do
      local _, a = new { limits = { time = 1 } }
      local _, err = a:run_lua(c[1])
      assert.equal(c[2], err.kind, c[1])
      assert.truthy(err.message:find(c[3], 1, true), c[1] .. ": " .. err.message)
    end
  end)

  it("can be made by the host", function()
    local e = dana.error_record("ValueError", "bad", "f.na", 2, 5, "x = 1")
    assert.equal("f.na:2:5: ValueError: bad\nx = 1\n    ^", tostring(e))
  end)
end)

-- The copy codec (src/value.c): the only way values cross between states.
local core = require "dana.core"

local function roundtrip(v)
  local blob = assert(core.encode(v))
  return core.decode(blob)
end

describe("copy codec", function()
  local values = {
    0, 1, -1, math.maxinteger, math.mininteger, 0.5, -0.0, 1e308, 1 / 0, -1 / 0,
    "", "abc", "a\0b", ("x"):rep(100000), true, false,
    { 1, 2, 3 }, { a = 1, b = { c = { d = "e" } } }, { [1.5] = "f", [true] = 1, [-3] = "neg" },
  }
  for i, v in ipairs(values) do
    it("round-trips value #" .. i .. " (" .. type(v) .. ")", function()
      assert.same(v, roundtrip(v))
    end)
  end

  it("keeps integers and floats apart", function()
    assert.equal(math.type(3), math.type(roundtrip(3)))
    assert.equal("float", math.type(roundtrip(3.0)))
  end)

  it("round-trips NaN", function()
    local v = roundtrip(0 / 0)
    assert.is_true(v ~= v)
  end)

  it("copies: the result is a new table", function()
    local t = { 1 }
    local u = roundtrip(t)
    assert.are_not.equal(t, u)
    u[1] = 2
    assert.equal(1, t[1])
  end)

  local refused = {
    { "a function", function() end, "function" },
    { "a coroutine", coroutine.create(function() end), "thread" },
    { "userdata", io.stdout, "userdata" },
    { "a cycle", (function() local t = {} t.self = t return t end)(), "cyclic" },
    { "deep nesting", (function() local t = {} for _ = 1, 100 do t = { t } end return t end)(), "deeply" },
    { "a metatable", setmetatable({}, {}), "metatable" },
    { "a table key", { [{}] = 1 }, "key" },
  }
  for _, c in ipairs(refused) do
    it("refuses " .. c[1] .. " with a clear message", function()
      local blob, msg, code = core.encode(c[2])
      assert.is_nil(blob)
      assert.matches(c[3], msg)
      assert.equal("ECOPY", code)
    end)
  end

  it("shares no table between two references to the same table (a DAG is copied twice)", function()
    local shared = { 1 }
    local v = roundtrip({ a = shared, b = shared })
    assert.same({ 1 }, v.a)
    assert.same({ 1 }, v.b)
  end)

  it("rejects malformed blobs with an error, never a crash (property)", function()
    local seed_values = { { 1, 2, { x = "y" } }, "hello", 42, { a = { b = { c = true } } } }
    math.randomseed(1234)
    for i = 1, 3000 do
      local blob = core.encode(seed_values[i % #seed_values + 1])
      local bytes = { blob:byte(1, -1) }
      local op = math.random(3)
      local pos = math.random(#bytes)
      if op == 1 then bytes[pos] = math.random(0, 255)
      elseif op == 2 then table.remove(bytes, pos)
      else table.insert(bytes, pos, math.random(0, 255)) end
      local mutated = string.char(table.unpack(bytes))
      local ok, v = pcall(core.decode, mutated)
      assert.truthy(ok or type(v) == "string")
    end
  end)

  it("decodes registered types through a host decoder", function()
    core.set_host_decoder("spec.point", function(raw) return { x = raw.x, y = raw.y, tag = "point" } end)
    local sb = require("dana").sandbox { print = function() end }
    local a = sb:agent {}
    -- untrusted Lua cannot register types: only the trusted runtime env has dana_internal
    assert.is_nil(a:run_lua("return dana_internal"))
    core.set_host_decoder("spec.point", nil)
  end)
end)

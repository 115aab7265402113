-- The Dana runtime (lua/dana/runtime*.lua) loaded into a plain Lua env by
-- spec/helpers/plain_runtime.lua: value semantics, formatting, scopes, host decoding.
local P = require("helpers.plain_runtime")

local function out(src, opts)
  local v, err, text = P.exec(src, opts)
  if err then error(string.format("%s: %s (line %s)", err.kind, tostring(err.message), tostring(err.line))) end
  return text, v
end

describe("runtime boot", function()
  it("the manifest lists modules whose last one returns the Dana env", function()
    local m = dofile(package.searchpath("dana.runtime_manifest", package.path))
    assert.is_true(#m >= 2)
    for _, mod in ipairs(m) do
      assert.is_string(mod.name)
      assert.is_string(mod.source)
    end
    local A = P.new()
    assert.is_function(A.env.print)
    assert.is_table(A.env._D)
  end)

  it("registers its value types with the core", function()
    local A = P.new()
    for _, tag in ipairs({ "dana.list", "dana.tuple", "dana.dict", "dana.set", "dana.struct",
      "dana.none", "dana.exception" }) do
      assert.is_table(A.registered[tag], tag)
    end
  end)

  it("protects its metatables", function()
    local A = P.new()
    local l = A.env._D.L({ n = 0 })
    assert.equal("list", getmetatable(l))
    assert.has_error(function() setmetatable(l, nil) end)
  end)

  it("the env refuses writes and reports unknown names with suggestions", function()
    local A = P.new()
    local ok, e = pcall(function() return A.env.lenn end)
    assert.is_false(ok)
    assert.equal("NameError", e.kind)
    assert.truthy(e.message:find("len", 1, true))
    ok = pcall(function() A.env.x = 1 end)
    assert.is_false(ok)
  end)
end)

describe("runtime values", function()
  it("formats floats like CPython repr", function()
    assert.equal("0.1 1e+16 1000000000000000.0 1e-05 0.0001 -0.0 inf nan 2.5 "
      .. "1.2345678901234568e+16\n",
      out('print(0.1, 1e16, 1e15, 0.00001, 0.0001, -0.0, float("inf"), float("nan"), 2.5, '
        .. '12345678901234567.0)\n'))
  end)

  it("ints stay ints where Python keeps them", function()
    assert.equal("1024 3.5 -4 2 1.0 8\n", out("print(2 ** 10, 7 / 2, -7 // 2, -7 % 3, 2 ** 0.0, 2 ** 3)\n"))
  end)

  it("deep equality, keys and membership", function()
    assert.equal("True True 2 True False\n",
      out("print([1, (2, 3)] == [1, (2, 3)], {1: 'a'} == {True: 'a'}, len({1, 1.0, True, 2}), "
        .. "(1, 2) in {(1, 2): 0}, [1] == (1,))\n"))
  end)

  it("repr of containers and strings", function()
    assert.equal("[\"it's\", 'a\\nb', None, True, (1,), {'k': {1, 2}}]\n",
      out("print([\"it's\", 'a\\nb', None, True, (1,), {'k': {1, 2}}])\n"))
  end)

  it("None inside lists and dicts", function()
    assert.equal("[None, 1, None] 3 {'a': None} True\n",
      out("xs = [None, 1, None]\nd = {'a': None}\nprint(xs, len(xs), d, 'a' in d)\n"))
  end)

  it("string methods by code point", function()
    assert.equal("3 é 1 ['a', 'b'] ÉTÉ\n",
      out('s = "été"\nprint(len(s), s[2], s.find("t"), "a b".split(), s.upper().replace("é", "É"))\n'))
  end)

  it("sort is stable and takes key/reverse", function()
    assert.equal("[('b', 1), ('a', 1), ('c', 2)] [3, 2, 1]\n",
      out("xs = [('c', 2), ('b', 1), ('a', 1)]\n"
        .. "print(sorted(xs, key=lambda p :: p[1]), sorted([1, 3, 2], reverse=True))\n"))
  end)

  it("round is CPython's", function()
    assert.equal("2 4 2.67 0.12 1200\n",
      out("print(round(2.5), round(3.5), round(2.675, 2), round(0.125, 2), round(1234, -2))\n"))
  end)

  it("typed assignment coerces and reports failures", function()
    assert.equal("3 98.6 False true [1, 2]\n",
      out("a: int = '3.7'\nb: float = '98.6'\nc: bool = 'nope'\nd: str = True\n"
        .. "e: list = '[1, 2]'\nprint(a, b, c, d, e)\n"))
    local _, err = P.exec("n: int = 'lots'\n")
    assert.equal("TypeError", err.kind)
    assert.truthy(err.message:find("cannot coerce", 1, true))
  end)

  it("exceptions carry Dana kinds and match by name", function()
    assert.equal("ValueError bad\nKeyError 'k'\nZeroDivisionError\n", out([[
try:
    raise ValueError("bad")
except ValueError as e:
    print("ValueError", e)
try:
    x = {}["k"]
except LookupError as e:
    print("KeyError", e)
try:
    y = 1 // 0
except ArithmeticError:
    print("ZeroDivisionError")
]]))
  end)

  it("blocked builtins raise SecurityError", function()
    local _, err = P.exec("eval('1')\n")
    assert.equal("SecurityError", err.kind)
    _, err = P.exec("try:\n    open('x')\nexcept:\n    print('caught')\n")
    assert.equal("SecurityError", err.kind)
  end)

  it("struct constructors check and coerce fields", function()
    assert.equal("Rect(w=1.0, h=2.0)\n", out("struct Rect:\n    w: float\n    h: float = 2.0\nprint(Rect(w=1))\n"))
    local _, err = P.exec("struct R:\n    w: int\nR(w=1.5)\n")
    assert.equal("TypeError", err.kind)
  end)
end)

describe("inline fast paths keep Python semantics", function()
  it("list and dict access by statically known kinds", function()
    assert.equal("None 3\nFalse 0\n0 False\n3 None\nNone one one None {'a': None, True: 'one'}\n"
      .. "[10, 2, 30] 3\nTypeError\nIndexError\n{'k': 1} [5]\n", out([[
xs = [None, False, 0, 3]
for i in range(4):
    print(xs[i], xs[-1 - i])
d = {}
d["a"] = None
d[True] = "t"
d[1] = "one"
print(d.get("a", "dflt"), d.get(1), d.get(True), d.get("zz"), d)
ys = [1, 2, 3]
ys[0] = 10
ys[-1] = 30
print(ys, len(ys))
try:
    print(ys[1.0])
except TypeError:
    print("TypeError")
try:
    ys[5] = 1
except IndexError:
    print("IndexError")
c = {}
private:c = c
c["k"] = 1
zs = []
private:zs = zs
zs.append(5)
print(private:c, private:zs)
]]))
  end)
end)

describe("runtime calls across runs", function()
  it("top-level names persist for the agent's next runs", function()
    local A = P.new()
    local _, err = P.run(A, "def inc(x):\n    return x + 1\nbase = inc(41)\n", "r1.na")
    assert.is_nil(err)
    local v, err2 = P.run(A, "[inc(base), inc('a'), inc(True)]\n", "r2.na")
    assert.is_nil(err2)
    assert.equal(43, v[1])
    assert.equal("a1", v[2])
    assert.equal(2, v[3])
  end)

  it("methods take keyword arguments", function()
    assert.equal("Rex! Rex!Rex! 5\n", out([[
struct Dog:
    name: str
    def bark(self, times: int = 1, mark: str = "!"):
        return (self.name + mark) * times
struct Counter:
    n: int = 0
def add(c: Counter, k: int = 1) -> Counter:
    c.n += k
    return c
d = Dog(name="Rex")
print(d.bark(), d.bark(times=2), Counter().add(k=2).add(3).n)
]]))
  end)
end)

describe("runtime scopes", function()
  it("writes go through dana.set and mutations write back", function()
    local store = {}
    local _, err = P.exec("private:xs = [1]\nprivate:xs.append(2)\nys = private:xs\nys.append(3)\n",
      { store = store })
    assert.is_nil(err)
    assert.equal(3, store["private:xs"].n)
  end)

  it("None and functions can be stored", function()
    local text = out("private:n = None\nprivate:f = lambda x :: x + 1\nprint(private:n, private:f(1))\n")
    assert.equal("None 2\n", text)
  end)

  it("a denied write raises at its line and is not caught", function()
    local _, err = P.exec("x = 1\ntry:\n    system:admin = True\nexcept:\n    print('no')\n",
      { deny_write = function(k) return k:match("^system:") end })
    assert.equal("PermissionError", err.kind)
    assert.equal(3, err.line)
  end)
end)

describe("host decoding", function()
  local HV = require("dana.hostvalues")
  it("installs a decoder per tag", function()
    local got = {}
    assert.is_true(HV.install({ set_host_decoder = function(tag, fn) got[tag] = fn end }))
    assert.same({ 1, nil, 3 }, got["dana.list"]({ n = 3, 1, nil, 3 }))
    assert.same({ a = 1, b = { 2 } }, got["dana.dict"]({ n = 2, k = { "a", "b" }, v = { 1, { 2 } }, i = {} }))
    assert.same({ "x", "y" }, got["dana.set"]({ n = 2, k = { "x", "y" }, i = {} }))
    assert.same({ x = 1 }, got["dana.struct"]({ "P", x = 1 }))
    assert.is_nil(got["dana.none"]({}))
  end)
end)

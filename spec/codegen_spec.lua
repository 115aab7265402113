-- dana.codegen / dana.translate: line alignment, injection safety, renaming, translation
-- errors. Runs translated code in the plain-Lua runtime harness (spec/helpers/plain_runtime).
local translate = require("dana.translate").translate
local codegen = require("dana.codegen")
local P = require("helpers.plain_runtime")

local function run(src, file)
  local v, err, out = P.exec(src, { file = file or "t.na" })
  return v, err, out
end

local function lines_of(s)
  local t = {}
  for l in (s .. "\n"):gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

describe("line alignment", function()
  -- an error raised on Dana line N reports :N: (Lua's own message or our record)
  local cases = {
    { "x = 1\ny = 2\nz = x + None\n", 3 },
    { "def f(a):\n    return a.missing\n\n\nf(1)\n", 2 },
    { "xs = [1, 2]\n\n\nprint(xs[5])\n", 4 },
    { "d = {}\nfor i in range(3):\n    if i == 2:\n        d['k'] += 1\n", 4 },
    { "def g():\n    raise ValueError('boom')\ntry:\n    g()\nexcept KeyError:\n    pass\n", 2 },
    { "s = '''a\nb\nc'''\nt = s - 1\n", 4 },
    { "x = [\n  1,\n  2,\n]\ny = undefined_name\n", 5 },
    { "def f(x):\n    y = x * 2\n    z = y.upper()\n    return z\nf(3)\n", 3 },
    { "count = 0\nwhile count < 3:\n    count += 1\nassert count == 4, 'bad'\n", 4 },
    { "a = 1\nb = 'x' < 2\n", 2 },
  }
  for i, c in ipairs(cases) do
    it("error on line " .. c[2] .. " (case " .. i .. ")", function()
      local _, err = run(c[1])
      assert(err, "expected an error")
      assert.equal(c[2], err.line, "message: " .. tostring(err.message))
    end)
  end

  it("every statement sits on its Dana line", function()
    local src = "x = 1\n\n# comment\ny = [1,\n     2]\nif x:\n    z = 3\nelse:\n    z = 4\nprint(z)\n"
    local lua = assert(translate(src, "a.na"))
    local L = lines_of(lua)
    assert.truthy(L[1]:find("x = 1", 1, true))
    assert.truthy(L[4]:find("y = ", 1, true))
    assert.truthy(L[7]:find("z = 3", 1, true))
    assert.truthy(L[9]:find("z = 4", 1, true))
    assert.truthy(L[10]:find("print(z)", 1, true))
  end)

  it("Lua's own errors name the Dana line and the user's local", function()
    local _, err = run("a = 1\nb = None\nc = a < b\n")
    assert.equal(3, err.line)
    assert.truthy(err.message:find("compare", 1, true))
  end)

  it("linemap maps each Lua line to the same Dana line", function()
    local lua, map = translate("a = 1\nb = 2\n", "m.na")
    assert(lua)
    assert.equal(1, map[1])
    assert.equal(2, map[2])
  end)
end)

describe("no Lua injection", function()
  local nasty = {
    '"]]"', "']=]'", '"]==]"', '"a\\0b"', '"line\\nbreak"', '"--[[ x"', '"\\\\"',
    '"\\" .. os.exit() .. \\""', "'end) os.exit() (function()'",
  }
  for _, lit in ipairs(nasty) do
    it("string literal " .. lit, function()
      local src = "s = " .. lit .. "\nprint(len(s))\n"
      local lua = assert(translate(src, "i.na"))
      assert(load(lua, "@i.na", "t", {}))
      assert.equal(2, #lines_of(lua:gsub("\n$", "")))
      local _, err = run(src)
      assert.is_nil(err)
    end)
  end

  it("string values survive byte for byte", function()
    local _, err, out = run('print("a]]b" + "\\0" + "c\\r" + "\\x7f")\n')
    assert.is_nil(err)
    assert.equal("a]]b\0c\r\127\n", out)
  end)

  it("Lua keywords and reserved names are renamed predictably", function()
    assert.equal("end_", codegen.luaname("end"))
    assert.equal("end__", codegen.luaname("end_"))
    assert.equal("_ENV_", codegen.luaname("_ENV"))
    assert.equal("_Dx_", codegen.luaname("_Dx"))
    assert.equal("goto_", codegen.luaname("goto"))
    assert.equal("local_var", codegen.luaname("local_var"))
    assert.equal("x", codegen.luaname("x"))
    local _, err, out = run("end = 1\nend_ = 2\n_ENV = 3\n_D = 4\nnil = 5\nprint(end + end_ + _ENV + _D + nil)\n")
    assert.is_nil(err)
    assert.equal("15\n", out)
  end)

  it("runtime helpers cannot be reached from Dana names", function()
    local _, err = run("print(_D)\n")
    assert.equal("NameError", err.kind)
    _, err = run("print(_ENV)\n")
    assert.equal("NameError", err.kind)
    _, err = run("x = print._D\n")
    assert.equal("AttributeError", err.kind)
  end)

  it("dunder attributes are blocked", function()
    local _, err = run("d = {'a': 1}\nprint(d.__class__)\n")
    assert.equal("AttributeError", err.kind)
    _, err = run("s = 'x'\nprint(s._upper())\n")
    assert.equal("AttributeError", err.kind)
  end)
end)

describe("translate", function()
  it("returns nil and SyntaxError records on bad input", function()
    local lua, errs = translate("x = = 1\n", "bad.na")
    assert.is_nil(lua)
    assert.equal("SyntaxError", errs[1].kind)
    assert.equal(1, errs[1].line)
  end)

  it("translates 2 MB of Dana in reasonable time", function()
    local unit = "def f(a, b=2):\n    return a * b + len([x for x in range(a)])\nfor i in range(3):\n"
      .. "    print(f\"{i}: {f(i, b=3)}\")\n"
    local parts = {}
    for n = 1, 20000 do parts[n] = unit:gsub("f%(", "f" .. n .. "(") end
    local src = table.concat(parts)
    local t = os.clock()
    local lua = assert(translate(src, "big.na"))
    local dt = os.clock() - t
    assert(load(lua, "@big.na", "t", {}))
    if os.getenv("DANA_TIME") then
      io.stderr:write(string.format("translate: %.2f MB/s\n", #src / 1048576 / dt))
    end
  end)

  it("spills locals past the Lua limit into a table", function()
    local parts = {}
    for i = 1, 300 do parts[i] = "v" .. i .. " = " .. i end
    parts[#parts + 1] = "print(v1 + v300)"
    local _, err, out = run(table.concat(parts, "\n") .. "\n")
    assert.is_nil(err)
    assert.equal("301\n", out)
  end)

  it("keyword calls to known defs become positional, constant defaults filled in", function()
    local lua = assert(translate("def f(a, b=1, c=2):\n    return a\nf(1, c=3)\nf(2)\nf(3, None)\n", "k.na"))
    assert.truthy(lua:find("f(1, 1, 3)", 1, true))
    assert.truthy(lua:find("f(2, 1, 2)", 1, true))
    assert.truthy(lua:find("f(3, nil, 2)", 1, true))
  end)

  it("a def with a default other than None counts its arguments only where it must", function()
    -- called only by name: fixed parameters, no vararg on the static path
    local lua = assert(translate("def f(a, b=1):\n    return b\nf(1)\n", "k.na"))
    assert.truthy(lua:find("f =  function(a, b)", 1, true))
    -- passed around as a value: the function counts its arguments itself
    lua = assert(translate("def f(a, b=1):\n    return b\ng = f\n", "k.na"))
    assert.truthy(lua:find("f =  function(a, ...)", 1, true))
    -- only None defaults: nothing changes
    lua = assert(translate("def f(a, b=None):\n    return b\ng = f\n", "k.na"))
    assert.truthy(lua:find("f =  function(a, b)", 1, true))
    assert.falsy(lua:find("_DN", 1, true))
  end)
end)

describe("NameError suggestions stay bounded", function()
  -- many names and many unknown reads: the suggestions give up instead of comparing
  -- every unknown read with every name (that was minutes for this source)
  it("translates 20000 names and 20000 unknown reads", function()
    local parts = {}
    for i = 1, 20000 do parts[#parts + 1] = ("v%05d = 1\n"):format(i) end
    for i = 1, 20000 do parts[#parts + 1] = ("print(u%05d)\n"):format(i) end
    local lua = assert(translate(table.concat(parts), "many.na"))
    assert.falsy(lua:find("_D.cands", 1, true))
  end)
  it("still suggests in a small program", function()
    local lua = assert(translate("total_count = 1\nprint(total_cont)\n", "few.na"))
    assert.truthy(lua:find('_D.cands({total_cont = {"total_count"}})', 1, true))
  end)
end)

describe("translation is deterministic", function()
  -- kinds were decided in pairs() order, which changes from one Lua state to the next:
  -- `b = a` saw a's list kind only when a happened to come first
  it("a name assigned from a list local is a list local too", function()
    local lua = assert(translate("a = [1]\nb = a\nprint(len(b))\n", "k.na"))
    assert.truthy(lua:find("print(b.n)", 1, true))
  end)
  it("a translator failure is a typed error, not a Lua error", function()
    local analyze = require("dana.analyze")
    local real = analyze.analyze
    analyze.analyze = function() error("boom") end
    local ok, lua, err = pcall(translate, "x = 1\n", "t.na")
    analyze.analyze = real
    assert.is_true(ok)
    assert.is_nil(lua)
    assert.equal("SyntaxError", err[1].kind)
    assert.truthy(err[1].msg:find("cannot translate", 1, true))
  end)
end)

describe("programs beyond Lua's compiler limits", function()
  -- 150 nested lists parse (the bracket limit is 200) but nest too deeply for Lua's parser
  it("fail as a SyntaxError that says what to do, and the agent keeps working", function()
    local dana = require("dana")
    local sb = dana.sandbox()
    local agent = sb:agent{ name = "deep", role = "agent" }
    local v, err = agent:run("x = " .. string.rep("[", 150) .. string.rep("]", 150) .. "\n", "deep.na")
    assert.is_nil(v)
    assert.equal("SyntaxError", err.kind)
    assert.truthy(err.message:find("too deeply nested", 1, true))
    -- Lua gives no position: the first bracket at the deepest level stands for it
    assert.are.same({ "deep.na", 1, 154 }, { err.file, err.line, err.col })
    local chain = "y = 2\n# (((( in a comment\nx = " .. string.rep("y + ", 400) .. "y\n"
    local _, cerr = agent:run(chain, "chain.na")
    assert.are.same({ "SyntaxError", 3, 1 }, { cerr.kind, cerr.line, cerr.col })
    assert.equal(3, agent:run("1 + 2\n", "ok.na"))
    sb:close()
  end)
end)

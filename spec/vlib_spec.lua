-- luacheck: std lua54+busted
-- The vetted string and table libraries (src/vlib.c, exposed as
-- require("dana.core")._vlib) must give the same results and the same error messages
-- as Lua 5.4's own string and table libraries when they run outside an agent (where
-- dana_limits_poll is a no-op and dana_limits_room is unlimited).
--
-- Every case calls the standard function and the vetted one the same way (through a
-- local named `f`, so that "bad argument #1 to 'f'" reads the same) and compares every
-- result (type, math.type, value; NaN equals NaN) or the error message. Functions
-- that change a table get a fresh copy of it each, and the tables are compared too.

local V = require("dana.core")._vlib
local S, T = string, table

local SEED = tonumber(os.getenv("VLIB_SEED") or "") or 20261204
local RANDOM_CASES = tonumber(os.getenv("VLIB_CASES") or "") or 3000

local function call(f, ...)
  local r = T.pack(f(...))  -- not a tail call: keeps the name 'f' in error messages
  return r
end

local function deepcopy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local c = {}
  seen[v] = c
  for k, x in pairs(v) do c[deepcopy(k, seen)] = deepcopy(x, seen) end
  return setmetatable(c, getmetatable(v))
end

local function eq(a, b, seen)
  if type(a) ~= type(b) then return false end
  if type(a) == "number" then
    if math.type(a) ~= math.type(b) then return false end
    if a ~= a then return b ~= b end
    return a == b
  end
  if type(a) ~= "table" then return a == b end
  if a == b then return true end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, x in pairs(a) do if not eq(x, rawget(b, k), seen) then return false end end
  for k in pairs(b) do if rawget(a, k) == nil then return false end end
  return true
end

local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then
    local s = S.format("%q", #v > 200 and v:sub(1, 200) or v)
    if #s > 120 then s = s:sub(1, 120) .. "...(" .. #v .. " bytes)" end
    return s
  end
  if math.type(v) == "float" then return S.format("%.17g(float)", v) end
  if type(v) ~= "table" or depth > 3 then return tostring(v) end
  local parts = {}
  for k, x in pairs(v) do
    parts[#parts + 1] = show(k, depth + 1) .. "=" .. show(x, depth + 1)
    if #parts > 20 then parts[#parts + 1] = "..." break end
  end
  return "{" .. T.concat(parts, ", ") .. "}"
end

local function show_args(args)
  local parts = {}
  for i = 1, args.n or #args do parts[i] = show(args[i]) end
  return "(" .. T.concat(parts, ", ") .. ")"
end

--- Runs lib.name(args...) for the standard and the vetted library and returns nil
--- when they agree, or a description of the difference.
local function compare(libname, name, args, opts)
  opts = opts or {}
  local std = (libname == "string" and S or T)[name]
  local vet = V[libname][name]
  if vet == nil then return libname .. "." .. name .. " missing from _vlib" end
  local a1, a2 = args, args
  if opts.compare_args then a1, a2 = deepcopy(args), deepcopy(args) end
  local ok1, r1 = pcall(call, std, T.unpack(a1, 1, args.n or #args))
  local ok2, r2 = pcall(call, vet, T.unpack(a2, 1, args.n or #args))
  local what = libname .. "." .. name .. show_args(args)
  if ok1 ~= ok2 then
    return what .. ": standard " .. (ok1 and "returned " .. show(r1) or "raised " .. show(r1))
      .. ", vetted " .. (ok2 and "returned " .. show(r2) or "raised " .. show(r2))
  end
  if not ok1 then
    if opts.any_error then return nil end
    if r1 ~= r2 then
      return what .. ": error differs:\n    standard: " .. show(r1) .. "\n    vetted:   " .. show(r2)
    end
    return nil
  end
  if not eq(r1, r2) then
    return what .. ": results differ:\n    standard: " .. show(r1) .. "\n    vetted:   " .. show(r2)
  end
  if opts.compare_args and not eq(a1, a2) then
    return what .. ": tables differ afterwards:\n    standard: " .. show(a1)
      .. "\n    vetted:   " .. show(a2)
  end
  return nil
end

--- gmatch returns an iterator: compare the whole sequence of matches.
local function compare_gmatch(s, p, init)
  local function collect(gm)
    local ok, out = pcall(function()
      local res = {}
      local f = gm(s, p, init)
      for _ = 1, 10000 do
        local r = T.pack(f())
        if r[1] == nil then break end
        res[#res + 1] = r
      end
      return res
    end)
    return ok, out
  end
  local ok1, r1 = collect(S.gmatch)
  local ok2, r2 = collect(V.string.gmatch)
  local what = "string.gmatch" .. show_args(T.pack(s, p, init))
  if ok1 ~= ok2 or not eq(r1, r2) then
    -- the error messages name the function differently only through the call site,
    -- which is the same closure shape here
    return what .. ":\n    standard: " .. tostring(ok1) .. " " .. show(r1)
      .. "\n    vetted:   " .. tostring(ok2) .. " " .. show(r2)
  end
  return nil
end

local function check_all(cases)
  local failures = {}
  for _, c in ipairs(cases) do
    local diff
    if c[1] == "gmatch" then
      diff = compare_gmatch(c[2], c[3], c[4])
    else
      diff = compare(c.lib or "string", c[1], T.pack(T.unpack(c, 2, c.n)), c.opts)
    end
    if diff then failures[#failures + 1] = diff end
    if #failures >= 25 then break end
  end
  assert(#failures == 0, #failures .. " difference(s):\n  " .. T.concat(failures, "\n  "))
end

-- a helper to write cases with trailing nils: n = number of values after the name
local function C(name, ...)
  return T.pack(name, ...)
end

local function TC(name, ...)
  local c = T.pack(name, ...)
  c.lib = "table"
  c.opts = { compare_args = true }
  return c
end

describe("vlib (vetted string/table) against the standard libraries", function()
  it("exposes every standard function but dump", function()
    for k in pairs(S) do
      if k ~= "dump" then assert.is_function(V.string[k], "string." .. k) end
    end
    assert.is_nil(V.string.dump)
    for k in pairs(T) do assert.is_function(V.table[k], "table." .. k) end
  end)

  it("len, sub, upper, lower, reverse, rep", function()
    local cases = {}
    local strs = { "", "a", "hello world", "\0a\0b", S.rep("xyz", 100), "ÀÉÎ" }
    local idx = { 0, 1, 2, -1, -2, 3, 100, -100, math.maxinteger, math.mininteger, 2.0 }
    for _, s in ipairs(strs) do
      cases[#cases + 1] = C("len", s)
      cases[#cases + 1] = C("upper", s)
      cases[#cases + 1] = C("lower", s)
      cases[#cases + 1] = C("reverse", s)
      for _, i in ipairs(idx) do
        cases[#cases + 1] = C("sub", s, i)
        for _, j in ipairs(idx) do cases[#cases + 1] = C("sub", s, i, j) end
      end
      for _, n in ipairs{ -1, 0, 1, 2, 7, 3.0 } do
        cases[#cases + 1] = C("rep", s, n)
        cases[#cases + 1] = C("rep", s, n, ", ")
        cases[#cases + 1] = C("rep", s, n, "")
      end
    end
    -- errors
    for _, args in ipairs{
      { "len" }, { "len", {} }, { "sub", "abc" }, { "sub", "abc", "x" }, { "sub", "abc", 1.5 },
      { "upper", nil }, { "rep", "x" }, { "rep", "x", 1.5 }, { "rep", "x", 2, {} },
      { "rep", "x", math.maxinteger }, { "rep", "xx", 1 << 40, "y" }, { "reverse", true },
      { "len", 12 }, { "upper", 12.5 }, { "rep", 12, 2 },
    } do
      cases[#cases + 1] = C(T.unpack(args, 1, 4))
    end
    check_all(cases)
  end)

  it("byte and char", function()
    local cases = {}
    local s = "\0\1abc\255\127"
    for _, i in ipairs{ nil, 0, 1, 2, -1, -3, 7, 8, 100, math.mininteger } do
      cases[#cases + 1] = C("byte", s, i)
      for _, j in ipairs{ 0, 1, 3, -1, -2, 100, math.maxinteger } do
        cases[#cases + 1] = C("byte", s, i, j)
      end
    end
    cases[#cases + 1] = C("byte", "")
    cases[#cases + 1] = C("byte", "", 1, -1)
    cases[#cases + 1] = C("byte", "abc", "x")
    cases[#cases + 1] = C("char")
    cases[#cases + 1] = C("char", 0, 1, 65, 255)
    cases[#cases + 1] = C("char", 256)
    cases[#cases + 1] = C("char", -1)
    cases[#cases + 1] = C("char", 65, "66", 67.0)
    cases[#cases + 1] = C("char", 65, 66.5)
    cases[#cases + 1] = C("char", 65, {})
    check_all(cases)
  end)

  local subjects = {
    "", "hello world", "  trim me  ", "key=value; other=thing", "a,b,,c", "THE (quick) [brown] fox",
    "f(a(b)c)d", "aaa", "abc123def456", "\0x\0y", "%d%%", "x = 10, y = 20", "  ",
    "the cat sat on the mat", "αβγ", "a.b.c", "[[nested]]", "ab\nc\td",
  }
  local patterns = {
    "", "a", "o", "l+", "l*", "l-", "l?", "^h", "d$", "^$", ".", ".-", "(.-)", "%s+", "^%s*(.-)%s*$",
    "(%w+)=(%w+)", "%a+", "%d+", "%D+", "[%a_][%w_]*", "[^,]*", "([^,]*)", "%((.-)%)",
    "%b()", "%b[]", "%f[%w]%w+", "%f[%W]", "()", "()a()", "(a)(b)", "((a)(b))", "(.)%1",
    "(%a)%1", "[a-c]+", "[%]]", "[]]", "[^%s]", "[%-]", "[a-]", "[-a]", "%.", "%%", "x*",
    "(h)(e)(l)(l)(o)", "%u", "%l", "%p", "%c", "%x+", "%g+", "[%z]", "%z", "\0", "[\0-\31]",
    "^(%S+)", ".*", ".+$", "(.*)%.(.*)", "[αβ]", "(o)(.-)%1", "%f[%a]%a", "a-b", "a?b", "b*",
    -- malformed patterns (errors must read the same)
    "%", "[a", "[^", "(", ")", "%b", "%ba", "%f", "%fa", "%1", "(%1)", "(()", "[%", "%g%",
    "(a)%2", "((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))",
  }

  it("find, match and gmatch over a table of subjects and patterns", function()
    local cases = {}
    for _, s in ipairs(subjects) do
      for _, p in ipairs(patterns) do
        cases[#cases + 1] = C("find", s, p)
        cases[#cases + 1] = C("match", s, p)
        cases[#cases + 1] = { "gmatch", s, p }
        for _, init in ipairs{ 0, 2, -3, 100, -100 } do
          cases[#cases + 1] = C("find", s, p, init)
          cases[#cases + 1] = C("match", s, p, init)
          cases[#cases + 1] = { "gmatch", s, p, init }
        end
        cases[#cases + 1] = C("find", s, p, 1, true)
        cases[#cases + 1] = C("find", s, p, -5, true)
        cases[#cases + 1] = C("find", s, p, 50, true)
      end
    end
    cases[#cases + 1] = C("find", "abc", nil)
    cases[#cases + 1] = C("find", "abc", "b", "x")
    cases[#cases + 1] = C("find", 12345, 3)
    cases[#cases + 1] = C("match", "abc")
    cases[#cases + 1] = C("find", "abc", "b", 1.5)
    cases[#cases + 1] = C("find", S.rep("a", 300), S.rep("(a)", 33))
    cases[#cases + 1] = C("match", S.rep("a", 300), S.rep("a?", 250) .. S.rep("a", 10))
    cases[#cases + 1] = C("find", S.rep("ab", 1000), S.rep("ab", 400) .. "c", 1, true)
    cases[#cases + 1] = C("find", S.rep("ab", 1000), S.rep("ab", 400), 1, true)
    cases[#cases + 1] = C("find", "", "", 1, true)
    cases[#cases + 1] = C("find", "abc", "", 4, true)
    cases[#cases + 1] = C("find", "abc", "", 5, true)
    check_all(cases)
  end)

  it("gsub with strings, tables, functions, captures and limits", function()
    local cases = {}
    local repls = {
      "", "x", "%0", "<%1>", "%2%1", "%%", "[%0%0]", "%a", "%", "%9", "%1",
      { hello = "HI", world = false, a = 1, b = 2.5 }, {},
      function(a) return a:upper() end, function() return nil end, function() return false end,
      function(a, b) return (b or "") .. a end, function() return {} end, function() return 1.5 end,
      function() error("boom") end,
    }
    for _, s in ipairs(subjects) do
      for i = 1, #patterns, 2 do
        local p = patterns[i]
        for _, r in ipairs(repls) do
          cases[#cases + 1] = C("gsub", s, p, r)
        end
        cases[#cases + 1] = C("gsub", s, p, "%0!", 1)
        cases[#cases + 1] = C("gsub", s, p, "%0!", 0)
        cases[#cases + 1] = C("gsub", s, p, "%0!", -1)
        cases[#cases + 1] = C("gsub", s, p, "%0!", 2.0)
      end
    end
    cases[#cases + 1] = C("gsub", "abc", "b", true)
    cases[#cases + 1] = C("gsub", "abc", "b", nil)
    cases[#cases + 1] = C("gsub", "abc", "b", "x", 1.5)
    cases[#cases + 1] = C("gsub", "abc", "b", "x", "y")
    cases[#cases + 1] = C("gsub", "hello", "(l)(l)", "%3")
    cases[#cases + 1] = C("gsub", "hello", "()", "%1")
    cases[#cases + 1] = C("gsub", "hello", "", "-")
    cases[#cases + 1] = C("gsub", S.rep("a", 10000), "a", "bb")
    cases[#cases + 1] = C("gsub", 123, 2, 9)
    check_all(cases)
  end)

  it("format with every conversion", function()
    local cases = {}
    local nums = { 0, 1, -1, 42, -42, 255, 3.0, -0.0, 0.5, 1/3, -2.5, 1e300, -1e-300, 2^53,
                   2^63, math.maxinteger, math.mininteger, 1/0, -1/0, 0/0, "10", "0x10", "1e2",
                   "abc", {}, nil, true, 3.7 }
    local convs = { "d", "i", "u", "c", "o", "x", "X", "a", "A", "e", "E", "f", "F", "g", "G",
                    "q", "s", "p" }
    local flagsets = { "", "-", "+", " ", "#", "0", "5", "-8", "+08", "#x", ".3", "10.4",
                       "-+ #0", ".0", "099", "100", ".99", ".100", "0-5.2", "3$" }
    for _, cv in ipairs(convs) do
      for _, fl in ipairs(flagsets) do
        local fmt = "%" .. fl .. cv
        for _, n in ipairs(nums) do
          if cv ~= "p" or type(n) ~= "table" then
            cases[#cases + 1] = C("format", fmt, n)
          end
        end
        cases[#cases + 1] = C("format", fmt, "a string")
        cases[#cases + 1] = C("format", fmt, "with \0 nul\n\"quote\"\\ and \r\1\127\200 bytes")
        cases[#cases + 1] = C("format", fmt)
      end
    end
    for _, args in ipairs{
      { "" }, { "plain" }, { "%%" }, { "%" }, { "%z", 1 }, { "%5", 1 }, { "%d %s %q", 1, "x", "y" },
      { "%s", setmetatable({}, { __tostring = function() return "TS" end }) },
      { "%s", setmetatable({}, { __tostring = function() return 1 end }) },
      { "%s", setmetatable({}, { __name = "MyType" }) },
      { "%10s|%-10s|", "ab", "cd" }, { "%.2s", "abcdef" }, { "%5.1s|", "abc" },
      { "%s", S.rep("x", 200) }, { "%.20s", S.rep("x", 200) }, { "%99.99f", 1e308 },
      { "%q", 1/0 }, { "%q", -1/0 }, { "%q", 0/0 }, { "%q", math.mininteger }, { "%q", 0.1 },
      { "%q", 2^63 }, { "%q", {} }, { "%q", print }, { "%10q", "x" }, { "%c%c%c", 76, 117, 97 },
      { "%d", 3.5 }, { "%x", -1 }, { "%5.2d", 3 }, { "%s %s", 1 }, { "%s", nil },
      { "%d", "3.0" }, { "%d", "3.5" }, { "%s\0%s", "a", "b" }, { "\0%d\0", 5 },
      { "%-5c|", 65 }, { "%05s", "x" }, { "%#o", 8 }, { "%.3x", 10 }, { "%i", 2^31 },
      { 42 }, { nil }, { {} }, { "%s", "%s" }, { "%a", 1.0 }, { "%.0a", 1.5 }, { "%.14g", 0.1 },
    } do
      cases[#cases + 1] = C("format", T.unpack(args, 1, 4))
    end
    check_all(cases)
  end)

  it("pack, packsize and unpack", function()
    local cases = {}
    local fmts = {
      { "b", -128 }, { "b", 127 }, { "b", 128 }, { "B", 255 }, { "B", 256 }, { "B", -1 },
      { "h", -32768 }, { "H", 65535 }, { "i", 2^31 - 1 }, { "i", 2^31 }, { "I", 0 },
      { "l", math.mininteger }, { "L", -1 }, { "j", math.maxinteger }, { "J", -1 },
      { "T", 12345 }, { "f", 1.5 }, { "d", -0.1 }, { "n", 1/3 }, { "f", 1e300 },
      { "i1", 127 }, { "i1", 128 }, { "i3", 8388607 }, { "i3", -8388608 }, { "i3", 8388608 },
      { "I3", 16777215 }, { "i7", -1 }, { "i8", 1 }, { "i9", -2 }, { "I9", 2 }, { "i16", -3 },
      { "I16", math.maxinteger }, { "i17", 1 }, { "i0", 1 }, { "s", "hello" }, { "s1", "hi" },
      { "s1", S.rep("x", 256) }, { "s2", "" }, { "s4", "\0\1" }, { "z", "zero" }, { "z", "a\0b" },
      { "c5", "abc" }, { "c5", "abcde" }, { "c5", "abcdef" }, { "c", "x" }, { "c0", "" },
      { "<i4", 1 }, { ">i4", 1 }, { "=i4", 1 }, { "!4 b i4", 1, 2 }, { "!8 b d", 1, 2.5 },
      { "! b j", 1, 2 }, { "!3 i4", 1 }, { "!17 i4", 1 }, { "b x x i2", 1, 2 },
      { "b Xi4 i4", 1, 2 }, { "b X i4", 1, 2 }, { "Xb", }, { "X", }, { "b Xz", 1 },
      { "bhilj", 1, 2, 3, 4, 5 }, { " < > = ", }, { "q", 1 }, { "i", "12" }, { "i", "x" },
      { "i", 1.5 }, { "d", "1.5" }, { "d", "x" }, { "s", 12 }, { "z", {} }, { "i4" },
      { "c10000000", "x" }, { "i" .. S.rep("9", 30), 1 },
    }
    for _, f in ipairs(fmts) do
      local packed = T.pack(pcall(S.pack, T.unpack(f, 1, 6)))
      cases[#cases + 1] = C("pack", T.unpack(f, 1, 6))
      cases[#cases + 1] = C("packsize", f[1])
      if packed[1] then
        local data = packed[2]
        cases[#cases + 1] = C("unpack", f[1], data)
        cases[#cases + 1] = C("unpack", f[1], data, 1)
        cases[#cases + 1] = C("unpack", f[1], data, -1)
        cases[#cases + 1] = C("unpack", f[1], data, #data + 1)
        cases[#cases + 1] = C("unpack", f[1], data, #data + 2)
        cases[#cases + 1] = C("unpack", f[1], data:sub(1, -2))
        cases[#cases + 1] = C("unpack", f[1], data .. "\255\255\255")
      end
    end
    cases[#cases + 1] = C("unpack", "i4", "\255\255\255\255")
    cases[#cases + 1] = C("unpack", "I9", S.rep("\255", 9))
    cases[#cases + 1] = C("unpack", "i9", S.rep("\255", 9))
    cases[#cases + 1] = C("unpack", "i9", "\0\0\0\0\0\0\0\0\1")
    cases[#cases + 1] = C("unpack", "<i16", S.rep("\255", 16))
    cases[#cases + 1] = C("unpack", "z", "no terminator")
    cases[#cases + 1] = C("unpack", "s1", "\5ab")
    cases[#cases + 1] = C("unpack", "j", "short")
    cases[#cases + 1] = C("unpack", "b", "x", 0)
    cases[#cases + 1] = C("unpack", "b", "x", math.mininteger)
    cases[#cases + 1] = C("packsize", "s")
    cases[#cases + 1] = C("packsize", "z")
    cases[#cases + 1] = C("packsize", S.rep("c1000000000", 3))
    check_all(cases)
  end)

  it("concat, insert, remove, move, unpack, pack, sort", function()
    local cases = {}
    local lists = { {}, { 1 }, { 1, 2, 3 }, { "a", "b", "c", "d" }, { 1, "x", 2.5 }, { 1, nil, 3 },
                    { 1, {}, 3 }, { true } }
    for _, l in ipairs(lists) do
      cases[#cases + 1] = TC("concat", l)
      cases[#cases + 1] = TC("concat", l, ", ")
      cases[#cases + 1] = TC("concat", l, "-", 2)
      cases[#cases + 1] = TC("concat", l, "-", 2, 3)
      cases[#cases + 1] = TC("concat", l, "-", 3, 2)
      cases[#cases + 1] = TC("concat", l, "-", 0, 1)
      cases[#cases + 1] = TC("concat", l, "", 1, 5)
      cases[#cases + 1] = TC("insert", l, "v")
      cases[#cases + 1] = TC("insert", l, 1, "v")
      cases[#cases + 1] = TC("insert", l, 2, "v")
      cases[#cases + 1] = TC("insert", l, #l + 1, "v")
      cases[#cases + 1] = TC("insert", l, #l + 2, "v")
      cases[#cases + 1] = TC("insert", l, 0, "v")
      cases[#cases + 1] = TC("insert", l, -1, "v")
      cases[#cases + 1] = TC("insert", l)
      cases[#cases + 1] = TC("insert", l, 1, 2, 3)
      cases[#cases + 1] = TC("insert", l, "x", 2)
      cases[#cases + 1] = TC("remove", l)
      cases[#cases + 1] = TC("remove", l, 1)
      cases[#cases + 1] = TC("remove", l, #l)
      cases[#cases + 1] = TC("remove", l, #l + 1)
      cases[#cases + 1] = TC("remove", l, #l + 2)
      cases[#cases + 1] = TC("remove", l, 0)
      cases[#cases + 1] = TC("remove", l, -1)
      cases[#cases + 1] = TC("unpack", l)
      cases[#cases + 1] = TC("unpack", l, 2)
      cases[#cases + 1] = TC("unpack", l, -1, 1)
      cases[#cases + 1] = TC("unpack", l, 3, 2)
      cases[#cases + 1] = TC("unpack", l, 1, 10)
      cases[#cases + 1] = TC("pack", T.unpack(l, 1, 4))
      for _, mv in ipairs{ { 1, 3, 2 }, { 1, 3, 1 }, { 2, 3, 1 }, { 1, 0, 5 }, { 1, 3, 3 },
                           { -1, 1, 1 }, { 1, math.maxinteger, 2 }, { 0, math.maxinteger, 1 },
                           { math.mininteger, -1, 1 }, { 1, 2, math.maxinteger } } do
        cases[#cases + 1] = TC("move", l, mv[1], mv[2], mv[3])
        cases[#cases + 1] = TC("move", l, mv[1], mv[2], mv[3], {})
        cases[#cases + 1] = TC("move", l, mv[1], mv[2], mv[3], { "z", "z", "z", "z" })
      end
    end
    for _, args in ipairs{
      { "concat" }, { "concat", "x" }, { "concat", {}, {} }, { "concat", { 1, 2 }, 1 },
      { "insert", nil, 1 }, { "insert", "x", 1 }, { "remove", "x" }, { "move", {}, 1 },
      { "move", {}, 1, 2, "x" }, { "move", {}, 1.5, 2, 1 }, { "unpack" }, { "unpack", {}, 1, 1e8 },
      { "unpack", {}, math.mininteger, math.maxinteger }, { "unpack", {}, 0, math.maxinteger },
      { "unpack", "abc" }, { "unpack", {}, "x" }, { "sort" }, { "sort", {}, 1 },
      { "sort", { 3, "a", 1 } }, { "sort", { 1, 2, 3 }, function() return true end },
      { "sort", { 1, {}, 3 } },
    } do
      local c = TC(T.unpack(args, 1, 5))
      cases[#cases + 1] = c
    end
    -- sort with total orders (deterministic results)
    for _, l in ipairs{ {}, { 1 }, { 3, 1, 2 }, { 5, 5, 5, 1 }, { "b", "a", "c", "" },
                        { 1.5, -1, 0, 2^60, -0.5 } } do
      cases[#cases + 1] = TC("sort", l)
      cases[#cases + 1] = TC("sort", l, function(a, b) return a > b end)
    end
    -- metamethods: __index/__newindex/__len/__concat-less values
    local proxied = setmetatable({}, {
      __index = function(_, k) return "i" .. k end,
      __len = function() return 4 end,
    })
    cases[#cases + 1] = TC("concat", proxied, ",")
    cases[#cases + 1] = TC("unpack", proxied)
    cases[#cases + 1] = TC("insert", setmetatable({}, { __len = function() return 2.5 end }), 1)
    cases[#cases + 1] = TC("insert", setmetatable({}, { __len = function() return "x" end }), 1)
    cases[#cases + 1] = TC("remove", setmetatable({}, { __len = function() return 3 end }))
    check_all(cases)
  end)

  it("agrees on random (seeded) patterns, subjects and formats", function()
    local rnd = math.random
    math.randomseed(SEED)
    local atoms = { "a", "b", ".", "%a", "%d", "%s", "%w", "[ab]", "[^a]", "[a-c]", "%%", "%.",
                    "x", "%b()", "%f[%a]", "(", ")", "()", "%1", "%2", "^", "$", "-", "*", "+", "?",
                    "[", "]", "%", "%z", "[%a%d]", "[%]", "1", " " }
    local alphabet = { "a", "b", "c", "1", "2", " ", "(", ")", ".", "%", "x", "\0", "A", "-" }
    local function rstr(n)
      local t = {}
      for i = 1, rnd(0, n) do t[i] = alphabet[rnd(#alphabet)] end
      return T.concat(t)
    end
    local function rpat()
      local t = {}
      for i = 1, rnd(0, 6) do t[i] = atoms[rnd(#atoms)] end
      return T.concat(t)
    end
    local fconvs = { "d", "x", "X", "o", "c", "e", "E", "f", "g", "G", "a", "A", "s", "q", "i", "%" }
    local fflags = { "", "-", "+", " ", "#", "0" }
    local function rfmt()
      local f = "%" .. fflags[rnd(#fflags)]
      if rnd(2) == 1 then f = f .. rnd(0, 30) end
      if rnd(2) == 1 then f = f .. "." .. rnd(0, 30) end
      return f .. fconvs[rnd(#fconvs)]
    end
    local function rnum()
      local k = rnd(6)
      if k == 1 then return rnd(-1000, 1000)
      elseif k == 2 then return (rnd() - 0.5) * 10 ^ rnd(-20, 20)
      elseif k == 3 then return rnd(0, 255)
      elseif k == 4 then return math.maxinteger - rnd(0, 3)
      elseif k == 5 then return rnd(0, 1) == 0 and 0.0 or -0.0
      else return rstr(5) end
    end
    local pk = { "b", "B", "h", "H", "i", "I", "l", "j", "J", "i3", "I5", "f", "d", "n", "<", ">",
                 "=", "!", "!4", "x", "s1", "z", "c3" }
    local cases = {}
    for _ = 1, RANDOM_CASES do
      local s, p = rstr(12), rpat()
      local k = rnd(8)
      if k == 1 then cases[#cases + 1] = C("find", s, p, rnd(-3, 5))
      elseif k == 2 then cases[#cases + 1] = C("match", s, p)
      elseif k == 3 then cases[#cases + 1] = { "gmatch", s, p }
      elseif k == 4 then cases[#cases + 1] = C("gsub", s, p, rstr(3) .. ({ "%0", "%1", "", "%%" })[rnd(4)], rnd(-1, 4))
      elseif k == 5 then cases[#cases + 1] = C("find", s, rstr(3), rnd(-3, 5), true)
      elseif k == 6 then cases[#cases + 1] = C("format", rfmt(), rnum())
      elseif k == 7 then
        local f, vals = {}, {}
        for i = 1, rnd(1, 4) do
          local o = pk[rnd(#pk)]
          f[i] = o
          if o:match("^[bBhHiIljJ]") then vals[#vals + 1] = rnd(0, 100)
          elseif o:match("^[fdn]") then vals[#vals + 1] = rnd() * 100
          elseif o:match("^[szc]") then vals[#vals + 1] = ({ "ab", "abc", "" })[rnd(3)] end
        end
        local fmt = T.concat(f, " ")
        cases[#cases + 1] = C("pack", fmt, T.unpack(vals))
        local okp, data = pcall(S.pack, fmt, T.unpack(vals))
        if okp then cases[#cases + 1] = C("unpack", fmt, data, rnd(1, 2)) end
      else
        local l = {}
        for i = 1, rnd(0, 30) do l[i] = rnd(1, 20) end
        local op = rnd(5)
        if op == 1 then cases[#cases + 1] = TC("sort", l)
        elseif op == 2 then cases[#cases + 1] = TC("move", l, rnd(-2, 10), rnd(-2, 40), rnd(-2, 10))
        elseif op == 3 then cases[#cases + 1] = TC("insert", l, rnd(-1, 33), "v")
        elseif op == 4 then cases[#cases + 1] = TC("remove", l, rnd(-1, 33))
        else cases[#cases + 1] = TC("concat", l, rstr(2), rnd(0, 5), rnd(-1, 35)) end
      end
    end
    check_all(cases)
  end)

  it("sorts big random arrays the same", function()
    math.randomseed(SEED)
    local cases = {}
    for _ = 1, 20 do
      local l = {}
      for i = 1, math.random(100, 3000) do l[i] = math.random(1, 1000) end
      cases[#cases + 1] = TC("sort", l)
      cases[#cases + 1] = TC("sort", l, function(a, b) return a > b end)
    end
    check_all(cases)
  end)

  it("gives the host's results inside an agent too", function()
    local ok_dana, dana = pcall(require, "dana")
    assert(ok_dana, "require 'dana': " .. tostring(dana))
    local sb = dana.sandbox{ tenant = "vlib", print = function() end }
    local agent = sb:agent{ name = "V", role = "agent", limits = { memory = 64 * 1024 * 1024 } }
    local exprs = {
      [[("hello world"):find("o w")]], [[("hello world"):find("l+", 4)]], [[("key=val"):match("(%w+)=(%w+)")]],
      [[("a,b,,c"):gsub(",", ";")]], [[("abc"):gsub("%w", "%0%0")]], [[("abc"):gsub("", "-")]],
      [[("hello"):gsub("l", { l = "L" })]], [[("hello"):gsub("(h)(e)", "%2%1")]],
      [[("  trim  "):match("^%s*(.-)%s*$")]],
      [[("f(a(b)c)d"):match("%b()")]],
      [[("THE (quick) fox"):find("%f[%a]%a+", 5)]],
      [[string.format("%5.2f|%-5d|%x|%X|%o|%e|%g|%a", 3.14159, 42, 255, 255, 8, 12345.678, 0.0001, 1.0)]],
      [[string.format("%q", "a\0b\n\"c\"\\")]], [[string.format("%q", 1/3)]], [[string.format("%q", math.mininteger)]],
      [[string.format("%s %s %s", 1, 2.5, true)]],
      [[string.format("%10.3s|", "abcdef")]],
      [[string.format("%c%c", 72, 105)]],
      [[string.format("%i %5.1d %+d % d", 7, 3, 5, -5)]], [[string.format("%.0f %.20g", 0.5, 0.1)]],
      [[string.rep("ab", 3, ",")]], [[string.rep("x", 0)]], [[string.rep("x", 100000):len()]],
      [[string.byte("ABC", 1, -1)]],
      [[string.char(72, 101, 108, 108, 111)]],
      [[("Hello"):upper() .. ("Hello"):lower()]],
      [[("abc"):reverse()]], [[("hello"):sub(2, -2)]], [[("hello"):sub(-3)]], [[#string.pack("i4 d s1", 1, 2.5, "x")]],
      [[string.unpack("i4 d s1", string.pack("i4 d s1", 7, 2.5, "xyz"))]], [[string.packsize("i4 i8 d")]],
      [[string.unpack("<I3", "\1\2\3")]], [[string.unpack("z z", "ab\0cd\0")]],
      [[table.concat({ 1, 2, 3 }, ", ")]], [[table.concat({ "a", "b", "c" }, "", 2, 3)]],
      [[(function() local t = { 1, 2, 3 } table.insert(t, 2, 9) return t end)()]],
      [[(function() local t = { 1, 2, 3 } table.insert(t, 4) return t end)()]],
      [[(function() local t = { 1, 2, 3 } return table.remove(t, 1), t end)()]],
      [[(function() local t = { 1, 2, 3 } return table.remove(t), t end)()]],
      [[table.move({ 1, 2, 3 }, 1, 3, 2)]], [[table.move({ 1, 2, 3 }, 2, 3, 1, { 9, 9, 9 })]],
      [[table.unpack({ 1, 2, 3 }, 2)]], [[table.pack(1, nil, 3)]],
      [[(function() local t = { 5, 2, 8, 1, 9, 3 } table.sort(t) return t end)()]],
      [[(function() local t = { 5, 2, 8, 1, 9, 3 } table.sort(t, function(a, b) return a > b end) return t end)()]],
      [[(function() local t = {} for i = 1, 500 do t[i] = (i * 7919) % 503 end table.sort(t) return t end)()]],
      [[(function() local r = {}
          for k, v in ("a=1, b=2, c=3"):gmatch("(%w+)=(%w+)") do r[#r + 1] = k .. v end
          return r end)()]],
      [[(function() local r = {} for w in ("one two  three"):gmatch("%S+") do r[#r + 1] = w end return r end)()]],
      [[(function() local r = {} for p in ("abc"):gmatch("()") do r[#r + 1] = p end return r end)()]],
      [[utf8.char(72, 228, 8364, 128512)]],
      [[utf8.len("häll€")]],
      [[math.floor(3.7) + math.max(1, 5) + math.tointeger(4.0)]],
      [[select("#", 1, nil, 3)]],
      [[tostring(12) .. tostring(1.5) .. tostring(nil) .. tostring(true)]],
      [[tonumber("0x10") + tonumber("10", 2)]],
      [[("%d"):format(3)]], [[("x"):rep(3)]], [[("abc"):len()]], [[#("abc")]],
    }
    local failures = {}
    for _, e in ipairs(exprs) do
      local src = "return " .. e
      local hf = assert(load(src, "=expr", "t"))
      local expected = T.pack(hf())
      local got, err = agent:run_lua("return table.pack(" .. e .. ")", "expr.lua")
      if got == nil then
        failures[#failures + 1] = e .. ": agent error " .. tostring(err)
      else
        got.n = got.n or #got
        if not eq(expected, got) then
          failures[#failures + 1] = e .. ":\n    host:  " .. show(expected) .. "\n    agent: " .. show(got)
        end
      end
    end
    agent:close()
    assert(#failures == 0, #failures .. " difference(s):\n  " .. T.concat(failures, "\n  "))
  end)
end)

--- dana.runtime_builtins: builtin functions, scoped names, typed-assignment
-- coercion, exceptions (loaded into the agent after dana.runtime_methods).
local R = require("dana.runtime")
local M = require("dana.runtime_methods")

local type, getmetatable, setmetatable, select, tostring, tonumber, pcall, error = type,
  getmetatable, setmetatable, select, tostring, tonumber, pcall, error
local mtype, floor, huge, tointeger = math.type, math.floor, math.huge, math.tointeger
local sfmt, sfind, ssub, slower, sgsub, sbyte = string.format, string.find, string.sub,
  string.lower, string.gsub, string.byte
local concat = table.concat
local raise, tyerr, typename, str, repr, truth = R.raise, R.tyerr, R.typename, R.str, R.repr,
  R.truth
local ListMT, TupleMT, RangeMT, NoneMT, FnRefMT = R.ListMT, R.TupleMT, R.RangeMT, R.NoneMT, R.FnRefMT
local K, args, posargs = R.K, M.args, M.posargs
local DANA = dana                  -- luacheck: ignore 113
local DI = dana_internal           -- luacheck: ignore 113

local B = {}

local function output(text)
  if DI and DI.output then DI.output(text) end
end

-- ---------------------------------------------------------------------------
-- Output

function B.print(...)
  local pos, kw = posargs(...)
  local sep, fin = " ", "\n"
  if kw then
    if kw.sep ~= nil then sep = kw.sep end
    if kw["end"] ~= nil then fin = kw["end"] end
    if type(sep) ~= "string" then tyerr("sep must be None or a string, not %s", typename(sep)) end
    if type(fin) ~= "string" then tyerr("end must be None or a string, not %s", typename(fin)) end
  end
  local parts = {}
  for i = 1, pos.n do parts[i] = str(pos[i]) end
  output(concat(parts, sep) .. fin)
  return nil
end

local function supper_safe(x) return string.upper(str(x)) end
local LEVELS = { DEBUG = 10, INFO = 20, WARNING = 30, WARN = 30, ERROR = 40, CRITICAL = 50 }
local log_threshold = 20
-- log() reaches outside the agent, so the role needs call:log (every built-in role has it).
local function check_log()
  if DANA and DANA.allowed and not DANA.allowed("call", "call:log") then
    raise("PermissionError", "this role may not call 'log'")
  end
end

function B.log(...)
  check_log()
  local msg, level = args({ "msg", "level" }, ...)
  level = level == nil and "INFO" or supper_safe(level)
  local lv = LEVELS[level]
  if not lv then raise("ValueError", "unknown log level '" .. tostring(level) .. "'") end
  if level == "WARN" then level = "WARNING" end
  if lv >= log_threshold then output("[" .. level .. "] " .. str(msg) .. "\n") end
  return nil
end
function B.log_level(...)
  local level = args({ "level", "namespace" }, ...)
  local lv = LEVELS[supper_safe(level)]
  if not lv then raise("ValueError", "unknown log level '" .. tostring(level) .. "'") end
  log_threshold = lv
  return nil
end

-- ---------------------------------------------------------------------------
-- Conversions

local function strip(s) return (sgsub(sgsub(s, "^%s+", ""), "%s+$", "")) end

local function parse_float(s)
  local t = slower(strip(s))
  if t == "inf" or t == "+inf" or t == "infinity" or t == "+infinity" then return huge end
  if t == "-inf" or t == "-infinity" then return -huge end
  if t == "nan" or t == "+nan" or t == "-nan" then return 0.0 / 0.0 end
  if not t:match("^[-+]?%d*%.?%d*e?[-+]?%d*$") or not t:match("%d") then return nil end
  if t:match("^[-+]?%.?e") then return nil end
  local v = tonumber(t)
  if v then return v + 0.0 end
end
B.parse_float = parse_float

local function trunc(x)
  if x ~= x or x == huge or x == -huge then
    raise("ValueError", "cannot convert float " .. R.fmtfloat(x) .. " to integer")
  end
  local r = x >= 0 and floor(x) or -floor(-x)
  return tointeger(r) or r
end

function B.int(...)
  local x, base = args({ "x", "base" }, ...)
  if x == nil then return 0 end
  local t = type(x)
  if t == "boolean" then return x and 1 or 0 end
  if mtype(x) == "integer" then return x end
  if t == "number" then return trunc(x) end
  if t == "string" then
    local s = strip(x)
    s = sgsub(s, "_", "")
    local v
    if base ~= nil and base ~= 10 then v = tonumber(s, base)
    elseif s:match("^[-+]?%d+$") then v = tonumber(s) end
    if v == nil or mtype(v) ~= "integer" then
      raise("ValueError", sfmt("invalid literal for int() with base %d: %s", base or 10, repr(x)))
    end
    return v
  end
  tyerr("int() argument must be a string or a number, not '%s'", typename(x))
end

function B.float(x)
  if x == nil then return 0.0 end
  local t = type(x)
  if t == "boolean" then return x and 1.0 or 0.0 end
  if t == "number" then return x + 0.0 end
  if t == "string" then
    local v = parse_float(x)
    if v == nil then raise("ValueError", "could not convert string to float: " .. repr(x)) end
    return v
  end
  tyerr("float() argument must be a string or a real number, not '%s'", typename(x))
end

-- Semantic bool of a string (the reference's table, §1.6).
local TRUE_W, FALSE_W = {}, {}
for w in ("true yes y on enabled active yeah yep sure absolutely certainly indeed 1 positive "
  .. "good ok okay fine correct right"):gmatch("%S+") do TRUE_W[w] = true end
TRUE_W["of course"] = true
for w in ("false no n off disabled inactive nah nope never hardly 0 0.0 0.00 zero none null "
  .. "empty blank"):gmatch("%S+") do FALSE_W[w] = true end
FALSE_W["definitely not"], FALSE_W["no way"], FALSE_W["not really"] = true, true, true
local function has_any(s, list)
  for _, w in ipairs(list) do if sfind(s, w, 1, true) then return true end end
  return false
end
local function semantic_bool(s)
  local l = slower(strip(s))
  if TRUE_W[l] then return true end
  if FALSE_W[l] then return false end
  if has_any(l, { "yes", "sure", "ok", "fine", "good" }) then return true end
  if has_any(l, { "no", "nope", "never", "bad", "wrong" }) then return false end
  if has_any(l, { "great", "awesome", "perfect", "excellent", "wonderful" }) then return true end
  if has_any(l, { "terrible", "awful", "horrible" }) then return false end
  if l == "0.000" or l == "-0" or l == "f" or l == "nil" then return false end
  local n = tonumber(l)
  if n and n > 0 then return true end
  return l ~= ""
end
B.semantic_bool = semantic_bool

function B.bool(x)
  if type(x) == "string" then return semantic_bool(x) end
  return truth(x)
end

function B.str(...)
  local x = args({ "object" }, ...)
  if select("#", ...) == 0 then return "" end
  return str(x)
end

function B.type(x) return R.type_of(x) end

function B.isinstance(x, t)
  if type(t) == "table" and (getmetatable(t) == "tuple" or getmetatable(t) == "list") then
    for i = 1, t.n do if B.isinstance(x, t[i]) then return true end end
    return false
  end
  if type(t) == "function" then
    local st = M.CTORS[t]
    if st then return type(x) == "table" and getmetatable(x) == "struct" and x[1] == st.name end
    for name, f in pairs(B.TYPE_FUNCS) do
      if f == t then return B.isinstance(x, name) end
    end
    return false
  end
  if type(t) ~= "string" then tyerr("isinstance() arg 2 must be a type name") end
  local tn = typename(x)
  if t == tn or t == R.type_of(x) then return true end
  if t == "float" and tn == "float" then return true end
  if (t == "any" or t == "object") then return true end
  if t == "None" and x == nil then return true end
  return false
end

-- ---------------------------------------------------------------------------
-- Sequences and numbers

function B.len(x)
  local t = type(x)
  if t == "string" then return R.ulen(x) end
  if t == "table" then
    local f = R.LEN[getmetatable(x)]
    if f then return f(x) end
  end
  tyerr("object of type '%s' has no len()", typename(x))
end

function B.range(a, b, c)
  local start, stop, step
  if b == nil then start, stop, step = 0, a, 1
  else start, stop, step = a, b, c == nil and 1 or c end
  start, stop, step = R.rint(start), R.rint(stop), R.rint(step)
  if step == 0 then raise("ValueError", "range() arg 3 must not be zero") end
  return setmetatable({ start = start, stop = stop, step = step }, RangeMT)
end

function B.list(x)
  if x == nil then return setmetatable({ n = 0 }, ListMT) end
  return R.tolist(x)
end

function B.tuple(x)
  local l = x == nil and { n = 0 } or R.tolist(x)
  return setmetatable(l, TupleMT)
end

function B.set(x)
  local s = R.newset()
  if x ~= nil then for _, v in R.iter(x) do R.sadd(s, v) end end
  return s
end

function B.dict(...)
  local pos, kw = posargs(...)
  local d = R.newdict()
  if pos.n > 0 then M.DICT.update(d, pos[1]) end
  if kw then for k, v in pairs(kw) do if type(k) == "string" then R.dset(d, k, v) end end end
  return d
end

function B.abs(x)
  if mtype(x) then return x < 0 and -x or x end
  if type(x) == "boolean" then return x and 1 or 0 end
  tyerr("bad operand type for abs(): '%s'", typename(x))
end

function B.sum(...)
  local it, start = args({ "iterable", "start" }, ...)
  local acc = start == nil and 0 or start
  local add = R.add
  if type(it) == "table" and getmetatable(it) == "list" then
    for i = 1, it.n do
      local v = it[i]
      if mtype(acc) and mtype(v) then acc = acc + v else acc = add(acc, v) end
    end
    return acc
  end
  for _, v in R.iter(it) do
    if mtype(acc) and mtype(v) then acc = acc + v else acc = add(acc, v) end
  end
  return acc
end

local function minmax(name, better, ...)
  local pos, kw = posargs(...)
  local key, default
  if kw then key, default = kw.key, kw.default end
  local items
  if pos.n == 1 then items = R.tolist(pos[1])
  elseif pos.n == 0 then tyerr("%s expected at least 1 argument, got 0", name)
  else items = pos end
  if items.n == 0 then
    if kw and kw.default ~= nil then return default end
    raise("ValueError", name .. "() arg is an empty sequence")
  end
  local best = items[1]
  local bk = key and key(best) or best
  for i = 2, items.n do
    local v = items[i]
    local k = key and key(v) or v
    if better(k, bk) then best, bk = v, k end
  end
  return best
end
function B.max(...) return minmax("max", function(a, b) return R.lt(b, a) end, ...) end
function B.min(...) return minmax("min", function(a, b) return R.lt(a, b) end, ...) end

function B.sorted(...)
  local it, key, reverse = args({ "iterable", "key", "reverse" }, ...)
  local l = R.tolist(it)
  M.sortlist(l, key, truth(reverse))
  return l
end

function B.reversed(x)
  local l = R.tolist(x)
  local n = l.n
  for i = 1, n // 2 do l[i], l[n - i + 1] = l[n - i + 1], l[i] end
  return l
end

function B.enumerate(...)
  local it, start = args({ "iterable", "start" }, ...)
  local i = start == nil and 0 or R.rint(start)
  local r, n = {}, 0
  for _, v in R.iter(it) do
    n = n + 1
    r[n] = setmetatable({ n = 2, i, v }, TupleMT)
    i = i + 1
  end
  r.n = n
  return setmetatable(r, ListMT)
end

function B.zip(...)
  local lists, n = {}, select("#", ...)
  local m = nil
  for i = 1, n do
    lists[i] = R.tolist((select(i, ...)))
    if m == nil or lists[i].n < m then m = lists[i].n end
  end
  local r = { n = m or 0 }
  for j = 1, m or 0 do
    local t = { n = n }
    for i = 1, n do t[i] = lists[i][j] end
    r[j] = setmetatable(t, TupleMT)
  end
  return setmetatable(r, ListMT)
end

function B.all(it)
  for _, v in R.iter(it) do if not truth(v) then return false end end
  return true
end
function B.any(it)
  for _, v in R.iter(it) do if truth(v) then return true end end
  return false
end

--- CPython round: half to even; round(x, n) is decimal-exact (from the binary value).
function B.round(x, nd)
  if type(x) == "boolean" then x = x and 1 or 0 end
  if not mtype(x) then tyerr("type %s doesn't define __round__ method", typename(x)) end
  if nd == nil then
    if mtype(x) == "integer" then return x end
    if x ~= x or x == huge or x == -huge then
      raise("ValueError", "cannot convert float " .. R.fmtfloat(x) .. " to integer")
    end
    local r = tonumber(sfmt("%.0f", x))
    return tointeger(r) or r
  end
  nd = R.rint(nd)
  if mtype(x) == "integer" then
    if nd >= 0 then return x end
    local p = 10 ^ (-nd)
    local q = x / p
    local r = tonumber(sfmt("%.0f", q)) * p
    return tointeger(r) or floor(r)
  end
  if x ~= x or x == huge or x == -huge then return x end
  if nd >= 0 then
    if nd > 300 then return x end
    return tonumber(sfmt("%." .. nd .. "f", x)) + 0.0
  end
  local p = 10.0 ^ (-nd)
  return tonumber(sfmt("%.0f", x / p)) * p
end

--- f-string format specs (a practical subset of Python's mini-language).
function R.format_spec(v, spec)
  local fill, align, sign, width, comma, prec, ty = spec:match(
    "^([^<>=^]?)([<>=^]?)([-+ ]?)0?(%d*)(,?)%.?(%d*)([bcdeEfFgGnosxX%%]?)$")
  if not fill then
    fill, align = "", ""
    sign, width, comma, prec, ty = spec:match("^([-+ ]?)0?(%d*)(,?)%.?(%d*)([bcdeEfFgGnosxX%%]?)$")
    if not sign then return str(v) end
  end
  if fill ~= "" and align == "" then
    -- the first character was not a fill: re-parse
    local s2 = spec
    sign, width, comma, prec, ty = s2:match("^([-+ ]?)0?(%d*)(,?)%.?(%d*)([bcdeEfFgGnosxX%%]?)$")
    fill = ""
    if not sign then return str(v) end
  end
  local zero = spec:match("^[-+ ]?0%d") ~= nil
  local s
  if type(v) == "boolean" and ty ~= "" and ty ~= "s" then v = v and 1 or 0 end
  if ty == "f" or ty == "F" then
    if not mtype(v) then tyerr("unknown format code 'f' for object of type '%s'", typename(v)) end
    s = sfmt("%." .. (prec ~= "" and prec or "6") .. "f", v)
  elseif ty == "e" or ty == "E" then
    s = sfmt("%." .. (prec ~= "" and prec or "6") .. ty, v)
  elseif ty == "g" or ty == "G" then
    s = sfmt("%." .. (prec ~= "" and prec or "6") .. ty, v)
  elseif ty == "%" then
    s = sfmt("%." .. (prec ~= "" and prec or "6") .. "f", v * 100) .. "%"
  elseif ty == "d" or ty == "n" then
    if mtype(v) ~= "integer" then tyerr("unknown format code 'd' for object of type '%s'", typename(v)) end
    s = tostring(v)
  elseif ty == "x" or ty == "X" or ty == "o" or ty == "b" then
    if ty == "b" then
      local n, bits = v, {}
      if n == 0 then bits[1] = "0" end
      while n > 0 do bits[#bits + 1] = tostring(n % 2); n = n // 2 end
      s = string.reverse(concat(bits))
    else
      s = sfmt("%" .. ty, v)
    end
  else
    if prec ~= "" and mtype(v) == "float" and ty == "" then
      s = sfmt("%." .. prec .. "g", v)
    elseif prec ~= "" and type(v) == "string" then
      s = ssub(v, 1, tonumber(prec))
    else
      s = str(v)
    end
  end
  if comma == "," then
    local int, rest = s:match("^([-+]?%d+)(.*)$")
    if int then
      local neg = ssub(int, 1, 1) == "-" and "-" or ""
      int = sgsub(int, "^[-+]", "")
      int = string.reverse((sgsub(string.reverse(int), "(%d%d%d)", "%1,")))
      int = sgsub(int, "^,", "")
      s = neg .. int .. rest
    end
  end
  if sign == "+" and mtype(v) and v >= 0 then s = "+" .. s
  elseif sign == " " and mtype(v) and v >= 0 then s = " " .. s end
  local w = tonumber(width)
  if w and R.ulen(s) < w then
    local pad = w - R.ulen(s)
    local f = fill ~= "" and fill or (zero and "0" or " ")
    local al = align ~= "" and align or ((mtype(v) and not zero) and ">" or (zero and "=" or "<"))
    if al == "<" then s = s .. string.rep(f, pad)
    elseif al == ">" then s = string.rep(f, pad) .. s
    elseif al == "^" then
      local l = pad // 2
      s = string.rep(f, l) .. s .. string.rep(f, pad - l)
    else
      local sg = s:match("^[-+ ]") or ""
      s = sg .. string.rep(f, pad) .. ssub(s, #sg + 1)
    end
  end
  return s
end

-- ---------------------------------------------------------------------------
-- JSON (typed assignment to list/dict)

local function json_decode(s)
  local pos = 1
  local function ws() pos = sfind(s, "[^ \t\r\n]", pos) or #s + 1 end
  local function fail() error({ json = true }, 0) end
  local value
  local function str_lit()
    local r = {}
    pos = pos + 1
    while true do
      local c = ssub(s, pos, pos)
      if c == "" then fail() end
      if c == '"' then pos = pos + 1 break end
      if c == "\\" then
        local e = ssub(s, pos + 1, pos + 1)
        local map = { n = "\n", t = "\t", r = "\r", b = "\b", f = "\f", ['"'] = '"', ["\\"] = "\\",
          ["/"] = "/" }
        if map[e] then r[#r + 1] = map[e]; pos = pos + 2
        elseif e == "u" then
          local h = ssub(s, pos + 2, pos + 5)
          if not h:match("^%x%x%x%x$") then fail() end
          r[#r + 1] = utf8.char(tonumber(h, 16))
          pos = pos + 6
        else fail() end
      else
        r[#r + 1] = c
        pos = pos + 1
      end
    end
    return concat(r)
  end
  value = function()
    ws()
    local c = ssub(s, pos, pos)
    if c == "{" then
      local d = R.newdict()
      pos = pos + 1
      ws()
      if ssub(s, pos, pos) == "}" then pos = pos + 1 return d end
      while true do
        ws()
        if ssub(s, pos, pos) ~= '"' then fail() end
        local k = str_lit()
        ws()
        if ssub(s, pos, pos) ~= ":" then fail() end
        pos = pos + 1
        R.dset(d, k, value())
        ws()
        local c2 = ssub(s, pos, pos)
        pos = pos + 1
        if c2 == "}" then return d end
        if c2 ~= "," then fail() end
      end
    elseif c == "[" then
      local l, n = {}, 0
      pos = pos + 1
      ws()
      if ssub(s, pos, pos) == "]" then pos = pos + 1 return setmetatable({ n = 0 }, ListMT) end
      while true do
        n = n + 1
        l[n] = value()
        ws()
        local c2 = ssub(s, pos, pos)
        pos = pos + 1
        if c2 == "]" then l.n = n return setmetatable(l, ListMT) end
        if c2 ~= "," then fail() end
      end
    elseif c == '"' then return str_lit()
    elseif ssub(s, pos, pos + 3) == "true" then pos = pos + 4 return true
    elseif ssub(s, pos, pos + 4) == "false" then pos = pos + 5 return false
    elseif ssub(s, pos, pos + 3) == "null" then pos = pos + 4 return nil
    else
      local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not num or num == "" then fail() end
      pos = pos + #num
      return tonumber(num) or fail()
    end
  end
  local ok, v = pcall(function()
    local r = value()
    ws()
    if pos <= #s then fail() end
    return r
  end)
  if not ok then
    if type(v) == "table" and v.json then return nil, false end
    error(v, 0)
  end
  return v, true
end
B.json_decode = json_decode

-- ---------------------------------------------------------------------------
-- Typed assignment `x: T = v`

local BUILTIN_TYPES = { int = true, float = true, str = true, bool = true, list = true, dict = true,
  tuple = true, set = true, None = true, any = true }
B.BUILTIN_TYPES = BUILTIN_TYPES

local function matches(v, t)
  if t == "any" or t == "object" then return true end
  if v == nil then return true end
  local tn = typename(v)
  if t == "int" then return tn == "int" or tn == "bool" end
  if t == "float" then return tn == "float" end
  if t == "str" or t == "bool" or t == "list" or t == "dict" or t == "tuple" or t == "set" then
    return tn == t
  end
  if t == "None" then return false end
  if type(v) == "table" and getmetatable(v) == "struct" then return v[1] == t end
  if R.STRUCTS[t] then return false end
  return true -- interfaces, function, bytes, ...: not checked
end

local function coerce_to(v, t)
  local tv = type(v)
  if t == "int" then
    if tv == "number" then return true, trunc(v) end
    if tv == "string" then
      local s = strip(v)
      if s:match("^[-+]?%d+$") then return true, tonumber(s) end
      local f = parse_float(s)
      if f and f == f and f ~= huge and f ~= -huge then return true, trunc(f) end
    end
    return false
  elseif t == "float" then
    if tv == "number" then return true, v + 0.0 end
    if tv == "boolean" then return true, v and 1.0 or 0.0 end
    if tv == "string" then
      local f = parse_float(v)
      if f then return true, f end
    end
    return false
  elseif t == "str" then
    if tv == "boolean" then return true, v and "true" or "false" end
    return true, str(v)
  elseif t == "bool" then
    if tv == "string" then return true, semantic_bool(v) end
    return true, truth(v)
  elseif t == "list" or t == "dict" then
    if tv == "string" then
      local r, ok = json_decode(v)
      if ok and typename(r) == t then return true, r end
      return false
    end
    if t == "list" and tv == "table" then
      local g = getmetatable(v)
      if g == "tuple" or g == "set" or g == "range" then return true, R.tolist(v) end
    end
    return false
  elseif t == "tuple" then
    if tv == "table" and getmetatable(v) == "list" then return true, B.tuple(v) end
    return false
  elseif t == "set" then
    if tv == "table" and (getmetatable(v) == "list" or getmetatable(v) == "tuple") then
      return true, B.set(v)
    end
    return false
  end
  return false
end

local type_cache = {}
local function alts(T)
  local a = type_cache[T]
  if not a then
    a = {}
    for p in T:gmatch("[^|]+") do a[#a + 1] = p end
    type_cache[T] = a
  end
  return a
end

function B.coerce(v, T, target)
  if v == nil then return nil end
  local a = alts(T)
  for i = 1, #a do if matches(v, a[i]) then return v end end
  for i = 1, #a do
    if a[i] ~= "None" then
      local ok, r = coerce_to(v, a[i])
      if ok then return r end
    end
  end
  local why
  if type(v) == "string" then why = "invalid literal " .. repr(v)
  else why = "unsupported source type " .. typename(v) end
  raise("TypeError", sfmt("Assignment to '%s' failed: cannot coerce value '%s' to type '%s': %s",
    target, str(v), T, why))
end

-- ---------------------------------------------------------------------------
-- Scoped names (private:/public:/system:) through the C accessors

local cache = {}   -- key -> { value } for the current run
local fnstore = {} -- key -> function (functions cannot cross into the scope store)

local fromhost
fromhost = function(v, depth)
  if type(v) ~= "table" then return v end
  local g = getmetatable(v)
  if g ~= nil then return v end
  depth = (depth or 0) + 1
  if depth > 200 then raise("ValueError", "value nested too deeply") end
  local n, maxi, strkeys = 0, 0, false
  for k in pairs(v) do
    n = n + 1
    if mtype(k) == "integer" and k > 0 then
      if k > maxi then maxi = k end
    else strkeys = true end
  end
  if not strkeys and (n > 0 and maxi == n) then
    local l = { n = n }
    for i = 1, n do l[i] = fromhost(v[i], depth) end
    return setmetatable(l, ListMT)
  end
  local d = R.newdict()
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return false
  end)
  for _, k in ipairs(keys) do R.dset(d, k, fromhost(v[k], depth)) end
  return d
end
B.fromhost = fromhost

local function own_all(v, key, seen)
  if type(v) ~= "table" then return end
  local g = getmetatable(v)
  if g ~= "list" and g ~= "dict" and g ~= "set" and g ~= "struct" and g ~= "tuple" then return end
  seen = seen or {}
  if seen[v] then return end
  seen[v] = true
  if g ~= "tuple" then R.own(v, key) end
  if g == "list" or g == "tuple" then
    for i = 1, v.n do own_all(v[i], key, seen) end
  elseif g == "dict" then
    for i = 1, v.n do own_all(v.v[i], key, seen) end
  elseif g == "struct" then
    for k, x in pairs(v) do if type(k) == "string" then own_all(x, key, seen) end end
  end
end

--- Calls a C accessor; an error record without a position gets the Dana line now
-- (a later re-raise from an `except` clause would otherwise move it).
local function positioned(f, a, b)
  local ok, r = pcall(f, a, b)
  if ok then return r end
  if type(r) == "table" then
    local okl, line = pcall(function() return r.line end)
    if okl and line == nil then
      local file, l = R.where()
      if l and not pcall(function() r.file = r.file or file; r.line = l end) then
        local okk, kind = pcall(function() return r.kind end)
        local okm, msg = pcall(function() return r.message end)
        r = { kind = okk and kind or "RuntimeError", message = okm and msg or tostring(r),
          file = file, line = l }
      end
    end
  end
  error(r, 0)
end

local function store_set(key, v)
  if type(v) == "function" or (type(v) == "table" and getmetatable(v) == "boundmethod") then
    fnstore[key] = v
    positioned(DANA.set, key, setmetatable({}, FnRefMT))
  elseif v == nil then
    fnstore[key] = nil
    positioned(DANA.set, key, setmetatable({}, NoneMT))
  else
    fnstore[key] = nil
    positioned(DANA.set, key, v)
  end
end

--- Raw read: returns present, value.
local function store_get(key)
  local c = cache[key]
  if c then return true, c[1] end
  local v = positioned(DANA.get, key)
  if v == nil then return false, nil end
  if type(v) == "table" then
    local g = getmetatable(v)
    if g == "none" then v = nil
    elseif g == "fnref" then v = fnstore[key]
    elseif g == nil then v = fromhost(v) end
  end
  cache[key] = { v }
  own_all(v, key)
  return true, v
end

R.set_owner_hooks(function(key)
  local c = cache[key]
  if c then store_set(key, c[1]) end
end)

--- Clears the per-run cache (called by every translated chunk on line 1).
function B.begin()
  cache = {}
  R.clear_owners()
end

local function closest(name, candidates)
  local best, bestd = {}, nil
  local function dist(a, b)
    local la, lb = #a, #b
    if math.abs(la - lb) > 3 then return 99 end
    local prev = {}
    for j = 0, lb do prev[j] = j end
    for i = 1, la do
      local cur = { [0] = i }
      local ca = sbyte(a, i)
      for j = 1, lb do
        local cost = (ca == sbyte(b, j)) and 0 or 1
        local x = prev[j] + 1
        if cur[j - 1] + 1 < x then x = cur[j - 1] + 1 end
        if prev[j - 1] + cost < x then x = prev[j - 1] + cost end
        cur[j] = x
      end
      prev = cur
    end
    return prev[lb]
  end
  for _, c in ipairs(candidates) do
    local d = dist(name, c)
    local lim = #name <= 3 and 1 or 2
    if d <= lim then
      if bestd == nil or d < bestd then best, bestd = { c }, d
      elseif d == bestd then best[#best + 1] = c end
    end
  end
  table.sort(best)
  return best
end
B.closest = closest

function B.nameerror(name, candidates)
  local msg = "name '" .. name .. "' is not defined"
  local c = candidates and closest(name, candidates) or {}
  if #c > 0 then
    msg = msg .. ". Did you mean: '" .. concat(c, "', '", 1, math.min(#c, 3)) .. "'?"
  end
  raise("NameError", msg)
end

function B.scope_get(key)
  local ok, v = store_get(key)
  if not ok then
    local name = key:match(":(.*)$") or key
    raise("NameError", "name '" .. key .. "' is not defined (no '" .. name .. "' in scope "
      .. key:match("^(%a+)") .. ")")
  end
  return v
end

function B.scope_set(key, v)
  store_set(key, v)
  cache[key] = { v }
  own_all(v, key)
end

--- Unscoped fallback read: private, then public, then system.
function B.scope_fallback(name)
  for _, s in ipairs({ "private:", "public:", "system:" }) do
    local ok, present, v = pcall(store_get, s .. name)
    if ok and present then return true, v end
    if not ok and type(present) == "table" and (present.kind or ""):match("Limit") then
      error(present, 0)
    end
  end
  return false
end

-- ---------------------------------------------------------------------------
-- Exceptions

local UNCATCHABLE = { PermissionError = true, SecurityError = true, MemoryLimitError = true,
  TimeLimitError = true, InstructionLimitError = true, RateLimitError = true,
  OutputLimitError = true, MemoryError = false }
local PARENT = { KeyError = "LookupError", IndexError = "LookupError",
  ZeroDivisionError = "ArithmeticError", OverflowError = "ArithmeticError",
  RecursionError = "RuntimeError", NotImplementedError = "RuntimeError",
  UnboundLocalError = "NameError", SandboxError = "Exception" }

local function kind_of_string(msg)
  if sfind(msg, "stack overflow", 1, true) then return "RecursionError" end
  if sfind(msg, "not enough memory", 1, true) then return "MemoryLimitError" end
  if sfind(msg, "attempt to ", 1, true) then return "TypeError" end
  return "RuntimeError"
end

--- Normalises a caught Lua error into a Dana exception object (raw kept in .raw).
function B.exc(err)
  local e
  if type(err) == "table" then
    local g = getmetatable(err)
    if g == "exception" then
      e = err
    else
      local okk, kind = pcall(function() return err.kind end)
      local okm, msg = pcall(function() return err.message or err.msg end)
      e = R.mkexc(okk and kind or "RuntimeError", okm and msg and tostring(msg) or tostring(err))
    end
  elseif type(err) == "string" then
    local msg = err:match("^[^:\n]*:%d+: (.*)$") or err
    e = R.mkexc(kind_of_string(msg), msg)
  else
    e = R.mkexc("RuntimeError", tostring(err))
  end
  return e, err
end

--- Does exception e match one of the names (bare except: no names)?
function B.match(e, ...)
  local kind = e.kind
  if UNCATCHABLE[kind] then return false end
  local n = select("#", ...)
  if n == 0 then return true end
  for i = 1, n do
    local want = select(i, ...)
    if type(want) == "function" then
      want = B.EXC_NAMES[want]
    elseif type(want) == "table" and getmetatable(want) == "tuple" then
      for j = 1, want.n do
        if B.match(e, want[j]) then return true end
      end
      want = nil
    end
    if want == "Exception" or want == "BaseException" or want == kind then return true end
    local k = kind
    while k and PARENT[k] do
      k = PARENT[k]
      if k == want then return true end
    end
  end
  return false
end

function B.uncatchable(e) return UNCATCHABLE[e.kind] or false end

B.EXC_NAMES = {}
local EXC_KINDS = { "Exception", "BaseException", "ValueError", "TypeError", "KeyError",
  "IndexError", "NameError", "ZeroDivisionError", "AttributeError", "AssertionError",
  "RuntimeError", "NotImplementedError", "LookupError", "ArithmeticError", "RecursionError",
  "ImportError", "StopIteration", "OverflowError", "SandboxError", "UnboundLocalError" }
B.EXC_CTORS = {}
for _, kind in ipairs(EXC_KINDS) do
  local ctor = function(msg, ...)
    if msg == K then msg = (...)[1] end
    if msg ~= nil and type(msg) ~= "string" then msg = kind == "KeyError" and repr(msg) or str(msg) end
    return R.mkexc(kind, msg or "")
  end
  B.EXC_CTORS[kind] = ctor
  B.EXC_NAMES[ctor] = kind
end

--- `raise X`.
function B.raise(x)
  if type(x) == "function" and B.EXC_NAMES[x] then x = x() end
  if type(x) == "table" and getmetatable(x) == "exception" then
    local e = R.mkexc(x.kind, x.message)
    local file, line = R.where()
    e.file, e.line = file, line
    error(e, 0)
  end
  if type(x) == "string" then raise("Exception", x) end
  tyerr("exceptions must derive from BaseException")
end

--- Re-raises the error being handled (bare `raise`).
function B.reraise(raw) error(raw, 0) end

function B.assert_fail(msg, has_msg)
  if has_msg then raise("AssertionError", str(msg)) end
  raise("AssertionError", "Assertion failed")
end

-- ---------------------------------------------------------------------------
-- Blocked and unavailable builtins

local BLOCKED = {
  eval = { "Arbitrary Code Execution", "Dynamic code evaluation poses severe security risks" },
  exec = { "Arbitrary Code Execution", "Dynamic code execution poses severe security risks" },
  compile = { "Arbitrary Code Execution", "Code compilation poses severe security risks" },
  __import__ = { "Arbitrary Code Execution", "Dynamic imports bypass the sandbox" },
  open = { "File System Access", "File operations are not allowed in Dana sandbox for security reasons" },
  input = { "Security Risk", "Interactive input is not available in the sandbox" },
}
for _, n in ipairs({ "globals", "locals", "vars", "dir", "hash", "getattr", "setattr", "delattr",
  "hasattr", "callable", "repr" }) do
  BLOCKED[n] = { "Security Risk", "Introspection and reflection can escape the sandbox" }
end
for _, n in ipairs({ "id", "memoryview", "pow" }) do
  BLOCKED[n] = { "Memory Safety", "Direct memory or unbounded arithmetic access is not allowed" }
end
for _, n in ipairs({ "issubclass", "iter", "next", "ascii", "divmod", "format", "bin", "oct",
  "hex", "object", "slice", "property", "classmethod", "staticmethod", "super" }) do
  BLOCKED[n] = { "Complexity", "This built-in is not supported in Dana" }
end
B.BLOCKED = BLOCKED

function B.blocked(name)
  local why = BLOCKED[name]
  return function()
    raise("SecurityError", "Built-in function '" .. name .. "' is not supported in Dana sandbox."
      .. "\n\nReason: " .. why[1] .. "\nDetails: " .. why[2]
      .. "\n\nFor security and safety, Dana restricts access to certain Python built-ins.")
  end
end

B.UNAVAILABLE = { map = true, filter = true, chr = true, ord = true }

--- Imports: only the host can provide modules (the lead's import layer replaces this).
function B.import(path)
  if sfind(path, "%.py$") then
    raise("SecurityError", "import of host-language module '" .. path .. "' is refused")
  end
  raise("ImportError", "Error importing module '" .. path .. "': module not found")
end

-- Agents (`agent N(B):`): a struct-like object with a memory; LLM methods need a provider.
M.AGENT_METHODS = {
  remember = function(self, k, v)
    self.__memory = self.__memory or R.newdict()
    R.dset(self.__memory, k, v)
  end,
  recall = function(self, k)
    if not self.__memory then return nil end
    return (R.dget(self.__memory, k))
  end,
}
for _, n in ipairs({ "plan", "solve", "chat", "reason" }) do
  M.AGENT_METHODS[n] = function()
    raise("RuntimeError", "agent method '" .. n .. "' needs an LLM provider, and none is configured")
  end
end
function B.agentdef(name, base, fields)
  local inst = { name, __agent = true, __fields = {} }
  for k, v in pairs(fields) do
    inst[k] = v
    inst.__fields[k] = true
  end
  inst.__base = base
  return setmetatable(inst, R.StructMT)
end

function B.interface(name) return name end

--- escalate(role, reason): asks the host for a bounded grant of `role`; True when granted.
function B.escalate(...)
  local role, why = args({ "role", "reason" }, ...)
  if type(role) ~= "string" then tyerr("escalate() role must be a string, not %s", typename(role)) end
  local ok = DANA.escalate(role, why == nil and "" or str(why))
  return ok and true or false
end

--- use(name): a registered host function, as a callable. Only names the host registered
-- and the policy permits can be used (function-call injection gets PermissionError).
function B.use(...)
  local name = args({ "name" }, ...)
  if type(name) ~= "string" then tyerr("use() name must be a string, not %s", typename(name)) end
  if not DANA.registered(name) then
    raise("PermissionError", "use(): '" .. name .. "' is not a registered host function")
  end
  if not DANA.allowed("call", "call:" .. name) then
    raise("PermissionError", "use(): '" .. name .. "' is not permitted")
  end
  return function(...)
    local pos, kw = posargs(...)
    local call_args = {}
    for i = 1, pos.n do call_args[i] = pos[i] end
    if kw and kw[-1] ~= nil then -- the host gets no None-keyword names (R.kwn's list)
      local c = {}
      for k, v in pairs(kw) do
        if not (math.type(k) == "integer" and k < 0) then c[k] = v end
      end
      kw = c
    end
    if kw then call_args[pos.n + 1] = kw end
    return DANA.call(name, table.unpack(call_args, 1, pos.n + (kw and 1 or 0)))
  end
end

--- reason(prompt, context=[...]): the host's guarded LLM call (lua/dana/reason.lua on
-- the host side sanitizes and fences the context; the answer is tainted there).
function B.reason(...)
  local pos, kw = posargs(...)
  local prompt = pos[1]
  if type(prompt) ~= "string" then prompt = str(prompt) end
  local ok, r = pcall(DANA.call, "reason", prompt, { context = kw and kw.context })
  if not ok then
    if type(r) == "table" and r.kind == "PermissionError" and type(r.message) == "string"
        and sfind(r.message, "not a registered host function", 1, true) then
      raise("RuntimeError", "'reason' needs an LLM provider, and none is configured")
    end
    error(r, 0)
  end
  if type(r) ~= "table" then raise("RuntimeError", "the LLM provider gave no answer") end
  if r.blocked then raise("SecurityError", tostring(r.reason)) end
  return r.text
end

function B.llm_unavailable(name)
  return function()
    raise("RuntimeError", "'" .. name .. "' needs an LLM provider, and none is configured")
  end
end

B.TYPE_FUNCS = { int = B.int, float = B.float, str = B.str, bool = B.bool, list = B.list,
  set = B.set, tuple = B.tuple, dict = B.dict }
for name, f in pairs(B.TYPE_FUNCS) do R.TYPE_NAMES[f] = name end

return B

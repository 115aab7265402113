--- dana.runtime: the core of the Dana runtime, loaded INTO each agent state.
-- Values follow Python: ints and floats are Lua numbers (math.type tells them
-- apart), bools are Lua booleans, None is nil, strings are Lua strings (UTF-8,
-- indexed by code point). Lists, tuples, dicts, sets, structs, ranges and dict
-- views are tables with protected metatables (`__metatable` is the tag string,
-- so `getmetatable(v)` gives the Dana type tag and untrusted code can neither
-- fetch nor forge the real metatable).
--   list / tuple : { n = N, [1..N] = items }          (items may be nil = None)
--   dict         : { n = N, k = {keys}, v = {values}, i = {normkey -> index} }
--   set          : { n = N, k = {members}, i = {normkey -> index} }
--   struct       : { [1] = "TypeName", field = value, ... }
-- No require/io/os here: this runs in the agent's trusted runtime env.
local R = {}

local type, getmetatable, setmetatable, tostring, tonumber = type, getmetatable, setmetatable, tostring,
  tonumber
local error, rawequal, pcall, next = error, rawequal, pcall, next
local mtype, floor, huge, tointeger = math.type, math.floor, math.huge, math.tointeger
local sfmt, sbyte, ssub, sfind, sgsub, srep = string.format, string.byte, string.sub,
  string.find, string.gsub, string.rep
local concat = table.concat
local utf8len, utf8offset = utf8.len, utf8.offset
local DI = dana_internal -- luacheck: ignore 113

local function mkmt(tag)
  return { __metatable = tag, __name = "dana." .. tag }
end
local ListMT, TupleMT, DictMT, SetMT = mkmt("list"), mkmt("tuple"), mkmt("dict"), mkmt("set")
local StructMT, RangeMT, ExcMT = mkmt("struct"), mkmt("range"), mkmt("exception")
local KeysMT, ValuesMT, ItemsMT = mkmt("dict_keys"), mkmt("dict_values"), mkmt("dict_items")
local NoneMT, FnRefMT, BoundMT = mkmt("none"), mkmt("fnref"), mkmt("boundmethod")
R.ListMT, R.TupleMT, R.DictMT, R.SetMT, R.StructMT, R.RangeMT, R.ExcMT = ListMT, TupleMT, DictMT,
  SetMT, StructMT, RangeMT, ExcMT
R.KeysMT, R.ValuesMT, R.ItemsMT, R.NoneMT, R.FnRefMT, R.BoundMT = KeysMT, ValuesMT, ItemsMT, NoneMT,
  FnRefMT, BoundMT

--- The keyword-call marker: `f(K, kw)` passes keywords (and positionals at kw[1..kw[0]]).
local K = function() end
R.K = K
--- The explicit-None marker: what a static call passes for None into a parameter whose
-- default is not None (codegen's "fixed" functions); their prologue turns it into nil.
local N = function() end
R.N = N

--- Was keyword table w given parameter `name` (position i) explicitly, as None?
-- Positions count up to w[0]; keywords whose value may be None are listed at -1, -2, ...
function R.kwn(w, i, name)
  if i <= (w[0] or 0) then return true end
  local j = -1
  while true do
    local n = w[j]
    if n == nil then return false end
    if n == name then return true end
    j = j - 1
  end
end

-- ---------------------------------------------------------------------------
-- Errors

local function is_dana_frame(w)
  return w ~= "" and (sfind(w, "%.na:%d+: $") or sfind(w, "%.dana:%d+: $"))
end

--- File and line of the innermost Dana frame (found without the debug library:
-- `error(msg, level)` prefixes string messages with the position of that level).
local function where()
  for lvl = 2, 40 do
    local _, w = pcall(error, "", lvl)
    if type(w) ~= "string" then break end
    if is_dana_frame(w) then
      local file, line = w:match("^(.-):(%d+): $")
      return file, tonumber(line)
    end
  end
end
R.where = where

local function mkexc(kind, message)
  return setmetatable({ kind = kind, message = message }, ExcMT)
end
R.mkexc = mkexc

--- Raises a Dana error of `kind`, positioned at the innermost Dana frame.
local function raise(kind, message)
  local e = mkexc(kind, message)
  local file, line = where()
  e.file, e.line = file, line
  error(e, 0)
end
R.raise = raise

-- ---------------------------------------------------------------------------
-- Type names

local TYPENAME = {
  list = "list", tuple = "tuple", dict = "dict", set = "set", range = "range",
  dict_keys = "dict_keys", dict_values = "dict_values", dict_items = "dict_items",
  exception = "Exception", boundmethod = "method",
}

local function typename(v)
  local t = type(v)
  if t == "number" then return mtype(v) == "integer" and "int" or "float"
  elseif t == "string" then return "str"
  elseif t == "boolean" then return "bool"
  elseif v == nil then return "NoneType"
  elseif t == "function" then return "function"
  elseif t == "table" then
    local tag = getmetatable(v)
    if tag == "struct" then return v[1] end
    if tag == "exception" then return v.kind end
    return TYPENAME[tag] or "object"
  end
  return t
end
R.typename = typename

--- type(x) as Dana prints it: `int`, `NoneType`, `Struct[Point]`.
function R.type_of(v)
  if type(v) == "table" and getmetatable(v) == "struct" then return "Struct[" .. v[1] .. "]" end
  return typename(v)
end

local function tyerr(fmt, ...) raise("TypeError", sfmt(fmt, ...)) end

-- ---------------------------------------------------------------------------
-- Strings by code point

local ascii_cache, ascii_n = {}, 0
local function is_ascii(s)
  local a = ascii_cache[s]
  if a == nil then
    a = not sfind(s, "[\128-\255]")
    if ascii_n > 2000 then ascii_cache, ascii_n = {}, 0 end
    ascii_cache[s] = a
    ascii_n = ascii_n + 1
  end
  return a
end
R.is_ascii = is_ascii

local function ulen(s)
  if #s < 64 and not sfind(s, "[\128-\255]") then return #s end
  if is_ascii(s) then return #s end
  return utf8len(s) or #s
end
R.ulen = ulen

--- Code point i (0-based, already normalised to 0 <= i < len) of s.
local function uchar_at(s, i)
  if is_ascii(s) then return ssub(s, i + 1, i + 1) end
  local p = utf8offset(s, i + 1)
  local q = utf8offset(s, i + 2)
  if not p then return ssub(s, i + 1, i + 1) end
  return ssub(s, p, (q or #s + 1) - 1)
end

--- Array of the code points of s.
local function uchars(s)
  local t, n = {}, 0
  if is_ascii(s) then
    for i = 1, #s do t[i] = ssub(s, i, i) end
    return t, #s
  end
  for c in s:gmatch("[\0-\x7F\xC2-\xFD][\x80-\xBF]*") do
    n = n + 1
    t[n] = c
  end
  return t, n
end
R.uchars = uchars

-- ---------------------------------------------------------------------------
-- Number formatting (CPython repr)

local function fmtfloat(x)
  if x ~= x then return "nan" end
  if x == huge then return "inf" elseif x == -huge then return "-inf" end
  if x == 0 then
    if 1 / x < 0 then return "-0.0" end
    return "0.0"
  end
  local s
  for p = 0, 16 do
    s = sfmt("%." .. p .. "e", x)
    if tonumber(s) == x then break end
  end
  local sign, mant, exp = s:match("^(-?)([%d.]+)e([-+]%d+)$")
  local digits = sgsub(mant, "%.", "")
  digits = sgsub(digits, "0+$", "")
  if digits == "" then digits = "0" end
  local e = tonumber(exp)
  local nd = #digits
  if e >= -4 and e < 16 then
    local decpt = e + 1
    if decpt <= 0 then
      return sign .. "0." .. srep("0", -decpt) .. digits
    elseif decpt >= nd then
      return sign .. digits .. srep("0", decpt - nd) .. ".0"
    else
      return sign .. ssub(digits, 1, decpt) .. "." .. ssub(digits, decpt + 1)
    end
  end
  local m = ssub(digits, 1, 1)
  if nd > 1 then m = m .. "." .. ssub(digits, 2) end
  local ae = e < 0 and -e or e
  return sign .. m .. "e" .. (e < 0 and "-" or "+") .. (ae < 10 and "0" .. ae or tostring(ae))
end
R.fmtfloat = fmtfloat

local function numstr(x)
  if mtype(x) == "integer" then return tostring(x) end
  return fmtfloat(x)
end
R.numstr = numstr

-- ---------------------------------------------------------------------------
-- str / repr

local str, repr
local REPR = {}    -- tag -> function(v, seen) -> string
local STRUCTS = {} -- struct name -> type record (fields, ...)
R.STRUCTS = STRUCTS

local function strrepr(s)
  local q = "'"
  if sfind(s, "'", 1, true) and not sfind(s, '"', 1, true) then q = '"' end
  local body = sgsub(s, "[%c\\'\"]", function(c)
    if c == "\\" then return "\\\\"
    elseif c == "\n" then return "\\n"
    elseif c == "\r" then return "\\r"
    elseif c == "\t" then return "\\t"
    elseif c == q then return "\\" .. q
    elseif c == "'" or c == '"' then return c
    end
    return sfmt("\\x%02x", sbyte(c))
  end)
  return q .. body .. q
end
R.strrepr = strrepr

repr = function(v, seen)
  local t = type(v)
  if t == "string" then return strrepr(v)
  elseif t == "number" then return numstr(v)
  elseif v == nil then return "None"
  elseif v == true then return "True"
  elseif v == false then return "False"
  elseif t == "table" then
    local f = REPR[getmetatable(v)]
    if f then
      seen = seen or {}
      if seen[v] then
        local tag = getmetatable(v)
        if tag == "list" then return "[...]" end
        if tag == "dict" then return "{...}" end
        return "..."
      end
      seen[v] = true
      local s = f(v, seen)
      seen[v] = nil
      return s
    end
    return "<object>"
  elseif t == "function" then return "<function>"
  end
  return tostring(v)
end

str = function(v)
  local t = type(v)
  if t == "string" then return v
  elseif t == "number" then
    if mtype(v) == "integer" then return tostring(v) end
    return fmtfloat(v)
  elseif t == "table" and getmetatable(v) == "exception" then
    return v.message or ""
  end
  return repr(v)
end
R.str, R.repr = str, repr

local function seqrepr(v, seen, open, close)
  local parts = {}
  for i = 1, v.n do parts[i] = repr(v[i], seen) end
  return open .. concat(parts, ", ") .. close
end
REPR.list = function(v, seen) return seqrepr(v, seen, "[", "]") end
REPR.tuple = function(v, seen)
  if v.n == 1 then return "(" .. repr(v[1], seen) .. ",)" end
  return seqrepr(v, seen, "(", ")")
end
REPR.dict = function(v, seen)
  local parts, ks, vs = {}, v.k, v.v
  for i = 1, v.n do parts[i] = repr(ks[i], seen) .. ": " .. repr(vs[i], seen) end
  return "{" .. concat(parts, ", ") .. "}"
end
REPR.set = function(v, seen)
  if v.n == 0 then return "set()" end
  local parts, ks = {}, v.k
  for i = 1, v.n do parts[i] = repr(ks[i], seen) end
  return "{" .. concat(parts, ", ") .. "}"
end
REPR.range = function(v)
  if v.step == 1 then return sfmt("range(%d, %d)", v.start, v.stop) end
  return sfmt("range(%d, %d, %d)", v.start, v.stop, v.step)
end
REPR.dict_keys = function(v, seen) return "dict_keys(" .. seqrepr(v, seen, "[", "]") .. ")" end
REPR.dict_values = function(v, seen) return "dict_values(" .. seqrepr(v, seen, "[", "]") .. ")" end
REPR.dict_items = function(v, seen) return "dict_items(" .. seqrepr(v, seen, "[", "]") .. ")" end
REPR.exception = function(v) return v.kind .. "(" .. strrepr(v.message or "") .. ")" end
REPR.boundmethod = function(v) return "<bound method " .. v.name .. ">" end
REPR.struct = function(v, seen)
  local st = STRUCTS[v[1]]
  local parts = {}
  if st then
    for i, f in ipairs(st.fields) do parts[i] = f .. "=" .. repr(v[f], seen) end
  else
    local names = {}
    for k in next, v do if type(k) == "string" then names[#names + 1] = k end end
    table.sort(names)
    for i, f in ipairs(names) do parts[i] = f .. "=" .. repr(v[f], seen) end
  end
  return v[1] .. "(" .. concat(parts, ", ") .. ")"
end
R.REPR = REPR

ListMT.__tostring = function(v) return repr(v) end
TupleMT.__tostring, DictMT.__tostring, SetMT.__tostring = ListMT.__tostring, ListMT.__tostring,
  ListMT.__tostring
StructMT.__tostring, RangeMT.__tostring = ListMT.__tostring, ListMT.__tostring
ExcMT.__tostring = function(e)
  return sfmt("%s:%s: %s: %s", tostring(e.file), tostring(e.line), tostring(e.kind),
    tostring(e.message))
end

-- ---------------------------------------------------------------------------
-- Constructors

local function newlist(t) return setmetatable(t, ListMT) end
local function newtuple(t) return setmetatable(t, TupleMT) end
R.newlist, R.newtuple = newlist, newtuple

--- Key normalisation: Python key equality (True == 1 == 1.0) on a Lua table key.
local tuple_key
local function nk(k)
  local t = type(k)
  if t == "string" then return k
  elseif t == "number" then
    if k ~= k then return "\0\0nan" end
    return k
  elseif t == "boolean" then return k and 1 or 0
  elseif k == nil then return false
  elseif t == "table" then
    local tag = getmetatable(k)
    if tag == "tuple" then return tuple_key(k) end
    if tag == "struct" or tag == "exception" then return k end
  elseif t == "function" then return k
  end
  tyerr("unhashable type: '%s'", typename(k))
end
R.nk = nk

tuple_key = function(t)
  local parts = { "\0\0T" }
  for i = 1, t.n do
    local v = t[i]
    local tv = type(v)
    if tv == "string" then parts[i + 1] = "s" .. #v .. ":" .. v
    elseif tv == "number" then
      local iv = tointeger(v)
      parts[i + 1] = iv and ("i" .. iv) or ("f" .. sfmt("%.17g", v))
    elseif tv == "boolean" then parts[i + 1] = v and "i1" or "i0"
    elseif v == nil then parts[i + 1] = "n"
    else
      local k = nk(v)
      if type(k) ~= "string" then tyerr("unhashable type: '%s'", typename(v)) end
      parts[i + 1] = "t" .. #k .. ":" .. k
    end
  end
  return concat(parts, ";")
end

local function newdict() return setmetatable({ n = 0, k = {}, v = {}, i = {} }, DictMT) end
local function newset() return setmetatable({ n = 0, k = {}, i = {} }, SetMT) end
R.newdict, R.newset = newdict, newset

local owner_any = false
local owners = {} -- container -> scope key (write-through of scoped values)
local writeback   -- set by the builtins module

local function touched(o)
  local key = owners[o]
  if key then writeback(key) end
end
function R.set_owner_hooks(wb) writeback = wb end
R.ST = { owned = false } -- read by generated code's inline list.append
function R.own(o, key)
  owners[o] = key
  owner_any = true
  R.ST.owned = true
end
function R.clear_owners()
  owners = {}
  owner_any = false
  R.ST.owned = false
end

local function dset(d, k, v)
  local key = nk(k)
  local j = d.i[key]
  if j then d.v[j] = v
  else
    j = d.n + 1
    d.n = j
    d.k[j], d.v[j], d.i[key] = k, v, j
  end
end
local function dget(d, k)
  local j = d.i[nk(k)]
  if j then return d.v[j], true end
  return nil, false
end
local function sadd(s, k)
  local key = nk(k)
  if not s.i[key] then
    local j = s.n + 1
    s.n = j
    s.k[j], s.i[key] = k, j
  end
end
--- Removes index j of a dict or set, shifting the later entries.
local function remove_at(d, j)
  local n, ks, vs, idx = d.n, d.k, d.v, d.i
  idx[nk(ks[j])] = nil
  for x = j, n - 1 do
    ks[x] = ks[x + 1]
    if vs then vs[x] = vs[x + 1] end
    idx[nk(ks[x])] = x
  end
  ks[n] = nil
  if vs then vs[n] = nil end
  d.n = n - 1
end
R.dset, R.dget, R.sadd, R.remove_at = dset, dget, sadd, remove_at

--- Dict literal: `D({k1, v1, k2, v2, ...}, npairs)`.
function R.D(kv, n)
  local d = newdict()
  for x = 1, n do dset(d, kv[2 * x - 1], kv[2 * x]) end
  return d
end
--- Set literal: `S({a, b, ...}, n)`.
function R.S(t, n)
  local s = newset()
  for x = 1, n do sadd(s, t[x]) end
  return s
end

-- ---------------------------------------------------------------------------
-- Equality, truthiness, ordering

local eq
local EQ = {}
R.TYPE_NAMES = {} -- builtin constructor function -> type name, so `type(x) == int` holds
eq = function(a, b)
  if rawequal(a, b) then return true end
  local ta, tb = type(a), type(b)
  if ta == "string" and tb == "function" then return R.TYPE_NAMES[b] == a end
  if tb == "string" and ta == "function" then return R.TYPE_NAMES[a] == b end
  if ta == "number" then
    if tb == "number" then return a == b end
    if tb == "boolean" then return a == (b and 1 or 0) end
    return false
  elseif ta == "boolean" then
    if tb == "number" then return (a and 1 or 0) == b end
    return false
  elseif ta == "table" and tb == "table" then
    local ga, gb = getmetatable(a), getmetatable(b)
    if ga ~= gb then return false end
    local f = EQ[ga]
    if f then return f(a, b) end
  end
  return false
end
R.eq = eq

local function seqeq(a, b)
  local n = a.n
  if n ~= b.n then return false end
  for x = 1, n do
    if not eq(a[x], b[x]) then return false end
  end
  return true
end
EQ.list, EQ.tuple = seqeq, seqeq
EQ.dict_keys, EQ.dict_values, EQ.dict_items = seqeq, seqeq, seqeq
EQ.dict = function(a, b)
  if a.n ~= b.n then return false end
  local bi, bv = b.i, b.v
  for x = 1, a.n do
    local j = bi[nk(a.k[x])]
    if not j or not eq(a.v[x], bv[j]) then return false end
  end
  return true
end
EQ.set = function(a, b)
  if a.n ~= b.n then return false end
  local bi = b.i
  for x = 1, a.n do
    if not bi[nk(a.k[x])] then return false end
  end
  return true
end
EQ.range = function(a, b) return a.start == b.start and a.stop == b.stop and a.step == b.step end
EQ.struct = function(a, b)
  if a[1] ~= b[1] then return false end
  for k, v in next, a do
    if type(k) == "string" and not eq(v, b[k]) then return false end
  end
  for k, v in next, b do
    if type(k) == "string" and a[k] == nil and v ~= nil then return false end
  end
  return true
end
for tag, f in pairs(EQ) do
  local mt = ({ list = ListMT, tuple = TupleMT, dict = DictMT, set = SetMT, struct = StructMT,
    range = RangeMT })[tag]
  if mt then mt.__eq = f end
end

local LEN = {
  list = function(v) return v.n end, tuple = function(v) return v.n end,
  dict = function(v) return v.n end, set = function(v) return v.n end,
  dict_keys = function(v) return v.n end, dict_values = function(v) return v.n end,
  dict_items = function(v) return v.n end,
}
LEN.range = function(r)
  local a, b, s = r.start, r.stop, r.step
  if s > 0 then
    if b <= a then return 0 end
    return (b - a + s - 1) // s
  end
  if b >= a then return 0 end
  return (a - b - s - 1) // (-s)
end
R.LEN = LEN

local function truth(x)
  if not x then return false end
  if x == true then return true end
  local t = type(x)
  if t == "number" then return x ~= 0
  elseif t == "string" then return x ~= ""
  elseif t == "table" then
    local f = LEN[getmetatable(x)]
    if f then return f(x) ~= 0 end
  end
  return true
end
R.truth = truth

--- `a or b` value helper: x if truthy, else false (so `tv(a) or b` is Python's `a or b`).
function R.tv(x)
  if truth(x) then return x end
  return false
end

-- `a and b` value helpers: `ae(ap(a) and b)`.
local astack, asp = {}, 0
function R.ap(x)
  asp = asp + 1
  astack[asp] = x
  return truth(x)
end
function R.ae(r)
  local x = astack[asp]
  astack[asp] = nil
  asp = asp - 1
  if asp < 0 then asp = 0 end
  if truth(x) then return r end
  return x
end

local function lt(a, b)
  if type(a) == "boolean" then a = a and 1 or 0 end
  if type(b) == "boolean" then b = b and 1 or 0 end
  return a < b
end
R.lt = lt
function R.b2i(x)
  if x == true then return 1 elseif x == false then return 0 end
  return x
end

local function seqlt(a, b, orequal)
  local n = a.n < b.n and a.n or b.n
  for x = 1, n do
    local u, v = a[x], b[x]
    if not eq(u, v) then return lt(u, v) end
  end
  if orequal then return a.n <= b.n end
  return a.n < b.n
end
local function cmpcheck(a, b, op)
  if getmetatable(a) ~= getmetatable(b) then
    tyerr("'%s' not supported between instances of '%s' and '%s'", op, typename(a), typename(b))
  end
end
ListMT.__lt = function(a, b) cmpcheck(a, b, "<"); return seqlt(a, b, false) end
ListMT.__le = function(a, b) cmpcheck(a, b, "<="); return seqlt(a, b, true) end
TupleMT.__lt, TupleMT.__le = ListMT.__lt, ListMT.__le
local function nolt(a, b)
  tyerr("'<' not supported between instances of '%s' and '%s'", typename(a), typename(b))
end
DictMT.__lt, DictMT.__le, StructMT.__lt, StructMT.__le = nolt, nolt, nolt, nolt
SetMT.__le = function(a, b)
  for x = 1, a.n do if not b.i[nk(a.k[x])] then return false end end
  return true
end
SetMT.__lt = function(a, b) return a.n < b.n and SetMT.__le(a, b) end

-- ---------------------------------------------------------------------------
-- Arithmetic

local function binerr(op, a, b)
  tyerr("unsupported operand type(s) for %s: '%s' and '%s'", op, typename(a), typename(b))
end

local function numish(x)
  if x == true then return 1 elseif x == false then return 0 end
  if type(x) == "number" then return x end
  return nil
end

local function boolstr(x)
  if type(x) == "boolean" then return x and "true" or "false" end
  return numstr(x)
end

local function seqcat(a, b, mt)
  local r, n = {}, a.n
  for x = 1, n do r[x] = a[x] end
  for x = 1, b.n do r[n + x] = b[x] end
  r.n = n + b.n
  return setmetatable(r, mt)
end

function R.add(a, b)
  if mtype(a) and mtype(b) then return a + b end
  local ta, tb = type(a), type(b)
  if ta == "string" then
    if tb == "string" then return a .. b end
    if tb == "number" or tb == "boolean" then return a .. boolstr(b) end
  elseif tb == "string" then
    if ta == "number" or ta == "boolean" then return boolstr(a) .. b end
  elseif ta == "table" and tb == "table" then
    local ga = getmetatable(a)
    if ga == getmetatable(b) then
      if ga == "list" then return seqcat(a, b, ListMT) end
      if ga == "tuple" then return seqcat(a, b, TupleMT) end
    end
  else
    local x, y = numish(a), numish(b)
    if x and y then return x + y end
  end
  binerr("+", a, b)
end

--- `a += b`: lists extend in place (Python), everything else is `+`.
function R.iadd(a, b)
  if mtype(a) and mtype(b) then return a + b end
  if type(a) == "table" and getmetatable(a) == "list" and type(b) == "table" then
    local tb = getmetatable(b)
    if tb == "list" or tb == "tuple" then
      local n, m = a.n, b.n
      for x = 1, m do a[n + x] = b[x] end
      a.n = n + m
      if owner_any then touched(a) end
      return a
    end
  end
  return R.add(a, b)
end

function R.sub(a, b)
  if mtype(a) and mtype(b) then return a - b end
  local x, y = numish(a), numish(b)
  if x and y then return x - y end
  if type(a) == "table" and getmetatable(a) == "set" and getmetatable(b) == "set" then
    local r = newset()
    for j = 1, a.n do if not b.i[nk(a.k[j])] then sadd(r, a.k[j]) end end
    return r
  end
  binerr("-", a, b)
end

local function seqrep(a, n, mt)
  local r, m = {}, a.n
  if n < 0 then n = 0 end
  if m * n > 50000000 then raise("MemoryError", "repetition too large") end
  for c = 0, n - 1 do
    for x = 1, m do r[c * m + x] = a[x] end
  end
  r.n = m * n
  return setmetatable(r, mt)
end

function R.mul(a, b)
  if mtype(a) and mtype(b) then return a * b end
  local ta, tb = type(a), type(b)
  if ta == "string" and mtype(b) == "integer" then return b > 0 and srep(a, b) or "" end
  if tb == "string" and mtype(a) == "integer" then return a > 0 and srep(b, a) or "" end
  if ta == "table" and mtype(b) == "integer" then
    local g = getmetatable(a)
    if g == "list" then return seqrep(a, b, ListMT) end
    if g == "tuple" then return seqrep(a, b, TupleMT) end
  end
  if tb == "table" and mtype(a) == "integer" then
    local g = getmetatable(b)
    if g == "list" then return seqrep(b, a, ListMT) end
    if g == "tuple" then return seqrep(b, a, TupleMT) end
  end
  local x, y = numish(a), numish(b)
  if x and y then return x * y end
  if ta == "string" and tb == "boolean" then return b and a or "" end
  binerr("*", a, b)
end

function R.div(a, b)
  local x, y = numish(a), numish(b)
  if not (x and y) then binerr("/", a, b) end
  if y == 0 then raise("ZeroDivisionError", "division by zero") end
  return x / y
end

function R.floordiv(a, b)
  local x, y = numish(a), numish(b)
  if not (x and y) then binerr("//", a, b) end
  if y == 0 then
    raise("ZeroDivisionError", mtype(x) == "integer" and mtype(y) == "integer"
      and "integer division or modulo by zero" or "float floor division by zero")
  end
  return x // y
end

function R.mod(a, b)
  local x, y = numish(a), numish(b)
  if not (x and y) then
    if type(a) == "string" then return R.strformat(a, b) end
    binerr("%", a, b)
  end
  if y == 0 then
    raise("ZeroDivisionError", mtype(x) == "integer" and mtype(y) == "integer"
      and "integer division or modulo by zero" or "float modulo")
  end
  return x % y
end

function R.pow(a, b)
  local x, y = numish(a), numish(b)
  if not (x and y) then binerr("** or pow()", a, b) end
  if mtype(x) == "integer" and mtype(y) == "integer" then
    if y >= 0 then
      local r, base, e = 1, x, y
      while e > 0 do
        if e % 2 == 1 then r = r * base end
        base = base * base
        e = e // 2
      end
      return r
    end
    if x == 0 then
      raise("ZeroDivisionError", "0.0 cannot be raised to a negative power")
    end
  elseif x == 0 and y < 0 then
    raise("ZeroDivisionError", "0.0 cannot be raised to a negative power")
  end
  return (x + 0.0) ^ y
end

function R.neg(a)
  if mtype(a) then return -a end
  if a == true then return -1 elseif a == false then return 0 end
  tyerr("bad operand type for unary -: '%s'", typename(a))
end
function R.pos(a)
  if mtype(a) then return a end
  if a == true then return 1 elseif a == false then return 0 end
  tyerr("bad operand type for unary +: '%s'", typename(a))
end

ListMT.__add = function(a, b) return R.add(a, b) end
TupleMT.__add = ListMT.__add
ListMT.__mul = function(a, b) return R.mul(a, b) end
TupleMT.__mul = ListMT.__mul

--- `"%s" % x` (a small subset: %s %d %i %f %r %%).
function R.strformat(fmtstr, args)
  local vals
  if type(args) == "table" and getmetatable(args) == "tuple" then vals = args
  else vals = { n = 1, args } end
  local i = 0
  local out = sgsub(fmtstr, "%%([%-%+ 0#]*%d*%.?%d*)([sdifrx%%])", function(flags, c)
    if c == "%" then return "%" end
    i = i + 1
    local v = vals[i]
    if c == "s" then return sfmt("%" .. flags .. "s", str(v))
    elseif c == "r" then return sfmt("%" .. flags .. "s", repr(v))
    elseif c == "d" or c == "i" then
      local x = numish(v)
      if not x then tyerr("%%d format: a real number is required, not %s", typename(v)) end
      return sfmt("%" .. flags .. "d", x >= 0 and floor(x) or -floor(-x))
    elseif c == "x" then return sfmt("%" .. flags .. "x", floor(numish(v) or 0))
    else return sfmt("%" .. flags .. "f", numish(v) or 0) end
  end)
  return out
end

-- ---------------------------------------------------------------------------
-- Indexing

local function normindex(i, n, what)
  if type(i) == "boolean" then i = i and 1 or 0 end
  if mtype(i) ~= "integer" then
    if mtype(i) == "float" then tyerr("%s indices must be integers or slices, not float", what) end
    tyerr("%s indices must be integers or slices, not %s", what, typename(i))
  end
  if i < 0 then i = i + n end
  if i < 0 or i >= n then return nil end
  return i
end

function R.getitem(o, k)
  local tag = getmetatable(o)
  if tag == "list" and mtype(k) == "integer" then
    local n = o.n
    if k >= 0 then
      if k < n then return o[k + 1] end
    elseif k >= -n then return o[n + k + 1] end
    raise("IndexError", "list index out of range")
  elseif tag == "dict" then
    local j = o.i[type(k) == "string" and k or nk(k)]
    if j then return o.v[j] end
    raise("KeyError", repr(k))
  end
  local t = type(o)
  if t == "table" then
    if tag == "list" or tag == "tuple" then
      local n = o.n
      if mtype(k) == "integer" then
        if k >= 0 then
          if k < n then return o[k + 1] end
        elseif k >= -n then return o[n + k + 1] end
        raise("IndexError", tag .. " index out of range")
      end
      local i = normindex(k, n, tag)
      if not i then raise("IndexError", tag .. " index out of range") end
      return o[i + 1]
    elseif tag == "dict" then
      local j = o.i[nk(k)]
      if j then return o.v[j] end
      raise("KeyError", repr(k))
    elseif tag == "range" then
      local n = LEN.range(o)
      local i = normindex(k, n, "range object")
      if not i then raise("IndexError", "range object index out of range") end
      return o.start + i * o.step
    elseif tag == "struct" then
      tyerr("'%s' object is not subscriptable", o[1])
    end
  elseif t == "string" then
    local n = ulen(o)
    local i = normindex(k, n, "string")
    if not i then raise("IndexError", "string index out of range") end
    return uchar_at(o, i)
  end
  tyerr("'%s' object is not subscriptable", typename(o))
end

function R.setitem(o, k, v)
  local tag0 = getmetatable(o)
  if tag0 == "dict" and type(k) == "string" then
    local j = o.i[k]
    if j then o.v[j] = v
    else
      j = o.n + 1
      o.n = j
      o.k[j], o.v[j], o.i[k] = k, v, j
    end
    if owner_any then touched(o) end
    return
  end
  if type(o) == "table" then
    local tag = tag0
    if tag == "list" then
      local i = normindex(k, o.n, "list")
      if not i then raise("IndexError", "list assignment index out of range") end
      o[i + 1] = v
      if owner_any then touched(o) end
      return
    elseif tag == "dict" then
      dset(o, k, v)
      if owner_any then touched(o) end
      return
    end
  end
  tyerr("'%s' object does not support item assignment", typename(o))
end

local function slice_indices(n, lo, hi, step)
  if step == nil then step = 1 end
  step = numish(step)
  if mtype(step) ~= "integer" then tyerr("slice indices must be integers or None") end
  if step == 0 then raise("ValueError", "slice step cannot be zero") end
  local function norm(x, default, lower, upper)
    if x == nil then return default end
    x = numish(x)
    if mtype(x) ~= "integer" then tyerr("slice indices must be integers or None") end
    if x < 0 then
      x = x + n
      if x < lower then x = lower end
    elseif x > upper then x = upper end
    return x
  end
  if step > 0 then
    return norm(lo, 0, 0, n), norm(hi, n, 0, n), step
  end
  return norm(lo, n - 1, -1, n - 1), norm(hi, -1, -1, n - 1), step
end

function R.slice(o, lo, hi, step)
  local t = type(o)
  if t == "string" then
    local chars, n
    if is_ascii(o) then
      n = #o
      local a, b, s = slice_indices(n, lo, hi, step)
      if s == 1 then return a < b and ssub(o, a + 1, b) or "" end
      local r = {}
      if s > 0 then for i = a, b - 1, s do r[#r + 1] = ssub(o, i + 1, i + 1) end
      else for i = a, b + 1, s do r[#r + 1] = ssub(o, i + 1, i + 1) end end
      return concat(r)
    end
    chars, n = uchars(o)
    local a, b, s = slice_indices(n, lo, hi, step)
    local r = {}
    if s > 0 then for i = a, b - 1, s do r[#r + 1] = chars[i + 1] end
    else for i = a, b + 1, s do r[#r + 1] = chars[i + 1] end end
    return concat(r)
  elseif t == "table" then
    local tag = getmetatable(o)
    if tag == "list" or tag == "tuple" then
      local a, b, s = slice_indices(o.n, lo, hi, step)
      local r, m = {}, 0
      if s > 0 then for i = a, b - 1, s do m = m + 1; r[m] = o[i + 1] end
      else for i = a, b + 1, s do m = m + 1; r[m] = o[i + 1] end end
      r.n = m
      return setmetatable(r, tag == "list" and ListMT or TupleMT)
    elseif tag == "range" then
      local items = R.tolist(o)
      local l = R.slice(items, lo, hi, step)
      return l
    end
  end
  tyerr("'%s' object is not subscriptable", typename(o))
end

function R.setslice(o, lo, hi, step, v)
  if type(o) ~= "table" or getmetatable(o) ~= "list" then
    tyerr("'%s' object does not support slice assignment", typename(o))
  end
  local items = R.tolist(v)
  local a, b, s = slice_indices(o.n, lo, hi, step)
  if s ~= 1 then raise("ValueError", "extended slice assignment is not supported") end
  if b < a then b = a end
  local r, m = {}, 0
  for x = 1, a do m = m + 1; r[m] = o[x] end
  for x = 1, items.n do m = m + 1; r[m] = items[x] end
  for x = b + 1, o.n do m = m + 1; r[m] = o[x] end
  for x = 1, math.max(m, o.n) do o[x] = r[x] end
  o.n = m
  if owner_any then touched(o) end
end

-- ---------------------------------------------------------------------------
-- Iteration: iter(o) -> f, s, c for a generic `for _, v in iter(o)`.

local function seqnext(t, i)
  i = i + 1
  if i <= t.n then return i, t[i] end
end
local function keynext(d, i)
  i = i + 1
  if i <= d.n then return i, d.k[i] end
end
local function rangenext(r, i) -- i = items produced so far
  local v = r.start + i * r.step
  if (r.step > 0 and v < r.stop) or (r.step < 0 and v > r.stop) then return i + 1, v end
end
local function asciinext(s, i)
  if i < #s then return i + 1, ssub(s, i + 1, i + 1) end
end
local function utf8next(s, i)
  if i >= #s then return nil end
  local c = s:match("^[\0-\x7F\xC2-\xFD][\x80-\xBF]*", i + 1)
  if not c then c = ssub(s, i + 1, i + 1) end
  return i + #c, c
end

local function iter(o)
  local t = type(o)
  if t == "table" then
    local tag = getmetatable(o)
    if tag == "list" or tag == "tuple" or tag == "dict_keys" or tag == "dict_values"
      or tag == "dict_items" then
      return seqnext, o, 0
    elseif tag == "dict" or tag == "set" then return keynext, o, 0
    elseif tag == "range" then return rangenext, o, 0
    end
  elseif t == "string" then
    if is_ascii(o) then return asciinext, o, 0 end
    return utf8next, o, 0
  end
  tyerr("'%s' object is not iterable", typename(o))
end
R.iter = iter

--- A list-like table with `.n` to index for a `for` loop: lists, tuples and dict views
-- themselves (so appends during the loop are seen, as in Python), else a snapshot list.
function R.seq(o)
  local tag = getmetatable(o)
  if tag == "list" or tag == "tuple" or tag == "dict_items" or tag == "dict_keys"
    or tag == "dict_values" then
    return o
  end
  if tag == "range" then -- lazily: `for i in r` must not build the whole range
    local start, step = o.start, o.step
    return setmetatable({ n = LEN.range(o) }, { __index = function(_, i)
      return start + (i - 1) * step
    end })
  end
  return R.tolist(o)
end

--- Any iterable to a fresh list.
function R.tolist(o)
  local t = type(o)
  if t == "table" then
    local tag = getmetatable(o)
    if tag == "list" or tag == "tuple" or tag == "dict_keys" or tag == "dict_values"
      or tag == "dict_items" then
      local r = { n = o.n }
      for x = 1, o.n do r[x] = o[x] end
      return setmetatable(r, ListMT)
    elseif tag == "dict" or tag == "set" then
      local r = { n = o.n }
      for x = 1, o.n do r[x] = o.k[x] end
      return setmetatable(r, ListMT)
    end
  end
  local r, m = {}, 0
  for _, v in iter(o) do
    m = m + 1
    r[m] = v
  end
  r.n = m
  return setmetatable(r, ListMT)
end

--- Unpacks v into exactly n values (for `a, b = ...` loop targets).
function R.unpack(v, n)
  local l = v -- a tuple or list as it is, anything else as the list of its items
  local tag = type(v) == "table" and getmetatable(v)
  if tag ~= "tuple" and tag ~= "list" then l = R.tolist(v) end
  if l.n ~= n then
    if l.n < n then
      raise("ValueError", sfmt("not enough values to unpack (expected %d, got %d)", n, l.n))
    end
    raise("ValueError", sfmt("too many values to unpack (expected %d)", n))
  end
  return table.unpack(l, 1, n)
end

--- `for k, v in X.items()` without building tuples when X is a dict.
function R.items2(o)
  if type(o) == "table" and getmetatable(o) == "dict" then
    return function(d, i)
      i = i + 1
      if i <= d.n then return i, d.k[i], d.v[i] end
    end, o, 0
  end
  local l = R.tolist(R.callmethod(o, "items"))
  return function(t, i)
    i = i + 1
    if i <= t.n then return i, R.unpack(t[i], 2) end
  end, l, 0
end

--- Checks and converts range() bounds for the numeric-for fast path.
function R.rint(x)
  if mtype(x) == "integer" then return x end
  if x == true then return 1 elseif x == false then return 0 end
  tyerr("'%s' object cannot be interpreted as an integer", typename(x))
end
--- Last value of a numeric for for range(a, b, step).
function R.rlast(b, step)
  if mtype(step) ~= "integer" then step = R.rint(step) end
  if step == 0 then raise("ValueError", "range() arg 3 must not be zero") end
  if step > 0 then return b - 1 end
  return b + 1
end

-- ---------------------------------------------------------------------------
-- Membership

function R.contains(c, x)
  local t = type(c)
  if t == "string" then
    if type(x) ~= "string" then
      tyerr("'in <string>' requires string as left operand, not %s", typename(x))
    end
    return sfind(c, x, 1, true) ~= nil
  elseif t == "table" then
    local tag = getmetatable(c)
    if tag == "list" or tag == "tuple" or tag == "dict_keys" or tag == "dict_values"
      or tag == "dict_items" then
      for i = 1, c.n do
        if eq(c[i], x) then return true end
      end
      return false
    elseif tag == "dict" or tag == "set" then
      local ok, key = pcall(nk, x)
      if not ok then return false end
      return c.i[key] ~= nil
    elseif tag == "range" then
      local v = numish(x)
      if not v or v ~= floor(v) then return false end
      local s = c.step
      if s > 0 then
        if v < c.start or v >= c.stop then return false end
      elseif v > c.start or v <= c.stop then return false end
      return (v - c.start) % s == 0
    elseif tag == "struct" then
      tyerr("argument of type '%s' is not iterable", c[1])
    end
  end
  tyerr("argument of type '%s' is not iterable", typename(c))
end

function R.is(a, b) return rawequal(a, b) end

--- Fast paths of list.append and dict.get (codegen: `_D.m_append(o, v)`).
function R.m_append(o, v)
  if getmetatable(o) == "list" then
    local n = o.n + 1
    o[n] = v
    o.n = n
    if owner_any then touched(o) end
    return nil
  end
  return R.callmethod(o, "append", v)
end
function R.m_get(o, k, d)
  if getmetatable(o) == "dict" then
    local j = o.i[type(k) == "string" and k or nk(k)]
    if j then return o.v[j] end
    return d
  end
  return R.callmethod(o, "get", k, d)
end

-- ---------------------------------------------------------------------------
-- Registration with the C core (values that cross the boundary)

if DI and DI.register_type then
  DI.register_type("dana.list", ListMT)
  DI.register_type("dana.tuple", TupleMT)
  DI.register_type("dana.dict", DictMT)
  DI.register_type("dana.set", SetMT)
  DI.register_type("dana.struct", StructMT)
  DI.register_type("dana.range", RangeMT)
  DI.register_type("dana.exception", ExcMT)
  DI.register_type("dana.dict_keys", KeysMT)
  DI.register_type("dana.dict_values", ValuesMT)
  DI.register_type("dana.dict_items", ItemsMT)
  DI.register_type("dana.none", NoneMT)
  DI.register_type("dana.fnref", FnRefMT)
end

R.numish, R.typename, R.tyerr, R.binerr = numish, typename, tyerr, binerr
R.normindex, R.slice_indices, R.uchar_at = normindex, slice_indices, uchar_at
R.touched = function(o) if owner_any then touched(o) end end

return R
